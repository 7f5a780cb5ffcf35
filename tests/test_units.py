"""Unit tests of the pieces around nbgrader, without kernels: the merge of a
submission with its source, the nbgrader plugin's preprocessors, the
feedback summary, the usual causes, and what the pipeline says of nbgrader's
failures."""
import os

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from traitlets.config import Config

from autograder.checks import check, collecting, example, returned_names
from autograder.feedback import summary_lines, summary_markdown
from autograder.grading import merge_with_source
from autograder.nbgrader_plugin import DescribeHiddenTests, SourceMetadata
from autograder.pipeline import explain_failure
from autograder.results import error_hint
from conftest import REPO


def meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    nbgrader = {"grade_id": grade_id, "grade": grade, "solution": solution, "locked": locked, "schema_version": 3}
    if points is not None:
        nbgrader["points"] = points
    return {"nbgrader": nbgrader}


def source_notebook():
    return new_notebook(cells=[
        new_markdown_cell("# lesson"),
        new_code_cell("import numpy as np", metadata=meta("setup", locked=True)),
        new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                      metadata=meta("f", solution=True)),
        new_code_cell("check(f, example('f(1) = 2', (1.0,), 2.0))", metadata=meta("test_f", grade=True, locked=True,
                                                                                   points=1)),
        new_code_cell("def g(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION",
                      metadata=meta("g", solution=True)),
        new_code_cell("check(g, example('g(1) = 2', (1.0,), 2.0))", metadata=meta("test_g", grade=True, locked=True,
                                                                                   points=2)),
    ])


def ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


# ---- the merge of a submission with its source ---------------------------------------------------

def test_the_merge_keeps_the_students_answers_and_restores_the_tests():
    source = source_notebook()
    submitted = nbformat.from_dict(source)
    submitted.cells[2].source = "def f(x):\n    return 3 * x"
    submitted.cells[3].source = "pass  # the student emptied the test"
    merged = merge_with_source(submitted, source)
    assert ids(merged) == ids(source)
    assert merged.cells[2].source == "def f(x):\n    return 3 * x"
    assert merged.cells[3].source == source.cells[3].source


def test_the_merge_puts_back_deleted_cells_in_place_and_strips_invented_metadata():
    source = source_notebook()
    submitted = nbformat.from_dict(source)
    del submitted.cells[5]  # the test of g
    del submitted.cells[4]  # the answer of g: comes back as the stub
    extra = new_code_cell("print('mine')", metadata=meta("test_f", grade=True, points=99))  # a forged duplicate id
    submitted.cells.append(extra)
    merged = merge_with_source(submitted, source)
    assert ids(merged)[:6] == ids(source)
    assert "raise NotImplementedError()" in merged.cells[4].source and "x + 1" not in merged.cells[4].source
    assert merged.cells[-1].source == "print('mine')" and "nbgrader" not in merged.cells[-1].metadata


# ---- the nbgrader plugin --------------------------------------------------------------------------

def test_source_metadata_gives_each_cell_the_sources_metadata(tmp_path):
    root = tmp_path / "course"
    (root / "source" / "01_x").mkdir(parents=True)
    (root / "course_config.py").write_text("")
    nbformat.write(source_notebook(), root / "source" / "01_x" / "x.ipynb")
    submitted = nbformat.from_dict(source_notebook())
    submitted.cells[2].metadata["nbgrader"].update(grade=True, points=50)  # an answer made a test cell worth 50
    submitted.cells.append(new_code_cell("x = 1", metadata=meta("made_up", grade=True, points=7)))
    config = Config()
    config.CourseDirectory.root = str(root)
    nb, _ = SourceMetadata(config=config).preprocess(
        submitted, {"nbgrader": {"assignment": "01_x", "notebook": "x", "student": "s"}})
    assert nb.cells[2].metadata["nbgrader"] == source_notebook().cells[2].metadata["nbgrader"]
    assert "nbgrader" not in nb.cells[-1].metadata


def test_the_release_says_what_the_hidden_tests_of_each_function_check():
    config = Config()
    config.CourseDirectory.root = REPO
    nb = new_notebook(cells=[new_code_cell("# Hidden tests of propagate_loop: run at grading.\n",
                                           metadata=meta("hidden_propagate_loop", grade=True, locked=True, points=2))])
    nb, _ = DescribeHiddenTests(config=config).preprocess(nb, {"nbgrader": {"assignment": "01_logistic_loop"}})
    text = nb.cells[0].source
    assert text.startswith("# Hidden tests of propagate_loop, run at grading. They check:\n# - ")
    assert "explicit loop over the n_x features" in text and "gradient check of dw, db" in text


