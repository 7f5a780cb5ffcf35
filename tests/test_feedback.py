"""Feedback that explains every lost point without giving the hidden tests
away, on the sample class graded by tests/conftest.py's graded_course: its
mistaken students fail hidden checks."""
import glob
import html
import os
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.api import Gradebook

from autograder.grading import grade_notebook
from conftest import ASSIGNMENTS, REPO

REGION = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.S)
CELL_SCORE = re.compile(r'<li><a href="#[^"]+">[^<]+</a> \(Score: ([0-9.]+) / ([0-9.]+)\)</li>')


def feedback_pages(root):
    return {tuple(p.split(os.sep)[-3:-1]): open(p, encoding="utf-8").read()
            for p in glob.glob(os.path.join(root, "feedback", "*", "*", "*.html"))}


def hidden_lines():
    lines = set()
    for path in glob.glob(os.path.join(REPO, "source", "*", "*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for region in REGION.findall(cell.source):
                lines |= {line.strip() for line in region.splitlines() if line.strip()}
    return lines


def test_no_hidden_test_text_reaches_feedback(graded_course):
    root, _ = graded_course
    pages = feedback_pages(root)
    submitted = {tuple(p.split(os.sep)[-3:-1]) for p in glob.glob(os.path.join(root, "submitted", "*", "*", "*.ipynb"))}
    assert set(pages) == submitted - {("dora", "01_logistic_loop")}  # every readable submission has its page
    secret = hidden_lines()
    assert secret
    for key, page in pages.items():
        for line in secret:
            assert line not in page and html.escape(line) not in page, f"{key} shows the hidden test line {line!r}"


def test_every_failed_hidden_check_is_explained(graded_course):
    root, _ = graded_course
    pages = feedback_pages(root)
    failed_hidden = 0
    for path in glob.glob(os.path.join(root, "autograded", "*", "*", "*.ipynb")):
        student, assignment = path.split(os.sep)[-3:-1]
        stored = nbformat.read(path, as_version=4).metadata.get("nn_course", {})
        page = pages[(student, assignment)]
        for cell in stored.get("cells", []):
            for result in cell["results"]:
                if result["passed"] or not result["hidden"] or result["function"] == "notebook":
                    continue
                failed_hidden += 1
                assert result["message"], result
                line = f"[FAIL] {result['function']}: {result['title']}"
                text = html.unescape(page)  # the page's own escaping of quotes and apostrophes aside
                assert line in text, f"{student}/{assignment}: {line}"
                assert result["message"][:80] in text
    assert failed_hidden >= 5  # the mistaken students fail hidden checks


def test_points_in_feedback_add_up_to_the_gradebook(graded_course):
    root, _ = graded_course
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        for (student, assignment), page in feedback_pages(root).items():
            cells = [(float(s), float(m)) for s, m in CELL_SCORE.findall(page)]
            assert cells, (student, assignment)
            notebook = gb.find_submission_notebook(assignment, assignment, student)
            assert sum(s for s, _ in cells) == pytest.approx(notebook.score, abs=1e-6)
            assert sum(m for _, m in cells) == pytest.approx(notebook.max_score)
            assert f"Total: {notebook.score:g} of {notebook.max_score:g}" in page


def test_summary_lists_functions_that_lost_points_worst_first(graded_course):
    root, _ = graded_course
    page = feedback_pages(root)[("carl", "01_logistic_loop")]
    summary = page[page.index("Summary"):page.index("Each test cell below")]
    lost = [(name, float(n)) for name, n in re.findall(r"<strong>(\w+)</strong>: lost ([0-9.]+) of", summary)]
    assert "propagate_loop" in [name for name, _ in lost]
    assert [n for _, n in lost] == sorted((n for _, n in lost), reverse=True)


def test_the_lms_function_gives_the_gradebooks_points(graded_course, tmp_path):
    """grade_notebook (no course tree) returns the per-check results, and the
    same points as the course's autograde wrote to the gradebook."""
    root, _ = graded_course
    for student, assignment in [("ada", ASSIGNMENTS[0]), ("carl", ASSIGNMENTS[0]), ("ben", ASSIGNMENTS[0])]:
        submitted = os.path.join(root, "submitted", student, assignment, f"{assignment}.ipynb")
        source = os.path.join(REPO, "source", assignment, f"{assignment}.ipynb")
        result = grade_notebook(submitted, source, workdir=str(tmp_path / student))
        with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
            grades = {g.name: g.score for g in gb.find_submission_notebook(assignment, assignment, student).grades
                      if g.cell_type == "code"}
        assert {c.grade_id: c.score for c in result.cells} == grades
        assert all(r.title and r.function for c in result.cells for r in c.results)


def test_passing_visible_tests_say_what_is_still_to_come(graded_course):
    """In the student's own notebook (no grader), a visible test that passes
    says what the hidden tests will add, never that all tests passed."""
    root, _ = graded_course
    path = os.path.join(root, "submitted", "ada", ASSIGNMENTS[0], f"{ASSIGNMENTS[0]}.ipynb")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": os.path.dirname(path)}}).execute()
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_")]
    assert texts and all("This is not the grade: at grading, hidden tests also check" in t for t in texts)
    assert not any(re.search(r"all tests passed", t, re.I) for t in texts)


def test_feedback_pages_draw_their_mathematics_without_internet_access(graded_course):
    """No MathJax from a CDN: the lessons' LaTeX is MathML in the page, which browsers draw themselves."""
    root, _ = graded_course
    pages = glob.glob(os.path.join(root, "feedback", "*", "*", "*.html"))
    assert pages
    for path in pages:
        page = open(path, encoding="utf-8").read()
        assert "cdnjs" not in page and "<script src=\"http" not in page, path
        assert page.count("<math") > 5, path
