"""The instructor's job over a class: nbgrader autograde of every submission,
in parallel worker processes, on the one gradebook.

grade_submission() is nbgrader's own autograde of one (student, assignment)
through nbgrader's API with the course's configuration; a batch runs it in
worker processes. Each job ends in one of three ways:

  graded    the gradebook has the submission's scores (what the student's code did)
  rejected  the submission itself cannot be graded (a notebook that is not valid
            JSON, a missing notebook): the student's to fix and resubmit
  fault     a fault of the grader, the reference, the sandbox, the course set-up or
            a worker: reported with the reason; no score is recorded and an earlier
            score of the submission is left as it was

A graded job leaves a marker beside its autograded notebooks: a re-run skips
those (unless forced) and grades everything else, so an interrupted run loses
nothing. The SQLite gradebook runs in WAL mode with a busy timeout, so
concurrent jobs wait for each other's short writes instead of failing. Any
gradebook URL nbgrader accepts works (PostgreSQL: NN_COURSE_DB_URL); graders
writing to one gradebook at once never duplicate a student or a submission
(ensure_student, ensure_submission). With a scheduler, the batch runs on a
Dask cluster instead (autograder.distributed).
"""
import contextlib
import glob
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field

from .course import Course

MARKER = ".nn-course-graded.json"
FAILED = ".nn-course-failed.txt"  # why a submission was not graded
NBGRADER_LOG = ".nn-course-nbgrader.log"  # nbgrader's own log of a submission it could not grade


@dataclass
class Job:
    student: str
    assignment: str
    status: str = "pending"  # graded, rejected or fault (see the module's docstring)
    seconds: float = 0.0
    scores: dict = field(default_factory=dict)  # notebook -> [score, max_score]
    problems: list = field(default_factory=list)  # why it was not graded, or what the grading met

    @property
    def success(self):
        return self.status == "graded"

    def as_dict(self):
        return asdict(self)


def submissions(course, assignments=(), students=()):
    """(student, assignment) pairs found under submitted/."""
    pairs = []
    for path in sorted(glob.glob(course.path("submitted", "*", "*"))):
        student, assignment = path.split(os.sep)[-2:]
        if os.path.isdir(path) and (not assignments or assignment in assignments) and (not students or student in students):
            pairs.append((student, assignment))
    return pairs


def autograded_folder(course, student, assignment):
    return course.path("autograded", student, assignment)


def is_graded(course, student, assignment):
    """Graded by a finished job, and not resubmitted since."""
    marker = os.path.join(autograded_folder(course, student, assignment), MARKER)
    if not os.path.exists(marker):
        return False
    submitted = course.path("submitted", student, assignment)
    newest = max((os.path.getmtime(p) for p in glob.glob(os.path.join(submitted, "**"), recursive=True)), default=0)
    return os.path.getmtime(marker) >= newest


# ---- one submission --------------------------------------------------------------------------

def _submission_problems(course, student, assignment):
    """What makes a submission ungradable before nbgrader sees it: its notebooks' own problems."""
    from .grading import read_notebook
    submitted = course.path("submitted", student, assignment)
    notebooks = sorted(glob.glob(os.path.join(submitted, "*.ipynb")))
    found = [os.path.basename(p) for p in notebooks]
    problems = [f"{os.path.basename(p)}: {problem}" for p in notebooks for problem in [read_notebook(p)[1]] if problem]
    expected = [os.path.basename(p) for p in course.source_notebooks(assignment)]
    problems += [f"{name} was not submitted (found: {', '.join(found) or 'no notebook'}); hand it in under its own name"
                 for name in expected if name not in found]
    return problems


# nbgrader's own words for a failure whose cause is known, and what to say instead
KNOWN_FAILURES = [
    (r"No assignment with ID '([^']*)' exists",
     lambda m: f"{m.group(1)} is not in the gradebook: run `python -m autograder release {m.group(1)}` first"),
    (r"(OperationalError|database is locked|could not connect to server|Connection refused)",
     lambda m: f"the gradebook could not be written ({m.group(1)}); check the gradebook's URL (NN_COURSE_DB_URL or "
               "course_config.py) and that nothing else holds it, then run autograde again"),
    (r"Could not find source assignment|No source notebooks? (for|in)",
     lambda m: "the assignment's source notebooks are missing from source/"),
]


def explain_failure(log):
    """A known cause of an nbgrader failure, said with the next step; None if unknown."""
    for pattern, say in KNOWN_FAILURES:
        found = re.search(pattern, log)
        if found:
            return say(found)
    return None


