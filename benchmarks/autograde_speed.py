"""How fast the sample class is graded, in one run (a script, not a test).

Prints, for the sample class without its three pathological students (broken JSON, endless
loop, dying kernel: their time is set by the time limits, not by the grader):

- seconds per notebook, notebooks per minute and CPU seconds per notebook (the whole machine's,
  from /proc/stat: grader, workers, zygotes, kernels; run it on a quiet machine) for
    stock nbgrader   `nbgrader autograde` with nbgrader's own preprocessors (Execute: a
                     kernel per notebook, tests in the student's kernel, no sandbox), serially
    cold kernels     `python -m autograder autograde` with c.GradeInSandbox.warm_kernels =
                     False (a fresh sandboxed Python per notebook), 1 and 2 workers
    warm kernels     the same with warm kernels (the default: autograder/zygote.py), 1 and 2
  and the ratios the targets speak of (warm / cold at 1 worker, 2 workers / 1 worker);
- the zygote's import time per module (what a cold kernel pays per notebook);
- the class's own code: each of its notebooks run in a plain kernel after the warm imports, just
  after the warm 1-worker run of the same round, and the warm path's overhead per notebook above
  it: in the grading of each notebook (the jobs' seconds in autograde's markers), and in the
  command's start and end;
- where a warm grading's time goes, step by step (nbgrader's preprocessors, and inside
  GradeInSandbox the kernel start, the student's cells, the test cells, the shutdown),
  for the five solved notebooks graded in this process.

    .venv/bin/python benchmarks/autograde_speed.py [--repeat R]   # R = 1: 15 to 25 minutes

Also: how well this machine runs two processes at once (a pure-Python loop alone and twice at
once), the ceiling of the 2-workers ratio.
"""
import argparse
import glob
import importlib
import json
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
                km.start_kernel(stderr=subprocess.DEVNULL)  # a warning about plain-text TCP, not the benchmark's
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


STOCK_NBGRADER = """
# stock nbgrader (benchmark): nbgrader's own preprocessors, Execute included
c.Autograde.sanitize_preprocessors = ["nbgrader.preprocessors.ClearOutput", "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec", "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata"]
c.Autograde.autograde_preprocessors = ["nbgrader.preprocessors.Execute", "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata"]
c.NotebookExporter.optimistic_validation = False
c.AssignLatePenalties.plugin_class = "nbgrader.plugins.LateSubmissionPlugin"  # not the course's: its module
# (autograder.nbgrader_plugin) changes how nbgrader checks metadata and opens the gradebook
"""
PATHS = {  # label: (extra configuration, command, workers)
    "stock nbgrader, serial": (STOCK_NBGRADER, "nbgrader", 1),
    "cold kernels, 1 worker": ("c.GradeInSandbox.warm_kernels = False\n", "autograder", 1),
    "cold kernels, 2 workers": ("c.GradeInSandbox.warm_kernels = False\n", "autograder", 2),
    "warm kernels, 1 worker": ("c.GradeInSandbox.warm_kernels = True\n", "autograder", 1),
    "warm kernels, 2 workers": ("c.GradeInSandbox.warm_kernels = True\n", "autograder", 2),
}


