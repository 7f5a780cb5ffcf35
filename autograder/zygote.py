"""Warm kernels: the imports a kernel needs, paid once per grading process, not once per notebook.

A kernel per notebook pays Python's start and the imports of ipykernel, numpy, matplotlib and
scikit-learn every time (about 1.5 to 3 s). Here a grading process (the autograde command, a
worker of `serve`, of Dask) starts one zygote: a Python process that imports WARM_IMPORTS and then
only waits for requests on a socket shared by that grading process and the workers it forks (each
request brings its own socket for the answer; a process's first request asks whether the imports
went well, and is answered once they are done, so workers can be forked while the zygote is still
importing). For each notebook:

1. the grader starts the notebook's sandbox exactly as for a cold kernel (sandbox_command:
   bubblewrap's namespaces, mounts and limits, a uid of its own as root), with a placeholder
   (`sleep`) where the kernel would be, and hands the zygote descriptors of the placeholder's
   namespaces;
2. the zygote forks a child, which joins those namespaces (user, mount, ipc, uts, network,
   cgroup, pid) and forks the kernel: a process of the sandbox's pid namespace;
3. the kernel takes the sandbox's limits, drops every capability (as root: becomes the
   sandbox's uid), sets no_new_privs, checks all of that in /proc/self/status, closes every
   descriptor it inherited, and only then says it is ready and starts ipykernel. A kernel that
   could not do all of it exits: nothing of a notebook runs half-jailed.

So a warm kernel sees what a cold one sees (its folder, its own /proc, no network, no other
submission), is killed with its sandbox, and serves one notebook. The zygote never runs a
student's code: it is in none of the sandboxes' pid or mount namespaces (a kernel can neither
see, signal nor trace it), and nothing flows back to it but the kernel's pid.
docs/threat-model.md says what this adds to the threat model.
"""
import contextlib
import ctypes
import fcntl
import importlib
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# Measured (benchmarks/autograde_speed.py prints each one's import time in a kernel): what every
# notebook of the course imports, and the course's data sets, which 02 and 04 load.
# Then what ipykernel's start imports besides (the debugger's debugpy alone takes 0.11 s).
WARM_IMPORTS = ("ipykernel.kernelapp", "ipykernel.ipkernel", "numpy", "matplotlib.pyplot",
                "matplotlib_inline.backend_inline", "autograder.harness", "autograder.checks",
                "autograder.datasets", "threadpoolctl",
                "ipykernel.debugger", "IPython.core.debugger", "IPython.core.completerlib",
                "IPython.extensions.storemagic", "sqlite3", "tornado.platform.asyncio")
NAMESPACES = ("mnt", "ipc", "uts", "net", "cgroup", "pid")
NS_GET_USERNS = 0xB701  # ioctl: the user namespace that owns a namespace
START_TIMEOUT = 120  # seconds for the zygote's imports
SPAWN_TIMEOUT = 30  # seconds for one kernel to be forked and jailed

_libc = ctypes.CDLL(None, use_errno=True)
PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = \
    24, 36, 38, 47, 4


class ZygoteError(RuntimeError):
    """The zygote could not start or could not give a kernel: the grader's fault, never the student's."""


# ---- the grader's side ------------------------------------------------------------------------

