"""The notebooks as a student reads them (source/ and the committed release/):
lectures named by their titles, never "seed NNN"; slide corrections after the
task they concern; stubs that end at their raise; one title style; points
that follow the work."""
import functools
import glob
import os
import re

import nbformat
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENTS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO, "source", "[0-9][0-9]_*")))
pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="no assignment in source/ yet")

# The lectures as students read their names (the table of ../shared/curriculum.md).
LECTURES = ("Introduction to Neural Networks, Part 2", "Activation Functions and Error Functions",
            "Deep Learning for Vision: Building Deep Neural Networks", "Lecture 8: Neural Networks",
            "Machine Learning, Lecture: Neural Networks")
# "seed 003", "seeds 000, 002", "seed_004", "seed004", "Seed 001's": a lecture called by its file number
SEED_NUMBER = re.compile(r"\bseeds?[\s_-]*0\d\d|seed0\d\d", re.I)
BOX = "> **Where the slides differ"
INTRO = "This assignment follows these lectures"


@functools.lru_cache(maxsize=None)
def notebook(*parts):
    return nbformat.read(os.path.join(REPO, *parts), as_version=4)


def meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


PATHS = [("source", name) for name in ASSIGNMENTS] + [("release", name) for name in ASSIGNMENTS]


@pytest.mark.parametrize("folder, name", PATHS, ids=[f"{f}/{n}" for f, n in PATHS])
def test_no_lecture_is_called_by_a_seed_number(folder, name):
    """After the renaming, "seed" means a random seed only."""
    nb = notebook(folder, name, f"{name}.ipynb")
    found = []
    for index, cell in enumerate(nb.cells):
        for text in (cell.source, cell.get("id", ""), meta(cell).get("grade_id", "")):
            found += [f"cell {index}: {m.group(0)!r}" for m in SEED_NUMBER.finditer(text)]
    assert not found, f"{folder}/{name} names lectures by seed numbers: {found[:8]}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_introduction_lists_every_lecture_the_notebook_names(name):
    cells = notebook("source", name, f"{name}.ipynb").cells
    intro = next(c.source for c in cells if c.cell_type == "markdown")
    assert INTRO in intro, f"{name}: the first cell does not list the lectures the assignment follows"
    listed = intro[intro.index(INTRO):]
    listed = {title for title in LECTURES if title in listed}
    named = {title for title in LECTURES for c in cells if title in c.source}
    assert listed, f"{name}: the introduction lists no lecture by its title"
    assert named <= listed, f"{name} names {sorted(named - listed)} but its introduction does not list them"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_slide_corrections_sit_in_boxes_after_the_task(name):
    """A slip is named only in a 'Where the slides differ' box, and a box never stands between an explanation and
    the answer cell it leads to: the next code cell after a box is a demo, never an answer cell."""
    cells = notebook("source", name, f"{name}.ipynb").cells
    boxes = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and BOX in c.source]
    assert boxes, f"{name} has no 'Where the slides differ' box"
    for i, cell in enumerate(cells[1:], start=1):
        if cell.cell_type == "markdown" and re.search(r"\bslip", cell.source, re.I):
            assert i in boxes, f"{name}, cell {i} names a slip outside a box: {cell.source[:120]!r}"
    for i in boxes:
        after = next((c for c in cells[i + 1:] if c.cell_type == "code"), None)
        assert after is None or not meta(after).get("solution"), \
            f"{name}, cell {i}: the box stands before the answer cell {meta(after).get('grade_id')}"
        assert any(meta(c).get("grade") and c.cell_type == "code" for c in cells[:i]), \
            f"{name}, cell {i}: a box before any task"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_stub_ends_at_its_raise(name):
    for cell in notebook("release", name, f"{name}.ipynb").cells:
        if cell.cell_type == "code" and meta(cell).get("solution"):
            lines = [line for line in cell.source.splitlines() if line.strip()]
            assert lines[-1].strip() == "raise NotImplementedError()", \
                f"{name}: the stub {meta(cell)['grade_id']} keeps code after its raise: {lines[-1]!r}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_one_title_style_and_a_summary(name):
    cells = notebook("source", name, f"{name}.ipynb").cells
    title = cells[0].source.splitlines()[0]
    assert re.fullmatch(rf"# Assignment {name[:2]} · [A-Z].+", title), f"{name}: title {title!r}"
    headings = [line for c in cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("## ")]
    assert headings[-1] == "## Summary", f"{name}: the last section is {headings[-1]!r}, not '## Summary'"


@pytest.mark.parametrize("name", [n for n in ASSIGNMENTS if not n.startswith("03")])
def test_the_step_size_is_called_the_learning_rate(name):
    text = "\n".join(c.source for c in notebook("source", name, f"{name}.ipynb").cells if c.cell_type == "markdown")
    assert "learning rate $\\alpha$" in text, f"{name} does not name the step size 'the learning rate $\\alpha$'"


def test_the_stubs_say_where_alpha_and_num_iterations_swap():
    """01's train_loop takes (alpha, num_iterations), 02's optimize (num_iterations, alpha): each stub says so."""
    for name, function in (("01_logistic_loop", "train_loop"), ("02_logistic_vectorized", "optimize")):
        cell = next(c for c in notebook("release", name, f"{name}.ipynb").cells if meta(c).get("grade_id") == function)
        head = cell.source[:cell.source.index(f"def {function}(")]
        assert "alpha" in head and "num_iterations" in head, f"{name}: the stub of {function} does not name the order"


def _points(name):
    """{function: (points of its test and hidden cells, lines of its solution)}"""
    cells = notebook("source", name, f"{name}.ipynb").cells
    by_id = {meta(c).get("grade_id"): c for c in cells if meta(c).get("grade_id")}
    out = {}
    for gid, cell in by_id.items():
        if cell.cell_type == "code" and meta(cell).get("solution"):
            region = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S).group(1)
            lines = [line for line in region.splitlines() if line.strip() and not line.strip().startswith("#")]
            points = sum(meta(by_id[f"{kind}_{gid}"]).get("points", 0) for kind in ("test", "hidden")
                         if f"{kind}_{gid}" in by_id)
            out[gid] = (points, len(lines))
    return out


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_points_follow_the_work(name):
    """A function of at most three lines is worth less than the notebook's longest function."""
    points = _points(name)
    longest = max(points, key=lambda f: points[f][1])
    short = {f: p for f, (p, lines) in points.items() if lines <= 3}
    assert all(p < points[longest][0] for p in short.values()), \
        f"{name}: short functions {short} are worth as much as {longest} ({points[longest][0]} points)"
