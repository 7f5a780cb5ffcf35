"""The instructor's first hour (issue 16): the README's instructor commands,
called by their full path from a shell whose PATH lacks the environment's
bin folder, on a fresh course folder of the instructor's own (a copy of
source/, solutions/ and the configuration, the commands run from inside it).
Each failure whose cause is known says what to run next; for the rest,
nbgrader's own log is kept in a file the message names."""
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.sample_class import solved
from conftest import REPO, needs_sandbox

A = "01_logistic_loop"
pytestmark = needs_sandbox


def new_course(root):
    """A course of one's own, as the README says: the assignments, the reference and the configuration."""
    for folder in ("source", "solutions"):
        shutil.copytree(os.path.join(REPO, folder), root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("course_config.py", "nbgrader_config.py"):
        shutil.copy(os.path.join(REPO, name), root / name)
    return root


def command(root, *args):
    """`<venv>/bin/python -m autograder ARGS` by its full path, from the course folder, with a bare PATH."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    assert os.path.dirname(sys.executable) not in env["PATH"]
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=900)


def submit(root, student, nb, timestamp="2026-11-20 12:00:00.000000 UTC"):
    folder = root / "submitted" / student / A
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{A}.ipynb")
    (folder / "timestamp.txt").write_text(timestamp + "\n")


def test_a_new_instructor_grades_a_submission_from_a_bare_shell(tmp_path):
    root = new_course(tmp_path / "my-course")
    release = nbformat.read(os.path.join(REPO, "release", A, f"{A}.ipynb"), as_version=4)
    source = nbformat.read(root / "source" / A / f"{A}.ipynb", as_version=4)
    submit(root, "ada", solved(release, source))

    # copied into submitted/ before the assignment was released: the gradebook does not know it yet
    early = command(root, "autograde")
    assert early.returncode == 2, (early.stdout, early.stderr)
    assert f"{A} is not in the gradebook: run `python -m autograder release {A}` first" in early.stderr
    assert "Traceback" not in early.stderr + early.stdout and "alembic" not in early.stderr
    assert not (root / "autograded" / "ada" / A / ".nn-course-graded.json").exists()

    released = command(root, "release", A)
    assert released.returncode == 0 and f"released {A}" in released.stdout, released.stderr
    graded = command(root, "autograde")
    assert graded.returncode == 0, graded.stderr
    assert "1 of 1 submission(s) graded" in graded.stdout
    for step in (("feedback", A), ("export",), ("report",)):
        proc = command(root, *step)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, (step, proc.stderr)
    assert (root / "feedback" / "ada" / A / f"{A}.html").exists()
    assert "ada" in (root / "exports" / "grades.csv").read_text()


def test_an_unknown_nbgrader_failure_keeps_nbgraders_log_in_a_file_the_message_names(tmp_path):
    root = new_course(tmp_path / "my-course")
    assert command(root, "release", A).returncode == 0
    release = nbformat.read(root / "release" / A / f"{A}.ipynb", as_version=4)
    submit(root, "ada", release, timestamp="the day before yesterday")  # nbgrader cannot read this date
    proc = command(root, "autograde")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    log = root / "autograded" / "ada" / A / ".nn-course-nbgrader.log"
    assert f"nbgrader's log: {log}" in proc.stderr and "Traceback" not in proc.stderr
    assert "Traceback" in log.read_text()  # nbgrader's own account, for the instructor who wants it
