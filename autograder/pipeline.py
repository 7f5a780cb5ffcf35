"""The instructor's job over a class: nbgrader autograde of every submission,
in parallel worker processes, on the one gradebook.

Each job is nbgrader's own autograde of one (student, assignment), run through
nbgrader's API in a worker process; the gradebook is SQLite in WAL mode with a
busy timeout, so concurrent jobs wait for each other's short writes instead of
failing. A job that finishes leaves a marker beside its autograded notebooks:
a re-run skips those (unless forced) and grades everything else, so an
interrupted run loses nothing.
"""
import glob
import json
import os
import sqlite3
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed

MARKER = ".nn-course-graded.json"
FAILED = ".nn-course-failed.txt"  # why nbgrader could not grade a submission at all


class Job:
    def __init__(self, student, assignment, success=None, seconds=0.0, log="", scores=None, problems=()):
        self.student, self.assignment = student, assignment
        self.success, self.seconds, self.log = success, seconds, log
        self.scores = scores or {}
        self.problems = list(problems)

    def as_dict(self):
        return dict(vars(self))


def _course(root):
    """nbgrader's API with the course's configuration (nbgrader_config.py in root)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.nbgraderapp import NbGraderApp
    os.chdir(root)
    app = NbGraderApp()
    app.config_file_paths.insert(0, root)
    app.load_config_file()
    return NbGraderAPI(config=app.config)


def db_path(api):
    url = api.coursedir.db_url
    assert url.startswith("sqlite:///"), "the pipeline shares an SQLite gradebook between workers"
    return url[len("sqlite:///"):].split("?")[0]


def submissions(api, assignments=(), students=()):
    """(student, assignment) pairs found under submitted/."""
    pairs = []
    root = os.path.join(api.coursedir.root, api.coursedir.submitted_directory)
    for path in sorted(glob.glob(os.path.join(root, "*", "*"))):
        student, assignment = path.split(os.sep)[-2:]
        if os.path.isdir(path) and (not assignments or assignment in assignments) and (not students or student in students):
            pairs.append((student, assignment))
    return pairs


def marker_path(api, student, assignment):
    return os.path.join(api.coursedir.format_path(api.coursedir.autograded_directory, student, assignment), MARKER)


def is_graded(api, student, assignment):
    """Graded by a finished job, and not resubmitted since."""
    marker = marker_path(api, student, assignment)
    if not os.path.exists(marker):
        return False
    submitted = api.coursedir.format_path(api.coursedir.submitted_directory, student, assignment)
    newest = max((os.path.getmtime(p) for p in glob.glob(os.path.join(submitted, "**"), recursive=True)), default=0)
    return os.path.getmtime(marker) >= newest


_api = None


def _start_worker(root):
    global _api
    # nbgrader's gradebook code trips SQLAlchemy's "not in session" warning on every submission:
    # noise on the instructor's terminal that hides the progress bar
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)
    _api = _course(root)


def _grade(student, assignment):
    """One job, in a worker: nbgrader autograde of one submission."""
    import nbformat
    from .grading import read_notebook
    started = time.monotonic()
    submitted = _api.coursedir.format_path(_api.coursedir.submitted_directory, student, assignment)
    notebooks = sorted(glob.glob(os.path.join(submitted, "*.ipynb")))
    unreadable = [f"{os.path.basename(p)}: {problem}" for p in notebooks for problem in [read_notebook(p)[1]] if problem]
    found = [os.path.basename(p) for p in notebooks]
    source = _api.coursedir.format_path(_api.coursedir.source_directory, ".", assignment)
    unreadable += [f"{name} was not submitted (found: {', '.join(found) or 'no notebook'}); "
                   "hand it in under its own name" for name in
                   sorted(os.path.basename(p) for p in glob.glob(os.path.join(source, "*.ipynb"))) if name not in found]
    result = _api.autograde(assignment, student, force=True, create=True)
    job = Job(student, assignment, bool(result.get("success")), time.monotonic() - started,
              (result.get("log") or "") + (result.get("error") or ""))
    folder = _api.coursedir.format_path(_api.coursedir.autograded_directory, student, assignment)
    for path in sorted(glob.glob(os.path.join(folder, "*.ipynb"))):
        summary = nbformat.read(path, as_version=4).metadata.get("nn_course", {})
        job.scores[os.path.basename(path)[:-6]] = [summary.get("score"), summary.get("max_score")]
        job.problems += summary.get("problems", [])
    if job.success:
        if os.path.exists(os.path.join(folder, FAILED)):
            os.remove(os.path.join(folder, FAILED))
        with open(marker_path(_api, student, assignment), "w") as f:
            json.dump(job.as_dict(), f, indent=1)
    else:
        job.problems += unreadable or ["nbgrader could not grade the submission: " + _last_error(job.log)]
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, FAILED), "w") as f:
            f.write("; ".join(job.problems) + "\n")
    return job


def _last_error(log):
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors or lines or ["no log"])[-1][:500]


def _progress(done, total, job, started):
    width = 30
    filled = int(width * done / total)
    status = "ok" if job.success else "FAILED"
    print(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {job.student}/{job.assignment} {status} "
          f"({job.seconds:.1f} s; {time.monotonic() - started:.0f} s in all)", flush=True)


def autograde(root, assignments=(), students=(), workers=None, force=False, quiet=False):
    """Autograde every submission not yet graded (all if force) with `workers`
    processes; returns the Jobs run, in the order they finished."""
    api = _course(root)
    with sqlite3.connect(db_path(api)) as db:
        db.execute("PRAGMA journal_mode=WAL")  # readers never block the one writer
    pending = [(s, a) for s, a in submissions(api, assignments, students) if force or not is_graded(api, s, a)]
    from nbgrader.api import Gradebook
    with Gradebook(api.coursedir.db_url) as gb:  # here, once: two workers creating one student would collide
        for student in sorted({s for s, _ in pending}):
            gb.update_or_create_student(student)
    if not quiet:
        print(f"{len(pending)} submission(s) to grade with {workers or os.cpu_count()} worker(s)", flush=True)
    jobs, started = [], time.monotonic()
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count(), initializer=_start_worker,
                             initargs=(root,)) as pool:
        futures = {pool.submit(_grade, s, a): (s, a) for s, a in pending}
        for future in as_completed(futures):
            student, assignment = futures[future]
            try:
                job = future.result()
            except Exception as exc:  # a worker died: the batch goes on
                job = Job(student, assignment, False, 0.0, f"{type(exc).__name__}: {exc}")
            jobs.append(job)
            if not quiet:
                _progress(len(jobs), len(pending), job, started)
    return jobs


def main_autograde(root, assignments, students, workers, force):
    jobs = autograde(root, assignments, students, workers, force)
    failed = [j for j in jobs if not j.success]
    for job in failed:
        print(f"\n{job.student}/{job.assignment} failed:\n{job.log[-2000:]}", file=sys.stderr)
    return 1 if failed else 0
