"""Tests of the tests: the catalogue of tests/catalogue.py graded through the real path.

Each entry replaces one answer cell (the cell whose grade_id is the function's
name) of a solved submission (the student release with the source's solutions
filled in), and the submission is graded by autograder.grading.grade_notebook(
submission, source, sandbox=True): the student's cells in a sandboxed kernel,
the source's visible and hidden test cells in the grader. One submission per
entry, so that no entry can change another's result.

- a WRONG implementation must lose points in the cells of its function
  (test_<fn> / hidden_<fn>), and every check that fails there must name the
  function (CheckResult.function; the wrappers that a visible test calls, such
  as numerical_gradient_of, contain the name) and say what is off (a message);
- a RIGHT implementation must keep full marks in every cell;
- an entry with a known grading gap (a wrong answer that keeps full marks, a
  right one that loses points) is xfail(strict=True) with the gap as reason:
  when the grader is fixed the XPASS fails, and the entry's gap is removed.

Speed: the notebooks graded are reduced copies of the source and of the
submission without the demo cells (grade_id "demo_..."; plots, timings,
training runs), except demo cells that define a name a kept cell or an entry
needs (03's ACTIVATIONS table); the solved reduced submission of every
assignment is checked to earn full marks. All the submissions the selected
tests need are graded once per module (a module-scoped fixture), by a pool of
os.cpu_count() + 1 worker processes (NN_CATALOGUE_WORKERS to change it), each
with its own warm-kernel zygote. About four minutes on two cores for the whole file.
"""
import ast
import os

import pytest

from autograder.sandbox import SandboxUnavailable, check_sandbox
from catalogue import (ASSIGNMENTS, ENTRIES, RIGHT, WRONG, dropped_cells, entry_job, grade_all, graded_functions,
                       grading_inputs, right_verdict, source_notebook, top_level_names, wrong_verdict, _grade_id)

try:
    check_sandbox()
    REASON = None
except SandboxUnavailable as exc:
    REASON = str(exc)


def _entry_param(entry):
    marks = [pytest.mark.xfail(strict=True, reason=entry.gap)] if entry.gap else []
    if entry.assignment not in ASSIGNMENTS:
        marks.append(pytest.mark.skip(reason=f"{entry.assignment} is not in source/"))
    elif REASON:
        marks.append(pytest.mark.skip(reason=f"no sandbox here: {REASON}"))
    return pytest.param(entry, id=entry.id, marks=marks)


def _answer_cells(assignment):
    return {_grade_id(c): c for c in source_notebook(assignment).cells
            if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")}


@pytest.fixture(scope="module")
def graded(request):
    """{key: grade_code result} for every entry, and every assignment's solved submission, that the selected
    tests of this module use: graded once, in parallel."""
    jobs = {}
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or getattr(item, "module", None) is not request.module:
            continue
        if "entry" in callspec.params:
            entry = callspec.params["entry"]
            if entry.assignment in ASSIGNMENTS:
                jobs[entry.id] = entry_job(entry)
        elif "solved_assignment" in callspec.params:
            assignment = callspec.params["solved_assignment"]
            jobs[f"solved {assignment}"] = (assignment, None, None)
    workers = int(os.environ.get("NN_CATALOGUE_WORKERS", "0")) or None
    return grade_all(jobs, workers=workers)


# ---- the catalogue itself --------------------------------------------------------------------------

def test_catalogue_is_large_enough_and_its_ids_are_unique():
    assert len(WRONG) >= 60 and len(RIGHT) >= 15, (len(WRONG), len(RIGHT))
    ids = [e.id for e in ENTRIES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_has_wrong_implementations(assignment):
    functions = graded_functions(assignment)
    assert functions, f"{assignment} has no graded function"
    uncovered = [f for f in functions if not any(e.kind == "wrong" and e.assignment == assignment
                                                     and e.function == f for e in ENTRIES)]
    assert not uncovered, f"{assignment}: no wrong implementation of {uncovered}"
    unknown = sorted({e.function for e in ENTRIES if e.assignment == assignment} - set(functions))
    assert not unknown, f"{assignment}: catalogue entries for functions that are not graded: {unknown}"


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.id) for e in ENTRIES if e.assignment in ASSIGNMENTS])
def test_entry_defines_what_its_answer_cell_defines(entry):
    """The code replaces the whole answer cell: it must define the function, and every other name the
    original cell defines (a helper a later cell needs)."""
    ast.parse(entry.code)
    original = _answer_cells(entry.assignment)[entry.function]
    missing = top_level_names(original.source) - top_level_names(entry.code)
    assert entry.function in top_level_names(entry.code)
    assert not missing, f"{entry.id} does not define {sorted(missing)}, which the answer cell defines"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reduced_notebooks_keep_every_graded_cell(assignment):
    """Only demo cells are left out, and the same ones from the submission and the source."""
    submission, source = grading_inputs(assignment)
    full = source_notebook(assignment)
    dropped = dropped_cells(assignment, [e.code for e in ENTRIES if e.assignment == assignment])
    assert all(gid.startswith("demo_") for gid in dropped)
    assert [_grade_id(c) for c in source.cells] == [_grade_id(c) for c in full.cells if _grade_id(c) not in dropped]
    assert [_grade_id(c) for c in submission.cells] == [_grade_id(c) for c in source.cells]


# ---- graded through the real path ------------------------------------------------------------------

@pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")
@pytest.mark.parametrize("solved_assignment", ASSIGNMENTS)
def test_the_solved_reduced_submission_earns_full_marks(graded, solved_assignment):
    result = graded[f"solved {solved_assignment}"]
    assert not right_verdict(None, result), "\n".join(right_verdict(None, result))


@pytest.mark.parametrize("entry", [_entry_param(e) for e in WRONG])
def test_wrong_implementation_loses_points_where_it_is_wrong(graded, entry):
    problems = wrong_verdict(entry, graded[entry.id])
    assert not problems, f"{entry.id}:\n" + "\n".join(problems)


@pytest.mark.parametrize("entry", [_entry_param(e) for e in RIGHT])
def test_right_implementation_keeps_full_marks(graded, entry):
    problems = right_verdict(entry, graded[entry.id])
    assert not problems, f"{entry.id}:\n" + "\n".join(problems)
