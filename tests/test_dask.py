"""Grading on a real Dask cluster (`autograde --scheduler`): a `dask scheduler`
and `dask worker` processes on localhost (tests/conftest.py's DaskCluster),
whose workers have the course package and the reference solutions, never the
course folder.

The same grades three ways (local pool, Dask, Dask with the gradebook on
PostgreSQL); a worker killed while grading; workers that cannot import the
reference; the scheduler going away and the next run resuming."""
import os
import re
import signal
import subprocess
import sys
import time

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry

from autograder.sample_class import solved
from conftest import ASSIGNMENTS, REPO, DaskCluster, course_env, make_course, sample_subset

pytestmark = pytest.mark.skipif(len(ASSIGNMENTS) < 5, reason="the five assignments are not all in source/ yet")

FIRST = "01_logistic_loop"
# solved, the release untouched, one mistake, broken JSON (rejected), all of the first assignment; not the
# endless loop nor the dying kernel (a minute of time limits, and a second assignment to release three
# times, for nothing the cluster does differently: the same nbgrader run grades them on a worker)
THREE_WAY = {("ada", FIRST), ("ben", FIRST), ("carl", FIRST), ("dora", FIRST)}


@pytest.fixture(scope="module")
def cluster():
    cluster = DaskCluster(workers=2)
    yield cluster
    cluster.stop()


