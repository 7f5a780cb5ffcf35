"""The sandbox a student's kernel runs in (bubblewrap + prlimit), in one of two modes.

What the kernel sees, in both modes: the system's programs and libraries, the
Python installation and the course environment read-only, the autograder
package read-only (the kernel needs its harness), its own working folder and a
private folder for the kernel's sockets read-write, a private /tmp, nothing
else: not the repository (no solutions/, no source/, no gradebook), not other
students' folders, no network. It runs without capabilities, under limits on
address space, processes and file size, in a pid namespace of its own with a
/proc of its own, and dies with the grader, so nothing it starts outlives it.

How, by mode (chosen here, from the grader's effective uid):

root      a fresh unprivileged uid per kernel (setpriv), so that the process
          limit (RLIMIT_NPROC, per real uid) is the kernel's own, and every
          process it left can be found and killed by uid.
rootless  the grader is an ordinary user (an instructor's JupyterHub server):
          bubblewrap makes an unprivileged user namespace (`bwrap
          --unshare-user`); the kernel has the grader's uid but no
          capabilities, cannot make further user namespaces, and sees no
          process of the grader (its own pid namespace and /proc), so it can
          neither signal nor trace it. Its processes are contained two ways:
          RLIMIT_NPROC, which Linux 5.14 and later counts per user namespace
          (so only the sandbox's own processes count, never the grader's),
          and a watchdog thread in the grader that counts the tasks of the
          sandbox's pid namespace and kills the whole namespace (its init) when
          there are too many (the only limit on older kernels).

docs/threat-model.md says what each mode guarantees and what it does not.
The grader talks to the kernel over ZeroMQ's ipc transport (Unix sockets in
the private folder), which works across the network namespace.
"""
import errno
import itertools
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Int, List, Unicode

AUTOGRADER_DIR = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.path.abspath(sys.executable)  # without "..": the folder it was started from is not in the sandbox
SANDBOX_PYTHONPATH = "/opt/nn-course"  # where a kernel finds the autograder package (read-only)
SYSTEM_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc/alternatives", "/etc/fonts")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf")
TMP_MB = 512  # the private /tmp is memory: bounded
WATCH_INTERVAL = 0.1  # seconds between two counts of a rootless sandbox's processes


class SandboxUnavailable(RuntimeError):
    pass


def sandbox_mode():
    """'root' (a uid per kernel) or 'rootless' (an unprivileged user namespace)."""
    return "root" if os.geteuid() == 0 else "rootless"


def _tools(mode):
    return ("bwrap", "setpriv", "prlimit") if mode == "root" else ("bwrap", "prlimit")


def _missing_tools(mode=None):
    return [tool for tool in _tools(mode or sandbox_mode()) if shutil.which(tool) is None]


_checked = {}


def check_sandbox():
    """Raise SandboxUnavailable, saying why, unless a sandboxed command runs here (checked once per process)."""
    mode = sandbox_mode()
    if mode not in _checked:
        _checked[mode] = _check(mode)
    if _checked[mode]:
        raise SandboxUnavailable(_checked[mode])