# ---- the feedback summary --------------------------------------------------------------------------

def test_the_summary_ranks_functions_by_the_points_they_lost():
    nb = source_notebook()
    for cell, score in ((nb.cells[3], 0.25), (nb.cells[5], 0.0)):
        cell.metadata["nbgrader"]["score"] = score
    nb.metadata["nn_course"] = {"problems": ["cell 3 did not finish"], "cells": [
        {"grade_id": "test_f", "results": [{"function": "f", "title": "f(1) = 2", "passed": False,
                                            "message": "f is 3 but should be 2", "hint": "a factor", "hidden": False}]},
        {"grade_id": "test_g", "results": [{"function": "g", "title": "g(1) = 2", "passed": False,
                                            "message": "g raised <script>", "hint": "", "hidden": True}]}]}
    resources = {"nbgrader": {"score": 0.25, "max_score": 3}}
    headline, ranked, problems, manual = summary_lines(nb, resources)
    assert headline == "Total: 0.25 of 3 points"
    assert [(f, lost, possible) for f, lost, possible, _ in ranked] == [("g", 2.0, 2.0), ("f", 0.75, 1.0)]
    assert problems == ["cell 3 did not finish"] and manual == []
    text = summary_markdown(nb, resources)
    assert "\\<script\\>" in text and "<script>" not in text  # the student's text is inert
    assert text.index("**g**") < text.index("**f**")


# ---- usual causes ----------------------------------------------------------------------------------

def test_float_of_an_array_gets_the_item_hint():
    try:
        float(np.array([[1.0]]))
    except TypeError as exc:
        error = {"type": "TypeError", "message": str(exc)}
    assert ".item()" in error_hint(error)


def results_of(fn, *cases):
    with collecting() as results:
        check(fn, *cases)
    return results


def test_what_the_value_shows_comes_before_the_tests_own_hint():
    def half(x):
        return np.asarray(x) / 2

    [result] = results_of(half, example("doubles", (np.array([1.0, 2.0, 3.0]),), np.array([1.0, 2.0, 3.0]),
                                        hint="the test's own hint"))
    assert not result.passed and result.hint.startswith("half the expected value")

    def transposed(x):
        return np.asarray(x).T

    [result] = results_of(transposed, example("keeps the shape", (np.ones((2, 3)),), np.ones((2, 3)),
                                              hint="the test's own hint"))
    assert "transposed" in result.hint

    def off(x):
        return np.asarray(x) + np.array([0.0, 1.0, 5.0])

    [result] = results_of(off, example("same values", (np.array([1.0, 2.0, 3.0]),), np.array([1.0, 2.0, 3.0]),
                                       hint="the test's own hint"))
    assert result.hint == "the test's own hint"  # nothing recognisable in the value: the test's hint


def test_the_docstring_names_the_outputs_of_a_students_function():
    assert returned_names("Returns a tuple (J, dw, db):\n - J ...") == ("J", "dw", "db")
    assert returned_names("Returns a tuple of: J (a float), dW ...") == ()
    assert returned_names(None) == ()

    def propagate(w):
        """Returns a tuple (J, dw, db): the cost and its gradients."""
        return 1.0, np.zeros((2, 1)), 0.0

    [result] = results_of(propagate, example("all three", (0,), (1.0, np.ones((2, 1)), 0.0)))
    assert result.message.startswith("dw is off")


# ---- nbgrader's failures, said with the next step --------------------------------------------------

@pytest.mark.parametrize("log, said", [
    ("[ERROR] No assignment with ID '03_two_layer_forward' exists", "run `python -m autograder release 03_two_layer_forward`"),
    ("sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked", "the gradebook could not be written"),
])
def test_known_nbgrader_failures_say_what_to_do(log, said):
    assert said in explain_failure(log)


def test_an_unknown_failure_is_not_explained():
    assert explain_failure("[ERROR] something nobody has seen before") is None


