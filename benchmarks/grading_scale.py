"""Grading beyond one process pool, in one run (a script, not a test).

Prints notebooks per minute for the local pool (1 and 2 workers) and for a
Dask cluster on this machine with 1 and 2 worker processes (`dask scheduler`
and `dask worker --nthreads 1`, as tests/conftest.py's DaskCluster starts
them), the 2-vs-1 ratio of each, and what Dask adds per submission:

  round trip  a task that does nothing, carrying a real task (the submission's
              notebook, the assignment's source notebooks, the course's
              configuration) to a worker and an autograded notebook's worth of
              bytes back; one task at a time, so each is a full round trip
  bookkeeping a worker's own time around nbgrader's autograde (files in and
              out of its throwaway course, the saved scores read), timed in the
              Dask runs
  recording   the instructor's side of each graded submission (autograded files
              written, scores saved in the gradebook, marker), timed in the
              Dask runs
  scheduler   no-op tasks per second the scheduler passes through (500 at once)

and the CPU time per notebook for docs/scaling.md's cost model: the grading
process's (the local pool's workers) and a kernel's (ada's solved notebooks,
run once more without the sandbox, whose kernels' CPU time is not reported).

The class is the sample class without its three pathological students (their
time is set by the time limits). Rounds are interleaved (a slow spell of a
shared machine hits every path) and the fastest of --repeat is kept. Each Dask
cluster is warmed up first: each worker grades one submission of each
assignment (a worker releases an assignment into its throwaway course once: a
cost per worker and assignment, not per submission); that warm-up is printed.

    .venv/bin/python benchmarks/grading_scale.py [--repeat R]   # R = 1: about 10 minutes on 2 quiet cores
"""
import argparse
import glob
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, REPO)

from conftest import ASSIGNMENTS, DaskCluster, make_course, sample_subset  # noqa: E402

PATHOLOGICAL = ("dora", "ed", "fay")


def fresh_course(base, name):
    """A course copy, released, with the sample class minus the pathological students."""
    from autograder.course import Course
    from autograder.sample_class import sample_submissions
    root = make_course(os.path.join(base, name))
    api = Course(root).api()
    for assignment in ASSIGNMENTS:
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            sys.exit(f"release of {assignment} failed: {result.get('log')}")
    keep = {pair for pair in sample_submissions(root) if pair[0] not in PATHOLOGICAL}
    sample_subset(root, keep)
    return root


def count(root):
    return len(glob.glob(os.path.join(root, "submitted", "*", "*", "*.ipynb")))


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def grade(root, workers=None, scheduler=None):
    """(seconds, CPU seconds of child processes, seconds spent recording) of one batch."""
    from autograder import distributed, pipeline
    recording = []
    record = distributed.Recorder.record

    def timed(self, job, outcome):
        started = time.perf_counter()
        try:
            return record(self, job, outcome)
        finally:  # (recording here, the worker's own bookkeeping around nbgrader's autograde)
            recording.append((time.perf_counter() - started, outcome["seconds"] - job.seconds))

    distributed.Recorder.record = timed
    cpu, started = children_cpu(), time.perf_counter()
    try:
        jobs = pipeline.autograde(root, workers=workers, scheduler=scheduler, quiet=True)
    finally:
        distributed.Recorder.record = record
    seconds = time.perf_counter() - started
    failed = [j for j in jobs if not j.success]
    if failed:
        sys.exit(f"not graded: {[(j.student, j.assignment, j.problems) for j in failed]}")
    return seconds, children_cpu() - cpu, recording


def kernel_cpu(root):
    """Mean CPU seconds of a solved notebook's kernel (ada's five), run without the sandbox
    (trusted code): a sandboxed kernel's CPU time never reaches its grader's resource usage,
    an unsandboxed kernel is this process's child."""
    from autograder.grading import grade_notebook
    seconds = []
    for assignment in ASSIGNMENTS:
        cpu = children_cpu()
        grade_notebook(os.path.join(root, "submitted", "ada", assignment, f"{assignment}.ipynb"),
                       os.path.join(root, "source", assignment, f"{assignment}.ipynb"), sandbox=False)
        seconds.append(children_cpu() - cpu)
    return sum(seconds) / len(seconds)


def _noop(task, size):
    return {"job": {"student": task.student}, "files": {"x.ipynb": b"x" * size}}


def _nothing(i):
    return i


