"""Each assignment's checks module (solutions/<module>_checks.py) against its
notebook and its reference: every graded function has a spec, every spec a
reference function, every extra check a summary for students, and the
reference passes its own hidden checks. Assignments are found in source/."""
import os

import nbformat
import pytest

from autograder.checks import Target, collecting, hidden_tests
from autograder.course import Course, load, module_of
from autograder.grading import is_test_cell
from autograder.hidden import specs
from conftest import REPO

COURSE = Course(REPO)
ASSIGNMENTS = COURSE.assignments()


def hidden_cells(assignment):
    """{function: module} named by the hidden test cells of the source notebook."""
    found = {}
    for path in COURSE.source_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            if is_test_cell(cell) and "hidden_tests(" in cell.source:
                call = cell.source.split("check(", 1)[1]
                function, rest = call.split(",", 1)
                found[function.strip()] = rest.split('"')[1]
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_hidden_test_cell_has_its_spec_and_reference(assignment):
    module = module_of(assignment)
    cells = hidden_cells(assignment)
    assert cells, f"{assignment} has no hidden test cell"
    assert set(cells.values()) == {module}, f"{assignment}'s hidden tests name other modules: {cells}"
    found = specs(module, REPO)
    reference = load(module, REPO)
    assert set(cells) == set(found), (sorted(set(cells) ^ set(found)))
    for name, spec in found.items():
        assert callable(getattr(reference, name, None)), f"solutions/{module}.py has no {name}"
        assert spec.checked and all(isinstance(item, str) and item for item in spec.checked)
        for extra in spec.extras:
            assert getattr(extra, "summary", ""), f"{module}: the extra check {extra.__name__} has no summary"
        if not spec.make:
            assert spec.extras, f"{module}.{name} has neither fresh inputs nor an extra check"


@pytest.mark.parametrize("assignment, function", [(a, f) for a in ASSIGNMENTS for f in sorted(hidden_cells(a))])
def test_the_reference_passes_its_own_hidden_checks(assignment, function):
    module = module_of(assignment)
    fn = getattr(load(module, REPO), function)
    with collecting(REPO, module):
        results = hidden_tests(module).results(Target(fn))
    failed = [r.line() for r in results if not r.passed]
    assert results and not failed, failed


def test_a_function_shared_by_two_assignments_gets_its_own_assignments_checks():
    """03's sigmoid is not 01's: its hidden checks and output names are 03's."""
    loop, net = specs("logistic_loop", REPO)["sigmoid"], specs("two_layer_forward", REPO)["sigmoid"]
    assert loop.checked != net.checked
    assert "vectorised" in " ".join(net.checked) and "vectorised" not in " ".join(loop.checked)
    vec, back = specs("logistic_vectorized", REPO)["predict"], specs("backprop", REPO)["predict"]
    assert vec.outputs != back.outputs
