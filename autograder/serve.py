"""Grading on submission: `python -m autograder serve`, the instructor's
long-running service.

It watches the exchange's inbound/ folder (autograder.exchange). Each new
submission is queued in the order it was made; a worker process collects it
with nbgrader's exchange, grades it with the batch's own unit of work
(pipeline.grade_submission: nbgrader's autograde with the sandboxed grader,
into the same gradebook), then makes and releases that student's feedback,
so the student's Fetch Feedback finds it seconds after Submit.

- Bounded: N worker processes, each keeping its nbgrader API (and whatever
  else a worker sets up) from one submission to the next; one (student,
  assignment) is never in two workers at once, and a worker takes the newest
  submission of its pair when it starts.
- Nothing a restart needs is kept in memory: what is left to do is read from
  the exchange, submitted/, autograded/ and feedback/ (exchange.stage). A
  stopped service (SIGTERM, SIGINT) abandons the submissions in hand; they
  are collected and graded again at the next start, and a grading that
  finished is never repeated.
- A submission's own problem is "rejected" (its feedback says why); a fault
  of the grader or a dead worker is retried once, then left until the next
  start or the student's next submission (nothing is recorded for it). A
  refused folder in inbound/ is logged once and ignored. None of them stops
  the service.
"""
import fcntl
import multiprocessing
import multiprocessing.connection
import os
import signal
import time

from . import exchange, pipeline
from .course import Course
from .results import GraderFault

LOCK = ".nn-course-serve.lock"
ATTEMPTS = 2  # a submission whose grading faulted (or whose worker died) this many times waits for a restart


def _log(message):
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def _clean(text):
    """Text a student controls (folder and file names, their code's error messages), on one line
    of the log: no forged log lines, no terminal escapes."""
    return "".join(c if c.isprintable() else "?" for c in str(text))[:2000]


# ---- the unit of work, in a worker process ----------------------------------------------------

def serve_submission(api, course, student, assignment, report=lambda *message: None):
    """Collect, grade and release the feedback of the newest submission of
    (student, assignment), doing only what is left (exchange.stage). report()
    hears ("grading", stamp), ("graded", job dict, stamp) and ("released",
    stamp, status); a fault of the grader raises GraderFault."""
    sub = exchange.newest(s for s in exchange.inbound(course)
                          if (s.student, s.assignment) == (student, assignment)).get((student, assignment))
    todo = exchange.stage(course, sub) if sub else None
    if todo is None:
        return
    if todo == "grade":
        report("grading", sub.stamp)
        exchange.clear_for_collect(course, student, assignment)
        sub, problems = exchange.collect(api, student, assignment)  # the newest now: maybe newer than sub was
        if sub is None:
            raise GraderFault("nbgrader's collect found no submission to collect")
        if problems:
            job = pipeline.Job(student, assignment, "rejected", problems=problems)
            pipeline._leave_marks(pipeline.autograded_folder(course, student, assignment), job)
        else:
            job = pipeline.grade_submission(api, course, student, assignment)
        report("graded", job.as_dict(), sub.stamp)
        if job.status == "fault":
            return
        status, problems = job.status, job.problems
    else:
        status = exchange.outcome(course, student, assignment)
        problems = _marker_problems(course, student, assignment)
    exchange.release_feedback(api, course, sub, status, problems)
    report("released", sub.stamp, status)


def _marker_problems(course, student, assignment):
    """The problems a rejected submission's marker records ("rejected: a; b")."""
    try:
        with open(os.path.join(pipeline.autograded_folder(course, student, assignment), pipeline.FAILED)) as f:
            return [p for p in f.read().strip().partition(": ")[2].split("; ") if p]
    except OSError:
        return []


def _warm_up(course):
    """What the first submission would otherwise wait for: the grader's, nbconvert's and the
    reference solutions' imports (a worker keeps them for every submission after)."""
    from nbgrader.converters import Autograde, GenerateFeedback  # noqa: F401
    from . import feedback, grading, nbgrader_plugin  # noqa: F401
    from .course import load, module_of
    for assignment in course.assignments():
        for name in (module_of(assignment), module_of(assignment) + "_checks"):
            try:
                load(name, course.root)
            except GraderFault:
                pass  # the grading of that assignment will say so


