"""Grading on a Dask cluster: `python -m autograder autograde --scheduler ADDRESS`.

Who does what (docs/scaling.md has the measurements behind it):

  the instructor's side (this process) sends each submission as a task: its
  files, the assignment's source notebooks and the course's nbgrader
  configuration, nothing else of the course folder. It records what comes
  back: the autograded files into autograded/, the scores into the
  gradebook (SQLite or PostgreSQL: only this side ever opens it), then the
  job marker. Each task is recorded once, by this one loop, when its future
  is done; a task Dask ran again after its worker died has one future all
  the same, and recording a submission twice (a rerun) updates its one row.

  a worker (`dask worker ADDRESS`, with the course package installed and the
  reference solutions importable) runs nbgrader's own autograde of the
  submission, pipeline.grade_submission as a local worker does, in a
  throwaway course folder with a gradebook of its own, and returns the
  autograded files, the job and the scores nbgrader saved there.

The job ends as locally (graded, rejected, fault). A worker that cannot
import the reference solutions returns a fault (nothing recorded); a
submission whose workers kept dying is a fault; losing the scheduler stops
the batch with ClusterLost: what was recorded stays, and the next run grades
the rest (the markers say what is done).
"""
import atexit
import contextlib
import hashlib
import logging
import os
import pickle
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

from .course import Course
from .pipeline import (FAILED, MARKER, NBGRADER_LOG, Job, _leave_marks, _progress, autograded_folder,
                       ensure_submission, open_gradebook)

CONNECT_SECONDS = 30  # to reach the scheduler
NO_WORKER_SECONDS = 120  # a batch waits this long for a cluster without workers, then stops
POLL_SECONDS = 5
SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints"}
OWN_FILES = {MARKER, FAILED, NBGRADER_LOG}  # the grader's bookkeeping, written by each side for itself


class ClusterLost(Exception):
    """The batch cannot go on on the cluster (no scheduler, no workers); `jobs` were recorded."""

    def __init__(self, message, jobs=()):
        super().__init__(message)
        self.jobs = list(jobs)


# ---- what travels -----------------------------------------------------------------------------

@dataclass
class Task:
    """One submission to grade, with everything a worker needs and nothing else."""
    student: str
    assignment: str
    config: object  # the course's nbgrader configuration (traitlets Config)
    source: dict  # path relative to source/<assignment>/ -> bytes
    submitted: dict  # path relative to submitted/<student>/<assignment>/ -> bytes


def read_files(folder):
    """{relative path: bytes} of the regular files under folder. Links and special files are
    left out: a link in a submission must not carry the instructor's files to a worker."""
    found = {}
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not os.path.islink(os.path.join(here, d)))
        for name in sorted(files):
            path = os.path.join(here, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    found[os.path.relpath(path, folder)] = f.read()
    return found


def write_files(folder, files, modes=None):
    """Write {relative path: bytes} into folder (made afresh), with modes {relative path: mode}
    where given; refuses a path out of the folder."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name, content in files.items():
        path = os.path.normpath(os.path.join(folder, name))
        if os.path.isabs(name) or not path.startswith(os.path.join(folder, "")):
            raise ValueError(f"a file name out of its folder: {name!r}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
        if modes and name in modes:
            os.chmod(path, modes[name])


# ---- the worker's side ------------------------------------------------------------------------

_lock = threading.Lock()  # one grading at a time per worker process (nbgrader's API is not thread-safe)
_courses = {}  # fingerprint of a configuration -> its WorkerCourse in this process


def _fingerprint(value):
    return hashlib.sha256(pickle.dumps(value)).hexdigest()[:16]


def reference_problem():
    """Why this Python cannot grade, or None: the reference solutions must be importable, and
    from outside what the sandbox shows every student's kernel (the Python installation, the
    system's folders)."""
    from .sandbox import SYSTEM_DIRS
    try:
        import solutions
    except Exception as exc:
        return (f"the reference solutions cannot be imported here ({type(exc).__name__}: {exc}): put the folder "
                "that holds solutions/ on the worker's PYTHONPATH (docs/scaling.md)")
    shown = {os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, *SYSTEM_DIRS)}
    for folder in map(os.path.realpath, solutions.__path__):
        if any((folder + os.sep).startswith(prefix) for prefix in shown):
            return (f"the reference solutions are installed where the sandbox shows them to every student's kernel "
                    f"({folder}): put them in a folder of their own, on the worker's PYTHONPATH")
    return None


