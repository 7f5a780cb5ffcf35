"""The course's command line: python -m autograder COMMAND --help.

A thin layer: every command calls functions that the tests call directly.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def course_root():
    """The course tree: the folder with course_config.py (this repository,
    or NN_COURSE_ROOT: a copy of the course, as the tests make)."""
    return os.path.abspath(os.environ.get("NN_COURSE_ROOT", ROOT))


def nbgrader(*args):
    """Run an nbgrader command in the course root, with this environment's
    bin first on PATH (nbgrader calls its own `alembic` command)."""
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    env["PYTHONPATH"] = course_root() + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_root(), env=env)


def assignments(names=()):
    found = sorted(os.path.basename(p) for p in glob.glob(os.path.join(course_root(), "source", "[0-9][0-9]_*")))
    unknown = sorted(set(names) - set(found))
    if unknown:
        sys.exit(f"unknown assignment(s) {', '.join(unknown)}; the course has: {', '.join(found) or 'none yet'}")
    return list(names) or found


def release(names=()):
    """Generate the student release of the assignments with nbgrader."""
    for name in assignments(names):
        if nbgrader("generate_assignment", name, "--force", "--log-level=WARN").returncode != 0:
            sys.exit(f"nbgrader generate_assignment {name} failed (see above)")
        print(f"released {name} -> release/{name}/")


def grade(notebook, source, sandbox=True, as_json=False):
    """Grade one notebook without a course tree; print its checks."""
    from .grading import grade_notebook
    result = grade_notebook(notebook, source, sandbox=sandbox)
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


def autograde(assignment_names=(), students=(), workers=None, force=False):
    """nbgrader autograde of every submission under submitted/, in parallel."""
    from .pipeline import autograde as run
    jobs = run(course_root(), assignment_names, students, workers, force)
    failed = [j for j in jobs if not j.success]
    for job in failed:
        print(f"could not grade {job.student}/{job.assignment}: {'; '.join(job.problems)}", file=sys.stderr)
    return jobs


def feedback(names=()):
    """nbgrader's feedback HTML (with the course's summary) for every autograded submission."""
    for name in assignments(names):
        if nbgrader("generate_feedback", name, "--force", "--log-level=WARN").returncode != 0:
            sys.exit(f"nbgrader generate_feedback {name} failed (see above)")
    print(f"feedback -> {os.path.join(course_root(), 'feedback')}/<student>/<assignment>/*.html")


def export(path):
    """The gradebook's grades as CSV (nbgrader export)."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if nbgrader("export", f"--to={path}", "--log-level=WARN").returncode != 0:
        sys.exit("nbgrader export failed (see above)")
    print(f"grades -> {path}")


def report(folder):
    """Histograms of the grades, the most failed test cells and checks, and every submission's problems."""
    from .report import write_report
    text = write_report(db_url(), course_root(), os.path.abspath(folder))
    print(text)
    print(f"report -> {os.path.abspath(folder)}/report.md and *_grades.png")


def db_url():
    from traitlets.config import PyFileConfigLoader
    loader = PyFileConfigLoader("course_config.py", path=course_root())
    loader.load_config()
    return loader.config.CourseDirectory.db_url


def grade_table():
    from .report import grade_table as table
    rows = table(db_url())
    names = sorted({a for _, a in rows})
    print("\n" + "student".ljust(16) + "".join(n[:22].rjust(24) for n in names))
    for student in sorted({s for s, _ in rows}):
        cells = [f"{rows[(student, n)][0]:g} / {rows[(student, n)][1]:g}" if (student, n) in rows else "-" for n in names]
        print(student.ljust(16) + "".join(c.rjust(24) for c in cells))


def demo(workers=None):
    """The instructor's job on the bundled sample class: release, autograde, feedback, export, report."""
    from .sample_class import make_sample_class
    release()
    make_sample_class(course_root())
    autograde(workers=workers)
    feedback()
    export(os.path.join(course_root(), "exports", "grades.csv"))
    report(os.path.join(course_root(), "reports"))
    grade_table()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("release", help="generate the student release (all, or the named assignments)")
    p.add_argument("assignments", nargs="*")
    p = commands.add_parser("autograde", help="autograde every submission under submitted/ in parallel")
    p.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    p.add_argument("--student", action="append", default=[], help="only this student (repeatable)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: the machine's cores)")
    p.add_argument("--force", action="store_true", help="grade again what is already graded")
    p = commands.add_parser("feedback", help="generate the feedback HTML of every autograded submission")
    p.add_argument("assignments", nargs="*")
    p = commands.add_parser("export", help="export the gradebook's grades as CSV")
    p.add_argument("--to", default=os.path.join(course_root(), "exports", "grades.csv"))
    p = commands.add_parser("report", help="grade histograms (PNG) and the test cells the class failed most")
    p.add_argument("--to", default=os.path.join(course_root(), "reports"), help="folder for report.md and the PNGs")
    p = commands.add_parser("sample-class", help="write the bundled sample class's submissions into submitted/")
    p = commands.add_parser("grade", help="grade one notebook against its source notebook, without a course tree")
    p.add_argument("notebook")
    p.add_argument("--source", required=True, help="the instructor's source notebook (solutions and hidden tests)")
    p.add_argument("--json", action="store_true", help="print the per-check results as JSON")
    p.add_argument("--no-sandbox", action="store_true", help="run the kernel without the sandbox (trusted code only)")
    p = commands.add_parser("demo", help="release, grade the sample class, feedback, export, report (the README's main command)")
    p.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    if args.command == "release":
        release(args.assignments)
    elif args.command == "autograde":
        autograde(args.assignments, args.student, args.workers, args.force)
    elif args.command == "feedback":
        feedback(args.assignments)
    elif args.command == "export":
        export(args.to)
    elif args.command == "report":
        report(args.to)
    elif args.command == "sample-class":
        from .sample_class import make_sample_class
        make_sample_class(course_root())
    elif args.command == "grade":
        grade(args.notebook, args.source, sandbox=not args.no_sandbox, as_json=args.json)
    elif args.command == "demo":
        demo(args.workers)