def _check(mode):
    missing = _missing_tools(mode)
    if missing:
        return (f"{', '.join(missing)} not found: install bubblewrap and util-linux "
                "(apt-get install bubblewrap), or grade with --no-sandbox (trusted code only)")
    if mode == "rootless":
        refused = userns_refused()
        if refused:
            return refused
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.run(sandbox_command([sys.executable, "-c", "print('ok')"], workdir),
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if proc.returncode != 0 or proc.stdout.strip() != "ok":
        return f"bubblewrap could not start a {mode} sandbox here: {proc.stderr.strip()[-500:]}"
    return None


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def userns_refused():
    """None if `bwrap --unshare-user` works for this user; otherwise why not and what to enable."""
    try:
        proc = subprocess.run(["bwrap", "--unshare-user", "--ro-bind", "/", "/", "true"], capture_output=True,
                              text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap --unshare-user could not run: {exc}"
    if proc.returncode == 0:
        return None
    advice = []
    if _read("/proc/sys/user/max_user_namespaces") == "0":
        advice.append("sysctl -w user.max_user_namespaces=15000")
    if _read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        advice.append("sysctl -w kernel.unprivileged_userns_clone=1")
    if _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        advice.append("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile that "
                      "allows userns for /usr/bin/bwrap (Ubuntu: the apparmor package's bwrap-userns-restrict)")
    if not advice:
        advice.append("enable unprivileged user namespaces (sysctls user.max_user_namespaces > 0, "
                      "kernel.unprivileged_userns_clone=1 where it exists, "
                      "kernel.apparmor_restrict_unprivileged_userns=0 where it exists); in a container, a "
                      "seccomp profile that allows clone/unshare with CLONE_NEWUSER")
    return (f"the sandbox without root needs unprivileged user namespaces, and `bwrap --unshare-user` was "
            f"refused here ({proc.stderr.strip()[-300:] or f'exit {proc.returncode}'}); as root: "
            + "; ".join(advice) + "; or run the grader as root, or with --no-sandbox (trusted code only)")


_bwrap_options = None


def bwrap_supports(option):
    global _bwrap_options
    if _bwrap_options is None:
        try:
            text = subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            text = ""
        _bwrap_options = set(re.findall(r"^\s+(--[a-z0-9-]+)", text, re.M))
    return option in _bwrap_options


def nproc_counts_per_namespace():
    """Linux 5.14 and later count RLIMIT_NPROC per user namespace (ucounts): in a
    rootless sandbox the limit then counts the sandbox's processes only. Before,
    it counted every process of the real uid, the grader's too: not usable."""
    found = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return bool(found) and (int(found.group(1)), int(found.group(2))) >= (5, 14)


_kernels = itertools.count()


def sandbox_uid():
    """A fresh unprivileged uid for each sandbox (per grading process and
    kernel): its own process limit, and every process it left can be found."""
    return 200000 + (os.getpid() % 20000) * 50 + next(_kernels) % 50


def kill_user(uid):
    """Kill every process running as uid (what a root-mode sandbox left behind)."""
    if uid is None or int(uid) == os.getuid():
        raise ValueError(f"kill_user({uid}) would kill the grader's own processes")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
            if str(uid) in uids:
                os.kill(int(entry), signal.SIGKILL)
        except (OSError, StopIteration):
            pass


def _python_dirs():
    dirs = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), os.path.abspath(sys.prefix)}
    return sorted(dirs)


def _with_parents(binds):
    """bwrap creates missing parent folders as 0700; create them 0755 first."""
    args, made = [], set()
    for _, target in binds:
        parent = os.path.dirname(target)
        chain = []
        while parent not in ("/", "") and parent not in made:
            chain.append(parent)
            parent = os.path.dirname(parent)
        for folder in reversed(chain):
            args += ["--perms", "0755", "--dir", folder]
            made.add(folder)
    return args