class WorkerCourse:
    """A worker's throwaway course for one configuration: the assignments released into a
    gradebook of its own, one submission at a time in submitted/ and autograded/."""

    def __init__(self, config):
        from nbgrader.api import Gradebook
        # in memory where there is /dev/shm: nbgrader commits this gradebook some fifty times
        # per notebook, and nothing of the folder needs to outlive the worker
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        root = tempfile.mkdtemp(prefix="nn-worker-course-", dir=shm)
        atexit.register(shutil.rmtree, root, True)
        config.CourseDirectory.db_url = "sqlite:///" + os.path.join(root, "gradebook.db")
        self.course = Course(root, config=config)
        self.api = self.course.api()
        self.gb = Gradebook(self.course.db_url)  # kept open: opening one costs a dozen queries
        self.released = {}  # assignment -> fingerprint of the source it was released from

    @classmethod
    def of(cls, task):
        """This process's course for the task's configuration, with the task's assignment released
        (again when its source changed)."""
        config = pickle.loads(pickle.dumps(task.config))
        config.CourseDirectory.root = config.CourseDirectory.db_url = ""  # the instructor's, not ours
        key = _fingerprint(config)
        if key not in _courses:
            _courses[key] = cls(config)
        self = _courses[key]
        source = _fingerprint(task.source)
        if self.released.get(task.assignment) != source:
            write_files(self.course.path("source", task.assignment), task.source)
            result = self.api.generate_assignment(task.assignment, force=True, create=True)
            if not result.get("success"):
                log = ((result.get("log") or "") + (result.get("error") or "")).strip().splitlines()
                raise RuntimeError(f"nbgrader could not release {task.assignment} on the worker: {' '.join(log[-5:])}")
            self.released[task.assignment] = source
        return self

    def grade(self, task, where):
        """nbgrader autograde of the task's submission here: the outcome grade_task returns."""
        from .pipeline import grade_submission
        course, student, assignment = self.course, task.student, task.assignment
        try:
            write_files(course.path("submitted", student, assignment), task.submitted)
            job = grade_submission(self.api, course, student, assignment)
            folder = autograded_folder(course, student, assignment)
            out = {"job": job.as_dict(), "worker": where, "root": course.root}
            if job.success:
                files = {name: content for name, content in read_files(folder).items()
                         if os.path.basename(name) not in OWN_FILES}
                out.update(files=files, scores=self.saved_scores(student, assignment),
                           modes={name: os.stat(os.path.join(folder, name)).st_mode & 0o7777 for name in files})
            elif os.path.exists(os.path.join(folder, NBGRADER_LOG)):
                with open(os.path.join(folder, NBGRADER_LOG), encoding="utf-8", errors="replace") as f:
                    out["log"] = f.read()
            return out
        finally:
            for name in ("submitted", "autograded"):
                shutil.rmtree(course.path(name, student), ignore_errors=True)

    def saved_scores(self, student, assignment):
        """What nbgrader's autograde saved in this gradebook, {notebook: {"grades": {cell:
        [auto_score, needs_manual_grade]}, "comments": {cell: auto_comment}}}; then the
        submission is removed (this gradebook keeps nothing of a student)."""
        submission = self.gb.find_submission(assignment, student)
        saved = {nb.name: {"grades": {g.name: [g.auto_score, g.needs_manual_grade] for g in nb.grades},
                           "comments": {c.name: c.auto_comment for c in nb.comments}}
                 for nb in submission.notebooks}
        self.gb.remove_submission(assignment, student)  # commits: the next read sees nbgrader's next writes
        return saved


def grade_task(task):
    """Run on a worker: nbgrader autograde of one submission. Returns a dict: the job; for a
    graded one the autograded files, their modes and the saved scores; for a fault nbgrader's
    log; the seconds the task took here. Never raises for a fault of the grader or the worker."""
    from distributed import get_worker
    try:
        where = get_worker().name
    except ValueError:  # called outside a worker (the benchmark's probe)
        where = "local"
    with _lock:
        started = time.monotonic()
        problem = reference_problem()
        try:
            if problem:
                raise RuntimeError(problem)
            out = WorkerCourse.of(task).grade(task, where)
        except Exception as exc:  # the worker's own trouble: never the student's
            job = Job(task.student, task.assignment, "fault", seconds=time.monotonic() - started,
                      problems=[f"worker {where}: {exc}" if problem else
                                f"worker {where} could not grade it: {type(exc).__name__}: {exc}"])
            out = {"job": job.as_dict(), "worker": where}
        out["seconds"] = time.monotonic() - started
        return out


