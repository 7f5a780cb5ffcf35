"""Shared by the tests that grade a whole class: a copy of the course, graded
once per session by `python -m autograder demo` (release, the sample class,
parallel autograde, feedback, export, report)."""
import glob
import os
import shutil
import subprocess
import sys

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
FAST = {"test_vocabulary", "test_assignments", "test_units"}


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
