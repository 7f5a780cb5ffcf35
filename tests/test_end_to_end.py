"""The instructor's job end to end on a copy of the course: `python -m autograder
demo` releases, writes the sample class, autogrades it in parallel on a real
gradebook, makes feedback, exports the CSV and the report. Then: each sample
student's grade per assignment, the feedback files, the CSV; parallel grades
equal serial `nbgrader autograde`'s; an interrupted run resumes."""
import csv
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry

from autograder.sample_class import ENDLESS, MISTAKES

from conftest import ASSIGNMENTS, REPO, cli, course_env, make_course



@pytest.fixture(scope="module")
def course(graded_course):
    return graded_course


def source_test_cells(assignment):
    """{grade_id: points} of the autograded test cells of an assignment's source notebook."""
    nb = nbformat.read(os.path.join(REPO, "source", assignment, f"{assignment}.ipynb"), as_version=4)
    return {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"] for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


def cell_grades(root, student, assignment):
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        nb = gb.find_submission_notebook(assignment, assignment, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades if g.cell_type == "code"}


def cells_of(function, cells):
    return [g for g in cells if g in (f"test_{function}", f"hidden_{function}")]


def test_correct_student_earns_every_autograded_point(course):
    root, _ = course
    for assignment in ASSIGNMENTS:
        grades = cell_grades(root, "ada", assignment)
        assert set(grades) == set(source_test_cells(assignment))
        lost = {g: s for g, s in grades.items() if s[0] != s[1]}
        assert not lost, f"ada lost points in {assignment}: {lost}"


def test_untouched_release_earns_nothing(course):
    root, _ = course
    for assignment in ASSIGNMENTS:
        assert all(score == 0 for score, _ in cell_grades(root, "ben", assignment).values()), assignment


@pytest.mark.parametrize("student,assignment,function", [m[:3] for m in MISTAKES] + [ENDLESS[:3]])
def test_one_mistake_loses_points_only_where_it_is(course, student, assignment, function):
    root, _ = course
    grades = cell_grades(root, student, assignment)
    mine = cells_of(function, grades)
    assert mine, f"no test cells for {function}"
    assert any(grades[g][0] < grades[g][1] for g in mine), f"{student}'s wrong {function} lost nothing: {grades}"
    hidden = [g for g in mine if g.startswith("hidden_")]
    assert all(grades[g][0] < grades[g][1] for g in hidden)
    feedback = open(root / "feedback" / student / assignment / f"{assignment}.html", encoding="utf-8").read()
    summary = feedback[:feedback.find("Each test cell below")]
    assert function in summary and "lost" in summary


def test_other_functions_of_a_mistaken_student_keep_their_points(course):
    root, _ = course
    student, assignment, function, _ = MISTAKES[0]
    grades = cell_grades(root, student, assignment)
    # functions that call the wrong one (train_loop calls propagate_loop) may lose points with it
    callers = {"propagate_loop": {"train_loop"}, "propagate": {"optimize"}}.get(function, set())
    others = [g for g in grades if re.sub(r"^(test|hidden)_", "", g) not in {function} | callers]
    assert others and all(grades[g][0] == grades[g][1] for g in others), grades


def test_broken_notebooks_are_reported_and_the_batch_goes_on(course):
    root, stdout = course
    report = open(root / "reports" / "report.md", encoding="utf-8").read()
    assert re.search(r"dora/01_logistic_loop: .*not valid JSON", report), report[-2000:]
    # ed's propagate never returns: the demo cells that call it are stopped at the cell time limit
    # (a problem line), the checks that call it at the call time limit (in the feedback)
    assert re.search(r"ed/02_logistic_vectorized: .*did not finish within the time limit", report), report[-2000:]
    ed = open(root / "feedback" / "ed" / "02_logistic_vectorized" / "02_logistic_vectorized.html", encoding="utf-8").read()
    assert "propagate did not return within" in ed
    assert re.search(r"fay/03_two_layer_forward: .*kernel died", report)
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        # an unreadable notebook is the student's to fix and resubmit: rejected, nothing recorded
        with pytest.raises(MissingEntry):
            gb.find_submission("01_logistic_loop", "dora")
    grades = cell_grades(root, "fay", "03_two_layer_forward")
    assert any(s == m > 0 for s, m in grades.values()), "cells before the kernel died keep their points"
    assert any(s == 0 < m for s, m in grades.values()), "cells after the kernel died earn nothing"


def test_feedback_files_and_csv(course):
    root, stdout = course
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        expected = {(s.student.id, a.name): s.score for a in gb.assignments for s in a.submissions}
    for (student, assignment), score in expected.items():
        if (student, assignment) == ("dora", "01_logistic_loop"):
            continue
        page = open(root / "feedback" / student / assignment / f"{assignment}.html", encoding="utf-8").read()
        assert "Summary" in page and re.search(rf"Total: {score:g} of", page), (student, assignment)
    with open(root / "exports" / "grades.csv") as f:
        rows = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(f)}
    for key, score in expected.items():
        assert rows[key] == pytest.approx(score)
    assert "ada" in stdout and "ben" in stdout  # the grade table
    assert glob.glob(str(root / "reports" / "*_grades.png"))
    assert not glob.glob(str(root / "feedback" / "*" / "*" / ".nn-course-*")), "the grader's bookkeeping reached students"


