"""A class on a hub, for the exchange tests, the browser test and the latency
benchmark: the instructor's course root, an nbgrader exchange folder, students
with course folders of their own, and the grading service.

Students act with nbgrader's own exchange classes (fetch, submit,
fetch_feedback), as nbgrader's command line does, either in this process
under a student id of their own (`Student`), or as real Unix users of their
own running nbgrader's command line (`UnixStudents`, root only).
"""
import glob
import logging
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time

import nbformat

from conftest import REPO, course_env, make_course

COURSE_ID = "nn-from-scratch"


def make_hub(base, check_owner=False):
    """(course root, exchange folder) under base: a copy of the course whose
    configuration names the exchange. check_owner=False where students are
    simulated in this process (every submission then belongs to root)."""
    exchange = os.path.join(base, "exchange")
    os.makedirs(exchange)
    os.chmod(exchange, 0o1777)  # as on a hub: everyone writes, no one removes another's folder
    root = make_course(os.path.join(base, "instructor"))
    with open(os.path.join(root, "course_config.py"), "a") as f:
        f.write(f"\nc.Exchange.root = {exchange!r}\nc.ExchangeCollect.check_owner = {check_owner!r}\n")
    return root, exchange


def run_cli(root, *args, timeout=900):
    proc = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=root, env=course_env(root),
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def student_config(exchange):
    """What a student's nbgrader_config.py says on the hub."""
    return (f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
            f"c.Exchange.root = {exchange!r}\n")


class Student:
    """A student in this process: nbgrader's exchange classes with the student's
    own configuration (course folder, cache) and student id."""

    def __init__(self, name, folder, exchange):
        from traitlets.config import Config
        logging.getLogger("traitlets").setLevel(logging.ERROR)  # nbgrader's exchange logs every step
        self.name, self.folder = name, str(folder)
        os.makedirs(self.folder, exist_ok=True)
        self.config = Config()
        self.config.CourseDirectory.course_id = COURSE_ID
        self.config.CourseDirectory.root = self.folder
        self.config.Exchange.root = exchange
        self.config.Exchange.assignment_dir = self.folder
        self.config.Exchange.cache = os.path.join(self.folder, ".nbgrader_cache")

    def _run(self, kind, assignment):
        from nbgrader.auth import Authenticator
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.exchange import ExchangeFactory
        coursedir = CourseDirectory(config=self.config)
        coursedir.assignment_id, coursedir.student_id = assignment, self.name
        app = getattr(ExchangeFactory(config=self.config), kind)(
            coursedir=coursedir, authenticator=Authenticator(config=self.config), config=self.config)
        return app.start()

    def fetch(self, assignment):
        self._run("FetchAssignment", assignment)

    def notebook(self, assignment):
        return os.path.join(self.folder, assignment, f"{assignment}.ipynb")

    def write(self, assignment, nb):
        path = self.notebook(assignment)
        if isinstance(nb, str):
            with open(path, "w", encoding="utf-8") as f:
                f.write(nb)
        else:
            nbformat.write(nb, path)

    def submit(self, assignment):
        self._run("Submit", assignment)

    def fetch_feedback(self, assignment):
        """{submission time: {notebook: html}} of the feedback fetched so far."""
        self._run("FetchFeedback", assignment)
        return read_feedback(os.path.join(self.folder, assignment, "feedback"))


def read_feedback(folder):
    found = {}
    for stamp in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        for name in sorted(os.listdir(os.path.join(folder, stamp))):
            with open(os.path.join(folder, stamp, name), encoding="utf-8") as f:
                found.setdefault(stamp, {})[name[:-5]] = f.read()
    return found


def source_and_release(root, assignment):
    read = lambda *p: nbformat.read(os.path.join(root, *p, assignment, f"{assignment}.ipynb"), as_version=4)
    return read("source"), read("release")


def solved_notebook(root, assignment):
    from autograder.sample_class import solved
    source, release = source_and_release(root, assignment)
    return solved(release, source)


# ---- the grading service -------------------------------------------------------------------------

class Service:
    """`python -m autograder serve` on the course at root, its log in log_path."""

    def __init__(self, root, log_path, workers=2, poll=0.2):
        self.root, self.log_path = root, str(log_path)
        self.log_file = open(self.log_path, "a")
        self.offset = os.path.getsize(self.log_path)  # this run's lines start here
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder", "serve", "--workers", str(workers),
                                      "--poll", str(poll)], cwd=root, env=course_env(root),
                                     stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self):
        with open(self.log_path) as f:
            f.seek(self.offset)
            return f.read()

    def wait_for(self, pattern, timeout=300, count=1):
        """Wait until this run's log has count lines matching pattern; returns the matches."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.findall(pattern, self.log(), re.M)
            if len(found) >= count:
                return found
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited ({self.proc.returncode}) waiting for {pattern!r}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {count} x {pattern!r} in serve's log after {timeout} s:\n{self.log()}")
            time.sleep(0.1)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stop it as a service manager does; returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise AssertionError(f"serve did not stop within {timeout} s of signal {sig}:\n{self.log()}")
        self.log_file.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop(signal.SIGKILL if exc[0] else signal.SIGTERM)
        self.log_file.close()


def wait_for_feedback(student, assignment, stamps=1, timeout=300):
    """Fetch feedback until it holds `stamps` submissions' pages; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        found = student.fetch_feedback(assignment)
        if len(found) >= stamps:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no feedback for {student.name}/{assignment} after {timeout} s")
        time.sleep(0.2)