def course(root, keep, url=None):
    """A course copy with the assignments of keep released and those sample submissions."""
    root = make_course(root)
    env = dict(course_env(root), **({"NN_COURSE_DB_URL": url} if url else {}))
    for assignment in sorted({a for _, a in keep}):
        proc = subprocess.run([sys.executable, "-m", "autograder", "release", assignment], cwd=root, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
    sample_subset(root, keep)
    return root, env


def autograde(root, env, *args, timeout=1800):
    return subprocess.run([sys.executable, "-m", "autograder", "autograde", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)


def gradebook_rows(url):
    """Everything autograde saves, per submission: each cell's auto_score, max_score and
    needs_manual_grade, each comment, each notebook's late penalty, the timestamp."""
    rows = {}
    with Gradebook(url) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                key = (submission.student.id, assignment.name)
                rows[key + ("timestamp",)] = str(submission.timestamp)
                for notebook in submission.notebooks:
                    rows[key + (notebook.name, "late")] = notebook.late_submission_penalty
                    for grade in notebook.grades:
                        rows[key + (notebook.name, grade.name)] = (grade.auto_score, grade.max_score,
                                                                   grade.needs_manual_grade)
                    for comment in notebook.comments:
                        rows[key + (notebook.name, comment.name, "comment")] = comment.auto_comment
    return rows


def url_of(root, env):
    return env.get("NN_COURSE_DB_URL") or f"sqlite:///{root}/gradebook.db"


def test_the_same_grades_locally_on_dask_and_on_dask_with_postgres(cluster, postgres, tmp_path):
    runs = {"local": course(tmp_path / "local", THREE_WAY),
            "dask": course(tmp_path / "dask", THREE_WAY),
            "dask+postgres": course(tmp_path / "dask-pg", THREE_WAY, postgres.new_database())}
    for name, (root, env) in runs.items():
        args = ("--workers", "2") if name == "local" else ("--scheduler", cluster.address)
        proc = autograde(root, env, *args)
        # dora's broken JSON is rejected (exit 1): the student's to fix; nothing is the grader's fault
        assert proc.returncode == 1, f"{name}: {proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert re.search(r"dora/01_logistic_loop: .*not valid JSON", proc.stderr), proc.stderr
        assert f"{len(THREE_WAY) - 1} of {len(THREE_WAY)} submission(s) graded" in proc.stdout
    rows = {name: gradebook_rows(url_of(root, env)) for name, (root, env) in runs.items()}
    assert rows["local"], "nothing graded"
    assert {(s, a) for s, a, *_ in rows["local"]} == THREE_WAY - {("dora", FIRST)}
    assert rows["dask"] == rows["local"]
    assert rows["dask+postgres"] == rows["local"]
    # the autograded notebooks (their per-check results) are the same too
    for name, (root, _) in runs.items():
        for student, assignment in THREE_WAY - {("dora", FIRST)}:
            path = root / "autograded" / student / assignment / f"{assignment}.ipynb"
            local = runs["local"][0] / "autograded" / student / assignment / f"{assignment}.ipynb"
            assert (nbformat.read(path, as_version=4).metadata["nn_course"]["cells"]
                    == nbformat.read(local, as_version=4).metadata["nn_course"]["cells"]), (name, student)
    score, top, _ = rows["dask"][("carl", FIRST, FIRST, "hidden_propagate_loop")]
    assert score < top, "carl's mistake in propagate_loop costs points"

    def zygote_counts():  # nested: sent by value (the workers cannot import this test module)
        from autograder import zygote
        return zygote.shared().starts, zygote.shared().kernels
    with cluster.client() as client:
        counts = client.run(zygote_counts)
    # each worker forked every kernel of both Dask runs from one zygote, started once
    assert sum(kernels for _, kernels in counts.values()) >= 2 * (len(THREE_WAY) - 1), counts
    assert all(starts == 1 for starts, kernels in counts.values() if kernels), counts


def slow_submission(root, student, seconds):
    """A solved first assignment whose first answer cell sleeps: grading it takes a while."""
    release = nbformat.read(os.path.join(REPO, "release", FIRST, f"{FIRST}.ipynb"), as_version=4)
    nb = solved(release, nbformat.read(os.path.join(REPO, "source", FIRST, f"{FIRST}.ipynb"), as_version=4))
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    answer.source += f"\n\nimport time\ntime.sleep({seconds})\n"
    folder = root / "submitted" / student / FIRST
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{FIRST}.ipynb")


def wait_until_grading(client, student, timeout=600):
    """The address of the worker whose task is grading student's submission right now."""
    def executing(dask_worker):  # nested: sent by value (the workers cannot import this test module)
        return [str(ts.key) for ts in dask_worker.state.executing]

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for address, keys in client.run(executing).items():
            if any(key.startswith(f"nn-grade-{student}-") for key in keys):
                return address
        time.sleep(0.5)
    raise AssertionError(f"no worker started grading {student} within {timeout} s")


def test_a_worker_killed_while_grading_is_graded_again_and_recorded_once(cluster, tmp_path):
    root, env = course(tmp_path / "killed", {("ada", FIRST)})
    slow_submission(root, "slow", 20)
    run = subprocess.Popen([sys.executable, "-m", "autograder", "autograde", "--scheduler", cluster.address],
                           cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with cluster.client() as client:
            address = wait_until_grading(client, "slow")
            time.sleep(3)  # its kernel is running the student's cells now
            pid = client.run(os.getpid, workers=[address])[address]
            os.kill(pid, signal.SIGKILL)
        out, err = run.communicate(timeout=1200)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, out[-3000:] + err[-3000:]
    assert len(re.findall(r"\bslow/01_logistic_loop ok\b", out)) == 1, out
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        assert len([s for s in gb.find_assignment(FIRST).submissions if s.student.id == "slow"]) == 1
        slow = {g.name: g.auto_score for g in gb.find_submission_notebook(FIRST, FIRST, "slow").grades}
        ada = {g.name: g.auto_score for g in gb.find_submission_notebook(FIRST, FIRST, "ada").grades}
    assert slow == ada, "the slow solved notebook earns what the solved one does"
    cluster.wait_for(2)  # the killed worker's nanny started a new one


def test_a_worker_without_the_reference_is_a_fault_of_the_run_not_a_zero(tmp_path):
    root, env = course(tmp_path / "noref", {("ada", FIRST)})
    bare = DaskCluster(workers=1, reference=False)
    try:
        proc = autograde(root, env, "--scheduler", bare.address)
    finally:
        bare.stop()
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    said = proc.stdout + proc.stderr
    assert "the reference solutions cannot be imported" in said and "nothing recorded for the student" in said
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb, pytest.raises(MissingEntry):
        gb.find_submission(FIRST, "ada")
    folder = root / "autograded" / "ada" / FIRST
    assert not (folder / ".nn-course-graded.json").exists()
    assert (folder / ".nn-course-failed.txt").read_text().startswith("fault:")


def test_the_scheduler_going_away_stops_the_run_and_the_next_run_resumes(tmp_path):
    students = ("ada", "ben", "carl")
    root, env = course(tmp_path / "lost", {(s, FIRST) for s in students})
    first = DaskCluster(workers=1)
    try:
        run = subprocess.Popen([sys.executable, "-m", "autograder", "autograde", "--scheduler", first.address],
                               cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in run.stdout:  # the scheduler goes away once one submission is recorded
            if " ok " in line:
                first.scheduler.kill()
                break
        out, err = run.communicate(timeout=300)
    finally:
        first.stop()
    assert run.returncode == 2, out[-2000:] + err[-2000:]
    assert "lost the Dask scheduler" in err and "the same command run again grades the rest" in err, err[-2000:]
    assert "Traceback" not in err, err[-3000:]
    markers = {m: os.path.getmtime(m) for m in root.glob("autograded/*/*/.nn-course-graded.json")}
    assert 1 <= len(markers) < len(students)

    second = DaskCluster(workers=1)
    try:
        proc = autograde(root, env, "--scheduler", second.address)
    finally:
        second.stop()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"{len(students) - len(markers)} submission(s) to grade" in proc.stdout
    assert all(os.path.getmtime(m) == t for m, t in markers.items()), "a recorded submission was graded again"
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        assert sorted(s.student.id for s in gb.find_assignment(FIRST).submissions) == sorted(students)


def test_a_reference_the_sandbox_would_show_is_refused(monkeypatch):
    """A worker whose reference solutions lie inside its Python installation would let every
    student's kernel import them (the sandbox shows that installation): it refuses to grade."""
    from autograder.distributed import reference_problem
    import solutions  # noqa: F401 (the repository's, outside this environment's installation)
    assert reference_problem() is None
    monkeypatch.setattr(sys, "prefix", REPO)
    assert "where the sandbox shows them to every student's kernel" in reference_problem()
