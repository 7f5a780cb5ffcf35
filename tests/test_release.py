"""The student release: in sync with source/, holds no solution and no hidden
test, runs in the student's environment with only the stubs failing; and in a
real nbgrader autograde the solved notebooks earn full marks and the
untouched release earns no autograded point."""
import ast
import glob
import os
import re
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.api import Gradebook

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENTS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO, "source", "[0-9][0-9]_*")))
pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="no assignment in source/ yet")
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)(.*?)### END \1", re.S)
# figures drawn by code in locked cells that need none of the student's functions: they render in the release as it is
FIGURES = {"03_two_layer_forward": ("demo_network_figure",), "05_backprop": ("demo_graph_figure", "demo_backward_figure")}


def notebook(*parts):
    return nbformat.read(os.path.join(REPO, *parts), as_version=4)


def nbgrader_env():
    return dict(os.environ, PYTHONPATH=REPO,
                PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))


def run(args, cwd):
    proc = subprocess.run(args, cwd=cwd, env=nbgrader_env(), capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course (source/ and its configuration) with its own gradebook, released afresh."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(os.path.join(REPO, "source"), root / "source")
    (root / "nbgrader_config.py").write_text(textwrap.dedent(f"""\
        c = get_config()
        load_subconfig({os.path.join(REPO, 'course_config.py')!r})
        c.CourseDirectory.root = {str(root)!r}
        c.CourseDirectory.db_url = "sqlite:///{root}/gradebook.db"
        """))
    for name in ASSIGNMENTS:
        run([sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force"], root)
    return root


def _cells(nb):
    return [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in nb.cells]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_is_in_sync_with_source(course, name):
    fresh = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    committed = notebook("release", name, f"{name}.ipynb")
    assert _cells(fresh) == _cells(committed), \
        f"release/{name} is out of date: run `python -m autograder release {name}` and commit it"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_solution_or_hidden_test_reaches_the_release(name):
    source = notebook("source", name, f"{name}.ipynb")
    secret = {line.strip() for cell in source.cells for match in REGION.finditer(cell.source)
              for line in match.group(2).splitlines() if len(line.strip()) > 12}
    released = "\n".join(c.source for path in glob.glob(os.path.join(REPO, "release", name, "*.ipynb"))
                         for c in nbformat.read(path, as_version=4).cells)
    assert secret, "the source has solution regions"
    leaked = sorted(line for line in secret if line in released)
    assert not leaked, f"solution or hidden-test lines in release/{name}: {leaked[:5]}"
    assert "BEGIN SOLUTION" not in released and "BEGIN HIDDEN TESTS" not in released


def _assigned_names(source):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {t.id for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AugAssign, ast.For))
            for target in ([node.target] if not isinstance(node, ast.Assign) else node.targets)
            for t in ast.walk(target) if isinstance(t, ast.Name)} | \
           {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Import, ast.ImportFrom))
            and hasattr(n, "name")}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_runs_with_only_the_stubs_failing(name, tmp_path):
    """Run the release as a student would (their kernel, no solutions on the
    path): every error comes from an unimplemented stub, directly, through a
    test cell reporting it, or as a name that a failed cell did not define."""
    release_dir = os.path.join(REPO, "release", name)
    shutil.copytree(release_dir, tmp_path / name)
    nb = notebook("release", name, f"{name}.ipynb")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path / name)}}).execute(env=env)
    undefined = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        for error in errors:
            text = f"{error.ename}: {error.evalue}"
            missing = re.match(r"name '(\w+)' is not defined", error.evalue or "")
            ok = (error.ename == "NotImplementedError" or
                  (error.ename in ("AssertionError", "ChecksFailed") and "NotImplementedError" in error.evalue) or
                  (error.ename == "NameError" and missing and missing.group(1) in undefined))
            assert ok, f"release/{name}: a cell fails for another reason than a stub:\n{cell.source[:300]}\n{text}"
        if errors:
            undefined |= _assigned_names(cell.source)
        assert not any(o.output_type == "stream" and o.name == "stderr" and "Traceback" in o.text for o in cell.outputs)
    drawn = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells if c.cell_type == "code"
             and any("image/png" in o.get("data", {}) for o in c.outputs)}
    missing = sorted(set(FIGURES.get(name, ())) - drawn)
    assert not missing, f"release/{name}: the figure cells {missing} drew no picture"


@pytest.fixture(scope="module")
def graded(course):
    """Real nbgrader autograde: 'solved' hands in the source notebooks, 'untouched' the release."""
    for name in ASSIGNMENTS:
        for student, folder in (("solved", course / "source" / name), ("untouched", course / "release" / name)):
            target = course / "submitted" / student / name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(folder / f"{name}.ipynb", target / f"{name}.ipynb")
        run([sys.executable, "-m", "nbgrader", "autograde", name, "--force"], course)
    scores = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for name in ASSIGNMENTS:
            for student in ("solved", "untouched"):
                tests = [g for g in gb.find_submission_notebook(name, name, student).grades if g.cell.cell_type == "code"]
                scores[(student, name)] = (sum(g.auto_score or 0 for g in tests), sum(g.max_score for g in tests))
    return scores


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solved_notebook_earns_full_marks(graded, name):
    score, max_score = graded[("solved", name)]
    assert max_score > 0 and score == max_score, f"{name}: the solved notebook earns {score} of {max_score}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_untouched_release_earns_no_autograded_point(graded, name):
    score, _ = graded[("untouched", name)]
    assert score == 0, f"{name}: the untouched release earns {score} autograded points"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_hidden_tests_carry_at_least_half_the_points(name):
    cells = [c.metadata.nbgrader for c in notebook("source", name, f"{name}.ipynb").cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
             and not c.metadata.nbgrader.get("solution")]
    source_of = {c.metadata.nbgrader["grade_id"]: c.source for c in notebook("source", name, f"{name}.ipynb").cells
                 if c.metadata.get("nbgrader", {}).get("grade_id")}
    hidden = sum(c["points"] for c in cells if "BEGIN HIDDEN TESTS" in source_of[c["grade_id"]])
    total = sum(c["points"] for c in cells)
    assert total > 0 and hidden >= total / 2, f"{name}: hidden tests carry {hidden} of {total} points"