def sandbox_command(argv, workdir, memory_mb=2048, max_processes=64, extra_rw=(), env=None, file_mb=256, uid=None):
    """The command line that runs argv in the sandbox, in workdir.

    As root, the kernel runs as uid (a fresh one if None). Without root, uid
    is not used: the kernel keeps the grader's uid in a user namespace of its
    own, and its process limit holds where the kernel counts it per namespace
    (see nproc_counts_per_namespace; SandboxedKernelManager also runs a
    Watchdog, which a caller of this function may run too: watch())."""
    mode = sandbox_mode()
    ro = [(d, d) for d in SYSTEM_DIRS if os.path.exists(d) and not os.path.islink(d)]
    symlinks = [(os.readlink(d), d) for d in SYSTEM_DIRS if os.path.islink(d)]
    ro += [(f, f) for f in SYSTEM_FILES if os.path.exists(f)]
    ro += [(d, d) for d in _python_dirs()]
    ro += [(AUTOGRADER_DIR, os.path.join(SANDBOX_PYTHONPATH, "autograder"))]
    rw = [(os.path.abspath(workdir), os.path.abspath(workdir))] + [(os.path.abspath(d), os.path.abspath(d))
                                                                    for d in extra_rw]
    cmd = ["bwrap"]
    if mode == "rootless":
        cmd += ["--unshare-user"]
        if bwrap_supports("--disable-userns"):
            cmd += ["--disable-userns"]  # no nested user namespace: no capabilities anywhere in the sandbox
    cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777"]
    if bwrap_supports("--size"):
        cmd += ["--size", str(TMP_MB * 2 ** 20)]
    cmd += ["--tmpfs", "/tmp", "--clearenv"]
    for target, link in symlinks:
        cmd += ["--symlink", target, link]
    cmd += _with_parents(ro + rw)
    for source, target in ro:
        cmd += ["--ro-bind", source, target]
    for source, target in rw:
        cmd += ["--bind", source, target]
    for key, value in sandbox_env(env).items():
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", os.path.abspath(workdir)]
    limits = [f"--{name.lower()}={value}" for name, value in rlimits(memory_mb, max_processes, file_mb).items()]
    if mode == "root":
        uid = int(uid or sandbox_uid())
        for _, folder in rw:  # the kernel's own uid writes here, root reads; no other user may plant files
            os.chown(folder, uid, uid)
            os.chmod(folder, 0o700)
        # setuid away from root drops every capability; the limits then bind (root ignores RLIMIT_NPROC)
        cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--bounding-set=-all",
                "--inh-caps=-all", "--no-new-privs", "prlimit", *limits, "--"]
    else:
        for _, folder in rw:
            os.chmod(folder, 0o700)  # the kernel has the grader's uid: nobody else needs these folders
        # bwrap drops every capability and sets no_new_privs itself
        cmd += ["prlimit", *limits, "--"]
    return cmd + list(argv)


