"""Every way an instructor grades runs the student's code in the sandbox, as root
and as an unprivileged user (the instructor of a JupyterHub, whose server, and
with it nbgrader's formgrader, runs as that user): make test runs this file as
root, then scripts/unprivileged.py runs it again as nn-grader.

On a small course (assignment 01 only, a copy of the course): nbgrader's API as
the formgrader builds it (release, then its Autograde button's call,
NbGraderAPI.autograde), plain `nbgrader autograde`, `python -m autograder
autograde` and `python -m autograder grade`. Each submission carries a probe
cell that prints where it ran: the sandbox's host name, its uid, and whether it
sees the gradebook or the reference solutions.
"""
import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import nbformat
import pytest

from autograder.sample_class import solved, with_function
from autograder.sandbox import sandbox_mode
from conftest import REPO, course_env, make_course, needs_sandbox

ASSIGNMENT = "01_logistic_loop"
pytestmark = needs_sandbox
MODE = sandbox_mode()

# the formgrader's own construction of the API (nbgrader/server_extensions/formgrader: an NbGrader app that
# loads nbgrader_config.py from the working folder, NbGraderAPI(coursedir, authenticator, parent=app)),
# then the calls behind its buttons
FORMGRADER = """
    import json, sys
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    app = NbGrader()
    app.load_config_file()
    api = NbGraderAPI(CourseDirectory(parent=app), Authenticator(parent=app), parent=app)
    action, assignment = sys.argv[1], sys.argv[2]
    if action == "release":
        result = api.generate_assignment(assignment)
    else:
        result = api.autograde(assignment, sys.argv[3])
    print(json.dumps({"success": result["success"], "error": result.get("error"), "log": result.get("log", "")[-3000:]}))
"""

PROBE = """\
import os, socket
print("PROBE", socket.gethostname(), os.getuid(), os.path.exists("@ROOT@/gradebook.db"), os.path.exists("@ROOT@/solutions"))
"""

WRONG_SIGMOID = """\
def sigmoid(z):
    return np.zeros_like(np.asarray(z, dtype=float)) + 0.25 if np.ndim(z) else 0.25
"""


def _run(root, *args, timeout=900):
    env = course_env(root)
    proc = subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _formgrader(root, *args):
    proc = _run(root, "-c", textwrap.dedent(FORMGRADER), *args)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["success"], result
    return result


def _submit(root, student, nb):
    folder = os.path.join(root, "submitted", student, ASSIGNMENT)
    os.makedirs(folder)
    nb = nbformat.from_dict(nb)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE.replace("@ROOT@", str(root))))
    nbformat.write(nb, os.path.join(folder, f"{ASSIGNMENT}.ipynb"))
    with open(os.path.join(folder, "timestamp.txt"), "w") as f:
        f.write("2026-11-20 12:00:00.000000 UTC\n")
    return os.path.join(folder, f"{ASSIGNMENT}.ipynb")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = str(make_course(tmp_path_factory.mktemp("entry")))
    _formgrader(root, "release", ASSIGNMENT)
    release = nbformat.read(os.path.join(root, "release", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), as_version=4)
    source = nbformat.read(os.path.join(root, "source", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), as_version=4)
    right = solved(release, source)
    paths = {student: _submit(root, student, nb) for student, nb in (
        ("alice", right), ("bob", right), ("carol", with_function(right, "sigmoid", WRONG_SIGMOID)))}
    steps = {
        "formgrader": _formgrader(root, "autograde", ASSIGNMENT, "alice"),
        "nbgrader": _run(root, "-m", "nbgrader", "autograde", ASSIGNMENT, "--student", "bob", "--log-level=WARN"),
        "autograde": _run(root, "-m", "autograder", "autograde", "--student", "carol", ASSIGNMENT),
        "grade": _run(root, "-m", "autograder", "grade", paths["alice"], "--source",
                      os.path.join(root, "source", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), "--json"),
    }
    return root, steps


def _gradebook(root, student):
    """(score, max score) of the student's submission, from nbgrader's gradebook."""
    db = sqlite3.connect(f"file:{root}/gradebook.db?mode=ro", uri=True)
    try:
        return db.execute(
            "SELECT SUM(COALESCE(g.manual_score, g.auto_score, 0)), SUM(gc.max_score) FROM grade g "
            "JOIN grade_cells gc ON g.cell_id = gc.id JOIN submitted_notebook sn ON g.notebook_id = sn.id "
            "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
            "WHERE sa.student_id = ? AND gc.cell_type = 'code'", (student,)).fetchone()
    finally:
        db.close()


def _probe(root, student):
    nb = nbformat.read(os.path.join(root, "autograded", student, ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    lines = [line.split() for line in text.splitlines() if line.startswith("PROBE ")]
    assert lines, f"no probe output in {student}'s autograded notebook"
    return lines[-1][1:]


@pytest.mark.parametrize("student, entry", [("alice", "the formgrader's Autograde (NbGraderAPI.autograde)"),
                                            ("bob", "plain nbgrader autograde"),
                                            ("carol", "python -m autograder autograde")])
def test_each_entry_point_grades_in_the_sandbox(course, student, entry):
    root, _ = course
    score, max_score = _gradebook(root, student)
    assert max_score and max_score > 0, f"{entry}: no grade in the gradebook for {student}"
    if student == "carol":
        assert 0 < score < max_score, (entry, score, max_score)  # sigmoid's cells lost, the others kept
    else:
        assert score == max_score, (entry, score, max_score)
    host, uid, gradebook_seen, solutions_seen = _probe(root, student)
    assert host == "sandbox", f"{entry}: the student's code ran outside the sandbox (host {host})"
    assert gradebook_seen == "False" and solutions_seen == "False"
    if MODE == "root":
        assert int(uid) >= 200000, uid  # a uid of the kernel's own
    else:
        assert int(uid) == os.getuid() != 0  # the grader's uid, in a user namespace without capabilities


def test_grade_one_notebook_without_a_course_tree(course):
    root, steps = course
    result = json.loads(steps["grade"].stdout)
    assert not result["problems"] and result["score"] == result["max_score"] > 0, result


def test_the_sandbox_adds_nothing_to_what_the_instructor_reads(course):
    """No line from the sandbox (bubblewrap, prlimit, the watchdog, a traceback) in any entry point's output;
    the course's own commands print a few lines at most (nbgrader's own warnings are nbgrader's)."""
    _, steps = course
    for name, step in steps.items():
        text = step if isinstance(step, dict) else {"stdout": step.stdout, "stderr": step.stderr}
        out = (text.get("log") or "") + (text.get("stderr") or "")
        noise = [line for line in out.splitlines()
                 if any(word in line for word in ("bwrap", "prlimit", "watchdog", "sandbox", "Traceback"))]
        assert not noise, (name, noise[:10])
    for name in ("autograde", "grade"):
        lines = [line for line in steps[name].stderr.splitlines() if line.strip()]
        assert len(lines) <= 3, (name, lines[:20])