def _had_submission(gb, student, assignment):
    try:
        gb.find_submission(assignment, student)
        return True
    except Exception:
        return False


@contextlib.contextmanager
def _expected_rollback():
    """nbgrader logs a traceback (tornado.application) for each insert the database refuses:
    a race that ensure_* expects and settles is no error to show on the terminal."""
    logger = logging.getLogger("tornado.application")
    level, logger.level = logger.level, logging.CRITICAL
    try:
        yield
    finally:
        logger.setLevel(level)


def _find_or_add(find, add):
    """nbgrader's update_or_create_* finds, then adds: two graders doing it at once both add,
    and the database's unique constraint refuses the second (InvalidEntry). Then the row
    exists: find it."""
    from nbgrader.api import InvalidEntry, MissingEntry
    for _ in range(3):
        try:
            return find()
        except MissingEntry:
            pass
        try:
            with _expected_rollback():
                return add()
        except InvalidEntry:
            continue
    return find()


def open_gradebook(course):
    """nbgrader's Gradebook of the course. Its first opening adds the course's row: graders opening
    a new gradebook at the same moment all add it, and the database refuses all but one
    (InvalidEntry); then the row exists, and opening again finds it."""
    from nbgrader.api import Gradebook, InvalidEntry
    from nbgrader.coursedir import CourseDirectory
    course_id = CourseDirectory(config=course.config).course_id
    for attempt in range(3):
        try:
            with _expected_rollback():
                return Gradebook(course.db_url, course_id)
        except InvalidEntry:
            if attempt == 2:
                raise


def ensure_student(gb, student):
    """The student's row in the gradebook, created once whoever else creates it at the same moment."""
    return _find_or_add(lambda: gb.find_student(student), lambda: gb.add_student(student))


def ensure_submission(gb, assignment, student):
    """The submission's row (with its notebooks' grade and comment rows), created once."""
    return _find_or_add(lambda: gb.find_submission(assignment, student), lambda: gb.add_submission(assignment, student))


def grade_submission(api, course, student, assignment):
    """nbgrader autograde of one submission; returns its Job (never raises for a submission's or a grader's fault)."""
    import nbformat
    from . import nbgrader_plugin
    started = time.monotonic()
    job = Job(student, assignment)
    folder = autograded_folder(course, student, assignment)
    problems = _submission_problems(course, student, assignment)
    unreadable = [p for p in problems if "was not submitted" not in p]
    missing = [p for p in problems if "was not submitted" in p]
    # nbgrader would stop at the first unreadable one without saying which, and fails a submission
    # with none of the assignment's notebooks ("No notebooks found"): both are the student's to fix
    if unreadable or (missing and len(missing) == len(course.source_notebooks(assignment))):
        job.status, job.problems = "rejected", problems
    else:
        from nbgrader.api import Gradebook, MissingEntry
        with Gradebook(course.db_url) as gb:
            had_submission = _had_submission(gb, student, assignment)
            if not had_submission:  # here, not in nbgrader's find-then-add, which another grader can race
                with contextlib.suppress(MissingEntry):  # no such assignment: nbgrader says so below
                    ensure_submission(gb, assignment, student)
        previous = _set_aside(folder)  # nbgrader removes the autograded folder of a submission it fails
        nbgrader_plugin.faults.clear()
        result = api.autograde(assignment, student, force=True, create=True)
        log = (result.get("log") or "") + (result.get("error") or "")
        faults = [reason for (_, _, _, reason) in nbgrader_plugin.faults]
        _put_back(previous, folder, keep=not result.get("success"))
        if result.get("success"):
            job.status = "graded"
            for path in sorted(glob.glob(os.path.join(folder, "*.ipynb"))):
                summary = nbformat.read(path, as_version=4).metadata.get("nn_course", {})
                job.scores[os.path.basename(path)[:-6]] = [summary.get("score"), summary.get("max_score")]
                job.problems += summary.get("problems", [])
            job.problems += problems  # a notebook not handed in earns nothing: say why
        else:
            job.status = "fault"
            job.problems = faults or [explain_failure(log) or "nbgrader could not grade the submission"]
            if not had_submission:  # nbgrader created it before grading failed: no trace of a grade
                _forget_submission(course, student, assignment)
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, NBGRADER_LOG), "w") as f:
                f.write(log)
            if not faults and not explain_failure(log):
                job.problems[-1] += f" (nbgrader's log: {os.path.join(folder, NBGRADER_LOG)})"
    job.seconds = time.monotonic() - started
    _leave_marks(folder, job)
    return job


