"""Per-notebook grading time in the sandbox's two modes, in one run.

    .venv/bin/python benchmarks/sandbox_modes.py [--assignment 01_logistic_loop] [--rounds 4] [--per-round 2]

Run as root. Two worker processes, one per mode: the root mode as root, the
rootless mode as the unprivileged user of scripts/unprivileged.py (nn-grader).
Both use the same Python environment and the same copy of the course (that
user's venv, made with Debian's /usr/bin/python3, and its copy of this
checkout), so that only the mode differs. Each worker grades the solved
notebook of one assignment (autograder.sample_class.solved: the release with
the source's solutions) once to warm up, then one grade per mode and round,
the two modes' grades alternating one after the other and their order swapped
every round (the machine is shared: both modes see the same load). A grade is
a full grade_notebook: sandboxed kernel start, every cell, every hidden test,
shutdown. Printed: every timing, the median and the fastest per mode, and the
ratios rootless / root: of the medians, of the fastest, and the median of the
rounds' own ratios (the two grades of a round ran back to back, under about
the same load).
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def worker(assignment):
    """Grade on every line read from stdin; print each time as JSON."""
    import nbformat
    from autograder.grading import grade_notebook
    from autograder.sample_class import solved
    from autograder.sandbox import check_sandbox, sandbox_mode
    check_sandbox()
    release = nbformat.read(os.path.join("release", assignment, f"{assignment}.ipynb"), as_version=4)
    source = nbformat.read(os.path.join("source", assignment, f"{assignment}.ipynb"), as_version=4)
    notebook = solved(release, source)
    print(json.dumps({"mode": sandbox_mode(), "uid": os.getuid()}), flush=True)
    for _ in sys.stdin:
        started = time.perf_counter()
        result = grade_notebook(notebook, source, name=f"{assignment}.ipynb", root=os.getcwd(), assignment=assignment)
        elapsed = time.perf_counter() - started
        if result.problems or result.score != result.max_score:
            raise SystemExit(f"the solved notebook scored {result.score} of {result.max_score}: {result.problems}")
        print(json.dumps({"seconds": elapsed}), flush=True)


def _unprivileged():
    spec = importlib.util.spec_from_file_location("unprivileged", os.path.join(REPO, "scripts", "unprivileged.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Worker:
    def __init__(self, env, mode, assignment):
        argv = [env.python, os.path.join(env.repo, "benchmarks", "sandbox_modes.py"), "--worker",
                "--assignment", assignment]
        if mode == "root":
            cmd, environment = argv, env.environment(HOME="/root", USER="root", LOGNAME="root")
        else:
            cmd, environment = env.command(argv), None
        self.mode = mode
        self.proc = subprocess.Popen(cmd, cwd=env.repo, env=environment, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        hello = self._answer()
        if hello["mode"] != mode:
            raise SystemExit(f"asked for the {mode} mode, the worker runs in {hello['mode']}")

    def _answer(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.mode} worker stopped (exit {self.proc.wait()})")
        return json.loads(line)

    def grade(self):
        self.proc.stdin.write("grade\n")
        self.proc.stdin.flush()
        return self._answer()["seconds"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="01_logistic_loop")
    parser.add_argument("--rounds", type=int, default=8, help="timed grades per mode (after one warm-up each)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.assignment)
    if os.geteuid() != 0:
        raise SystemExit("run as root: the root mode needs it, and root runs the rootless mode as nn-grader")
    unprivileged = _unprivileged()
    env = unprivileged.prepare(quiet=True)
    print(f"grading the solved {args.assignment} notebook, {args.rounds} rounds, one grade per mode each "
          f"(after a warm-up); both modes with {env.python} and {env.repo}; rootless as {env.user}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    workers = {mode: Worker(env, mode, args.assignment) for mode in ("root", "rootless")}
    for worker_ in workers.values():
        worker_.grade()  # warm-up: imports, page cache
    times = {"root": [], "rootless": []}
    for r in range(args.rounds):
        order = ("root", "rootless") if r % 2 == 0 else ("rootless", "root")
        line = []
        for mode in order:
            times[mode].append(workers[mode].grade())
            line.append(f"{mode} {times[mode][-1]:6.2f} s")
        print(f"round {r + 1:2d}: " + "   ".join(line), flush=True)
    for worker_ in workers.values():
        worker_.close()
    print()
    print(f"{'mode':9s} {'median':>8s} {'fastest':>8s}   per notebook")
    for mode, seconds in times.items():
        print(f"{mode:9s} {statistics.median(seconds):7.2f}s {min(seconds):7.2f}s")
    median = statistics.median(times["rootless"]) / statistics.median(times["root"])
    fastest = min(times["rootless"]) / min(times["root"])
    paired = statistics.median(b / a for a, b in zip(times["root"], times["rootless"]))
    print(f"rootless / root: {median:.3f}x (medians), {fastest:.3f}x (fastest), {paired:.3f}x (median of each "
          f"round's ratio); target at most 1.10x; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