def machine_cpu():
    """CPU seconds the whole machine has used (/proc/stat): a sandboxed kernel is killed, not waited
    for, so its time never reaches this process's children's usage; on a quiet machine this is the
    grading's process tree."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _, _, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def grade_class(base, label, round_):
    """(notebooks, seconds, CPU seconds, seconds inside the jobs) of grading a fresh copy of the sample
    class along a path; the jobs' seconds are what the command's markers record (None for nbgrader)."""
    config, command, workers = PATHS[label]
    root = fresh_course(base, f"r{round_}-{label.split(',')[0].replace(' ', '-')}-{workers}")
    with open(os.path.join(root, "course_config.py"), "a") as f:
        f.write(config)
    n = count(root)
    cpu = machine_cpu()
    if command == "nbgrader":
        seconds = sum(run(root, [sys.executable, "-m", "nbgrader", "autograde", a, "--log-level=ERROR"])
                      for a in sorted(os.listdir(os.path.join(root, "source"))))
    else:
        seconds = run(root, [sys.executable, "-m", "autograder", "autograde", "--workers", str(workers)])
    cpu = machine_cpu() - cpu
    in_jobs = None
    if command == "autograder":
        from autograder.pipeline import MARKER
        markers = glob.glob(os.path.join(root, "autograded", "*", "*", MARKER))
        in_jobs = 0.0
        for marker in markers:
            with open(marker) as f:
                in_jobs += json.load(f)["seconds"]
    shutil.rmtree(root, ignore_errors=True)
    return n, seconds, cpu, in_jobs


CPU_LOOP = "x = 0\nfor i in range(20_000_000):\n    x += i\n"


def machine_scaling():
    """What this machine gives two processes at once: the same pure-Python loop run alone, then twice
    at the same time (ideal 2.0x; a virtual machine's two cores may give less). The ceiling of the
    2-workers / 1-worker ratio, measured beside it."""
    def wall(n):
        started = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", CPU_LOOP]) for _ in range(n)]
        for proc in procs:
            proc.wait()
        return time.perf_counter() - started
    return 2 * wall(1) / wall(2)


def solved_notebooks():
    import nbformat
    from autograder.sample_class import solved
    for source in sorted(glob.glob(os.path.join(REPO, "source", "*", "*.ipynb"))):
        name = os.path.basename(source)[:-6]
        release = os.path.join(REPO, "release", name, name + ".ipynb")
        yield name, source, solved(nbformat.read(release, as_version=4), nbformat.read(source, as_version=4))


def own_code_times(base):
    """Each notebook of the class (the ones graded above) run by nbclient in a plain kernel that imported
    the zygote's modules first (not timed): the student's own code, with the imports already done."""
    import nbformat
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from autograder.zygote import WARM_IMPORTS
    root = fresh_course(base, "own-code")
    times = {}
    for path in sorted(glob.glob(os.path.join(root, "submitted", "*", "*", "*.ipynb"))):
        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as workdir:
            client = NotebookClient(nb, timeout=300, allow_errors=True, resources={"metadata": {"path": workdir}})
            # the sandbox's threads and backend, without the sandbox; the kernel's own stderr (a warning about
            # plain-text TCP) is not the benchmark's output
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
            with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):
                # nbclient's client is async: run_sync, or the imports never run and are timed with the cells
                run_sync(client.kc.execute_interactive)("import " + ", ".join(WARM_IMPORTS), timeout=120)
                started = time.perf_counter()
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
                times[os.path.relpath(path, os.path.join(root, "submitted"))] = time.perf_counter() - started
    shutil.rmtree(root, ignore_errors=True)
    return times


class Steps:
    """Seconds spent in each step of grading, summed over the notebooks graded in this process."""

    def __init__(self):
        self.seconds = {}

    def wrap(self, owner, attribute, step):
        original = getattr(owner, attribute)
        steps = self

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                steps.seconds[step] = steps.seconds.get(step, 0.0) + time.perf_counter() - started
        setattr(owner, attribute, timed)


def grading_steps(base):
    """Where a warm grading's time goes: the five solved notebooks autograded one by one through
    nbgrader's API in this process (the zygote started beforehand, as a worker's is)."""
    import nbformat
    from nbgrader.preprocessors.base import NbGraderPreprocessor
    from autograder import grading, remote, zygote
    from autograder.course import Course
    from autograder.pipeline import grade_submission, prepare_gradebook
    import warnings
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's, on every submission (as in the workers)
    root = fresh_course(base, "steps")
    for student in os.listdir(os.path.join(root, "submitted")):
        if student != "ada":
            shutil.rmtree(os.path.join(root, "submitted", student))
    for name, _, nb in solved_notebooks():
        nbformat.write(nb, os.path.join(root, "submitted", "ada", name, name + ".ipynb"))
    course = Course(root)
    os.environ["NN_COURSE_ROOT"] = root
    api = course.api()
    prepare_gradebook(course, ["ada"])
    zygote.warm_up()
    steps = Steps()
    preprocessors = set()
    for names in (course.config.Autograde.sanitize_preprocessors, course.config.Autograde.autograde_preprocessors):
        for dotted in names:
            module, _, cls = dotted.rpartition(".")
            preprocessors.add(getattr(importlib.import_module(module), cls))
    for cls in preprocessors:
        steps.wrap(cls, "preprocess", f"nbgrader step {cls.__name__}")
    steps.wrap(grading._Client, "start_new_kernel", "  kernel start (sandbox, zygote, ipykernel)")
    steps.wrap(grading._Client, "start_new_kernel_client", "  kernel client")
    steps.wrap(grading._Client, "_cleanup_kernel", "  kernel shutdown")
    steps.wrap(remote.KernelSession, "__init__", "  kernel channels and ready")
    steps.wrap(grading._Client, "execute_cell", "  the student's cells")
    steps.wrap(grading, "run_test_cell", "  test cells (the checks)")
    steps.wrap(grading, "merge_with_source", "  merge with the source")
    started = time.perf_counter()
    for name, _, _ in solved_notebooks():
        job = grade_submission(api, course, "ada", name)
        if not job.success:
            sys.exit(f"grading {name} failed: {job.as_dict()}")
    total = time.perf_counter() - started
    shutil.rmtree(root, ignore_errors=True)
    return total, steps.seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1,
                        help="grade the class this many times per path (rounds interleaved), keep the fastest")
    args = parser.parse_args()
    base = tempfile.mkdtemp(prefix="nn-bench-")
    runs = {label: [] for label in PATHS}
    scaling, own_runs = [], []
    try:
        for round_ in range(args.repeat):  # interleaved, so that a slow spell of the machine hits every path
            for label in PATHS:
                if label.endswith("2 workers"):
                    scaling.append(machine_scaling())
                runs[label].append(grade_class(base, label, round_))
                n, seconds, cpu, _ = runs[label][-1]
                print(f"  {label}: {n} notebooks in {seconds:.1f} s", file=sys.stderr)
                if label.endswith("2 workers"):
                    scaling.append(machine_scaling())
                if label == "warm kernels, 1 worker":  # beside it: the machine's speed drifts between runs
                    own_runs.append(own_code_times(base))
        from autograder import zygote
        zygote.warm_up()
        imports = zygote.shared().imports
        kernel_sandbox, kernel_plain = bare_kernel_start(True), bare_kernel_start(False)
        steps_total, steps = grading_steps(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print("\nevery run, seconds: " + "; ".join(f"{label}: {', '.join(f'{r[1]:.1f}' for r in rs)}"
                                           for label, rs in runs.items()))
    n = runs["warm kernels, 1 worker"][0][0]
    print(f"\nsample class without {', '.join(PATHOLOGICAL)}: {n} notebooks, {os.cpu_count()} cores; "
          f"the fastest of {args.repeat} run(s) per path")
    print(f"{'path':26s} {'seconds':>8s} {'notebooks/min':>14s} {'s/notebook':>11s} {'CPU s/notebook':>15s}")
    per_notebook = {}
    for label, rs in runs.items():
        n, seconds, cpu, _ = min(rs, key=lambda r: r[1])
        per_notebook[label] = seconds / n
        print(f"{label:26s} {seconds:8.1f} {n / seconds * 60:14.1f} {seconds / n:11.2f} {cpu / n:15.2f}")
    cold1, warm1 = per_notebook["cold kernels, 1 worker"], per_notebook["warm kernels, 1 worker"]
    warm2, stock = per_notebook["warm kernels, 2 workers"], per_notebook["stock nbgrader, serial"]
    print(f"\nwarm / cold kernels, 1 worker: {cold1 / warm1:.2f}x the throughput (target at least 1.5x)")
    print(f"warm kernels, 2 workers / 1 worker: {warm1 / warm2:.2f}x (target at least 1.8x; this machine ran "
          f"two processes of pure Python at {', '.join(f'{x:.2f}' for x in scaling)}x one, measured before and after each 2-worker run)")
    print(f"warm kernels, 1 worker / stock nbgrader: {stock / warm1:.2f}x")
    print("\nthe zygote's imports, paid once per worker (a cold kernel pays them per notebook): "
          + ", ".join(f"{k} {v:.2f} s" for k, v in imports.items()) + f"; total {sum(imports.values()):.2f} s")
    print(f"bare kernel start: {kernel_sandbox:.2f} s in the sandbox (cold), {kernel_plain:.2f} s without")
    # the warm 1-worker run and the class's own code measured just after it, from the fastest warm round
    fastest = min(range(args.repeat), key=lambda r: runs["warm kernels, 1 worker"][r][1])
    n, seconds, _, in_jobs = runs["warm kernels, 1 worker"][fastest]
    own = own_runs[fastest]
    mean_own = sum(own.values()) / len(own)
    print(f"the class's own code, imports already done (each of its {len(own)} notebooks in a plain kernel, "
          f"just after the warm 1-worker run): mean {mean_own:.2f} s per notebook, "
          f"from {min(own.values()):.2f} to {max(own.values()):.2f} s"
          + (f" (every round: {', '.join(f'{sum(o.values()) / len(o):.2f}' for o in own_runs)})" if args.repeat > 1 else ""))
    fresh = mean_own + sum(imports.values()) + kernel_plain
    print(f"warm path, 1 worker: {seconds / n:.2f} s per notebook; overhead above the student's own code "
          f"{seconds / n - mean_own:.2f} s (target below one bare sandboxed kernel start, {kernel_sandbox:.2f} s); "
          f"merely running it in a fresh plain kernel (start + imports + own code): about {fresh:.2f} s")
    print(f"  of which: grading each notebook (its job, from the markers) {in_jobs / n - mean_own:.2f} s above its own code; "
          f"the command's start and end {seconds - in_jobs:.2f} s once ({(seconds - in_jobs) / n:.2f} s per notebook)")
    print(f"\nwhere a warm grading's time goes (the five solved notebooks in this process, "
          f"{steps_total / 5:.2f} s per notebook):")
    for step, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"  {step:52s} {seconds / 5:6.3f} s per notebook")


if __name__ == "__main__":
    main()
