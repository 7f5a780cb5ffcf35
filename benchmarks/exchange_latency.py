"""From Submit to feedback: how long a student waits with `python -m autograder
serve` running (a script, not a test; root: the sandbox needs it).

On a copy of the course with 05_backprop released to a fresh exchange, with
the service running as deployed (--workers = cores, the default --poll):

  one at a time  --single students (default 10) each submit the solved 05
                 notebook, one after another; for each, the time from the
                 start of nbgrader's submit until the feedback page is in the
                 exchange where the student's Fetch Feedback finds it; median
                 and 90th percentile. Also the CPU time the service's whole
                 process tree used meanwhile (grader, workers and the sandboxed
                 kernels, sampled from /proc): one grading's CPU time.
  a burst        --burst students (default 20) submit at once: the time until
                 the last one's feedback is fetchable, beside the bound
                 1.3 x (burst x one grading's CPU time / cores).

Then what one grading spent its time on: the service's own log (grading,
feedback), a bare kernel start in the sandbox, and the solved notebook's own
cells run without the grader (nbclient).

    .venv/bin/python benchmarks/exchange_latency.py [--single 10] [--burst 20]   # about 15 minutes
"""
import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, REPO)

from hub import COURSE_ID, Service, Student, make_hub, run_cli, solved_notebook  # noqa: E402

A = "05_backprop"
TICKS = os.sysconf("SC_CLK_TCK")


class TreeCPU:
    """CPU seconds of a process and all its descendants, sampled from /proc
    every `interval` s. A process counts with its last sampled utime+stime,
    so one that ended (a kernel) still counts, less what it used after the
    last sample."""

    def __init__(self, root_pid, interval=0.2):
        self.root_pid, self.interval = root_pid, interval
        self.seen, self.kernels = {}, set()  # (pid, start time) -> ticks; the keys of kernels
        self.lock, self.stopped = threading.Lock(), False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped:
            self.sample()
            time.sleep(self.interval)

    def sample(self):
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]), fields[19])
                except (OSError, IndexError, ValueError):
                    pass
        tree, todo = set(), [self.root_pid]
        children = {}
        for pid, (parent, _, _) in stats.items():
            children.setdefault(parent, []).append(pid)
        while todo:
            pid = todo.pop()
            if pid in stats and pid not in tree:
                tree.add(pid)
                todo += children.get(pid, [])
        with self.lock:
            for pid in tree:
                key = (pid, stats[pid][2])
                self.seen[key] = stats[pid][1]
                if key not in self.kernels and _is_kernel(pid):
                    self.kernels.add(key)

    def totals(self):
        """(CPU seconds of the whole tree, of its kernels) so far."""
        self.sample()
        with self.lock:
            return (sum(self.seen.values()) / TICKS, sum(self.seen[k] for k in self.kernels) / TICKS)

    def stop(self):
        self.stopped = True