def score_of(page):
    """(score, max score) from a feedback page: nbgrader's header says 'Score: 28.0 / 30.0'."""
    found = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", re.sub(r"<[^>]+>", " ", page))
    return (float(found.group(1)), float(found.group(2))) if found else None


# ---- students as Unix users of their own -----------------------------------------------------------

SYSTEM_PYTHON = "/usr/bin/python3"


def unix_students_unavailable():
    """Why students cannot be Unix users of their own here, or None."""
    if os.geteuid() != 0:
        return "creating Unix users needs root"
    if not shutil.which("useradd") or not shutil.which("runuser"):
        return "useradd and runuser are missing"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing (apt-get install python3)"
    version = subprocess.run([SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    if version != str(tuple(sys.version_info[:2])):
        return f"{SYSTEM_PYTHON} is Python {version}, not this venv's {tuple(sys.version_info[:2])}"
    return None


def shared_venv(folder):
    """This venv, runnable by every user, at folder: hard links to its files
    (a copy where links cannot be made) on Debian's /usr/bin/python3 of the
    same version, because the venv's own interpreter may live where other
    users cannot go (pyenv under /root). The course's package is copied in:
    the editable install points into the repository, which may be private."""
    made = subprocess.run(["cp", "-al", sys.prefix, folder], capture_output=True)
    if made.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(["cp", "-a", sys.prefix, folder], check=True)
    for name in os.listdir(os.path.join(folder, "bin")):
        if re.fullmatch(r"python[\d.]*", name):
            os.remove(os.path.join(folder, "bin", name))  # unlink only: the original stays as it was
            os.symlink(SYSTEM_PYTHON, os.path.join(folder, "bin", name))
    os.remove(os.path.join(folder, "pyvenv.cfg"))
    with open(os.path.join(folder, "pyvenv.cfg"), "w") as f:
        f.write(f"home = {os.path.dirname(SYSTEM_PYTHON)}\ninclude-system-site-packages = false\n")
    site = glob.glob(os.path.join(folder, "lib", "python3*", "site-packages"))[0]
    for path in glob.glob(os.path.join(site, "__editable__*nn_course*")):
        os.remove(path)
    shutil.copytree(os.path.join(REPO, "autograder"), os.path.join(site, "autograder"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    return os.path.join(folder, "bin", "python")


class UnixStudents:
    """Students who are Unix users of their own, each with a home (their
    course folder) and ~/.jupyter/nbgrader_config.py naming the course and the
    exchange, running nbgrader's command line, as on a hub. Use as a context
    manager: the users, their homes and their processes are removed at the end."""

    def __init__(self, base, exchange, names):
        self.base, self.exchange = str(base), exchange
        os.chmod(self.base, 0o755)
        self.python = shared_venv(os.path.join(self.base, "student-venv"))
        tag = secrets.token_hex(2)
        self.users = {}  # student -> Unix user (= student id)
        try:
            for name in names:
                self.users[name] = user = f"nn{tag}{name}"[:32]
                subprocess.run([shutil.which("useradd"), "--create-home", "--shell", "/bin/sh", user], check=True)
                config = os.path.join(self.home(name), ".jupyter")
                self.run(name, "-c", f"import os; os.makedirs({config!r}); "
                         f"open({config + '/nbgrader_config.py'!r}, 'w').write({student_config(exchange)!r})")
        except BaseException:
            self.__exit__()
            raise

    def home(self, name):
        return pwd.getpwnam(self.users[name]).pw_dir

    def env(self, name):
        return {"HOME": self.home(name), "USER": self.users[name], "LANG": "C.UTF-8",
                "PATH": os.path.dirname(self.python) + ":/usr/bin:/bin"}

    def run(self, name, *args, check=True, timeout=300):
        """python ARGS as the student, in their home."""
        proc = subprocess.run([shutil.which("runuser"), "-u", self.users[name], "--", self.python, *args],
                              cwd=self.home(name),
                              env=self.env(name), capture_output=True, text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, f"{name}: {args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        return proc

    def nbgrader(self, name, *args, **kw):
        return self.run(name, "-m", "nbgrader", *args, **kw)

    def write(self, name, path, text):
        """A file the student writes (their own, with their permissions)."""
        self.run(name, "-c", f"open({path!r}, 'w').write({text!r})")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        from autograder.sandbox import kill_user
        for user in self.users.values():
            try:
                kill_user(pwd.getpwnam(user).pw_uid)  # what these new users still run (started by the test)
            except KeyError:
                continue
            subprocess.run([shutil.which("userdel"), "--remove", user], capture_output=True)
        shutil.rmtree(os.path.join(self.base, "student-venv"), ignore_errors=True)