# ---- the instructor's side --------------------------------------------------------------------

class Recorder:
    """Writes what workers send back into the instructor's course, through one gradebook
    session for the whole batch (a submission is one short transaction)."""

    def __init__(self, course):
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.preprocessors import AssignLatePenalties
        self.course = course
        self.coursedir = CourseDirectory(config=course.config)
        self.late = AssignLatePenalties(config=course.config)  # nbgrader's late penalty, as configured
        self.late.init_plugin()
        self.gb = open_gradebook(course)

    def close(self):
        self.gb.close()

    def record(self, job, outcome):
        """The autograded files, then the scores, then the job's marker; returns the job (a
        fault if the gradebook refused the scores: then no marker, and the next run grades it)."""
        folder = autograded_folder(self.course, job.student, job.assignment)
        if outcome.get("root"):  # paths the worker named (nbgrader's log) are here now
            job.problems = [p.replace(outcome["root"], self.course.root) for p in job.problems]
        if job.success:
            try:
                write_files(folder, outcome["files"], outcome["modes"])
                self.save_scores(job.student, job.assignment, outcome["scores"])
            except Exception as exc:
                self.gb.db.rollback()
                job = Job(job.student, job.assignment, "fault", job.seconds,
                          problems=[f"its grades could not be recorded: {type(exc).__name__}: {exc}"])
        elif "log" in outcome:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, NBGRADER_LOG), "w", encoding="utf-8") as f:
                f.write(outcome["log"])
        _leave_marks(folder, job)
        return job

    def save_scores(self, student, assignment, scores):
        """What nbgrader's autograde saves (its init_assignment, SaveAutoGrades and
        AssignLatePenalties), from the scores nbgrader saved on the worker: the submission's
        timestamp, each cell's auto_score and auto_comment, each notebook's late penalty
        (by this gradebook's due date and extensions). One transaction; the rows are read in
        three queries (nbgrader's objects would load each cell's name with a query of its own)."""
        from nbgrader.api import Comment, Grade, SubmittedNotebook
        from sqlalchemy.orm import joinedload
        db = self.gb.db
        submission = ensure_submission(self.gb, assignment, student)
        timestamp = self.coursedir.get_existing_timestamp(self.course.path("submitted", student, assignment))
        if timestamp:
            submission.timestamp = timestamp
        notebooks = (db.query(SubmittedNotebook).filter(SubmittedNotebook.assignment_id == submission.id)
                     .options(joinedload(SubmittedNotebook.notebook)).all())
        saved = {nb.id: scores.get(nb.name, {"grades": {}, "comments": {}}) for nb in notebooks}
        with db.no_autoflush:
            for grade in db.query(Grade).filter(Grade.notebook_id.in_(saved)).options(joinedload(Grade.cell)):
                if grade.name in saved[grade.notebook_id]["grades"]:
                    grade.auto_score, needs_review = saved[grade.notebook_id]["grades"][grade.name]
                    # the worker's gradebook has no manual grades: one given here needs a review again
                    grade.needs_manual_grade = bool(needs_review) or grade.manual_score is not None
            for comment in db.query(Comment).filter(Comment.notebook_id.in_(saved)).options(joinedload(Comment.cell)):
                if comment.name in saved[comment.notebook_id]["comments"]:
                    comment.auto_comment = saved[comment.notebook_id]["comments"][comment.name]
        late = submission.total_seconds_late
        for notebook in notebooks:
            notebook.late_submission_penalty = None
            if late > 0:
                db.expire(notebook, ["score"])  # read again, with the scores above
                penalty = self.late.plugin_inst.late_submission_penalty(student, notebook.score, late)
                if penalty is not None:
                    notebook.late_submission_penalty = self.late._check_late_penalty(notebook, penalty)
        db.commit()


LOST = "lost the Dask scheduler at {}"