def _set_aside(folder):
    """Move an earlier grading's autograded folder out of nbgrader's way; returns where it went (or None)."""
    if not os.path.isdir(folder):
        return None
    aside = os.path.join(os.path.dirname(folder), f".{os.path.basename(folder)}.previous")
    shutil.rmtree(aside, ignore_errors=True)
    os.rename(folder, aside)
    return aside


def _put_back(aside, folder, keep):
    """After a grading: the earlier autograded folder comes back if this one failed (keep), else goes."""
    if aside is None:
        return
    if keep:
        shutil.rmtree(folder, ignore_errors=True)
        os.rename(aside, folder)
    else:
        shutil.rmtree(aside, ignore_errors=True)


def _forget_submission(course, student, assignment):
    from nbgrader.api import Gradebook
    try:
        with Gradebook(course.db_url) as gb:
            gb.remove_submission(assignment, student)
    except Exception:
        pass


def _leave_marks(folder, job):
    """The marker of a graded submission, or the reason it was not graded (for the report)."""
    os.makedirs(folder, exist_ok=True)
    for name in (MARKER, FAILED) + (() if job.status == "fault" else (NBGRADER_LOG,)):
        if os.path.exists(os.path.join(folder, name)):
            os.remove(os.path.join(folder, name))
    if job.success:
        with open(os.path.join(folder, MARKER), "w") as f:
            json.dump(job.as_dict(), f, indent=1)
    else:
        with open(os.path.join(folder, FAILED), "w") as f:
            f.write(f"{job.status}: " + "; ".join(job.problems) + "\n")


# ---- a class ----------------------------------------------------------------------------------

_worker = None  # (course, nbgrader API) of a worker process


def _start_worker(root):
    global _worker
    # nbgrader's gradebook code trips SQLAlchemy's "not in session" warning on every submission:
    # noise on the instructor's terminal that hides the progress bar
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)
    course = Course(root)
    _worker = (course, course.api())
    if course.warm_kernels:
        from .zygote import warm_up
        warm_up(wait=False)  # the pool's zygote if there is one, else one of its own, importing while it prepares


_interrupted = False  # a pool worker saw Ctrl-C: it starts no further job


def _on_interrupt(signum, frame):
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def _start_pool_worker(root):
    """A worker of autograde's pool. Ctrl-C reaches it with the command (one process group): it stops
    the job under way, and jobs already handed to the worker are not started (else a run that was
    interrupted would go on grading what its queue held)."""
    signal.signal(signal.SIGINT, _on_interrupt)
    _start_worker(root)


def _grade_in_worker(student, assignment):
    if _interrupted:
        raise KeyboardInterrupt
    course, api = _worker
    return grade_submission(api, course, student, assignment)


def _progress(done, total, job, started):
    width = 30
    filled = int(width * done / total)
    status = {"graded": "ok", "rejected": "NOT GRADED (the submission)", "fault": "NOT GRADED (the grader)"}[job.status]
    print(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {job.student}/{job.assignment} {status} "
          f"({job.seconds:.1f} s; {time.monotonic() - started:.0f} s in all)", flush=True)


def prepare_gradebook(course, students):
    """The gradebook's set-up that workers must not race for: WAL mode for
    SQLite, and every student created once, before the workers start."""
    course.api()  # nbgrader's tools on PATH, and the course's solutions
    url = course.db_url
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///"):].split("?")[0]) as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never block the one writer
    with open_gradebook(course) as gb:
        for student in sorted(set(students)):
            ensure_student(gb, student)


