"""A class on a hub, for the exchange tests, the browser test and the latency
benchmark: the instructor's course root, an nbgrader exchange folder, students
with course folders of their own, and the grading service.

Students act with nbgrader's own exchange classes (fetch, submit,
fetch_feedback), as nbgrader's command line does, either in this process
under a student id of their own (`Student`), or as real Unix users of their
own running nbgrader's command line (`UnixStudents`, root only).
"""
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
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


def student_config(folder, exchange):
    """What a student's nbgrader_config.py says on the hub."""
    return (f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
            f"c.Exchange.root = {exchange!r}\n")


class Student:
    """A student in this process: nbgrader's exchange classes with the student's
    own configuration (course folder, cache) and student id."""

    def __init__(self, name, folder, exchange):
        from traitlets.config import Config
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
