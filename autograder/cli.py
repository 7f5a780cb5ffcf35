"""The course's command line: python -m autograder COMMAND --help.

A thin layer: every command calls functions that the tests call directly,
and drives nbgrader through its Python API with the course's configuration
(autograder.course). The course is NN_COURSE_ROOT, else the folder at or
above the current one with course_config.py, else this repository.

Exit codes: 0 done; 1 some submissions were not graded because of their own
problems (e.g. a notebook that is not valid JSON); 2 a fault of the grader or
the course set-up (nothing recorded for the submissions it concerns).
"""
import argparse
import json
import logging
import os
import shutil
import sys
import warnings

from sqlalchemy.exc import SQLAlchemyError

from .course import Course, find_root
from .results import GraderFault


class CourseError(Exception):
    """A command that cannot do its work, with what to do next."""


def _quiet():
    """The instructor's terminal shows progress and results, not library chatter."""
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    logging.getLogger("traitlets").setLevel(logging.ERROR)


def _assignments(course, names=()):
    found = course.assignments()
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise CourseError(f"unknown assignment(s) {', '.join(unknown)}; the course has: {', '.join(found) or 'none yet'}")
    return list(names) or found


def _nbgrader_step(what, result, name):
    if not result.get("success"):
        log = (result.get("log") or "") + (result.get("error") or "")
        from .pipeline import explain_failure
        lines = [line for line in log.splitlines() if line.strip()]
        raise CourseError(f"nbgrader {what} {name} failed: " + (explain_failure(log) or "\n".join(lines[-15:])))


