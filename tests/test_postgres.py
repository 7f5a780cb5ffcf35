"""The gradebook on a real PostgreSQL server (tests/conftest.py's `postgres`
starts one on a free port of 127.0.0.1): every command of the course with
NN_COURSE_DB_URL, the same grades as on SQLite, and graders writing at once
(real processes) lose no grade and create no duplicate student or submission."""
import csv
import multiprocessing
import os
import shutil
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook
from sqlalchemy import create_engine, text

from conftest import ASSIGNMENTS, REPO, course_env, make_course, sample_subset

pytestmark = pytest.mark.skipif(len(ASSIGNMENTS) < 5, reason="the five assignments are not all in source/ yet")

FIRST = "01_logistic_loop"
STUDENTS = ("ada", "ben", "carl")  # solved, the release untouched, one mistake (sample_class)


def on(url, root):
    """The course at root with its gradebook at url (the environment every command gets)."""
    return dict(course_env(root), NN_COURSE_DB_URL=url)


def run(root, url, *args, timeout=1800):
    proc = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=root, env=on(url, root),
                          capture_output=True, text=True, timeout=timeout)
    return proc


def cell_scores(url):
    """{(student, assignment, cell): (auto_score, max_score)} of every autograded test cell in the gradebook."""
    with Gradebook(url) as gb:
        return {(s.student.id, a.name, g.name): (g.auto_score, g.max_score)
                for a in gb.assignments for s in a.submissions for nb in s.notebooks for g in nb.grades
                if g.cell_type == "code"}


def counts(url):
    """Rows per table, and (assignment, student) pairs with more than one submission."""
    engine = create_engine(url)
    with engine.connect() as db:
        rows = {table: db.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")}
        twice = db.execute(text("SELECT assignment_id, student_id FROM submitted_assignment "
                                "GROUP BY assignment_id, student_id HAVING count(*) > 1")).fetchall()
    engine.dispose()
    return rows, twice


@pytest.fixture(scope="module")
def pg_course(postgres, tmp_path_factory):
    """A course whose gradebook is on PostgreSQL, with the first assignment released and three
    sample students' submissions. (tests/test_dask.py's three-way test compares PostgreSQL's
    grades with SQLite's, cell by cell.)"""
    url = postgres.new_database()
    root = make_course(tmp_path_factory.mktemp("postgres"))
    proc = run(root, url, "release", FIRST)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sample_subset(root, {(s, FIRST) for s in STUDENTS})
    return root, url


def test_every_command_of_the_course_on_postgres(pg_course):
    root, url = pg_course
    proc = run(root, url, "autograde", "--workers", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"{len(STUDENTS)} of {len(STUDENTS)} submission(s) graded" in proc.stdout
    for args in (("feedback", FIRST), ("export",), ("report",)):
        proc = run(root, url, *args)
        assert proc.returncode == 0, f"{args}: {proc.stderr[-3000:]}"
    assert not os.path.exists(root / "gradebook.db"), "a command fell back to the SQLite gradebook"

    scores = cell_scores(url)
    assert {s for s, _, _ in scores} == set(STUDENTS)
    assert all(score == top for (s, _, _), (score, top) in scores.items() if s == "ada")
    assert all(score == 0 for (s, _, _), (score, _) in scores.items() if s == "ben")
    assert scores[("carl", FIRST, "hidden_propagate_loop")][0] < scores[("carl", FIRST, "hidden_propagate_loop")][1]

    with open(root / "exports" / "grades.csv") as f:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f) if r["assignment"] == FIRST}
    with Gradebook(url) as gb:
        assert exported == {s: gb.find_submission(FIRST, s).score for s in STUDENTS}
    report = (root / "reports" / "report.md").read_text()
    assert "propagate_loop" in report
    assert (root / "reports" / f"{FIRST}_grades.png").exists()
    for student in STUDENTS:
        assert (root / "feedback" / student / FIRST / f"{FIRST}.html").exists()


def _grader(root, url, students, scores, barrier, errors):
    """One grader process: creates the class's students, then records every student's
    scores through the same path the Dask batch uses, each step at the moment the others do."""
    os.environ["NN_COURSE_DB_URL"] = url
    sys.path.insert(0, REPO)
    from autograder.course import Course
    from autograder.distributed import Recorder
    from autograder.pipeline import prepare_gradebook
    try:
        course = Course(root)
        barrier.wait(timeout=300)
        prepare_gradebook(course, students)
        barrier.wait(timeout=300)
        recorder = Recorder(course)
        for student in students:
            recorder.save_scores(student, "a1", scores)
        recorder.close()
    except Exception as exc:
        errors.put(f"{type(exc).__name__}: {exc}")


def test_graders_writing_at_once_lose_nothing_and_duplicate_nothing(postgres, tmp_path, monkeypatch):
    """Four processes create the same 40 students and record their submissions at the same
    moment (a barrier): nbgrader's own update_or_create_* fails on such races."""
    url = postgres.new_database()
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])  # nbgrader's alembic
    cells, answers = [f"test_{i}" for i in range(10)], [f"answer_{i}" for i in range(5)]
    with Gradebook(url) as gb:  # an assignment of one notebook: ten test cells, five answer cells
        gb.add_assignment("a1")
        gb.add_notebook("nb", "a1")
        for cell in cells:
            gb.add_grade_cell(cell, "nb", "a1", max_score=2, cell_type="code")
        for cell in answers:
            gb.add_solution_cell(cell, "nb", "a1")
    scores = {"nb": {"grades": {cell: [1.5, False] for cell in cells}, "comments": {cell: None for cell in answers}}}
    students = [f"s{i:02d}" for i in range(40)]
    root = make_course(tmp_path / "course")
    context = multiprocessing.get_context("spawn")
    barrier, errors = context.Barrier(4), context.Queue()
    graders = [context.Process(target=_grader, args=(str(root), url, students, scores, barrier, errors))
               for _ in range(4)]
    for grader in graders:
        grader.start()
    for grader in graders:
        grader.join(timeout=600)
    assert all(g.exitcode == 0 for g in graders)
    assert errors.empty(), errors.get()
    rows, twice = counts(url)
    assert not twice
    assert rows["student"] == len(students) and rows["submitted_assignment"] == len(students)
    assert rows["grade"] == len(students) * len(cells) and rows["comment"] == len(students) * len(answers)
    recorded = cell_scores(url)
    assert len(recorded) == len(students) * len(cells) and all(s == 1.5 for s, _ in recorded.values())


def test_two_graders_on_one_postgres_gradebook(postgres, tmp_path):
    """Two instructors' machines (two copies of the course) autograde the same submissions at
    the same time into one gradebook: both finish, and each submission is there once."""
    url = postgres.new_database()
    roots = [make_course(tmp_path / name) for name in ("a", "b")]
    proc = run(roots[0], url, "release", FIRST)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sample_subset(roots[0], {(s, FIRST) for s in STUDENTS[:2]})
    shutil.copytree(roots[0] / "submitted", roots[1] / "submitted")
    graders = [subprocess.Popen([sys.executable, "-m", "autograder", "autograde", "--workers", "1"], cwd=root,
                                env=on(url, root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for root in roots]
    outputs = [g.communicate(timeout=1200) for g in graders]
    for grader, (out, err) in zip(graders, outputs):
        assert grader.returncode == 0, out[-2000:] + err[-2000:]
    rows, twice = counts(url)
    assert not twice and rows["submitted_assignment"] == 2
    scores = cell_scores(url)
    assert all(score == top for (s, _, _), (score, top) in scores.items() if s == "ada")
    assert all(score == 0 for (s, _, _), (score, _) in scores.items() if s == "ben")
