"""Shared by the tests that grade a whole class: a copy of the course, graded
once per session by `python -m autograder demo` (release, the sample class,
parallel autograde, feedback, export, report); and a PostgreSQL server of the
tests' own for the gradebook (the session fixture `postgres`)."""
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

import pytest

from autograder.sandbox import SandboxUnavailable, check_sandbox

try:
    check_sandbox()
    NO_SANDBOX = None
except SandboxUnavailable as exc:
    NO_SANDBOX = str(exc)
# tests that grade through the real path: grading refuses to run a student's code without its sandbox
needs_sandbox = pytest.mark.skipif(NO_SANDBOX is not None, reason=f"grading refuses without its sandbox: {NO_SANDBOX}")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENTS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO, "source", "[0-9][0-9]_*")))


# the inner loop (`make test-fast`): modules that start no kernel, browser or service; every other module is slow
FAST = {"test_vocabulary", "test_assignments", "test_units", "test_course_text"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.module.__name__.rsplit(".", 1)[-1]
        if name not in FAST and not name.startswith("test_solutions_"):
            item.add_marker(pytest.mark.slow)


def make_course(root):
    """A copy of the course (source/, solutions/, its configuration) with its own gradebook."""
    os.makedirs(root, exist_ok=True)
    for folder in ("source", "solutions"):
        shutil.copytree(os.path.join(REPO, folder), os.path.join(root, folder),
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("course_config.py", "nbgrader_config.py"):
        shutil.copy(os.path.join(REPO, name), os.path.join(root, name))
    return root


def course_silent_on_warm_kernels(root):
    """The course copy's course_config.py without its warm_kernels line: the default holds unless the
    setting comes from elsewhere (the instructor's Jupyter configuration). Returns the file's path."""
    config = os.path.join(root, "course_config.py")
    with open(config) as f:
        text = f.read()
    assert "c.GradeInSandbox.warm_kernels = True\n" in text
    with open(config, "w") as f:
        f.write(text.replace("c.GradeInSandbox.warm_kernels = True\n", ""))
    return config


def sample_subset(root, keep):
    """The bundled sample class (autograder.sample_class) in root/submitted/, only its
    (student, assignment) pairs in keep; an assignment not released in root is made
    from the repository's release/."""
    from autograder.sample_class import make_sample_class
    for name in ASSIGNMENTS:
        if not os.path.isdir(os.path.join(root, "release", name)):
            shutil.copytree(os.path.join(REPO, "release", name), os.path.join(root, "release", name))
    make_sample_class(str(root))
    for folder in glob.glob(os.path.join(root, "submitted", "*", "*")):
        if tuple(folder.split(os.sep)[-2:]) not in keep:
            shutil.rmtree(folder)
    for folder in glob.glob(os.path.join(root, "submitted", "*")):
        if not os.listdir(folder):
            os.rmdir(folder)


def course_env(root):
    return dict(os.environ, NN_COURSE_ROOT=str(root), PYTHONPATH=str(root),
                PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))


def cli(root, *args, timeout=1800):
    """python -m autograder ARGS on the course copy at root; fails the test if it fails."""
    proc = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=root, env=course_env(root),
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory):
    """(root, stdout of the demo): the sample class graded on a copy of the course."""
    root = make_course(tmp_path_factory.mktemp("course"))
    proc = cli(root, "demo", "--workers", "2")
    return root, proc.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A PostgreSQL server on a temporary folder and a free port of 127.0.0.1 (Debian's
    postgresql package: initdb and pg_ctl). PostgreSQL refuses to run as root: as root,
    the server runs as the `postgres` user."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.folder = tempfile.mkdtemp(prefix="nn-postgres-")
        self.data = os.path.join(self.folder, "data")
        self.port = free_port()
        if os.geteuid() == 0:
            import pwd
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        # loopback only; no durability needed for a test's gradebook
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.folder, "server.log"), "-o", options, "-w",
                  "-t", "60", "start")
        self.databases = 0

    def _run(self, tool, *args):
        argv = [os.path.join(self.bindir, tool), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=self.folder)
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} failed: {proc.stdout[-1500:]}{proc.stderr[-1500:]}")

    def new_database(self):
        """The SQLAlchemy URL of a fresh, empty database on the server."""
        import psycopg
        self.databases += 1
        name = f"gradebook_{self.databases}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self):
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _postgres_bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[-3]))
    return os.path.dirname(found[-1]) if found else None


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL server (skips, saying why, where there is none to start)."""
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql; "
                    "scripts/system-packages --test installs it when run as root)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[test]')")
    server = Postgres(bindir)
    yield server
    server.stop()


class DaskCluster:
    """A Dask cluster on localhost, run the way people run one: a `dask scheduler` process
    and `dask worker` processes (--nworkers 1 --nthreads 1 each). Workers have this Python
    environment (the course package) and, with reference, the reference solutions on
    PYTHONPATH: a folder holding only a copy of solutions/, never a course folder."""

    def __init__(self, workers=2, reference=True):
        self.folder = tempfile.mkdtemp(prefix="nn-dask-")
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.reference = os.path.join(self.folder, "reference") if reference else None
        if reference:
            shutil.copytree(os.path.join(REPO, "solutions"), os.path.join(self.reference, "solutions"),
                            ignore=shutil.ignore_patterns("__pycache__"))
        self.scheduler = self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port",
                                                  self.address.rsplit(":", 1)[1], "--no-dashboard"])
        self.workers = []
        for _ in range(workers):
            self.add_worker()
        self.wait_for(workers)

    def _start(self, name, args, env=None):
        with open(os.path.join(self.folder, f"{name}.log"), "w") as log:
            return subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "dask"), *args], cwd=self.folder,
                                    env=env or dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def add_worker(self):
        env = {k: v for k, v in os.environ.items() if k not in ("NN_COURSE_ROOT", "NN_COURSE_DB_URL", "PYTHONPATH")}
        if self.reference:
            env["PYTHONPATH"] = self.reference
        name = f"w{len(self.workers)}"
        self.workers.append(self._start(name, ["worker", self.address, "--nworkers", "1", "--nthreads", "1",
                                               "--no-dashboard", "--name", name], env))

    def client(self):
        from distributed import Client
        return Client(self.address, timeout=60, set_as_default=False)

    def wait_for(self, workers, timeout=180):
        with self.client() as client:
            client.wait_for_workers(workers, timeout=timeout)

    def log(self, name):
        with open(os.path.join(self.folder, f"{name}.log")) as f:
            return f.read()

    def stop(self):
        """Every process of the cluster (a worker's nanny, its worker and their kernels) ends."""
        for proc in self.workers + [self.scheduler]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.workers + [self.scheduler]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)