def release(course, names=(), to_exchange=False, due=None):
    """Generate the student release of the assignments with nbgrader (source/ -> release/);
    with to_exchange, also nbgrader's release_assignment (students can fetch it); with due,
    the due date in the gradebook that late penalties count from."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc
    try:
        when = parse_utc(due) if due else None
    except (ValueError, OverflowError):
        raise CourseError(f"--due {due!r} is not a date and time (e.g. \"2026-03-01 23:59:00 UTC\")") from None
    api = course.api()
    for name in _assignments(course, names):
        _nbgrader_step("generate_assignment", api.generate_assignment(name, force=True, create=True), name)
        print(f"released {name} -> release/{name}/")
        if when:
            with Gradebook(course.db_url) as gb:
                gb.update_or_create_assignment(name, duedate=when)
            print(f"due date of {name}: {when} UTC")
        if to_exchange:
            from .exchange import exchange_folder
            _nbgrader_step("release_assignment", api.release_assignment(name), name)
            inbound, feedback = (os.path.join(exchange_folder(course), f) for f in ("inbound", "feedback"))
            try:  # sticky: no student can remove or rename another's submission
                os.chmod(inbound, os.stat(inbound).st_mode | 0o1000)
            except PermissionError:
                print(f"warning: could not make {inbound} sticky (chmod +t): it is not yours", file=sys.stderr)
            if not os.path.isdir(feedback):  # as nbgrader's release_feedback makes it: students' Fetch Feedback
                os.mkdir(feedback)           # fails until it exists
                os.chmod(feedback, 0o711)
            print(f"released {name} -> {exchange_folder(course)}/outbound/{name}/")


def collect(course, names=()):
    """Collect the newest submission of each student from nbgrader's exchange into
    submitted/ (nbgrader's collect, made safe: autograder.exchange); returns the exit code."""
    from . import exchange
    api, wanted, code = course.api(), set(_assignments(course, names)), 0
    found = exchange.inbound(course)
    for sub in found:
        if sub.refused:
            print(f"refused {sub.name}: {sub.refused}", file=sys.stderr)
    for (student, assignment), sub in sorted(exchange.newest(found).items()):
        if assignment not in wanted or \
                exchange.timestamp_in(course.path("submitted", student, assignment)) == sub.timestamp:
            continue  # collected already
        exchange.clear_for_collect(course, student, assignment)
        sub, problems = exchange.collect(api, student, assignment)
        if problems:  # like a notebook that cannot be read: the student's to fix; nothing to grade
            shutil.rmtree(course.path("submitted", student, assignment), ignore_errors=True)
            print(f"not collected {student}/{assignment}: {'; '.join(problems)}", file=sys.stderr)
            code = 1
        else:
            print(f"collected {student}/{assignment} (submitted {sub.stamp})")
    return code


def grade(notebook, source, sandbox=True, as_json=False):
    """Grade one notebook against its source notebook; print its checks. The
    limits and the reference are those of the course the source belongs to."""
    from .grading import grade_notebook
    root = find_root(source)
    if root is None:
        raise GraderFault(f"{source} is not in a course folder (none above it has course_config.py)")
    course = Course(root)
    result = grade_notebook(notebook, source, sandbox=sandbox, limits=course.limits, warm=course.warm_kernels)
    if as_json:
        print(json.dumps(result.as_dict(), indent=1))
        return result
    for problem in result.problems:
        print(f"problem: {problem}")
    for cell in result.cells:
        print(f"{cell.grade_id}: {cell.score:g} of {cell.points:g}")
        for check in cell.results:
            print("  " + check.line().replace("\n", "\n  "))
    print(f"total: {result.score:g} of {result.max_score:g}")
    return result


def autograde(course, assignment_names=(), students=(), workers=None, force=False, scheduler=None):
    """nbgrader autograde of every submission under submitted/, in parallel here or on the Dask
    cluster at scheduler; returns the exit code."""
    from .distributed import ClusterLost
    from .pipeline import autograde as run, summary
    names = _assignments(course, assignment_names) if assignment_names else ()
    try:
        jobs, lost = run(course.root, names, students, workers, force, scheduler=scheduler), None
    except ClusterLost as exc:
        jobs, lost = exc.jobs, exc
    if jobs or not lost:
        graded, *not_graded = summary(jobs)
        print(graded)
        for line in not_graded:
            print(line, file=sys.stderr)
    if lost:
        print(f"error: {lost}", file=sys.stderr)
    if lost or any(j.status == "fault" for j in jobs):
        return 2
    return 1 if any(j.status == "rejected" for j in jobs) else 0


def feedback(course, names=(), to_exchange=False):
    """nbgrader's feedback HTML (with the course's summary) for every autograded submission;
    with to_exchange, nbgrader's release_feedback too (students fetch it)."""
    api = course.api()
    for name in _assignments(course, names):
        _nbgrader_step("generate_feedback", api.generate_feedback(name, force=True), name)
        if to_exchange:
            _nbgrader_step("release_feedback", api.release_feedback(name), name)
    print(f"feedback -> {course.path('feedback')}/<student>/<assignment>/*.html"
          + (" and the exchange" if to_exchange else ""))


def export(course, path):
    """The gradebook's grades as CSV (nbgrader's CSV export)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    plugin = CsvExportPlugin(config=course.config)
    plugin.to = path
    with Gradebook(course.db_url) as gb:
        plugin.export(gb)
    print(f"grades -> {path}")


def report(course, folder, show=True):
    """Histograms of the grades, the most failed test cells and checks, and every submission's problems."""
    from .report import write_report
    text = write_report(course.db_url, course.root, os.path.abspath(folder))
    if show:
        print(text)
    print(f"report -> {os.path.abspath(folder)}/report.md and *_grades.png")


def grade_table(course):
    from .report import grade_table as table
    rows = table(course.db_url)
    names = sorted({a for _, a in rows})
    print("\n" + "student".ljust(16) + "".join(n[:22].rjust(24) for n in names))
    for student in sorted({s for s, _ in rows}):
        cells = [f"{rows[(student, n)][0]:g} / {rows[(student, n)][1]:g}" if (student, n) in rows else "-" for n in names]
        print(student.ljust(16) + "".join(c.rjust(24) for c in cells))


def serve(course, workers=None, poll=0.5):
    """Grade each submission as it arrives in the exchange and release its feedback, until stopped."""
    from .serve import serve as run
    run(course.root, workers or os.cpu_count(), poll)


def demo(course, workers=None):
    """The instructor's job on the bundled sample class: release, autograde,
    feedback, export, report. Exit code 2 on a fault of the grader; the
    sample class's unreadable notebook is reported, as it should be."""
    from .sample_class import make_sample_class
    release(course)
    make_sample_class(course.root)
    code = autograde(course, workers=workers)
    feedback(course)
    export(course, course.path("exports", "grades.csv"))
    report(course, course.path("reports"), show=False)
    grade_table(course)
    return 2 if code == 2 else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("release", help="generate the student release (all, or the named assignments)")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--exchange", action="store_true", help="and release it to nbgrader's exchange for students to fetch")
    p.add_argument("--due", default=None, help='due date, e.g. "2026-03-01 23:59:00 Europe/Berlin" (late penalties)')
    p = commands.add_parser("collect", help="collect the newest submission of each student from the exchange")
    p.add_argument("assignments", nargs="*")
    p = commands.add_parser("autograde", help="autograde every submission under submitted/ in parallel")
    p.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    p.add_argument("--student", action="append", default=[], help="only this student (repeatable)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: the machine's cores)")
    p.add_argument("--force", action="store_true", help="grade again what is already graded")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="grade on the Dask cluster of this scheduler (e.g. tcp://10.0.0.5:8786; docs/scaling.md)")
    p = commands.add_parser("feedback", help="generate the feedback HTML of every autograded submission")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--release", action="store_true", help="and release it to the exchange for students to fetch")
    p = commands.add_parser("export", help="export the gradebook's grades as CSV")
    p.add_argument("--to", default=None, help="the CSV file (default: exports/grades.csv of the course)")
    p = commands.add_parser("report", help="grade histograms (PNG) and the test cells the class failed most")
    p.add_argument("--to", default=None, help="folder for report.md and the PNGs (default: reports/ of the course)")
    commands.add_parser("sample-class", help="write the bundled sample class's submissions into submitted/")
    p = commands.add_parser("grade", help="grade one notebook against its source notebook, without a course tree")
    p.add_argument("notebook")
    p.add_argument("--source", required=True, help="the instructor's source notebook (solutions and hidden tests)")
    p.add_argument("--json", action="store_true", help="print the per-check results as JSON")
    p.add_argument("--no-sandbox", action="store_true", help="run the kernel without the sandbox (trusted code only)")
    p = commands.add_parser("serve", help="grade each submission as it arrives in the exchange; release its feedback")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: the machine's cores)")
    p.add_argument("--poll", type=float, default=0.5, help="seconds between two looks at the exchange (default 0.5)")
    p = commands.add_parser("demo", help="release, grade the sample class, feedback, export, report (the README's main command)")
    p.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    _quiet()
    try:
        if args.command == "grade":
            grade(args.notebook, args.source, sandbox=not args.no_sandbox, as_json=args.json)
            return 0
        course = Course.here()
        if args.command == "release":
            release(course, args.assignments, args.exchange, args.due)
        elif args.command == "serve":
            serve(course, args.workers, args.poll)
        elif args.command == "autograde":
            return autograde(course, args.assignments, args.student, args.workers, args.force, args.scheduler)
        elif args.command == "collect":
            return collect(course, args.assignments)
        elif args.command == "feedback":
            feedback(course, args.assignments, args.release)
        elif args.command == "export":
            export(course, args.to or course.path("exports", "grades.csv"))
        elif args.command == "report":
            report(course, args.to or course.path("reports"))
        elif args.command == "sample-class":
            from .sample_class import make_sample_class
            make_sample_class(course.root)
        elif args.command == "demo":
            return demo(course, args.workers)
        return 0
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GraderFault as exc:
        print(f"error: a fault of the grader, nothing was graded: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name not in CLUSTER_MODULES:
            raise
        print(f"error: {exc.name} is not installed here ({CLUSTER_MODULES[exc.name]}): "
              "pip install 'nn-course[cluster]' (docs/scaling.md)", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or str(exc).splitlines()[0]
        print(f"error: the gradebook at {_shown(Course.here().db_url)} cannot be used: {reason}; check its URL "
              "(NN_COURSE_DB_URL or course_config.py) and that its database server is running", file=sys.stderr)
        return 2


# what grading beyond one machine imports, and what for
CLUSTER_MODULES = {"distributed": "autograde --scheduler grades on a Dask cluster",
                   "dask": "autograde --scheduler grades on a Dask cluster",
                   "psycopg": "the gradebook's URL is a PostgreSQL one",
                   "psycopg2": "the gradebook's URL names the psycopg2 driver; nn-course[cluster] has psycopg 3: "
                               "write the URL as postgresql+psycopg://..."}


def _shown(url):
    """The gradebook's URL without its password."""
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(an unreadable URL)"