def recorded_seconds(course, pending):
    """{(student, assignment): seconds} that the last grading of each pending submission took, from its
    marker (a submission never graded, or whose marker cannot be read, has none)."""
    recorded = {}
    for student, assignment in pending:
        try:
            with open(os.path.join(autograded_folder(course, student, assignment), MARKER)) as f:
                recorded[(student, assignment)] = float(json.load(f)["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return recorded


def longest_first(pending, recorded, timed=()):
    """pending in the order to grade it: the submissions whose grading took longest last time first
    (recorded: recorded_seconds), one never graded expected to take its assignment's mean (over the
    recorded ones and timed: (assignment, seconds) of this run's gradings), and those with nothing
    known before them, in their own order. With several workers, a long job left for the end runs
    alone while the others idle."""
    by_assignment = {}
    for assignment, seconds in [(a, t) for (_, a), t in recorded.items()] + list(timed):
        by_assignment.setdefault(assignment, []).append(seconds)

    def expected(pair):
        if pair in recorded:
            return recorded[pair]
        known = by_assignment.get(pair[1])
        return sum(known) / len(known) if known else float("inf")
    return sorted(pending, key=lambda pair: -expected(pair))  # stable: equal ones keep their order


def autograde(root, assignments=(), students=(), workers=None, force=False, quiet=False, scheduler=None):
    """Autograde every submission not yet graded (all if force) with `workers`
    processes; returns the Jobs run, in the order they finished. A worker
    that dies takes only the submission it was grading: the others are
    graded in a fresh pool, and those that were in flight beside it each run
    alone; a submission whose worker died twice while grading it alone is a
    fault.
    scheduler: the address of a Dask scheduler to grade on instead
    (autograder.distributed; raises ClusterLost if it goes away)."""
    course = Course(root)
    pending = [(s, a) for s, a in submissions(course, assignments, students) if force or not is_graded(course, s, a)]
    recorded = recorded_seconds(course, pending)
    pending = longest_first(pending, recorded)
    from . import zygote
    # one zygote for the whole pool, importing while this process sets up: started before nbgrader's
    # configuration is loaded if the course's own files ask for warm kernels (the configuration decides)
    early = pending and not scheduler and course.warm_kernels_at_a_glance()
    if early:
        zygote.warm_up(wait=False)
    warm = pending and course.warm_kernels and not scheduler
    if warm:
        zygote.warm_up(wait=False)  # started now if only the full configuration asks for it
    elif early:
        zygote.shared().close()
    prepare_gradebook(course, [s for s, _ in pending])
    if scheduler:
        from .distributed import autograde_on_cluster
        return autograde_on_cluster(course, pending, scheduler, quiet)
    from . import nbgrader_plugin  # noqa: F401 (imported once here, not in each forked worker)
    # the workers fork now and share the zygote, still importing or not: each waits for it only when
    # its first notebook needs a kernel
    from nbgrader.api import Gradebook
    with Gradebook(course.db_url) as gb:
        had_submission = {(s, a) for s, a in pending if _had_submission(gb, s, a)}
    workers = workers or os.cpu_count()
    if not quiet:
        print(f"{len(pending)} submission(s) to grade with {workers} worker(s)", flush=True)
    jobs, started, attempts, total, timed = [], time.monotonic(), {}, len(pending), []
    alone = []  # in flight beside others when a worker died: each runs by itself, so that a death is its own
    while pending or alone:
        if alone:
            batch, width, alone = alone[:1], 1, alone[1:]
        else:
            batch, width, pending = pending, workers, []
        with ProcessPoolExecutor(max_workers=width, initializer=_start_pool_worker, initargs=(course.root,)) as pool:
            # one job per worker at a time, each the longest expected when a worker frees up: on a first
            # grading, this run's own times soon tell which assignments take long
            queue, running = list(batch), {}
            while queue or running:
                try:
                    while queue and len(running) < width:
                        queue = longest_first(queue, recorded, timed)
                        pair = queue.pop(0)
                        running[pool.submit(_grade_in_worker, *pair)] = pair
                except BrokenProcessPool:  # a worker died: what had not started waits for the next pool
                    pending += [pair] + queue
                    queue = []
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    student, assignment = pair = running.pop(future)
                    try:
                        job = future.result()
                    except BrokenProcessPool:
                        if width > 1:  # which of the jobs in flight killed the worker is not known
                            alone.append(pair)
                            continue
                        attempts[pair] = attempts.get(pair, 0) + 1
                        if attempts[pair] < 2:
                            alone.append(pair)
                            continue
                        job = Job(student, assignment, "fault", problems=["the grading worker died twice while grading it"])
                        if pair not in had_submission:
                            _forget_submission(course, student, assignment)
                        _leave_marks(autograded_folder(course, student, assignment), job)
                    except Exception as exc:
                        job = Job(student, assignment, "fault",
                                  problems=[f"the grading worker failed: {type(exc).__name__}: {exc}"])
                        _leave_marks(autograded_folder(course, student, assignment), job)
                    jobs.append(job)
                    if job.success:
                        timed.append((assignment, job.seconds))
                    if not quiet:
                        _progress(len(jobs), total, job, started)
    return jobs


def summary(jobs):
    """The lines that end a batch: what was graded and what was not, and why."""
    graded = [j for j in jobs if j.success]
    lines = [f"{len(graded)} of {len(jobs)} submission(s) graded"]
    for status, who in (("rejected", "the submission's own problem: the student can fix it and resubmit"),
                        ("fault", "a fault of the grader or the course set-up: nothing recorded for the student")):
        failed = [j for j in jobs if j.status == status]
        if failed:
            lines.append(f"{len(failed)} not graded ({who}):")
            lines += [f"  {j.student}/{j.assignment}: {'; '.join(j.problems)}" for j in failed]
    return lines