def test_parallel_grades_equal_serial_nbgrader(course, tmp_path):
    """Serial stock `nbgrader autograde` (with the course's configuration) on the
    same submissions writes the same grades as the parallel run."""
    root, _ = course
    serial = make_course(tmp_path / "serial")
    assignment = ASSIGNMENTS[0]
    cli(serial, "release", assignment)
    for student in ("ada", "ben", "carl"):
        shutil.copytree(root / "submitted" / student / assignment, serial / "submitted" / student / assignment)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment], cwd=serial,
                          env=course_env(serial), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for student in ("ada", "ben", "carl"):
        assert cell_grades(serial, student, assignment) == cell_grades(root, student, assignment)


def test_interrupted_run_resumes_without_grading_twice(course, tmp_path):
    root, _ = course
    copy = make_course(tmp_path / "resume")
    cli(copy, "release", ASSIGNMENTS[0])
    # three students' submissions, each twice (the second under another name): a run interrupted after its first
    # grading still has several to go even if this process reads that line late on a busy machine
    originals = {"ada": "ada", "ben": "ben", "carl": "carl", "xada": "ada", "xben": "ben", "xcarl": "carl"}
    students = tuple(originals)
    for student, original in originals.items():
        shutil.copytree(root / "submitted" / original / ASSIGNMENTS[0], copy / "submitted" / student / ASSIGNMENTS[0])
    run = subprocess.Popen([sys.executable, "-m", "autograder", "autograde", "--workers", "1"], cwd=copy,
                           env=course_env(copy), stdout=subprocess.PIPE, text=True, start_new_session=True)
    for line in run.stdout:  # stop the run as soon as one submission is graded
        if " ok " in line:
            os.killpg(run.pid, signal.SIGINT)
            break
    run.wait(timeout=120)
    markers = glob.glob(str(copy / "autograded" / "*" / "*" / ".nn-course-graded.json"))
    assert 1 <= len(markers) < len(students)
    first = {m: os.path.getmtime(m) for m in markers}
    time.sleep(0.05)
    out = cli(copy, "autograde", "--workers", "2").stdout
    assert f"{len(students) - len(markers)} submission(s) to grade" in out
    assert all(os.path.getmtime(m) == t for m, t in first.items()), "an already graded submission was graded again"
    for student, original in originals.items():
        assert cell_grades(copy, student, ASSIGNMENTS[0]) == cell_grades(root, original, ASSIGNMENTS[0])
    out = cli(copy, "autograde", "--force", "--workers", "2").stdout
    assert f"{len(students)} submission(s) to grade" in out


def _grade_with_cold_kernel(root, notebook):
    from autograder.course import Course
    from autograder.grading import grade_notebook
    assignment = os.path.basename(os.path.dirname(notebook))
    result = grade_notebook(notebook, os.path.join(root, "source", assignment, f"{assignment}.ipynb"),
                            limits=Course(root).limits, warm=False)
    return {cell.grade_id: cell.score for cell in result.cells}, result.problems


def test_cold_kernels_grade_the_sample_class_as_the_warm_ones_did(course):
    """The demo graded with warm kernels (the default); each notebook of the sample class graded
    again with a fresh Python per notebook (c.GradeInSandbox.warm_kernels = False) earns, cell by
    cell, the scores in the gradebook."""
    root, _ = course
    notebooks = sorted(glob.glob(os.path.join(root, "submitted", "*", "*", "*.ipynb")))
    students = {os.path.basename(os.path.dirname(os.path.dirname(nb))) for nb in notebooks}
    assert {"ada", "ben", "dora", "ed", "fay"} <= students  # right, untouched, broken, endless, dying
    with ProcessPoolExecutor(max_workers=2) as pool:
        cold = dict(zip(notebooks, pool.map(_grade_with_cold_kernel, [root] * len(notebooks), notebooks)))
    for notebook, (scores, problems) in cold.items():
        student, assignment = notebook.split(os.sep)[-3:-1]
        if student == "dora" and assignment == "01_logistic_loop":  # unreadable: rejected, nothing recorded
            assert "not valid JSON" in " ".join(problems) and not any(scores.values())
            continue
        warm = {grade_id: score for grade_id, (score, _) in cell_grades(root, student, assignment).items()}
        assert scores == warm, f"{student}/{assignment}: cold {scores}, warm {warm}"
