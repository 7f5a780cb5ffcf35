"""Per-notebook grading time in the sandbox's two modes, in one run.

    .venv/bin/python benchmarks/sandbox_modes.py [--assignment 01_logistic_loop] [--rounds 4] [--per-round 2]

Run as root. Each round runs two worker processes, one per mode, in an order
that alternates from round to round (the machine is shared: rounds are
interleaved so that both modes see the same load): the root mode as root,
the rootless mode as the unprivileged user of scripts/unprivileged.py
(nn-grader). Both use the same Python environment and the same copy of the
course (that user's venv, made with Debian's /usr/bin/python3, and its copy
of this checkout), so that only the mode differs. A worker grades the solved
notebook of one assignment (autograder.sample_class.solved: the release with
the source's solutions) once to warm up, then --per-round times, each a full
grade_notebook: sandboxed kernel start, every cell, every hidden test, shutdown.
Printed: every timing, then the median and the fastest per mode and the
ratios rootless / root.
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


def worker(assignment, count):
    import nbformat
    from autograder.grading import grade_notebook
    from autograder.sample_class import solved
    from autograder.sandbox import check_sandbox, sandbox_mode
    check_sandbox()
    release = nbformat.read(os.path.join("release", assignment, f"{assignment}.ipynb"), as_version=4)
    source = nbformat.read(os.path.join("source", assignment, f"{assignment}.ipynb"), as_version=4)
    notebook = solved(release, source)
    seconds = []
    for n in range(count + 1):
        started = time.perf_counter()
        result = grade_notebook(notebook, source, name=f"{assignment}.ipynb")
        elapsed = time.perf_counter() - started
        if result.problems or result.score != result.max_score:
            raise SystemExit(f"the solved notebook scored {result.score} of {result.max_score}: {result.problems}")
        if n:  # the first one warms up (imports, page cache)
            seconds.append(elapsed)
    print(json.dumps({"mode": sandbox_mode(), "uid": os.getuid(), "seconds": seconds}))


def _unprivileged():
    spec = importlib.util.spec_from_file_location("unprivileged", os.path.join(REPO, "scripts", "unprivileged.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_worker(env, mode, assignment, count):
    argv = [env.python, os.path.join(env.repo, "benchmarks", "sandbox_modes.py"), "--worker",
            "--assignment", assignment, "--per-round", str(count)]
    if mode == "root":
        cmd, environment = argv, env.environment(HOME="/root")
    else:
        cmd, environment = env.command(argv), None
    proc = subprocess.run(cmd, cwd=env.repo, env=environment, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} worker failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    if answer["mode"] != mode:
        raise SystemExit(f"asked for the {mode} mode, the worker ran in {answer['mode']}")
    return answer["seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="01_logistic_loop")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-round", type=int, default=2, help="timed grades per worker (after one warm-up)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.assignment, args.per_round)
    if os.geteuid() != 0:
        raise SystemExit("run as root: the root mode needs it, and root runs the rootless mode as nn-grader")
    unprivileged = _unprivileged()
    env = unprivileged.prepare(quiet=True)
    print(f"grading the solved {args.assignment} notebook, {args.rounds} rounds x {args.per_round} per mode "
          f"(after a warm-up each); both modes with {env.python} and {env.repo}; "
          f"rootless as {env.user}; load average {os.getloadavg()[0]:.1f}", flush=True)
    times = {"root": [], "rootless": []}
    for r in range(args.rounds):
        order = ("root", "rootless") if r % 2 == 0 else ("rootless", "root")
        for mode in order:
            seconds = run_worker(env, mode, args.assignment, args.per_round)
            times[mode] += seconds
            print(f"round {r + 1} {mode:8s} " + "  ".join(f"{s:6.2f} s" for s in seconds), flush=True)
    print()
    print(f"{'mode':9s} {'median':>8s} {'fastest':>8s}   per notebook")
    for mode, seconds in times.items():
        print(f"{mode:9s} {statistics.median(seconds):7.2f}s {min(seconds):7.2f}s")
    median = statistics.median(times["rootless"]) / statistics.median(times["root"])
    fastest = min(times["rootless"]) / min(times["root"])
    print(f"rootless / root: {median:.3f}x (medians), {fastest:.3f}x (fastest); target at most 1.10x; "
          f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