def test_a_function_that_fails_through_a_wrong_callee_names_the_callee_first():
    def propagate(w):
        return 2 * w  # wrong: should be w

    def optimize(w):
        return propagate(w) + 1

    failing = set()
    with collecting(failing=failing):
        check(propagate, example("propagate(1) = 1", (1.0,), 1.0))
        [result] = check(optimize, example("optimize(1) = 2", (1.0,), 2.0))
    assert failing == {"propagate", "optimize"}
    assert result.hint.startswith("fix propagate first: optimize calls your propagate, which fails its own checks")

    def propagate(w):  # fixed: optimize's own mistake is its own again
        return w

    def optimize(w):
        return propagate(w) + 2

    with collecting(failing=failing):
        check(propagate, example("propagate(1) = 1", (1.0,), 1.0))
        [result] = check(optimize, example("optimize(1) = 2", (1.0,), 2.0))
    assert failing == {"optimize"} and "fix propagate" not in result.hint


def test_a_check_of_a_wrapper_names_the_students_function():
    def numerical_gradient(f, x):
        raise ValueError("not yet")

    def numerical_gradient_of(name, x):
        return numerical_gradient(None, x)

    [result] = results_of_named(numerical_gradient_of, "numerical_gradient", example("x", ("f", 1.0), 2.0))
    assert result.function == "numerical_gradient" and result.message.startswith("numerical_gradient raised")


def results_of_named(fn, name, *cases):
    with collecting() as results:
        check(fn, *cases, name=name)
    return results


# ---- feedback mathematics without internet access -----------------------------------------------

def test_feedback_mathematics_becomes_mathml_and_nothing_else_changes():
    from autograder.feedback import math_as_mathml
    page = ('<head><!-- Load mathjax -->\n<script src="https://cdn.example/mathjax.js"> </script>\n'
            '<!-- MathJax configuration -->\n<script type="text/x-mathjax-config">MathJax.Hub.Config({});</script>'
            '</head><body><h2 id="a-$x$">The model: $z = w^T x + b$</h2><p>for $z &amp;lt; 0$ and</p>'
            '<p>$$\\frac{1}{m}\\sum_i x_i$$</p><pre>cost = "$5"  # $not math$</pre><code>$a$</code>'
            '<p>$\\text{&lt;script&gt;alert(1)&lt;/script&gt;}$ costs $5 and $</p><p>$\\notacommand{x$</p></body>')
    out = math_as_mathml(page)
    assert "cdn.example" not in out and "MathJax.Hub" not in out
    assert out.count("<math") == 5 and 'display="block"' in out
    assert "<mo>&#x0003C;</mo>" in out  # z < 0, however often it was escaped
    assert 'id="a-$x$"' in out and '<pre>cost = "$5"  # $not math$</pre>' in out and "<code>$a$</code>" in out
    assert "<script>" not in out and "alert(1)" in out  # a student's LaTeX stays text
    assert "costs $5 and $" in out


@pytest.mark.parametrize("broken, message", [
    ({"points": "two"}, "'two' is not of type 'number'"),
    ({"grade": "yes"}, "'yes' is not of type 'boolean'"),
    ({"grade_id": None}, "None is not of type 'string'"),
])
def test_cell_metadata_is_checked_as_nbgrader_checks_it(broken, message):
    """The course loads its nbgrader plugin, which compiles nbgrader's metadata schema once: a notebook
    nbgrader's CheckCellMetadata accepts is still accepted, and one it refuses is refused, with
    jsonschema's own words, every time (not only the first)."""
    import jsonschema
    from nbgrader.nbgraderformat import MetadataValidator, ValidationError
    from nbgrader.preprocessors import CheckCellMetadata
    nb = source_notebook()
    CheckCellMetadata().preprocess(nb, {})
    nb.cells[1].metadata.nbgrader.update(broken)
    schema = MetadataValidator().schema
    with pytest.raises(jsonschema.ValidationError, match=message):
        jsonschema.validate(nb.cells[1].metadata.nbgrader, schema)  # jsonschema's verdict, unpatched
    for _ in range(2):
        with pytest.raises(ValidationError, match=message):
            MetadataValidator().validate_nb(nb)


