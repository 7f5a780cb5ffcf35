"""Real nbgrader (generate_assignment, autograde, generate_feedback) on a tiny
fixture course: a check helper awards partial credit, and its message reaches
the student's feedback while the hidden test's code does not."""
import glob
import os
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NBGRADER = [sys.executable, "-m", "nbgrader"]


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    nbgrader = {"grade_id": grade_id, "grade": grade, "solution": solution, "locked": locked, "schema_version": 3}
    if points is not None:
        nbgrader["points"] = points
    return {"nbgrader": nbgrader}


SOLUTION = textwrap.dedent("""\
    def sigmoid(z):
        ### BEGIN SOLUTION
        e = np.exp(-np.abs(z))
        return np.where(np.asarray(z) >= 0, 1 / (1 + e), e / (1 + e)) if np.ndim(z) else float(1 / (1 + math.exp(-z)))
        ### END SOLUTION""")

# right values, but it writes into the caller's array: only the hidden check
# "leaves its arguments unmodified" should catch it
IN_PLACE = textwrap.dedent("""\
    def sigmoid(z):
        if isinstance(z, np.ndarray):
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += 1
            return 1 / z
        return 1 / (1 + math.exp(-z))""")

HIDDEN_CALL = 'check(sigmoid, hidden_tests("logistic_loop"))'


def _source_notebook():
    return new_notebook(cells=[
        new_markdown_cell("# Fixture: the sigmoid"),
        new_code_cell("import math\nimport numpy as np\nfrom autograder.checks import check, example, hidden_tests",
                      metadata=_meta("setup", locked=True)),
        new_code_cell(SOLUTION, metadata=_meta("sigmoid", solution=True)),
        new_code_cell('check(sigmoid, example("sigmoid(0) is one half", (0.0,), 0.5, exact_types=False))',
                      metadata=_meta("test_sigmoid_visible", grade=True, locked=True, points=1)),
        new_code_cell(f"# hidden tests of sigmoid\n### BEGIN HIDDEN TESTS\n{HIDDEN_CALL}\n### END HIDDEN TESTS",
                      metadata=_meta("test_sigmoid_hidden", grade=True, locked=True, points=2)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def _run(args, cwd):
    # nbgrader runs the `alembic` command of its own environment: put that environment's bin first
    env = dict(os.environ, PYTHONPATH=os.environ.get("FIXTURE_PYTHONPATH", REPO),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))  # the grader imports solutions/ from the repository
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    (root / "nbgrader_config.py").write_text(textwrap.dedent(f"""\
        c = get_config()
        load_subconfig({os.path.join(REPO, 'course_config.py')!r})
        c.CourseDirectory.root = {str(root)!r}
        c.CourseDirectory.db_url = "sqlite:///{root}/gradebook.db"
        c.GradeInSandbox.sandbox = {os.environ.get("FIXTURE_SANDBOX", "1") == "1"}
        """))
    source = root / "source" / "fixture"
    source.mkdir(parents=True)
    nbformat.write(_source_notebook(), source / "fixture.ipynb")
    _run(NBGRADER + ["generate_assignment", "fixture", "--force"], root)
    release = nbformat.read(root / "release" / "fixture" / "fixture.ipynb", as_version=4)
    right = "\n".join(line for line in SOLUTION.splitlines() if "### " not in line)
    for student, body in (("alice", right), ("bob", IN_PLACE)):
        submission = nbformat.from_dict(release)
        answer = next(c for c in submission.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid")
        answer.source = body
        folder = root / "submitted" / student / "fixture"
        folder.mkdir(parents=True)
        nbformat.write(submission, folder / "fixture.ipynb")
    _run(NBGRADER + ["autograde", "fixture", "--force"], root)
    _run(NBGRADER + ["generate_feedback", "fixture", "--force"], root)
    return root


def _scores(root):
    """(student, test cell) -> (auto score, max score), read through nbgrader's own gradebook API."""
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        return {(student, cell): (gb.find_grade(cell, "fixture", "fixture", student).auto_score,
                                  gb.find_grade_cell(cell, "fixture", "fixture").max_score)
                for student in ("alice", "bob") for cell in ("test_sigmoid_visible", "test_sigmoid_hidden")}


def test_release_has_no_solution_and_no_hidden_test(course):
    text = (course / "release" / "fixture" / "fixture.ipynb").read_text()
    assert "np.abs(z)" not in text and HIDDEN_CALL not in text
    assert "raise NotImplementedError()" in text


def test_right_answer_earns_full_marks(course):
    scores = _scores(course)
    assert scores[("alice", "test_sigmoid_visible")] == (1.0, 1.0)
    assert scores[("alice", "test_sigmoid_hidden")] == (2.0, 2.0)


def test_check_helper_awards_partial_credit(course):
    scores = _scores(course)
    assert scores[("bob", "test_sigmoid_visible")] == (1.0, 1.0)
    score, max_score = scores[("bob", "test_sigmoid_hidden")]
    assert 0 < score < max_score, f"in-place sigmoid should earn part of the hidden points, got {score}"


def test_feedback_explains_the_lost_points_without_the_hidden_test(course):
    [html] = glob.glob(str(course / "feedback" / "bob" / "fixture" / "*.html"))
    text = open(html).read()
    assert "changed its argument z in place" in text
    assert "leaves its arguments unmodified" in text
    assert HIDDEN_CALL not in text and "hidden_tests(" not in text
