#!/usr/bin/env python3
"""The course's tests and benchmarks as an unprivileged user (the instructor of
a JupyterHub, whose grader runs without root): that user, its own Python
environment and a copy of this checkout it can read.

    python3 scripts/unprivileged.py user              create the user (nn-grader) if missing
    python3 scripts/unprivileged.py env               the user, its venv, the copy: print where they are
    python3 scripts/unprivileged.py test [PYTEST ARGS]
                                                      the unprivileged run: pytest as that user
                                                      (default: the sandbox, hostile and nbgrader tests)
    python3 scripts/unprivileged.py run CMD ...       any command as that user, in the copy

Run as root (make test does: it runs the suite as root, then this). The
default Python of these machines lives under /root, which other users cannot
enter, so the user gets a venv made by Debian's /usr/bin/python3 under
/var/tmp/nn-course-unprivileged/, keyed by pyproject.toml's hash (reused while
it does not change), with the project installed editable from a copy of this
checkout that is refreshed on every call. Everything there is root's and
read-only to the user, except its home folder.
"""
import fcntl
import hashlib
import os
import pwd
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USER = os.environ.get("NN_COURSE_UNPRIVILEGED_USER", "nn-grader")
BASE = os.environ.get("NN_COURSE_UNPRIVILEGED_DIR", "/var/tmp/nn-course-unprivileged")
PYTHON = "/usr/bin/python3"
TESTS = ["tests/test_sandbox.py", "tests/test_zygote.py", "tests/test_hostile.py", "tests/test_entry_points.py"]
SKIP = {".git", ".venv", "__pycache__", ".pytest_cache", "test-artifacts", "submitted", "autograded", "feedback",
        "reports", "exports", "gradebook.db", "build", "dist"}


class Unavailable(RuntimeError):
    """This system cannot make the unprivileged run (said why)."""


def say(text):
    print(f"[unprivileged] {text}", file=sys.stderr, flush=True)


def ensure_user(user=USER):
    """The unprivileged user, created (a system user with a home of its own) if missing."""
    try:
        return pwd.getpwnam(user)
    except KeyError:
        pass
    if os.geteuid() != 0:
        raise Unavailable(f"user {user} does not exist and only root can create it")
    if shutil.which("useradd") is None:
        raise Unavailable(f"user {user} does not exist and useradd is not installed")
    subprocess.run(["useradd", "--system", "--create-home", "--home-dir", f"/var/lib/{user}",
                    "--shell", "/usr/sbin/nologin", user], check=True)
    say(f"created user {user}")
    return pwd.getpwnam(user)


def _digest(data, n):
    return hashlib.sha256(data).hexdigest()[:n]


def _checkout_files():
    """The checkout's files: git's tracked and untracked-but-not-ignored ones, or a walk without generated folders."""
    if os.path.isdir(os.path.join(REPO, ".git")) or os.path.isfile(os.path.join(REPO, ".git")):
        proc = subprocess.run(["git", "-C", REPO, "ls-files", "-z", "-c", "-o", "--exclude-standard"],
                              capture_output=True)
        if proc.returncode == 0:
            return sorted({p for p in proc.stdout.decode().split("\0") if p and os.path.isfile(os.path.join(REPO, p))})
    found = []
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP and not d.endswith(".egg-info")]
        found += [os.path.relpath(os.path.join(folder, f), REPO) for f in files if f not in SKIP]
    return sorted(found)


def _copy_checkout(target):
    if os.path.exists(target):
        shutil.rmtree(target)
    for rel in _checkout_files():
        os.makedirs(os.path.dirname(os.path.join(target, rel)), exist_ok=True)
        shutil.copy2(os.path.join(REPO, rel), os.path.join(target, rel))


def _readable(path):
    """Everything under path readable (and folders enterable) by everyone, writable by root only."""
    os.chmod(path, 0o755)
    for folder, dirs, files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o755)
        for name in files:
            p = os.path.join(folder, name)
            if not os.path.islink(p):
                os.chmod(p, 0o755 if os.stat(p).st_mode & 0o100 else 0o644)
    os.chmod(os.path.join(path, ".lock"), 0o600)