def _is_kernel(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"ipykernel" in f.read()
    except OSError:
        return False


def fetchable(student, exchange):
    """The student's newest submission has its feedback page in the exchange (what Fetch Feedback finds)."""
    from nbgrader.utils import notebook_hash
    cache = os.path.join(student.folder, ".nbgrader_cache", COURSE_ID)
    newest = sorted(os.listdir(cache))[-1]
    with open(os.path.join(cache, newest, "submission_secret.txt")) as f:
        secret = f.read()
    return os.path.exists(os.path.join(exchange, COURSE_ID, "feedback",
                                       notebook_hash(secret=secret, notebook_id=A) + ".html"))


def wait_fetchable(students, exchange, timeout=1800):
    """Seconds (monotonic) at which each student's feedback became fetchable."""
    done, deadline = {}, time.monotonic() + timeout
    while len(done) < len(students):
        for student in students:
            if student.name not in done and fetchable(student, exchange):
                done[student.name] = time.monotonic()
        if time.monotonic() > deadline:
            sys.exit(f"feedback missing after {timeout} s for {sorted(set(s.name for s in students) - set(done))}")
        time.sleep(0.05)
    return done


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _cpu_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def notebook_own_time(root):
    """The solved notebook's own cells (no test cells) in a plain kernel with nbclient, no grader:
    (seconds to start the kernel, seconds of the cells, the kernel's CPU seconds for the cells)."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    nb = solved_notebook(root, A)
    with tempfile.TemporaryDirectory() as folder:
        km = AsyncKernelManager(transport="ipc", ip=os.path.join(folder, "kernel"))  # as the sandbox's: no TCP
        client = NotebookClient(nb, km=km, timeout=600, allow_errors=True, resources={"metadata": {"path": folder}})
        started = time.perf_counter()
        with client.setup_kernel():
            kernel = time.perf_counter() - started
            pid = client.km.provisioner.process.pid
            started, cpu = time.perf_counter(), _cpu_of(pid)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade"):
                    client.execute_cell(cell, index)
            cells, cpu = time.perf_counter() - started, _cpu_of(pid) - cpu
    return kernel, cells, cpu


def sandbox_kernel_start():
    """Seconds from starting a sandboxed kernel to its first answer."""
    import asyncio
    from autograder.sandbox import SandboxedKernelManager

    async def once():
        with tempfile.TemporaryDirectory() as workdir:
            os.chmod(workdir, 0o777)
            km = SandboxedKernelManager(workdir=workdir)
            started = time.perf_counter()
            await km.start_kernel()
            client = km.client()
            client.start_channels()
            await client.wait_for_ready(timeout=120)
            took = time.perf_counter() - started
            client.stop_channels()
            await km.shutdown_kernel(now=True)
            return took
    return asyncio.run(once())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--single", type=int, default=10, help="submissions one at a time (default 10)")
    parser.add_argument("--burst", type=int, default=20, help="students submitting at once (default 20)")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    cores = os.cpu_count()
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f} at the start (shared with others)")
    with tempfile.TemporaryDirectory(prefix="nn-latency-") as base:
        root, exchange = make_hub(base)
        run_cli(root, "release", A, "--exchange")
        solved = solved_notebook(root, A)
        single = [Student(f"one{i:02d}", os.path.join(base, f"one{i:02d}"), exchange) for i in range(args.single)]
        burst = [Student(f"many{i:02d}", os.path.join(base, f"many{i:02d}"), exchange) for i in range(args.burst)]
        for student in single + burst:
            student.fetch(A)
            student.write(A, solved)
        log_path = os.path.join(base, "serve.log")
        with Service(root, log_path, workers=args.workers, poll=0.5) as service:
            service.wait_for(r"worker\(s\) ready", 300)
            cpu = TreeCPU(service.proc.pid)
            time.sleep(3)
            idle_before, _ = cpu.totals()
            time.sleep(5)
            idle = (cpu.totals()[0] - idle_before) / 5
            latencies, cpus, kernel_cpus = [], [], []
            for student in single:
                before, kernels_before = cpu.totals()
                started = time.monotonic()
                student.submit(A)
                ended = wait_fetchable([student], exchange)[student.name]
                after, kernels_after = cpu.totals()
                latencies.append(ended - started)
                cpus.append(after - before - idle * (ended - started))
                kernel_cpus.append(kernels_after - kernels_before)
                print(f"  {student.name}: feedback fetchable {latencies[-1]:.1f} s after submit; "
                      f"CPU {cpus[-1]:.1f} s (kernel {kernel_cpus[-1]:.1f} s)", flush=True)
                time.sleep(1)
            burst_before, _ = cpu.totals()
            started = time.monotonic()
            for student in burst:
                student.submit(A)
            submitted = time.monotonic() - started
            done = wait_fetchable(burst, exchange)
            burst_time = max(done.values()) - started
            burst_cpu = cpu.totals()[0] - burst_before
            cpu.stop()
            log = service.log()
        got = burst[-1].fetch_feedback(A)  # and the student's own Fetch Feedback finds it
        assert got, "the student's fetch_feedback found nothing"
        one_cpu = statistics.median(cpus)
        bound = 1.3 * args.burst * one_cpu / cores
        grading = [float(s) for s in re.findall(r"graded one\d+/\S+: .*?\(([\d.]+) s\)", log)]
        worker = [float(s) for s in re.findall(r"feedback released one\d+/.*; ([\d.]+) s in the worker\)", log)]
        kernel_start = sandbox_kernel_start()
        plain_kernel, own_cells, own_cpu = notebook_own_time(root)
        print(f"\nserve with {args.workers} worker(s) on {cores} cores, polling every 0.5 s; load average "
              f"{os.getloadavg()[0]:.1f} at the end")
        print(f"one at a time ({len(latencies)} x solved {A}): submit -> feedback fetchable: median "
              f"{statistics.median(latencies):.1f} s, 90th percentile {percentile(latencies, 90):.1f} s "
              f"(min {min(latencies):.1f}, max {max(latencies):.1f})")
        print(f"one grading's CPU time (service tree, idle {idle:.2f} s/s removed): median {one_cpu:.1f} s, "
              f"of which the sandboxed kernel {statistics.median(kernel_cpus):.1f} s")
        print(f"burst of {args.burst} (submitted within {submitted:.1f} s): last feedback fetchable after "
              f"{burst_time:.1f} s; bound 1.3 x ({args.burst} x {one_cpu:.1f} s / {cores}) = {bound:.1f} s; "
              f"ratio to the bound {burst_time / bound:.2f}")
        print(f"  the burst used {burst_cpu:.0f} s of CPU ({burst_cpu / args.burst:.1f} s a submission): "
              f"{burst_cpu / cores:.0f} s of work for {cores} cores, done in {burst_time:.0f} s")
        print(f"where one grading's time goes (medians): the worker {statistics.median(worker):.1f} s = "
              f"nbgrader autograde with the grader {statistics.median(grading):.1f} s + collect, feedback and "
              f"release {statistics.median(worker) - statistics.median(grading):.1f} s")
        print(f"  for scale: a sandboxed kernel starts in {kernel_start:.1f} s; the solved notebook's own cells "
              f"(no tests, no grader) take {own_cells:.1f} s ({own_cpu:.1f} s of the kernel's CPU) after a "
              f"{plain_kernel:.1f} s plain kernel start")


if __name__ == "__main__":
    main()