def test_gradebooks_opened_in_one_process_share_its_engine_and_a_fork_makes_its_own(tmp_path, monkeypatch):
    """nbgrader opens ten Gradebooks per notebook autograded; with the course's plugin loaded they share one
    SQLAlchemy engine (and its compiled queries) per database in a process. Closing one gradebook leaves
    another open one working; another database, or a forked process, gets an engine of its own."""
    import autograder.nbgrader_plugin  # noqa: F401 (the plugin shares the engines)
    from nbgrader import api
    from nbgrader.api import Gradebook
    monkeypatch.setattr(api, "get_alembic_version", lambda: "0")  # a new database asks alembic's command: 6 s
    url, other = (f"sqlite:///{tmp_path / name}" for name in ("gradebook.db", "other.db"))
    with Gradebook(url) as outer:
        outer.add_student("ada")
        with Gradebook(url) as inner:
            assert inner.engine is outer.engine
            inner.add_student("bo")
        assert [s.id for s in outer.students] == ["ada", "bo"]  # after inner's close
        with Gradebook(other) as elsewhere:
            assert elsewhere.engine is not outer.engine
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                with Gradebook(url) as forked:
                    os.write(writer, b"own" if forked.engine is not outer.engine and len(forked.students) == 2 else b"shared")
            finally:
                os._exit(0)
        os.close(writer)
        assert os.read(reader, 16) == b"own"
        os.waitpid(pid, 0)


def test_the_glance_at_warm_kernels_reads_the_course_files_and_the_configuration_decides(tmp_path, monkeypatch):
    """autograde starts the zygote before nbgrader's configuration is loaded when the course's own files
    ask for warm kernels; a setting from elsewhere (the instructor's Jupyter configuration) still decides."""
    from autograder.course import Course
    from conftest import course_silent_on_warm_kernels, make_course
    root = make_course(str(tmp_path / "course"))
    config = course_silent_on_warm_kernels(root)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter"))
    assert Course(root).warm_kernels_at_a_glance() and Course(root).warm_kernels
    os.makedirs(tmp_path / "jupyter")
    (tmp_path / "jupyter" / "nbgrader_config.py").write_text("c.GradeInSandbox.warm_kernels = False\n")
    assert Course(root).warm_kernels_at_a_glance() and not Course(root).warm_kernels
    with open(config, "a") as f:
        f.write("c.GradeInSandbox.warm_kernels = False\n")
    assert not Course(root).warm_kernels_at_a_glance() and not Course(root).warm_kernels
    with open(config, "a") as f:
        f.write("this is not Python\n")
    assert not Course(root).warm_kernels_at_a_glance()  # a broken file: nbgrader's loading says what is wrong


def test_the_longest_gradings_of_last_time_go_first(tmp_path):
    """A re-grade (after a fix of the checks, a resubmission) starts with what took longest before: a long
    job left for the end runs alone while the other workers idle. A submission never graded is expected
    to take its assignment's mean (over the markers and this run's own gradings); with nothing known, the
    class's own order stays."""
    import json
    from autograder.course import Course
    from autograder.pipeline import MARKER, autograded_folder, longest_first, recorded_seconds
    from conftest import make_course
    course = Course(make_course(str(tmp_path / "course")))
    pending = [("ada", "01_logistic_loop"), ("ada", "05_backprop"), ("ben", "01_logistic_loop"),
               ("ben", "05_backprop"), ("cy", "01_logistic_loop"), ("cy", "03_two_layer_forward")]
    assert recorded_seconds(course, pending) == {}
    assert longest_first(pending, {}) == pending
    for (student, assignment), seconds in {("ada", "01_logistic_loop"): 2.0, ("ada", "05_backprop"): 7.5,
                                           ("ben", "01_logistic_loop"): 4.0, ("ben", "05_backprop"): 6.5}.items():
        os.makedirs(autograded_folder(course, student, assignment))
        with open(os.path.join(autograded_folder(course, student, assignment), MARKER), "w") as f:
            json.dump({"seconds": seconds}, f)
    os.makedirs(autograded_folder(course, "cy", "01_logistic_loop"))
    with open(os.path.join(autograded_folder(course, "cy", "01_logistic_loop"), MARKER), "w") as f:
        f.write("{cut off")  # a marker that cannot be read: as if there were none
    recorded = recorded_seconds(course, pending)
    assert longest_first(pending, recorded) == [
        ("cy", "03_two_layer_forward"),  # nothing known of it or its assignment
        ("ada", "05_backprop"), ("ben", "05_backprop"), ("ben", "01_logistic_loop"),
        ("cy", "01_logistic_loop"),  # its assignment's mean: 3.0
        ("ada", "01_logistic_loop")]
    # this run graded another 01 in 11 s and a 03 in 1 s: 01's mean is now 17 / 3
    assert longest_first(pending, recorded, [("01_logistic_loop", 11.0), ("03_two_layer_forward", 1.0)]) == [
        ("ada", "05_backprop"), ("ben", "05_backprop"), ("cy", "01_logistic_loop"), ("ben", "01_logistic_loop"),
        ("ada", "01_logistic_loop"), ("cy", "03_two_layer_forward")]