class Env:
    def __init__(self, user, root):
        self.user = user
        self.root = root                                  # BASE/<checkout>
        self.repo = os.path.join(root, "repo")            # the copy of this checkout
        self.home = os.path.join(root, "home")            # the user's HOME during a run (its own)
        with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
            self.venv = os.path.join(root, "venv-" + _digest(f.read(), 12))
        self.python = os.path.join(self.venv, "bin", "python")

    def environment(self, **extra):
        env = {"HOME": self.home, "PATH": f"{self.venv}/bin:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "USER": self.user, "LOGNAME": self.user, "PYTHONDONTWRITEBYTECODE": "1"}
        env.update({k: v for k, v in os.environ.items() if k.startswith("NN_COURSE_") and k not in (
            "NN_COURSE_UNPRIVILEGED_USER", "NN_COURSE_UNPRIVILEGED_DIR")})
        env.update(extra)
        return env

    def command(self, argv, **extra_env):
        """argv as the unprivileged user, with its environment only (nothing of root's)."""
        return ["runuser", "-u", self.user, "--", "env", "-i",
                *[f"{k}={v}" for k, v in self.environment(**extra_env).items()], *argv]


_locks = []


def _lock(root):
    """One unprivileged run per checkout at a time (the copy is replaced): held until this process ends."""
    fd = os.open(os.path.join(root, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        say("waiting for another unprivileged run of this checkout to finish")
        fcntl.flock(fd, fcntl.LOCK_EX)
    _locks.append(fd)


def prepare(user=USER, quiet=False):
    """The user, its venv (made once per pyproject.toml) and a fresh readable copy of this checkout."""
    if os.geteuid() != 0:
        raise Unavailable("only root can prepare another user's environment (and an unprivileged "
                          "make test already runs every test without root)")
    if shutil.which("runuser") is None:
        raise Unavailable("runuser (util-linux) is not installed")
    if not os.access(PYTHON, os.X_OK):
        raise Unavailable(f"{PYTHON} (Debian's python3) is not installed: apt-get install python3 python3-venv")
    account = ensure_user(user)
    os.makedirs(BASE, exist_ok=True)
    os.chmod(BASE, 0o755)
    env = Env(user, os.path.join(BASE, _digest(os.path.realpath(REPO).encode(), 12)))
    os.makedirs(env.root, exist_ok=True)
    _lock(env.root)
    _copy_checkout(env.repo)
    if not os.path.exists(os.path.join(env.venv, ".installed")):
        for old in os.listdir(env.root):
            if old.startswith("venv-"):
                shutil.rmtree(os.path.join(env.root, old))
        if not quiet:
            say(f"making {env.venv} for {user} with {PYTHON} (once per pyproject.toml; a few minutes)")
        proc = subprocess.run([PYTHON, "-m", "venv", env.venv], capture_output=True, text=True)
        if proc.returncode != 0:
            raise Unavailable(f"{PYTHON} -m venv failed (apt-get install python3-venv): {proc.stderr.strip()[-500:]}")
        pip = [env.python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        # the course and pytest: the tests run here need nothing else of the test extra (torch, dask, a browser)
        proc = subprocess.run(pip + ["-e", env.repo, "pytest>=8"], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-5000:] + proc.stderr[-5000:])
            raise RuntimeError(f"pip install into {env.venv} failed (above)")
        open(os.path.join(env.venv, ".installed"), "w").close()
    subprocess.run([env.python, "-m", "compileall", "-q", env.repo], check=True, stdout=subprocess.DEVNULL)
    _readable(env.root)
    if os.path.exists(env.home):
        shutil.rmtree(env.home)
    os.makedirs(env.home)
    os.chown(env.home, account.pw_uid, account.pw_gid)
    os.chmod(env.home, 0o700)
    return env


def main(argv):
    what = argv[0] if argv else "test"
    try:
        if what == "user":
            ensure_user()
            return 0
        env = prepare(quiet=what == "env")
    except Unavailable as exc:
        say(f"skipped: {exc}")
        return 0
    if what == "env":
        print(f"user {env.user}\npython {env.python}\nrepo {env.repo}\nhome {env.home}")
        return 0
    if what == "run":
        return subprocess.run(env.command(argv[1:]), cwd=env.repo).returncode
    if what == "test":
        args = argv[1:]
        if not [a for a in args if not a.startswith("-")]:  # options only: on the default files
            args += TESTS
        say(f"pytest as {env.user} (uid {pwd.getpwnam(env.user).pw_uid}), {env.python}, in {env.repo}: "
            + " ".join(args))
        return subprocess.run(env.command([env.python, "-m", "pytest", "-p", "no:cacheprovider", *args]),
                              cwd=env.repo).returncode
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