def dask_overhead(scheduler, root, size, rounds=40):
    """(mean round trip of a no-op task carrying a real task, seconds; no-op tasks per second)."""
    from distributed import Client, wait
    from autograder.course import Course
    from autograder.distributed import read_files, Task
    course = Course(root)
    student, assignment = "ben", ASSIGNMENTS[-1]
    with Client(scheduler, timeout=60) as client:
        times = []
        for i in range(rounds + 3):
            started = time.perf_counter()
            task = Task(student, assignment, course.config, read_files(course.path("source", assignment)),
                        read_files(course.path("submitted", student, assignment)))
            client.submit(_noop, task, size, pure=False).result()
            if i >= 3:  # the first ones warm up connections
                times.append(time.perf_counter() - started)
        started = time.perf_counter()
        futures = client.map(_nothing, range(500), pure=False)
        wait(futures)
        rate = 500 / (time.perf_counter() - started)
    return sorted(times)[len(times) // 2], rate


def warm_up(scheduler, root):
    """Every worker releases every assignment into its throwaway course (grading ben's
    submission of it there): (seconds taken, bytes of the largest autograded submission)."""
    from distributed import Client
    from autograder.course import Course
    from autograder.distributed import grade_task, read_files, Task
    course = Course(root)
    started = time.perf_counter()
    with Client(scheduler, timeout=60) as client:
        futures = [client.submit(grade_task, Task("ben", a, course.config, read_files(course.path("source", a)),
                                                   read_files(course.path("submitted", "ben", a))),
                                 workers=[worker], allow_other_workers=False, pure=False)
                   for worker in client.nthreads() for a in ASSIGNMENTS]
        outcomes = [future.result() for future in futures]
    failed = [o["job"] for o in outcomes if o["job"]["status"] != "graded"]
    if failed:
        sys.exit(f"warm-up failed: {failed}")
    size = max(sum(len(content) for content in o["files"].values()) for o in outcomes)
    return time.perf_counter() - started, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds per path (interleaved); the fastest is kept")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import logging
    logging.getLogger("distributed").setLevel(logging.ERROR)
    base = tempfile.mkdtemp(prefix="nn-scale-bench-")
    paths = ["local pool, 1 worker", "local pool, 2 workers", "Dask, 1 worker", "Dask, 2 workers"]
    results = {p: [] for p in paths}
    warmups, overhead = {}, None
    clusters = {}
    try:
        warm = fresh_course(base, "warm-up")
        for workers in (1, 2):
            clusters[workers] = DaskCluster(workers=workers)
            warmups[workers], size = warm_up(clusters[workers].address, warm)
        overhead = dask_overhead(clusters[1].address, warm, size)
        kernel = kernel_cpu(warm)
        for round_ in range(args.repeat):
            for path in paths:
                root = fresh_course(base, f"r{round_}-{paths.index(path)}")
                workers = int(path.split(", ")[1].split()[0])
                if path.startswith("local"):
                    outcome = grade(root, workers=workers)
                else:
                    outcome = grade(root, scheduler=clusters[workers].address)
                results[path].append((count(root),) + outcome)
                shutil.rmtree(root, ignore_errors=True)
                print(f"  round {round_ + 1}: {path}: {outcome[0]:.1f} s", flush=True)
    finally:
        for cluster in clusters.values():
            cluster.stop()
        shutil.rmtree(base, ignore_errors=True)

    n = results[paths[0]][0][0]
    print(f"\nsample class without {', '.join(PATHOLOGICAL)}: {n} notebooks; {os.cpu_count()} cores "
          f"(shared with other jobs: load average {os.getloadavg()[0]:.1f} now)")
    print(f"fastest of {args.repeat} interleaved round(s) per path:\n")
    print(f"{'path':24s} {'seconds':>8s} {'notebooks/min':>14s} {'s/notebook':>11s}")
    rate = {}
    for path in paths:
        count_, seconds, _, _ = min(results[path], key=lambda r: r[1])
        rate[path] = count_ / seconds * 60
        print(f"{path:24s} {seconds:8.1f} {rate[path]:14.1f} {seconds / count_:11.2f}")
    print(f"\n2 workers / 1 worker: local pool {rate[paths[1]] / rate[paths[0]]:.2f}x, "
          f"Dask {rate[paths[3]] / rate[paths[2]]:.2f}x (target at least 1.7x)")
    print(f"Dask 1 worker / local pool 1 worker: {rate[paths[2]] / rate[paths[0]]:.2f}x")
    timings = [t for path in paths[2:] for r in results[path] for t in r[3]]
    recording, bookkeeping = (sorted(t[i] for t in timings)[len(timings) // 2] for i in (0, 1))
    round_trip, tasks_per_second = overhead
    print(f"\nwhat Dask adds per submission (medians of {len(timings)}): round trip {round_trip:.3f} s + the "
          f"worker's bookkeeping {bookkeeping:.3f} s + recording {recording:.3f} s = "
          f"{round_trip + bookkeeping + recording:.3f} s (target below 0.2 s)")
    print(f"scheduler: {tasks_per_second:.0f} no-op tasks per second")
    grader = min(r[2] / r[0] for r in results[paths[0]])
    print(f"CPU seconds per notebook: {grader:.2f} in the grading process (nbgrader and the test cells: the local "
          f"pool's workers, 1 worker) + {kernel:.2f} in a solved notebook's kernel = {grader + kernel:.2f}")
    print("warm-up of a fresh cluster (each worker releases each assignment once and grades it): "
          + ", ".join(f"{w} worker(s) {s:.1f} s" for w, s in warmups.items())
          + f"; the round trip carried {size / 1e3:.0f} kB back")


if __name__ == "__main__":
    main()