class Zygote:
    """A grading process's zygote: the one it started (on first use, again if it died), or the one a
    process it was forked from had ready (a pool's workers share their command's). Each request
    carries a socket of its own for the answer, so processes sharing a zygote never read each
    other's answers; the zygote forks one kernel at a time."""

    def __init__(self):
        self.process = None  # the zygote, if this process started it
        self.sock = None  # requests go here; the zygote answers on each request's own socket
        self.home = None
        self.imports = None  # seconds each warm import took in the zygote, once it said it is ready
        self.starts = self.kernels = 0  # zygotes started, kernels forked: by this process
        self.lock = threading.Lock()

    def alive(self):
        if self.process is None:  # another process's: nothing comes on its socket but the end of it
            return self.sock is not None and not select.select([self.sock], [], [], 0)[0]
        return self.process.poll() is None

    def start(self):
        """Start the zygote; its imports go on while the caller does other work (see ready)."""
        from .sandbox import AUTOGRADER_DIR, sandbox_env
        self.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # matplotlib's and IPython's folders while importing; under /tmp, which a kernel has of its own
        home = tempfile.mkdtemp(prefix="nn-zygote-", dir="/tmp")
        env = sandbox_env({"HOME": home, "MPLCONFIGDIR": os.path.join(home, "matplotlib"),
                           "IPYTHONDIR": os.path.join(home, "ipython"),
                           "PYTHONPATH": os.path.dirname(AUTOGRADER_DIR)})
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from autograder.zygote import main; main()", str(theirs.fileno()),
                 ",".join(WARM_IMPORTS)], pass_fds=[theirs.fileno()], env=env, cwd=home, start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            theirs.close()
        self.sock, self.home, self.imports = ours, home, None
        self.starts += 1

    def ready(self):
        """Wait for the zygote's imports (started, if it is not running): asked on a socket of this
        process's own, so that the processes sharing a zygote each learn it once."""
        if not self.alive():
            self.start()
        if self.imports is not None:
            return
        reply = self._ask({"hello": 1}, [], START_TIMEOUT)[0]
        if "error" in reply:
            self.close()
            raise ZygoteError(f"the warm-kernel zygote could not start: {reply['error']}")
        self.imports = reply["imports"]

    def inherited(self):
        """This zygote as a process forked from its owner sees it: shared, ready or still importing
        (None if there is none)."""
        if self.sock is None:
            return None
        view = Zygote()
        view.sock = self.sock
        return view

    def _ask(self, request, fds, timeout):
        """Send a request with a socket of its own for the answer; returns (answer, descriptors)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            socket.send_fds(self.sock, [json.dumps(request).encode()], [theirs.fileno()] + fds)
            theirs.close()  # the zygote's copy is the only one left: its end closing is an answer too
            return _receive(ours, timeout)
        except OSError as exc:
            self.close()
            raise ZygoteError(f"the warm-kernel zygote is gone ({exc})") from exc
        except ZygoteError:
            self.close()
            raise
        finally:
            theirs.close()
            ours.close()

    def spawn(self, placeholder_pid, request):
        """Fork a kernel into the sandbox whose placeholder is placeholder_pid; returns (pid, pidfd)."""
        from .sandbox import sandbox_mode
        with self.lock:
            self.ready()
            fds = namespace_fds(placeholder_pid, sandbox_mode())
            try:
                reply, received = self._ask(request, fds, SPAWN_TIMEOUT)
            finally:
                for fd in fds:
                    os.close(fd)
        if "error" in reply:
            for fd in received:
                os.close(fd)
            raise ZygoteError(f"a warm kernel could not be started: {reply['error']}")
        if len(received) != 1:
            raise ZygoteError("the warm-kernel zygote answered without the kernel's pidfd")
        self.kernels += 1
        return reply["pid"], received[0]

    def close(self):
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None
        if self.sock is not None:
            self.sock.close()  # the zygote exits when every process's copy of its socket is closed
            self.sock = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None


def _receive(sock, timeout):
    ready, _, _ = select.select([sock], [], [], timeout)
    if not ready:
        raise ZygoteError(f"the warm-kernel zygote did not answer within {timeout} s")
    message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 4)
    if not message:
        raise ZygoteError("the warm-kernel zygote exited")
    return json.loads(message), fds


_shared = {}
_shared_lock = threading.Lock()


def shared():
    """This process's zygote. A process forked from one whose zygote was ready (a worker of
    autograde's pool) shares that zygote; otherwise it starts its own, never reusing one that died."""
    with _shared_lock:
        if _shared.get("pid") != os.getpid():
            parent = _shared.get("zygote")
            _shared.clear()
            _shared.update(pid=os.getpid(), zygote=(parent and parent.inherited()) or Zygote())
        return _shared["zygote"]


def warm_up(wait=True):
    """Start this process's zygote now, not at its first notebook (a worker that starts ahead of work);
    without wait, its imports go on while this process prepares its first notebook."""
    zygote = shared()
    with zygote.lock:
        if wait:
            zygote.ready()
        elif not zygote.alive():
            zygote.start()


