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
    """The course tree: the folder with course_config.py (this repository)."""
    return ROOT


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


def demo():
    """The instructor's job on the bundled material: release, then grade."""
    release()
    from .grading import grade_notebook
    rows = []
    for name in assignments():
        source = os.path.join(course_root(), "source", name, f"{name}.ipynb")
        result = grade_notebook(source, source)
        rows.append((name, result.score, result.max_score))
    print("\nreference solutions, graded through the course's grader:")
    for name, got, out_of in rows:
        print(f"  {name:28s} {got:6g} of {out_of:g}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("release", help="generate the student release (all, or the named assignments)")
    p.add_argument("assignments", nargs="*")
    p = commands.add_parser("grade", help="grade one notebook against its source notebook, without a course tree")
    p.add_argument("notebook")
    p.add_argument("--source", required=True, help="the instructor's source notebook (solutions and hidden tests)")
    p.add_argument("--json", action="store_true", help="print the per-check results as JSON")
    p.add_argument("--no-sandbox", action="store_true", help="run the kernel without the sandbox (trusted code only)")
    commands.add_parser("demo", help="release and grade the bundled material (the README's main command)")
    args = parser.parse_args(argv)
    if args.command == "release":
        release(args.assignments)
    elif args.command == "grade":
        grade(args.notebook, args.source, sandbox=not args.no_sandbox, as_json=args.json)
    elif args.command == "demo":
        demo()