def _connect(scheduler):
    from distributed import Client
    try:
        return Client(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise ClusterLost(f"could not reach the Dask scheduler at {scheduler} within {CONNECT_SECONDS} s "
                          f"({type(exc).__name__}); start it with `dask scheduler` and workers with "
                          f"`dask worker {scheduler} --nthreads 1` (docs/scaling.md)") from exc


def _outcome(client, future, student, assignment, scheduler):
    """(Job, outcome dict) of a finished future."""
    from concurrent.futures import CancelledError
    from distributed import KilledWorker
    try:
        outcome = future.result()
        return Job(**outcome["job"]), outcome
    except KilledWorker as exc:
        job = Job(student, assignment, "fault", problems=[
            f"every worker that graded it died ({exc}); their logs say why; the next run grades it again"])
    except (CancelledError, OSError) as exc:  # the scheduler went away while the result was on its way
        raise ClusterLost(LOST.format(scheduler)) from exc
    except Exception as exc:  # the task could not run there at all (e.g. no course package on the worker)
        if client.status != "running":
            raise ClusterLost(LOST.format(scheduler)) from exc
        job = Job(student, assignment, "fault", problems=[f"the worker could not run it: {type(exc).__name__}: {exc}"])
    return job, {}


def autograde_on_cluster(course, pending, scheduler, quiet=False):
    """Grade the (student, assignment) pairs pending on the cluster at scheduler; returns the
    Jobs in the order they were recorded. Twice as many tasks as the workers have threads are
    in flight at a time, so neither this process nor the scheduler holds the whole class."""
    from concurrent.futures import CancelledError
    from distributed import wait
    # Dask logs every lost connection with its traceback: the batch says what happened, once
    for name in ["distributed"] + [n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    client = _connect(scheduler)
    jobs, started, total, run = [], time.monotonic(), len(pending), uuid.uuid4().hex[:8]
    recorder = Recorder(course)
    queue, in_flight, sources = deque(pending), {}, {}
    no_workers_since = None
    try:
        with contextlib.suppress(TimeoutError):
            client.wait_for_workers(1, timeout=NO_WORKER_SECONDS)
        threads = sum(client.nthreads().values())
        if not threads:
            raise ClusterLost(f"the Dask scheduler at {scheduler} has had no workers for {NO_WORKER_SECONDS} s: "
                              f"start them with `dask worker {scheduler} --nthreads 1` (docs/scaling.md)")
        if not quiet:
            print(f"{total} submission(s) to grade on the Dask cluster at {scheduler} "
                  f"({threads} worker thread(s) now)", flush=True)
        while queue or in_flight:
            while queue and len(in_flight) < 2 * max(threads, 1):
                student, assignment = queue.popleft()
                if assignment not in sources:
                    sources[assignment] = read_files(course.path("source", assignment))
                task = Task(student, assignment, course.config, sources[assignment],
                            read_files(course.path("submitted", student, assignment)))
                future = client.submit(grade_task, task, pure=False, key=f"nn-grade-{student}-{assignment}-{run}")
                in_flight[future] = (student, assignment)
            try:
                done, _ = wait(list(in_flight), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = ()
            except (CancelledError, OSError) as exc:
                raise ClusterLost(LOST.format(scheduler)) from exc
            if client.status != "running":
                raise ClusterLost(LOST.format(scheduler))
            for future in done:
                student, assignment = in_flight.pop(future)
                job, outcome = _outcome(client, future, student, assignment, scheduler)
                jobs.append(recorder.record(job, outcome))
                if not quiet:
                    _progress(len(jobs), total, jobs[-1], started)
            if not done:  # a quiet spell: are there still workers?
                threads = sum(client.nthreads().values())
                no_workers_since = None if threads else no_workers_since or time.monotonic()
                if no_workers_since and time.monotonic() - no_workers_since > NO_WORKER_SECONDS:
                    raise ClusterLost(f"the Dask cluster at {scheduler} has had no workers for {NO_WORKER_SECONDS} s")
    except ClusterLost as exc:
        raise ClusterLost(f"{exc}: stopped after recording {len(jobs)} of {total} submission(s); what was recorded "
                          "stays, and the same command run again grades the rest", jobs) from None
    except OSError as exc:  # the scheduler went away during a call of ours
        raise ClusterLost(f"{LOST.format(scheduler)} ({type(exc).__name__}): stopped after recording {len(jobs)} "
                          f"of {total} submission(s); what was recorded stays, and the same command run again "
                          "grades the rest", jobs) from None
    finally:
        recorder.close()
        with contextlib.suppress(Exception):
            client.close(timeout=5)
    return jobs