def namespace_fds(pid, mode):
    """Descriptors of the namespaces a kernel joins, in the order it joins them. Without root the
    sandbox's mount namespace is owned by bubblewrap's user namespace, and the placeholder may sit in
    a nested one (--disable-userns): join the owner first (its capabilities let the kernel join the
    others), the placeholder's own last. Namespaces that are the zygote's own already are skipped."""
    fds = []
    try:
        for name in NAMESPACES:
            fd = os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)
            if os.stat(f"/proc/self/ns/{name}").st_ino == os.fstat(fd).st_ino:
                os.close(fd)  # not unshared (a cgroup namespace where the kernel offers none)
                continue
            fds.append(fd)
        if mode == "rootless":
            user = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
            owner = fcntl.ioctl(fds[0], NS_GET_USERNS)
            fds.insert(0, owner)
            if os.fstat(owner).st_ino == os.fstat(user).st_ino:
                os.close(user)
            else:
                fds.append(user)
        return fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


# ---- the zygote's side ------------------------------------------------------------------------

def main():
    sock = socket.socket(fileno=int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopped by its socket closing, not by a terminal
    imports, error = {}, None
    try:
        for name in sys.argv[2].split(","):
            started = time.perf_counter()
            importlib.import_module(name)
            imports[name] = round(time.perf_counter() - started, 3)
        import numpy as np
        np.zeros((2, 2)) @ np.zeros((2, 2))  # the linear-algebra library loads on first use
        if threading.active_count() != 1 or len(os.listdir("/proc/self/task")) != 1:
            raise RuntimeError("the warm imports started threads: a fork would copy a process in an unknown state")
        # Each kernel is orphaned at once (its parent, the zygote's child, exits): as a subreaper, the
        # zygote becomes its parent and reaps it, where the system's init might leave a zombie. (Processes
        # a kernel orphans are the sandbox's: they go to bubblewrap's init, in the sandbox's pid namespace.)
        _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "becoming a subreaper")
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
    if os.path.basename(os.getcwd()).startswith("nn-zygote-"):  # the import-time home start() made for it
        shutil.rmtree(os.getcwd(), ignore_errors=True)  # the zygote holds what it imported
    while True:
        while not select.select([sock], [], [], 1.0)[0]:
            _reap()
        message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 16)
        if not message:
            return  # every grading process that shared it is gone
        if not fds:
            continue  # no socket to answer on: not a request a grader sends
        reply = socket.socket(fileno=fds[0])
        request = json.loads(message)
        if error or "hello" in request:  # a grading process's first question: are the imports done?
            for fd in fds[1:]:
                os.close(fd)
            with contextlib.suppress(OSError):  # the grader who asked may be gone
                reply.send(json.dumps({"error": error} if error else {"imports": imports}).encode())
            reply.close()
            continue
        pid = os.fork()
        if pid == 0:
            _start_kernel(reply, request, fds[1:])  # never returns
        for fd in fds[1:]:
            os.close(fd)
        _, status = os.waitpid(pid, 0)  # the child only: its kernel is reaped later, by _reap
        if status != 0:  # it died before it could answer
            with contextlib.suppress(OSError):  # the grader who asked may be gone
                reply.send(json.dumps({"error": f"the zygote's child died ({status})"}).encode())
        reply.close()


def _reap():
    """Wait for the kernels that have exited (the zygote's child exited long before)."""
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _start_kernel(reply, request, fds):
    """In the zygote's child: join the sandbox, fork the kernel, answer with its pidfd, exit."""
    try:
        for fd in fds:
            _check(_libc.setns(fd, 0), "setns")
            os.close(fd)
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            _become_kernel(request, ready_w)  # never returns
        os.close(ready_w)
        pidfd = os.pidfd_open(pid)
        answer = b""
        if select.select([ready_r], [], [], SPAWN_TIMEOUT)[0]:
            answer = os.read(ready_r, 4096)
        if answer == b"1":
            try:
                socket.send_fds(reply, [json.dumps({"pid": pid}).encode()], [pidfd])
            except OSError:
                os.kill(pid, signal.SIGKILL)  # nobody is waiting for this kernel
        else:
            os.kill(pid, signal.SIGKILL)
            reason = answer[1:].decode(errors="replace") or "it did not say it was ready"
            reply.send(json.dumps({"error": f"the kernel could not enter its sandbox: {reason}"}).encode())
    except BaseException as exc:
        with contextlib.suppress(BaseException):
            reply.send(json.dumps({"error": f"joining the sandbox failed: {type(exc).__name__}: {exc}"}).encode())
    finally:
        os._exit(0)  # whatever happened: this child never returns to the zygote's loop


