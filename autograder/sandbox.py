"""The sandbox a student's kernel runs in (bubblewrap + setpriv + prlimit).

What the kernel sees: the system's programs and libraries, the Python
installation and the course environment read-only, the autograder package
read-only (the kernel needs its harness), its own working folder and a private
folder for the kernel's sockets read-write, a private /tmp, nothing else: not
the repository (no solutions/, no source/, no gradebook), not other students'
folders, no network. It runs as an unprivileged user of its own (a uid per
grading process, so that its process limit is its own), without
capabilities, under limits on address space, processes and file size, in a
pid namespace that dies with the grader, so nothing it starts outlives it.

The grader talks to the kernel over ZeroMQ's ipc transport (Unix sockets in
the private folder), which works across the network namespace.
"""
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from jupyter_client.manager import AsyncKernelManager
from traitlets import Int, List, Unicode

AUTOGRADER_DIR = os.path.dirname(os.path.abspath(__file__))
SYSTEM_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc/alternatives", "/etc/fonts")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf")


class SandboxUnavailable(RuntimeError):
    pass


def _missing_tools():
    return [tool for tool in ("bwrap", "setpriv", "prlimit") if shutil.which(tool) is None]


def check_sandbox():
    """Raise SandboxUnavailable, saying why, unless a sandboxed command runs here."""
    missing = _missing_tools()
    if missing:
        raise SandboxUnavailable(f"{', '.join(missing)} not found: install bubblewrap and util-linux "
                                 "(apt-get install bubblewrap), or grade with --no-sandbox (trusted code only)")
    if os.geteuid() != 0:
        raise SandboxUnavailable("the sandbox runs each kernel as a user of its own and needs root to do so; "
                                 "run the grader as root (in a container), or with --no-sandbox (trusted code only)")
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.run(sandbox_command([sys.executable, "-c", "print('ok')"], workdir),
                              capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or proc.stdout.strip() != "ok":
        raise SandboxUnavailable(f"bubblewrap could not start a sandbox here: {proc.stderr.strip()[-500:]}")


_kernels = itertools.count()


def sandbox_uid():
    """A fresh unprivileged uid for each sandbox (per grading process and
    kernel): its own process limit, and every process it left can be found."""
    return 200000 + (os.getpid() % 20000) * 50 + next(_kernels) % 50


def kill_user(uid):
    """Kill every process running as uid (what a sandbox left behind)."""
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
    """The command line that runs argv in the sandbox, in workdir, as uid (a fresh one if None)."""
    ro = [(d, d) for d in SYSTEM_DIRS if os.path.exists(d) and not os.path.islink(d)]
    symlinks = [(os.readlink(d), d) for d in SYSTEM_DIRS if os.path.islink(d)]
    ro += [(f, f) for f in SYSTEM_FILES if os.path.exists(f)]
    ro += [(d, d) for d in _python_dirs()]
    ro += [(AUTOGRADER_DIR, "/opt/nn-course/autograder")]
    rw = [(os.path.abspath(workdir), os.path.abspath(workdir))] + [(os.path.abspath(d), os.path.abspath(d))
                                                                    for d in extra_rw]
    cmd = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev",
           "--perms", "1777", "--tmpfs", "/tmp", "--clearenv"]
    for target, link in symlinks:
        cmd += ["--symlink", target, link]
    cmd += _with_parents(ro + rw)
    for source, target in ro:
        cmd += ["--ro-bind", source, target]
    for source, target in rw:
        cmd += ["--bind", source, target]
    environment = {"HOME": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib", "MPLBACKEND": "Agg", "LANG": "C.UTF-8",
                   "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "PYTHONPATH": "/opt/nn-course",
                   "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "PYTHONDONTWRITEBYTECODE": "1", "JUPYTER_PLATFORM_DIRS": "1", "IPYTHONDIR": "/tmp/ipython"}
    environment.update(env or {})
    for key, value in environment.items():
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", os.path.abspath(workdir)]
    for _, folder in rw:
        os.chmod(folder, 0o777)  # the sandbox's own user writes here; no other sandbox sees the folder
    uid = str(uid or sandbox_uid())
    # setuid away from root drops every capability; the limits then bind (root ignores RLIMIT_NPROC)
    cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--bounding-set=-all",
            "--inh-caps=-all", "--no-new-privs",
            "prlimit", f"--as={memory_mb * 2 ** 20}", f"--nproc={max_processes}", f"--fsize={file_mb * 2 ** 20}",
            "--core=0", "--"]
    return cmd + list(argv)


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in the sandbox, reached over ipc sockets."""

    workdir = Unicode(help="the folder the student's code runs in (read-write)").tag(config=True)
    memory_mb = Int(2048, help="address-space limit of the kernel, MiB").tag(config=True)
    max_processes = Int(64, help="processes and threads the kernel's user may run").tag(config=True)
    extra_rw = List(Unicode(), help="more folders the kernel may write").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.private_dir = tempfile.mkdtemp(prefix="nn-sandbox-")
        os.chmod(self.private_dir, 0o777)  # the kernel's own user creates its sockets here
        self.transport = "ipc"
        self.ip = os.path.join(self.private_dir, "kernel")
        self.connection_file = os.path.join(self.private_dir, "kernel.json")
        self.uid = sandbox_uid()

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        os.chmod(self.connection_file, 0o644)  # only this sandbox sees the folder

    def format_kernel_cmd(self, extra_arguments=None):
        argv = super().format_kernel_cmd(extra_arguments)
        return sandbox_command(argv, self.workdir or self.private_dir, self.memory_mb, self.max_processes,
                               extra_rw=(self.private_dir, *self.extra_rw), uid=self.uid)

    async def _async_pre_start_kernel(self, **kw):
        # the kernel's own stdout and stderr (ipykernel's banner, a student's os.write(1, ...)) would
        # go to the instructor's terminal; what a cell prints reaches the notebook over its messages
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        return await super()._async_pre_start_kernel(**kw)

    async def interrupt_kernel(self):
        """By message: a signal to the process group would stop bubblewrap itself."""
        if self.has_kernel:
            self._connect_control_socket()
            self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        kill_user(self.uid)  # nothing the student started outlives the kernel
        if not restart:
            shutil.rmtree(self.private_dir, ignore_errors=True)