def sandbox_env(env=None):
    """The whole environment of a sandboxed process (bubblewrap clears the grader's)."""
    environment = {"HOME": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib", "MPLBACKEND": "Agg", "LANG": "C.UTF-8",
                   "PATH": os.path.dirname(PYTHON) + ":/usr/bin:/bin", "PYTHONPATH": SANDBOX_PYTHONPATH,
                   "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "PYTHONDONTWRITEBYTECODE": "1", "JUPYTER_PLATFORM_DIRS": "1", "IPYTHONDIR": "/tmp/ipython"}
    environment.update(env or {})
    return environment


def rlimits(memory_mb, max_processes, file_mb=256):
    """The resource limits of a sandboxed process by resource name (RLIMIT_ without the prefix), for
    prlimit (a cold kernel, a placeholder) and for a warm kernel alike. RLIMIT_NPROC: as root it counts
    the kernel's own uid; without root it is set only where Linux counts it per user namespace (else it
    would count the grader's processes too: the watchdog is the limit), where bubblewrap's init (pid 1)
    counts too: one more."""
    found = {"AS": memory_mb * 2 ** 20, "FSIZE": file_mb * 2 ** 20, "CORE": 0}
    if sandbox_mode() == "root":
        found["NPROC"] = max_processes
    elif nproc_counts_per_namespace():
        found["NPROC"] = max_processes + 1
    return found


def watchdog_limit(max_processes):
    """Tasks (processes and threads) a rootless sandbox may hold before its watchdog kills it: the kernel's
    own limit, its init, and a margin where the kernel also enforces RLIMIT_NPROC (so that the kernel's
    refusal, which the student's code can handle, comes first)."""
    return max_processes + 1 + (4 if nproc_counts_per_namespace() else 0)


class Watchdog(threading.Thread):
    """Counts the tasks of a rootless sandbox's pid namespace and kills the
    namespace when there are more than limit (a fork bomb where the kernel
    does not count RLIMIT_NPROC per user namespace, or anything it missed).

    pid: bubblewrap's pid (the process the grader started). Its one child is
    the namespace's init: the watchdog holds a pidfd of it (no pid reuse can
    redirect the kill) and an open handle on the namespace's own /proc, so it
    reads only the sandbox's processes. Killing the init kills every process
    of the namespace."""

    def __init__(self, pid, limit, interval=WATCH_INTERVAL, on_trip=None):
        super().__init__(daemon=True, name=f"nn-sandbox-watchdog-{pid}")
        self.pid, self.limit, self.interval, self.on_trip = pid, limit, interval, on_trip
        self.init_pid = None
        self.tripped = None  # the task count that made it kill the sandbox
        self.peak = 0
        self._pidfd = None
        self._proc_fd = None
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def stop(self):
        self._stop_event.set()

    def run(self):
        try:
            while not self._stop_event.is_set():
                if self._proc_fd is None:
                    if not self._attach():
                        if self._stop_event.wait(0.01):
                            break
                        continue
                count = self.count()
                if count is None:  # the namespace is gone
                    break
                self.peak = max(self.peak, count)
                if count > self.limit:
                    self.tripped = count
                    self.kill()
                    if self.on_trip:
                        self.on_trip(self)
                    break
                self._stop_event.wait(self.interval)
        finally:
            self._close(proc_only=True)

    def _children(self):
        text = _read(f"/proc/{self.pid}/task/{self.pid}/children")
        if text is not None:
            return [int(p) for p in text.split()]
        if not os.path.exists(f"/proc/{self.pid}"):
            raise ProcessLookupError(self.pid)
        found = []  # a kernel without CONFIG_PROC_CHILDREN: every process's parent
        for entry in filter(str.isdigit, os.listdir("/proc")):
            stat = _read(f"/proc/{entry}/stat")
            if stat and stat[stat.rindex(")") + 2:].split()[1] == str(self.pid):
                found.append(int(entry))
        return found

    def _attach(self):
        """Find the namespace's init once its own /proc is mounted; False: not yet."""
        try:
            children = self._children()
            if not children:
                return False
            child = children[0]
            if self._pidfd is None:
                try:
                    self._pidfd = os.pidfd_open(child)
                except OSError as exc:
                    if exc.errno != errno.ENOSYS:
                        raise
                    self._pidfd = -1  # Linux before 5.3: the kill goes by pid, to bwrap's child only
                if child not in self._children():  # the pidfd is of bwrap's child, not of a reused pid
                    self._close()
                    return False
                self.init_pid = child
            root_proc = f"/proc/{child}/root/proc"
            if os.stat(root_proc).st_dev == os.stat("/proc").st_dev:
                return False  # bwrap has not mounted the sandbox's /proc yet
            fd = os.open(root_proc, os.O_RDONLY | os.O_DIRECTORY)
            if self._exited():  # the init died before we looked: do not trust what we opened
                os.close(fd)
                raise ProcessLookupError(child)
            self._proc_fd = fd
            return True
        except ProcessLookupError:
            self._stop_event.set()  # bubblewrap or its init is gone: nothing left to watch
            return False
        except OSError:  # bubblewrap is still setting up the sandbox's root
            return False

    def _exited(self):
        if self._pidfd == -1:
            return not os.path.exists(f"/proc/{self.init_pid}")
        return bool(self._pidfd is not None and select.select([self._pidfd], [], [], 0)[0])

    def count(self):
        """Tasks (processes and their threads) in the namespace, or None if it is empty."""
        try:
            entries = [e for e in os.listdir(self._proc_fd) if e.isdigit()]
        except OSError:
            return None
        total = 0
        for entry in entries:
            try:
                fd = os.open(f"{entry}/stat", os.O_RDONLY, dir_fd=self._proc_fd)
                try:
                    stat = os.read(fd, 4096).decode(errors="replace")
                finally:
                    os.close(fd)
                total += int(stat[stat.rindex(")") + 2:].split()[17])  # field 20: num_threads
            except (OSError, ValueError, IndexError):
                continue  # it exited meanwhile
            if total > self.limit:
                break
        return total or None

    def kill(self):
        """Kill the namespace's init, and with it every process of the sandbox."""
        with self._lock:
            try:
                if self._pidfd == -1:
                    if self.init_pid in self._children():
                        os.kill(self.init_pid, signal.SIGKILL)
                elif self._pidfd is not None:
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self):
        """Stop watching, kill whatever is left of the sandbox, release the handles."""
        self.stop()
        self.kill()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=5)
        self._close()

    def _close(self, proc_only=False):
        with self._lock:
            if self._proc_fd is not None:
                os.close(self._proc_fd)
                self._proc_fd = None
            if not proc_only and self._pidfd is not None:
                if self._pidfd != -1:
                    os.close(self._pidfd)
                self._pidfd = None