def _become_kernel(request, ready):
    """In the kernel, a process of the sandbox's pid namespace: jail it, then run ipykernel."""
    try:
        os.setsid()
        for name, value in request["rlimits"].items():
            resource.setrlimit(getattr(resource, "RLIMIT_" + name), (value, value))
        uid = request.get("uid")
        if uid is not None:  # root mode: the sandbox's own uid, no groups
            os.setgroups([])
        last_cap = int(open("/proc/sys/kernel/cap_last_cap").read())
        for cap in range(last_cap + 1):
            _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "dropping the bounding set")
        if uid is not None:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)  # from root to a plain uid: the permitted set goes too
        _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing ambient capabilities")
        _drop_capabilities()
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs")
        _verify_jailed(uid)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, ready)
        os.closerange(ready + 1, 1 << 16)
        _set_cmdline([sys.executable, "-m", "ipykernel_launcher", *request["argv"]])
        os.chdir(request["workdir"])
        os.environ.clear()
        os.environ.update(request["env"])
        _forget_the_zygote_paths(request["env"]["PYTHONPATH"])
        import matplotlib
        for folder in (matplotlib.get_configdir(), matplotlib.get_cachedir()):  # kept from the zygote's import
            os.makedirs(folder, exist_ok=True)  # in the kernel's own /tmp
        import random
        import numpy as np
        random.seed()
        np.random.seed()  # numpy's global generator was seeded once, in the zygote
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.write(ready, b"1")
        os.close(ready)
    except BaseException as exc:
        try:
            os.write(ready, b"0" + f"{type(exc).__name__}: {exc}".encode()[:2000])
        finally:
            os._exit(1)
    try:
        from ipykernel import kernelapp
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        kernelapp.launch_new_instance(argv=request["argv"])
    finally:
        os._exit(0)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities():
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    _check(_libc.capset(ctypes.byref(header), (_CapData * 2)()), "dropping capabilities")


def _verify_jailed(uid):
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if int(status[field].strip(), 16) != 0:
            raise RuntimeError(f"{field} is {status[field].strip()} after dropping every capability")
    if status.get("NoNewPrivs", "").strip() != "1":
        raise RuntimeError("no_new_privs is not set")
    if uid is not None and {int(u) for u in status["Uid"].split()} != {uid}:
        raise RuntimeError(f"uids are {status['Uid'].strip()}, not {uid}")


def _set_cmdline(words):
    """What /proc/<kernel>/cmdline shows: a kernel's command line, as far as the zygote's (whose
    memory it is) has room, not the zygote's."""
    stat = open("/proc/self/stat", "rb").read()
    fields = stat[stat.rindex(b")") + 2:].split()
    start, end = int(fields[45]), int(fields[46])  # arg_start and arg_end (fields 48 and 49)
    text = b"\0".join(w.encode() for w in words)[:end - start - 1]
    ctypes.memmove(start, text.ljust(end - start, b"\0"), end - start)


def _forget_the_zygote_paths(sandbox_path):
    """The kernel imports the autograder package from where the sandbox shows it, as a cold one does."""
    import autograder
    zygote_path = os.path.dirname(os.path.dirname(os.path.abspath(autograder.__file__)))
    sys.path[:] = [sandbox_path] + [p for p in sys.path if p not in ("", zygote_path, sandbox_path)]
    autograder.__path__[:] = [os.path.join(sandbox_path, "autograder")]
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