def _worker(root, conn):
    """A worker process: one job at a time from conn, each job's events back through it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service stops its workers itself
    pipeline._start_worker(root)
    course, api = pipeline._worker
    _warm_up(course)
    conn.send(("ready",))
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        student, assignment = task
        try:
            serve_submission(api, course, student, assignment, lambda *message: conn.send(message))
        except GraderFault as fault:
            conn.send(("fault", str(fault)))
        except Exception as exc:
            conn.send(("fault", f"{type(exc).__name__}: {exc}"))
        conn.send(("idle",))


# ---- the service -------------------------------------------------------------------------------

class Worker:
    def __init__(self, context, root, number):
        self.number = number
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=_worker, args=(root, theirs), name=f"nn-course-serve-{number}")
        self.process.start()
        theirs.close()
        self.ready = False
        self.task = None  # (student, assignment) in hand
        self.stamp = ""  # of the submission it was given
        self.started = 0.0

    def stop(self):
        if self.process.is_alive():
            self.process.terminate()  # its sandboxed kernel dies with it (bubblewrap --die-with-parent)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class Service:
    def __init__(self, root, workers=2, poll=0.5):
        self.course = Course(root)
        self.workers_wanted, self.poll = workers, poll
        self.queue = []  # Submissions waiting, oldest first
        self.attempts = {}  # (student, assignment, stamp) -> gradings begun in this run
        self.done = {}  # (student, assignment) -> stamp found finished (a cache of what the files say)
        self.students = set()  # known to be in the gradebook
        self.refused = set()  # folders already reported as refused
        self.stopping = False
        self.workers = []

    # -- scanning ----------------------------------------------------------------------------

    def scan(self):
        """Queue every newest submission with work left that is not queued or in hand."""
        found = exchange.inbound(self.course)
        for sub in found:
            if sub.refused and sub.path not in self.refused:
                self.refused.add(sub.path)
                _log(f"refused {_clean(sub.name)}: {_clean(sub.refused)}; it is never collected")
        busy = {w.task for w in self.workers if w.task} | {(s.student, s.assignment) for s in self.queue}
        fresh = []
        for pair, sub in exchange.newest(found).items():
            if pair in busy or self.done.get(pair) == sub.stamp:
                continue
            if self.attempts.get((*pair, sub.stamp), 0) >= ATTEMPTS:
                continue
            if exchange.stage(self.course, sub) is None:
                self.done[pair] = sub.stamp
                continue
            fresh.append(sub)
        self._ensure_students({sub.student for sub in fresh})
        for sub in sorted(fresh, key=lambda s: s.timestamp):
            self.queue.append(sub)
            _log(f"queued {sub.student}/{sub.assignment} (submitted {_clean(sub.stamp)})")
        self.queue.sort(key=lambda s: s.timestamp)

    def _ensure_students(self, students):
        """Students are created in the gradebook here, before a worker grades them, not by workers racing for it."""
        new = sorted(set(students) - self.students)
        if new:
            pipeline.prepare_gradebook(self.course, new)
            self.students.update(new)

    # -- workers --------------------------------------------------------------------------------

    def dispatch(self):
        for worker in self.workers:
            if worker.ready and worker.task is None and self.queue:
                sub = self.queue.pop(0)
                key = (sub.student, sub.assignment, sub.stamp)
                self.attempts[key] = self.attempts.get(key, 0) + 1
                worker.task, worker.stamp, worker.started = (sub.student, sub.assignment), sub.stamp, time.monotonic()
                worker.conn.send(worker.task)

    def handle(self, worker, message):
        kind, rest = message[0], message[1:]
        if kind == "ready":
            worker.ready = True
            if all(w.ready for w in self.workers):
                _log(f"{len(self.workers)} worker(s) ready")
            return
        if kind == "idle":
            worker.task = None
            return
        student, assignment = worker.task
        who = f"{student}/{assignment}"
        if kind == "grading":
            _log(f"grading {who} (submitted {_clean(rest[0])}) in worker {worker.number}")
        elif kind == "graded":
            job, stamp = rest
            worker.stamp = stamp
            if job["status"] == "graded":
                scores = ", ".join(f"{s:g} / {m:g}" for s, m in job["scores"].values() if s is not None)
                _log(f"graded {who}: {scores or 'no notebook graded'} autograded points ({job['seconds']:.1f} s)"
                     + "".join(f"\n    {_clean(p)}" for p in job["problems"]))
            elif job["status"] == "rejected":
                _log(f"rejected {who} (submitted {_clean(stamp)}): {'; '.join(map(_clean, job['problems']))}")
            else:
                self._fault(who, (student, assignment, stamp), "; ".join(job["problems"]))
        elif kind == "released":
            stamp, status = rest
            _log(f"feedback released {who} (submitted {_clean(stamp)}; {status}; "
                 f"{time.monotonic() - worker.started:.1f} s in the worker)")
        elif kind == "fault":
            self._fault(who, (student, assignment, worker.stamp), rest[0])

    def _fault(self, who, key, reason):
        again = self.attempts.get(key, 0) < ATTEMPTS
        _log(f"FAULT {who}: {_clean(reason)}; nothing recorded for the student; "
             + ("it will be tried again" if again else "left until the service restarts or a new submission"))

    def replace_dead(self):
        for i, worker in enumerate(self.workers):
            if worker.process.is_alive():
                continue
            if not worker.ready:
                raise GraderFault(f"a grading worker could not start (exit code {worker.process.exitcode}): "
                                  "see the messages above")
            if worker.task:
                student, assignment = worker.task
                self._fault(f"{student}/{assignment}", (student, assignment, worker.stamp),
                            f"the grading worker died (exit code {worker.process.exitcode})")
            worker.stop()
            self.workers[i] = Worker(self.context, self.course.root, worker.number)

    # -- the loop -----------------------------------------------------------------------------

    def run(self):
        self.context = multiprocessing.get_context("spawn")
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        ex = exchange.exchange_folder(self.course)
        _log(f"serving {self.course.root}: exchange {ex}, {self.workers_wanted} worker(s), "
             f"checking every {self.poll:g} s; stop with Ctrl-C or SIGTERM")
        if not os.path.isdir(os.path.join(ex, "inbound")):
            _log(f"warning: {ex}/inbound does not exist yet: release an assignment to the exchange first "
                 "(python -m autograder release A --exchange)")
        self.workers = [Worker(self.context, self.course.root, n + 1) for n in range(self.workers_wanted)]
        next_scan = 0.0
        try:
            while not self.stopping:
                if time.monotonic() >= next_scan:
                    self.scan()
                    next_scan = time.monotonic() + self.poll
                self.dispatch()
                waiting = [w.conn for w in self.workers] + [w.process.sentinel for w in self.workers]
                multiprocessing.connection.wait(waiting, timeout=max(0.0, next_scan - time.monotonic()))
                for worker in self.workers:
                    while worker.conn.poll():
                        try:
                            self.handle(worker, worker.conn.recv())
                        except EOFError:
                            break
                self.replace_dead()
        finally:
            in_hand = [f"{w.task[0]}/{w.task[1]}" for w in self.workers if w.task]
            for worker in self.workers:
                worker.stop()
            _log("stopped" + (f"; {', '.join(in_hand)} will be graded at the next start" if in_hand else ""))

    def _stop(self, signum, frame):
        self.stopping = True


def serve(root, workers=2, poll=0.5):
    """Run the service on the course at root until SIGTERM or SIGINT; one service per course."""
    course = Course(root)
    lock = open(course.path(LOCK), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise GraderFault(f"another `serve` is running on {course.root} (it holds {LOCK})") from None
    try:
        Service(root, workers, poll).run()
    finally:
        lock.close()
