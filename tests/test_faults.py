"""The grader never blames a student for its own faults (issue 17, A).

Each fault of the grader (a reference that cannot be imported, a hidden check
that raises inside the grader, a missing or unreadable source notebook, a
sandbox that cannot start, a worker that dies) is an error of the run: the
submission is reported as not graded with the reason, is not marked graded,
its gradebook score is left as it was, and the command exits non-zero. Each
test breaks one thing in a copy of the course and grades a solved
submission of 01 through the real command line.
"""
import json
import os
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry

from autograder.sample_class import solved, with_function
from conftest import REPO, course_env, make_course, needs_sandbox

A = "01_logistic_loop"
pytestmark = needs_sandbox


def run(root, *args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd or root, env=course_env(root),
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A course copy with 01 released (a template the tests copy)."""
    root = make_course(tmp_path_factory.mktemp("released"))
    proc = run(root, "release", A)
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def course(released, tmp_path):
    """A fresh copy of the released course, with ada's solved 01 submitted."""
    root = tmp_path / "course"
    subprocess.run(["cp", "-a", str(released), str(root)], check=True)  # course_config.py finds its own folder
    submit(root, "ada", solved_notebook(root))
    return root


def solved_notebook(root):
    release = nbformat.read(root / "release" / A / f"{A}.ipynb", as_version=4)
    return solved(release, nbformat.read(root / "source" / A / f"{A}.ipynb", as_version=4))


def submit(root, student, nb):
    folder = root / "submitted" / student / A
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{A}.ipynb")
    (folder / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC\n")


def full_marks():
    """The autograded points of the assignment's source notebook: what a solved submission earns."""
    nb = nbformat.read(os.path.join(REPO, "source", A, f"{A}.ipynb"), as_version=4)
    return sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code")


def score(root, student="ada"):
    """The gradebook's score of the submission, or None if there is none."""
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        try:
            return gb.find_submission(A, student).score
        except MissingEntry:
            return None


def failure(root, student="ada"):
    path = root / "autograded" / student / A / ".nn-course-failed.txt"
    return path.read_text() if path.exists() else ""


def graded_marker(root, student="ada"):
    return (root / "autograded" / student / A / ".nn-course-graded.json").exists()


def assert_not_graded(proc, root, reason, before=None):
    """The run reports a fault with the reason, exits 2, and leaves the gradebook as it was."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert reason in proc.stderr, proc.stderr[-3000:]
    assert "a fault of the grader" in proc.stderr
    assert failure(root).startswith("fault:") and reason in failure(root), failure(root)
    assert not graded_marker(root)
    assert score(root) == before


def break_file(root, relative, old, new):
    path = root / relative
    text = path.read_text()
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1))


def test_a_solved_submission_gets_full_marks_in_a_healthy_course(course):
    proc = run(course, "autograde")
    assert proc.returncode == 0, proc.stderr
    assert score(course) == full_marks() and graded_marker(course)


def test_a_reference_that_cannot_be_imported_is_a_fault_and_keeps_the_earlier_score(course):
    assert run(course, "autograde").returncode == 0
    before = score(course)
    (course / "solutions" / "logistic_loop.py").write_text("import numpy_that_is_not_installed\n")
    proc = run(course, "autograde", "--force")
    assert_not_graded(proc, course, "could not import solutions.logistic_loop", before=before)
    assert before == full_marks()


def test_a_hidden_check_that_raises_in_the_grader_is_a_fault(course):
    break_file(course, "solutions/logistic_loop_checks.py", "def large_inputs(spec, target, reference, rng):\n",
               "def large_inputs(spec, target, reference, rng):\n    {}['a key the check forgot']\n")
    proc = run(course, "autograde")
    assert_not_graded(proc, course, "KeyError")
    assert score(course) is None  # no trace of a submission that was never graded


def test_a_missing_source_notebook_is_a_fault(course):
    os.remove(course / "source" / A / f"{A}.ipynb")
    assert_not_graded(run(course, "autograde"), course, "source notebook")


def test_an_unreadable_source_notebook_is_a_fault(course):
    (course / "source" / A / f"{A}.ipynb").write_text('{"cells": [')
    assert_not_graded(run(course, "autograde"), course, "could not be read")


def test_a_sandbox_that_cannot_start_is_a_fault(course):
    with open(course / "course_config.py", "a") as f:
        f.write("\nc.GradeInSandbox.memory_mb = 8  # too little for Python itself: the kernel cannot start\n")
    assert_not_graded(run(course, "autograde"), course, "the kernel could not be started")


def test_a_worker_that_dies_once_is_replaced_and_the_submission_graded_once(course, tmp_path):
    flag = tmp_path / "died-once"
    # the grader runs the checks module in the worker: the first time, it kills its own worker process
    break_file(course, "solutions/logistic_loop_checks.py", "def large_inputs(spec, target, reference, rng):\n",
               "def large_inputs(spec, target, reference, rng):\n"
               f"    import os, signal\n    if not os.path.exists({str(flag)!r}):\n"
               f"        open({str(flag)!r}, 'w').close()\n        os.kill(os.getpid(), signal.SIGKILL)\n")
    submit(course, "ben", solved_notebook(course))
    proc = run(course, "autograde", "--workers", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert flag.exists() and score(course) == full_marks() and score(course, "ben") == full_marks()
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        assert sorted(s.student.id for s in gb.find_assignment(A).submissions) == ["ada", "ben"]


def test_a_worker_that_dies_every_time_is_a_fault(course):
    break_file(course, "solutions/logistic_loop_checks.py", "def large_inputs(spec, target, reference, rng):\n",
               "def large_inputs(spec, target, reference, rng):\n    import os, signal\n"
               "    os.kill(os.getpid(), signal.SIGKILL)\n")
    assert_not_graded(run(course, "autograde", "--workers", "1"), course, "the grading worker died twice")


MARKED_SIGMOID = """
def sigmoid(z):
    return np.full(np.shape(z), 0.125)
"""


def test_a_worker_killed_beside_others_costs_only_its_own_submission(course):
    """With 2 workers, cy's submission makes the grader's checks kill their worker every time (a fault of the
    grader, as above), while ben's slow one is in flight on the other worker. ben is not charged for the deaths:
    the jobs in flight at a death each run alone next, so only cy's is a fault."""
    break_file(course, "solutions/logistic_loop_checks.py", "def large_inputs(spec, target, reference, rng):\n",
               "def large_inputs(spec, target, reference, rng):\n    import os, signal\n"
               "    if np.all(np.asarray(target.call((np.zeros((1, 1)),), arg_names=spec.args).value) == 0.125):\n"
               "        os.kill(os.getpid(), signal.SIGKILL)\n")
    slow = solved_notebook(course)
    cell = next(c for c in slow.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid")
    cell.source += "\n\nimport time\ntime.sleep(15)  # still grading when cy's worker dies\n"
    submit(course, "ben", slow)
    submit(course, "cy", with_function(solved_notebook(course), "sigmoid", MARKED_SIGMOID))
    proc = run(course, "autograde", "--workers", "2")
    assert proc.returncode == 2, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert "cy/01_logistic_loop: the grading worker died twice" in proc.stderr, proc.stderr[-3000:]
    assert score(course) == full_marks() and score(course, "ben") == full_marks()
    assert graded_marker(course, "ben") and not graded_marker(course, "cy") and score(course, "cy") is None


def test_grade_finds_the_reference_from_the_source_notebooks_course_not_the_current_folder(course, tmp_path):
    path = tmp_path / "ada.ipynb"
    nbformat.write(solved_notebook(course), path)
    proc = run(course, "grade", str(path), "--source", str(course / "source" / A / f"{A}.ipynb"), "--json",
               cwd="/tmp")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["score"] == full_marks()


def test_grade_with_a_broken_reference_exits_non_zero_and_prints_no_score(course, tmp_path):
    path = tmp_path / "ada.ipynb"
    nbformat.write(solved_notebook(course), path)
    (course / "solutions" / "logistic_loop.py").write_text("raise RuntimeError('the reference is broken')\n")
    proc = run(course, "grade", str(path), "--source", str(course / "source" / A / f"{A}.ipynb"), cwd="/tmp")
    assert proc.returncode == 2 and "the reference is broken" in proc.stderr, (proc.returncode, proc.stderr)
    assert "total:" not in proc.stdout


SLEEPY_SIGMOID = """
def sigmoid(z):
    import time
    time.sleep(4)
    z = np.asarray(z, dtype=float)
    s = 1 / (1 + np.exp(-z))
    return float(s) if s.ndim == 0 else s
"""


def test_grade_and_autograde_take_the_same_limits_from_the_course(course, tmp_path):
    with open(course / "course_config.py", "a") as f:
        f.write("\nc.GradeInSandbox.call_timeout = 2\n")
    nb = with_function(solved_notebook(course), "sigmoid", SLEEPY_SIGMOID)
    submit(course, "ada", nb)
    path = tmp_path / "ada.ipynb"
    nbformat.write(nb, path)
    proc = run(course, "grade", str(path), "--source", str(course / "source" / A / f"{A}.ipynb"), "--json")
    assert proc.returncode == 0, proc.stderr
    alone = json.loads(proc.stdout)
    messages = [r["message"] for c in alone["cells"] for r in c["results"]]
    assert any("did not return within 2 s" in m for m in messages), messages
    assert run(course, "autograde").returncode == 0
    stored = nbformat.read(course / "autograded" / "ada" / A / f"{A}.ipynb", as_version=4).metadata["nn_course"]
    assert any("did not return within 2 s" in r["message"] for c in stored["cells"] for r in c["results"])
    assert {c["grade_id"]: c["score"] for c in stored["cells"]} == {c["grade_id"]: c["score"] for c in alone["cells"]}
    # the interrupted call cost sigmoid's checks only: the calls after it, in the same kernel, were answered
    scores = {c["grade_id"]: (c["score"], c["points"]) for c in alone["cells"]}
    assert scores["test_loss"] == scores["hidden_loss"] == (0.5, 0.5), scores


DYING_GD_STEP = """
def gd_step(w, b, dw, db, alpha):
    import os
    os._exit(3)
"""


def test_a_kernel_that_dies_inside_a_call_of_the_grader_is_reported_as_dead_not_as_slow(course, tmp_path):
    # gd_step: no locked demo cell calls it, so the kernel dies in the grader's call, in test_gd_step
    path = tmp_path / "ada.ipynb"
    nbformat.write(with_function(solved_notebook(course), "gd_step", DYING_GD_STEP), path)
    proc = run(course, "grade", str(path), "--source", str(course / "source" / A / f"{A}.ipynb"), "--json")
    assert proc.returncode == 0, proc.stderr
    cells = {c["grade_id"]: c for c in json.loads(proc.stdout)["cells"]}
    messages = [r["message"] for r in cells["test_gd_step"]["results"]]
    assert any("kernel died during a call" in m for m in messages), messages
    assert not any("did not return within" in r["message"] for c in cells.values() for r in c["results"])
    later = [r["message"] for r in cells["hidden_train_loop"]["results"]]
    assert cells["hidden_train_loop"]["score"] == 0 and any("not run: the kernel died" in m for m in later), later
    assert cells["test_sigmoid"]["score"] == cells["test_sigmoid"]["points"]
