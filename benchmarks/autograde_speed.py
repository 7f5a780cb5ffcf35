"""How fast the sample class is graded, in one run (a script, not a test).

Prints notebooks per minute for serial `nbgrader autograde` (the course's
configuration, one submission after another) and for `python -m autograder
autograde` with 1, 2 and N workers, the ratios, the time of a bare kernel
start (in the sandbox and without) for scale, and each solved notebook's own
run time (nbclient, no grader).

The class graded is the sample class without its three pathological students
(broken JSON, endless loop, dying kernel), whose time is set by the time
limits, not by the grader.

    .venv/bin/python benchmarks/autograde_speed.py [--workers N] [--repeat R]   # R = 2: about 8 minutes
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, REPO)

from conftest import course_env, make_course  # noqa: E402

PATHOLOGICAL = ("dora", "ed", "fay")


def run(root, args, **kw):
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=root, env=course_env(root), capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - started


def fresh_course(base, name):
    """A course copy with the release and the sample class (minus the pathological students)."""
    root = make_course(os.path.join(base, name))
    run(root, [sys.executable, "-m", "autograder", "release"])
    run(root, [sys.executable, "-m", "autograder", "sample-class"])
    for student in PATHOLOGICAL:
        shutil.rmtree(os.path.join(root, "submitted", student), ignore_errors=True)
    return root


def count(root):
    return len(glob.glob(os.path.join(root, "submitted", "*", "*", "*.ipynb")))


def bare_kernel_start(sandbox, repeat=3):
    from jupyter_client.manager import KernelManager
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as workdir:
            started = time.perf_counter()
            if sandbox:
                from autograder.sandbox import SandboxedKernelManager
                km = SandboxedKernelManager(workdir=workdir)
                import asyncio
                asyncio.run(_start_stop_async(km))
            else:
                km = KernelManager()
                km.start_kernel()
                kc = km.client()
                kc.start_channels()
                kc.wait_for_ready(timeout=60)
                kc.stop_channels()
                km.shutdown_kernel(now=True)
            times.append(time.perf_counter() - started)
    return min(times)


async def _start_stop_async(km):
    await km.start_kernel()
    kc = km.client()
    kc.start_channels()
    await kc.wait_for_ready(timeout=60)
    kc.stop_channels()
    await km.shutdown_kernel(now=True)


def own_run_times():
    """Each solved notebook run top to bottom by nbclient (no grader), seconds."""
    import nbformat
    from nbclient import NotebookClient
    from autograder.sample_class import solved
    times = {}
    for source in sorted(glob.glob(os.path.join(REPO, "source", "*", "*.ipynb"))):
        name = os.path.basename(source)[:-6]
        release = os.path.join(REPO, "release", name, name + ".ipynb")
        nb = solved(nbformat.read(release, as_version=4), nbformat.read(source, as_version=4))
        with tempfile.TemporaryDirectory() as workdir:
            started = time.perf_counter()
            NotebookClient(nb, timeout=300, allow_errors=True, resources={"metadata": {"path": workdir}}).execute()
            times[name] = time.perf_counter() - started
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=2,
                        help="grade the class this many times per path (rounds interleaved), keep the fastest")
    args = parser.parse_args()
    base = tempfile.mkdtemp(prefix="nn-bench-")
    paths = ["serial nbgrader autograde"] + [f"autograde, {w} worker{'s' if w > 1 else ''}"
                                             for w in sorted({1, 2, args.workers})]
    times = {label: [] for label in paths}
    try:
        for round_ in range(args.repeat):  # interleaved, so that a slow spell of the machine hits every path
            for label in paths:
                root = fresh_course(base, f"r{round_}-{len(times[label])}-{label.split()[1]}")
                n = count(root)
                if label.startswith("serial"):
                    assignments = sorted(os.listdir(os.path.join(root, "source")))
                    seconds = sum(run(root, [sys.executable, "-m", "nbgrader", "autograde", a, "--log-level=WARN"])
                                  for a in assignments)
                else:
                    workers = label.split()[1]
                    seconds = run(root, [sys.executable, "-m", "autograder", "autograde", "--workers", workers])
                times[label].append(seconds)
                shutil.rmtree(root, ignore_errors=True)
        rows = [(label, n, min(times[label])) for label in paths]
        kernel_sandbox, kernel_plain = bare_kernel_start(True), bare_kernel_start(False)
        own = own_run_times()
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print("\nevery run, seconds: " + "; ".join(f"{label}: {', '.join(f'{t:.1f}' for t in ts)}"
                                           for label, ts in times.items()))
    print(f"\nsample class without {', '.join(PATHOLOGICAL)}: {rows[0][1]} notebooks, {os.cpu_count()} cores\n")
    print(f"the fastest of {args.repeat} run(s) per path:")
    print(f"{'path':34s} {'seconds':>8s} {'notebooks/min':>14s} {'s/notebook':>11s} {'vs serial':>10s}")
    serial_rate = rows[0][1] / rows[0][2] * 60
    rates = {}
    for label, n, seconds in rows:
        rate = n / seconds * 60
        rates[label] = rate
        print(f"{label:34s} {seconds:8.1f} {rate:14.1f} {seconds / n:11.2f} {rate / serial_rate:9.2f}x")
    one = rates["autograde, 1 worker"]
    two = rates.get("autograde, 2 workers")
    if two:
        print(f"\n2 workers / 1 worker: {two / one:.2f}x (target at least 1.7x)")
    mean_own = sum(own.values()) / len(own)
    per_notebook_one = 60 / one
    print(f"bare kernel start: {kernel_sandbox:.2f} s in the sandbox, {kernel_plain:.2f} s without")
    print("each solved notebook's own run time (nbclient, no grader): "
          + ", ".join(f"{k} {v:.1f} s" for k, v in own.items()))
    budget = kernel_sandbox + mean_own
    print(f"1 worker: {per_notebook_one:.2f} s per notebook; bare sandboxed kernel start + mean own run time = "
          f"{budget:.2f} s; ratio {per_notebook_one / budget:.2f} (target at most 1.3)")


if __name__ == "__main__":
    main()