def watch(process, max_processes=64, on_trip=None):
    """Start a Watchdog on a rootless sandbox started with sandbox_command (a Popen or its pid)."""
    dog = Watchdog(getattr(process, "pid", process), watchdog_limit(max_processes), on_trip=on_trip)
    dog.start()
    return dog


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in the sandbox, reached over ipc sockets."""

    workdir = Unicode(help="the folder the student's code runs in (read-write)").tag(config=True)
    memory_mb = Int(2048, help="address-space limit of the kernel, MiB").tag(config=True)
    max_processes = Int(64, help="processes and threads the kernel may run").tag(config=True)
    extra_rw = List(Unicode(), help="more folders the kernel may write").tag(config=True)
    warm = Bool(False, help="fork the kernel from this process's zygote (autograder.zygote) into its "
                            "sandbox, instead of starting a fresh Python in it").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mode = sandbox_mode()
        self.private_dir = tempfile.mkdtemp(prefix="nn-sandbox-")  # the kernel's sockets; 0700 (sandbox_command)
        self.transport = "ipc"
        self.ip = os.path.join(self.private_dir, "kernel")
        self.connection_file = os.path.join(self.private_dir, "kernel.json")
        self.uid = sandbox_uid() if self.mode == "root" else None
        self.watchdog = None

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        if self.mode == "root":
            os.chmod(self.connection_file, 0o644)  # the kernel's uid reads it; the folder is that uid's, 0700

    def format_kernel_cmd(self, extra_arguments=None):
        argv = super().format_kernel_cmd(extra_arguments)
        if argv and argv[0] == sys.executable:
            argv[0] = PYTHON
        if self.warm:  # the sandbox holds a placeholder; the zygote's kernel runs ipykernel's arguments
            if argv[1:3] != ["-m", "ipykernel_launcher"]:
                raise SandboxUnavailable(f"a warm kernel runs ipykernel only, not {argv}")
            self._ipykernel_argv = argv[3:]
            argv = list(PLACEHOLDER)
        return sandbox_command(argv, self.workdir or self.private_dir, self.memory_mb, self._processes(),
                               extra_rw=(self.private_dir, *self.extra_rw), uid=self.uid)

    def _processes(self):
        return self.max_processes + 1 if self.warm else self.max_processes  # the placeholder is one more

    async def _async_pre_start_kernel(self, **kw):
        # the kernel's own stdout and stderr (ipykernel's banner, a student's os.write(1, ...)) would
        # go to the instructor's terminal; what a cell prints reaches the notebook over its messages
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if self.warm:
            self._launch_warm(kernel_cmd, kw)
        else:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        if self.mode == "rootless":
            self._stop_watchdog()
            self.watchdog = watch(self.provisioner.process, self._processes(), on_trip=self._tripped)

    def _launch_warm(self, kernel_cmd, kw):
        """The sandbox with its placeholder, then the zygote's kernel in it (autograder.zygote)."""
        from .zygote import shared
        sandbox = subprocess.Popen(kernel_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        kernel = None
        try:
            placeholder = find_placeholder(sandbox)
            request = {"workdir": os.path.abspath(self.workdir or self.private_dir), "argv": self._ipykernel_argv,
                       "env": sandbox_env(), "uid": self.uid,
                       "rlimits": rlimits(self.memory_mb, self._processes())}
            pid, pidfd = shared().spawn(placeholder.pid, request)
            kernel = WarmKernel(sandbox, placeholder, pid, pidfd)
        except BaseException:
            sandbox.kill()
            sandbox.wait()
            raise
        self.provisioner.process = kernel
        self.provisioner.pid, self.provisioner.pgid = sandbox.pid, None
        self._reconcile_connection_info(self.provisioner.connection_info)

    def _tripped(self, dog):
        self.log.warning("a student's kernel ran %d processes and threads (limit %d): its sandbox was killed",
                         dog.tripped, dog.limit)

    def _stop_watchdog(self):
        if self.watchdog is not None:
            self.watchdog.close()  # kills the namespace's init: everything the student started

    async def interrupt_kernel(self):
        """By message: a signal to the process group would stop bubblewrap itself."""
        if self.has_kernel:
            self._connect_control_socket()
            self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    async def _async_wait(self, pollinterval=0.1):
        # jupyter_client looks every 0.1 s for a killed kernel to be gone: 0.1 s per notebook, when a
        # killed sandbox is gone within milliseconds
        await super()._async_wait(pollinterval=0.005)

    async def _async_cleanup_resources(self, restart=False):
        process = getattr(self.provisioner, "process", None) if self.provisioner else None
        await super()._async_cleanup_resources(restart=restart)
        if isinstance(process, WarmKernel):
            process.close()
        if self.mode == "root":
            kill_user(self.uid)  # nothing the student started outlives the kernel
        else:
            self._stop_watchdog()
        if not restart:
            shutil.rmtree(self.private_dir, ignore_errors=True)


PLACEHOLDER = ("sleep", "infinity")  # holds a warm kernel's sandbox open: the sandbox's pid 2, as a cold kernel is


class Placeholder:
    """The placeholder process of a warm kernel's sandbox, held by a pidfd (no pid reuse can redirect a kill)."""

    def __init__(self, pid):
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)

    def kill(self):
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass


def find_placeholder(sandbox, timeout=10):
    """The placeholder in a sandbox just started (bubblewrap, its init, then the placeholder), once it runs."""
    deadline = time.monotonic() + timeout
    wanted = ("\0".join(PLACEHOLDER) + "\0").encode()
    while time.monotonic() < deadline:
        if sandbox.poll() is not None:
            raise SandboxUnavailable(f"the sandbox exited (status {sandbox.returncode}) before its kernel started")
        init = _read(f"/proc/{sandbox.pid}/task/{sandbox.pid}/children")
        for pid in (init or "").split()[:1]:
            for child in (_read(f"/proc/{pid}/task/{pid}/children") or "").split()[:1]:
                try:
                    with open(f"/proc/{child}/cmdline", "rb") as f:
                        if f.read() == wanted:
                            return Placeholder(int(child))
                except OSError:
                    pass
        time.sleep(0.002)
    raise SandboxUnavailable(f"the sandbox's placeholder did not start within {timeout} s")


class WarmKernel:
    """What jupyter_client's provisioner holds as the kernel's process (poll, wait, signals) for a warm
    kernel: the kernel is not the grader's child, so it is watched by pidfd; it ends with its sandbox."""
    stdin = stdout = stderr = None

    def __init__(self, sandbox, placeholder, pid, pidfd):
        self.sandbox, self.placeholder, self.kernel_pid, self.pidfd = sandbox, placeholder, pid, pidfd
        self.pid = sandbox.pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            code = self.sandbox.poll()
            if code is None and select.select([self.pidfd], [], [], 0)[0]:
                self.kill()  # the kernel exited: its sandbox (and whatever it left running) goes too
                code = self.sandbox.wait()
            self.returncode = code
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("warm kernel", timeout)
            select.select([self.pidfd], [], [], 0.05)
        return self.returncode

    def send_signal(self, signum):
        if signum in (signal.SIGKILL, signal.SIGTERM):
            self.kill()
        else:
            try:
                signal.pidfd_send_signal(self.pidfd, signum)
            except ProcessLookupError:
                pass

    def kill(self):
        self.placeholder.kill()  # bubblewrap's init exits with it, and the pid namespace with the init
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass

    terminate = kill

    def close(self):
        self.kill()
        for fd in (self.pidfd, self.placeholder.pidfd):
            try:
                os.close(fd)
            except OSError:
                pass
