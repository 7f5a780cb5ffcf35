"""Grading holds when submissions are hostile or broken (docs/threat-model.md).

One course copy: the honest victim is graded alone first and its gradebook
rows and files are snapshot; then every attacker of tests/hostile/attacks.py
(and the two honest baselines, the untouched release and WRONG functions) is
graded in one batch by the real `python -m autograder autograde --workers 2`,
then feedback and the report are made. Per attack: no point beyond what the
same functions earn honestly, the victim and the course untouched, the batch
completed, and the reason recorded where the instructor reads it.

Each hole an attack once got through has its test here and its fix named in
docs/threat-model.md ("Holes found and closed").

make test runs this suite twice: as root (the sandbox's root mode: a uid per
kernel) and as the unprivileged user nn-grader (scripts/unprivileged.py; the
rootless mode: a user namespace, the grader's uid). The results are the same;
where a guarantee differs by mode (the fork bomb on old kernels), the test says
so and asserts the mode's own.
"""
import glob
import hashlib
import html
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import nbformat
import pytest

from autograder.sample_class import solved
from autograder.sandbox import SandboxUnavailable, check_sandbox, nproc_counts_per_namespace, sandbox_mode
from conftest import REPO, course_env, make_course
from hostile.attacks import ASSIGNMENT, ATTACKS, BASELINES, BY_NAME, FUNCTIONS, HANGS

SOURCE = os.path.join(REPO, "source", ASSIGNMENT, f"{ASSIGNMENT}.ipynb")
try:
    check_sandbox()
    NO_SANDBOX = None
except SandboxUnavailable as exc:
    NO_SANDBOX = str(exc)
pytestmark = [pytest.mark.skipif(not os.path.exists(SOURCE), reason=f"{SOURCE} is not written yet"),
              pytest.mark.skipif(NO_SANDBOX is not None, reason=f"grading refuses without its sandbox: {NO_SANDBOX}")]

MODE = sandbox_mode()  # root: a uid per kernel; rootless: the grader's uid in a user namespace (see the threat model)
CANARIES = ("marker.txt", "failed.txt", "notebook.txt", "request.txt")
PROCESS_MARKERS = ("424242", "424243", "424244", "424245")
STRUCTURE_CHECKS = ("visits the samples in an explicit Python loop, as the slide's algorithm",
                    "visits the n_x features in an explicit Python loop, as the slide's dw1, dw2",
                    "leaves its arguments unmodified",
                    # 01's visible check that gd_step leaves the caller's arrays alone (a structure check, not a value)
                    "the caller's w and dw stay as they were: w - alpha * dw is a new array")


def run(root, *args, timeout=900):
    """python -m autograder ARGS on the course copy; never raises (the test reads the outcome)."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "autograder", *args], cwd=root, env=course_env(root),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        timed_out = True
    return {"args": args, "returncode": proc.returncode, "stdout": out, "stderr": err, "timed_out": timed_out,
            "seconds": time.monotonic() - started}


def _hash(path):
    if os.path.islink(path):
        return "symlink -> " + os.readlink(path)
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _tree(root, *folders):
    out = {}
    for folder in folders:
        if os.path.isfile(os.path.join(root, folder)):
            out[folder] = _hash(os.path.join(root, folder))
        for path in sorted(glob.glob(os.path.join(root, folder, "**"), recursive=True)):
            if os.path.isfile(path) or os.path.islink(path):
                out[os.path.relpath(path, root)] = _hash(path)
    return out


DEFINITIONS = ("course", "assignment", "notebook", "base_cell", "source_cell", "grade_cells", "solution_cells",
               "task_cells", "alembic_version")


def gradebook_rows(root, student="victim"):
    """The gradebook's definition of the course and every row of one student."""
    db = sqlite3.connect(f"file:{root}/gradebook.db?mode=ro", uri=True)
    try:
        rows = {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}"))) for t in DEFINITIONS}
        rows["student"] = sorted(map(repr, db.execute("SELECT * FROM student WHERE id = ?", (student,))))
        rows["submitted_assignment"] = sorted(map(repr, db.execute(
            "SELECT * FROM submitted_assignment WHERE student_id = ?", (student,))))
        notebooks = ("SELECT sn.id FROM submitted_notebook sn JOIN submitted_assignment sa "
                     "ON sn.assignment_id = sa.id WHERE sa.student_id = ?")
        rows["submitted_notebook"] = sorted(map(repr, db.execute(
            f"SELECT * FROM submitted_notebook WHERE id IN ({notebooks})", (student,))))
        for table in ("grade", "comment"):
            rows[table] = sorted(map(repr, db.execute(
                f"SELECT * FROM {table} WHERE notebook_id IN ({notebooks})", (student,))))
        return rows
    finally:
        db.close()


def snapshot(root):
    return {"gradebook": gradebook_rows(root),
            "files": _tree(root, "source", "solutions", "release", "submitted/victim", "autograded/victim",
                           "feedback/victim", "course_config.py", "nbgrader_config.py")}


def live_markers():
    found = []
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            text = open(cmdline, "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(f"sleep {m}" in text for m in PROCESS_MARKERS):
            found.append((cmdline, text))
    return found


class Course:
    """The graded course copy and what each step printed."""

    def __init__(self, root):
        self.root = root
        self.steps = {}

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def grades(self, student):
        """{grade_id: score} of the student's autograded test cells, or None without a submission."""
        db = sqlite3.connect(f"file:{self.root}/gradebook.db?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT bc.name, g.auto_score, g.manual_score, gc.max_score FROM grade g "
                "JOIN base_cell bc ON g.cell_id = bc.id JOIN grade_cells gc ON gc.id = bc.id "
                "JOIN submitted_notebook sn ON g.notebook_id = sn.id "
                "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
                "WHERE sa.student_id = ? AND gc.cell_type = 'code'", (student,)).fetchall()
        finally:
            db.close()
        if not rows:
            return None
        return {name: (manual if manual is not None else (auto or 0.0)) for name, auto, manual, _ in rows}

    def max_score(self, student):
        db = sqlite3.connect(f"file:{self.root}/gradebook.db?mode=ro", uri=True)
        try:
            return db.execute(
                "SELECT SUM(gc.max_score) FROM grade g JOIN grade_cells gc ON g.cell_id = gc.id "
                "JOIN submitted_notebook sn ON g.notebook_id = sn.id "
                "JOIN submitted_assignment sa ON sn.assignment_id = sa.id WHERE sa.student_id = ?",
                (student,)).fetchone()[0]
        finally:
            db.close()

    def autograded(self, student):
        path = self.path("autograded", student, ASSIGNMENT, f"{ASSIGNMENT}.ipynb")
        try:
            return nbformat.read(path, as_version=4)
        except Exception:
            return None

    def stored(self, student):
        """The per-check results the grader stored in the autograded notebook."""
        nb = self.autograded(student)
        return nb.metadata.get("nn_course") if nb is not None else None

    def checks(self, student):
        stored = self.stored(student) or {}
        return [dict(r, grade_id=c["grade_id"]) for c in stored.get("cells", []) for r in c.get("results", [])]

    def messages(self, student):
        return "\n".join(r.get("message") or "" for r in self.checks(student))

    def probe(self, student):
        found = re.search(r"PROBE(\{.*?\})(?: \(in |$)", self.messages(student), re.M)
        return json.loads(found.group(1)) if found else None

    def feedback(self, student):
        path = self.path("feedback", student, ASSIGNMENT, f"{ASSIGNMENT}.html")
        return open(path, encoding="utf-8").read() if os.path.exists(path) else ""

    def report(self):
        path = self.path("reports", "report.md")
        return open(path, encoding="utf-8").read() if os.path.exists(path) else ""

    def failed(self, student):
        path = self.path("autograded", student, ASSIGNMENT, ".nn-course-failed.txt")
        return open(path, encoding="utf-8").read() if os.path.exists(path) and not os.path.islink(path) else ""

    def seen_by_instructor(self, student):
        """What the instructor reads about a student: the feedback page, the report's lines, a failure note."""
        lines = [line for line in self.report().splitlines() if f"{student}/" in line or f"| {student} |" in line]
        return "\n".join([html.unescape(self.feedback(student)), *lines, self.failed(student)])


def function_of(grade_id):
    return re.sub(r"^(test|hidden)_", "", grade_id)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    started = time.monotonic()
    root = str(make_course(tmp_path_factory.mktemp("hostile")))
    c = Course(root)
    c.steps["release"] = run(root, "release", ASSIGNMENT)
    assert c.steps["release"]["returncode"] == 0, c.steps["release"]["stderr"][-3000:]
    release = nbformat.read(c.path("release", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), as_version=4)
    source = nbformat.read(c.path("source", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), as_version=4)
    c.source = source

    # the honest victim, graded alone, with its feedback: the snapshot to keep
    victim = c.path("submitted", "victim", ASSIGNMENT)
    os.makedirs(victim)
    nbformat.write(solved(release, source), os.path.join(victim, f"{ASSIGNMENT}.ipynb"))
    with open(os.path.join(victim, "timestamp.txt"), "w") as f:
        f.write("2026-11-20 12:00:00.000000 UTC\n")
    for step in ("autograde", "feedback"):
        args = ("autograde", "--student", "victim") if step == "autograde" else ("feedback", ASSIGNMENT)
        c.steps["victim_" + step] = run(root, *args)
        assert c.steps["victim_" + step]["returncode"] == 0, c.steps["victim_" + step]["stderr"][-3000:]
    c.before = snapshot(root)

    # the attackers and the honest baselines, graded in one batch
    os.makedirs(c.path("canary"))
    for name in CANARIES:
        with open(c.path("canary", name), "w") as f:
            f.write("CANARY: the instructor's file\n")
    c.canaries = _tree(root, "canary")
    for attack in [*BASELINES.values(), *ATTACKS]:
        attack.write(c.path("submitted", attack.student, ASSIGNMENT), release, root, REPO)
    c.steps["batch"] = run(root, "autograde", "--workers", "2")
    c.steps["feedback"] = run(root, "feedback", ASSIGNMENT)
    c.steps["report"] = run(root, "report")
    c.after = snapshot(root)
    c.left_running = live_markers()
    # last, alone and under a time limit: what may hang the grading itself
    for attack in HANGS:
        attack.write(c.path("submitted", attack.student, ASSIGNMENT), release, root, REPO)
        c.steps["hang_" + attack.student] = run(root, "autograde", "--student", attack.student, timeout=60)
    c.seconds = time.monotonic() - started
    with open(c.path("hostile-state.json"), "w") as f:  # what the tests read besides the course itself
        json.dump({"steps": c.steps, "before": c.before, "canaries": c.canaries, "left_running": c.left_running,
                   "seconds": c.seconds}, f, indent=1)
    sys.stderr.write("\nhostile course: " + ", ".join(f"{k} {v['seconds']:.0f} s" for k, v in c.steps.items())
                     + f"; {c.seconds:.0f} s in all\n")
    return c


ALL = [a.student for a in ATTACKS]
GRADED = [a.student for a in ATTACKS if a.threat != "m" or a.transform]  # attackers whose notebook is graded


# ---- every attack -----------------------------------------------------------------

def test_the_batch_completed(course):
    batch = course.steps["batch"]
    # exit 1: the malformed submissions (m_*) are rejected, the student's to fix; no attack is a fault of the grader
    assert not batch["timed_out"] and batch["returncode"] == 1, batch["stderr"][-3000:]
    assert "a fault of the grader" not in batch["stderr"], batch["stderr"][-3000:]
    for student in ALL:
        if course.failed(student):
            assert course.failed(student).startswith("rejected"), (student, course.failed(student))
    assert course.steps["report"]["returncode"] == 0, course.steps["report"]["stderr"][-3000:]
    for student in [*BASELINES, *ALL]:
        assert course.grades(student) is not None or course.failed(student), \
            f"{student}: neither a gradebook submission nor a recorded failure"
    for student in GRADED:
        assert course.grades(student) is not None, f"{student} has no grades"


def test_the_baselines_mean_what_they_say(course):
    victim = course.grades("victim")
    assert victim and all(score > 0 for score in victim.values()), victim
    for baseline in BASELINES:
        grades = course.grades(baseline)
        passed = [r["title"] for r in course.checks(baseline) if r["grade_id"].startswith("test_") and r["passed"]
                  and r["title"] not in STRUCTURE_CHECKS]
        assert not passed, (baseline, passed)  # no visible value check passes; a structure check may
        assert sum(grades.values()) < sum(victim.values()) / 2, (baseline, grades)


@pytest.mark.parametrize("student", ALL)
def test_no_point_beyond_the_honest_grade(course, student):
    attack = BY_NAME[student]
    grades = course.grades(student) or {}
    honest = {name: course.grades(name) for name in ("victim", *BASELINES)}
    for grade_id, points in honest["victim"].items():
        allowed = honest[attack.baseline(function_of(grade_id))][grade_id]
        assert grades.get(grade_id, 0.0) <= allowed + 1e-9, \
            f"{student} earned {grades.get(grade_id)} in {grade_id}; honestly {allowed} ({attack.summary})"
    if grades:
        assert course.max_score(student) == course.max_score("victim"), "the points on offer changed"


@pytest.mark.parametrize("student", [a.student for a in ATTACKS if a.evidence])
def test_the_reason_is_recorded_for_the_instructor(course, student):
    text = course.seen_by_instructor(student)
    assert text.strip(), f"nothing about {student} in the feedback or the report"
    assert any(re.search(pattern, text) for pattern in BY_NAME[student].evidence), \
        f"{student}: none of {BY_NAME[student].evidence} in what the instructor reads:\n{text[-3000:]}"


def test_the_victim_and_the_course_are_untouched(course):
    assert course.after["gradebook"] == course.before["gradebook"]
    changed = {p for p in set(course.before["files"]) | set(course.after["files"])
               if course.before["files"].get(p) != course.after["files"].get(p)}
    assert not changed, f"changed by the batch: {sorted(changed)}"


# ---- (a) replaced functions ---------------------------------------------------------

@pytest.mark.parametrize("student", ["a_numpy_patched", "a_autograder_patched", "a_builtins_patched",
                                     "a_forged_harness"])
def test_a_patches_in_the_kernel_do_not_reach_the_grader(course, student):
    checks = course.checks(student)
    value_checks = [r for r in checks if ("same as the reference" in r["title"] or r["grade_id"].startswith("test_"))
                    and r["title"] not in STRUCTURE_CHECKS]
    assert value_checks and not any(r["passed"] for r in value_checks), \
        [r["title"] for r in value_checks if r["passed"]]


def test_a_forged_harness_answers_only_what_the_kernel_reports_anyway(course):
    """The known limit: the kernel's own report (line counts, arguments changed)
    can be forged, so right values without a loop or with w changed in place pass
    those two checks. Every other check is the grader's and comes out as honest."""
    forged = {(r["grade_id"], r["title"]): r["passed"] for r in course.checks("a_forged_structure")}
    victim = {(r["grade_id"], r["title"]): r["passed"] for r in course.checks("victim")}
    assert set(forged) == set(victim)
    differ = {key for key in victim if forged[key] != victim[key]}
    assert all(title in STRUCTURE_CHECKS for _, title in differ), differ


# ---- (b) objects that subvert comparisons -----------------------------------------------

@pytest.mark.parametrize("student", ["b_lying_subclasses", "b_odd_objects"])
def test_b_objects_arrive_as_what_they_are(course, student):
    checks = course.checks(student)
    assert not any(r["passed"] for r in checks if r["title"] not in STRUCTURE_CHECKS
                   and not r["title"].startswith("visits the")), [r["title"] for r in checks if r["passed"]]
    for function in FUNCTIONS:
        messages = [r["message"] for r in checks if r["function"] == function]
        assert any("not a number or a numpy array" in m or "NaN" in m or "nan" in m for m in messages), \
            (function, messages[:3])


# ---- (c) the stack, the heap, sys.modules, /proc -----------------------------------------

def test_c_nothing_of_the_grader_is_in_the_kernel(course):
    probe = course.probe("c_introspection")
    assert probe is not None, course.messages("c_introspection")[:2000]
    assert probe["frames"] > 0 and not probe["names"], probe
    assert not [m for m in probe["modules"] if "solution" in m or "reference" in m], probe
    assert not [p for p in probe["processes"] if "nbgrader" in p or "autograde" in p or "pytest" in p], probe


# ---- (d) changed inputs ---------------------------------------------------------------------

def test_d_changed_inputs_are_reported_and_never_compared(course):
    checks = course.checks("d_inputs_modified")
    for function, argument in [("sigmoid", "z"), ("propagate_loop", "X"), ("gd_step", "dw"), ("train_loop", "X")]:
        untouched = [r for r in checks if r["function"] == function and r["title"] == "leaves its arguments unmodified"]
        assert untouched and not untouched[0]["passed"] and argument in untouched[0]["message"], (function, untouched)
        same = [r for r in checks if r["function"] == function and "same as the reference" in r["title"]]
        assert same and not any(r["passed"] for r in same), (function, same)


# ---- (e) the reference solutions ------------------------------------------------------------

def test_e_the_reference_is_out_of_reach(course):
    probe = course.probe("e_import_reference")
    assert probe is not None, course.messages("e_import_reference")[:2000]
    assert len(probe) >= 9 and "GOT" not in probe.values(), probe


# ---- (f) files outside the submission ------------------------------------------------------

def test_f_files_outside_are_out_of_reach(course):
    probe = course.probe("f_files_outside")
    assert probe is not None, course.messages("f_files_outside")[:2000]
    reached = {k: v for k, v in probe.items() if v == "OK" and k not in ("list_root",)}
    assert not reached, reached
    assert not isinstance(probe["list_submitted"], list), probe["list_submitted"]
    assert not (set(probe["list_root"]) & {"gradebook.db", "source", "solutions", "submitted"}) \
        if isinstance(probe["list_root"], list) else True, probe["list_root"]


def _canary(course, name):
    return _hash(course.path("canary", name)) == course.canaries[f"canary/{name}"]


def test_f_job_marker_is_not_written_through_a_planted_symlink(course):
    assert _canary(course, "marker.txt")


def test_f_autograded_notebook_is_not_written_through_a_planted_symlink(course):
    assert _canary(course, "notebook.txt")


def test_f_requests_are_not_written_through_a_planted_symlink(course):
    assert _canary(course, "request.txt")


def test_f_nothing_outside_leaks_into_feedback(course):
    targets = {what: open(course.path(*where), "rb").read() for what, where in [
        ("solutions", ("solutions", "logistic_loop.py")),
        ("source", ("source", ASSIGNMENT, f"{ASSIGNMENT}.ipynb")),
        ("victim", ("submitted", "victim", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"))]}
    leaked = []
    for path in glob.glob(course.path("feedback", "f_symlinks_in", "**"), recursive=True):
        if os.path.isfile(path) and not path.endswith(".html"):
            data = open(path, "rb").read()
            leaked += [(os.path.basename(path), what) for what, target in targets.items() if data == target]
            if data.startswith(b"SQLite format 3"):
                leaked.append((os.path.basename(path), "gradebook"))
    assert not leaked, leaked


def test_f_the_kernel_cannot_read_the_hidden_tests(course):
    probe = course.probe("f_symlinks_in")
    assert probe is not None and probe["hidden_tests_seen"] is False, probe


def test_f_the_report_cannot_be_forged_from_the_kernel(course):
    assert "FORGED" not in course.report()


def test_f_feedback_survives_special_files_left_by_a_kernel(course):
    assert course.steps["feedback"]["returncode"] == 0, course.steps["feedback"]["stderr"][-2000:]
    assert course.feedback("f_fifo_left")


def test_f_an_answer_through_a_named_pipe_is_refused(course):
    assert course.grades("0f_fifo_answer") is not None
    assert "4321.5" not in course.messages("0f_fifo_answer")


def test_f_a_named_pipe_notebook_does_not_hang_the_batch(course):
    step = course.steps["hang_f_fifo_notebook"]
    assert not step["timed_out"], "autograde of f_fifo_notebook was still running after 60 s"


# ---- (g) time, memory, output, processes ------------------------------------------------------

def test_g_no_process_outlives_its_kernel(course):
    assert not course.left_running, course.left_running


def test_g_a_fork_bomb_is_refused_in_the_kernel(course):
    """Root: RLIMIT_NPROC of the kernel's own uid. Rootless: RLIMIT_NPROC counted in the sandbox's user namespace
    (Linux 5.14+), the same refusal, and the kernel goes on; on older kernels the watchdog kills the kernel."""
    nb = course.autograded("g_processes")
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    if MODE == "root" or nproc_counts_per_namespace():
        refused = re.search(r"fork refused after (\d+) forks", text)
        assert refused and int(refused.group(1)) < 64, text[-2000:]
        assert course.grades("g_processes") == course.grades("wrong_twin")
    else:
        assert re.search(r"kernel died", course.seen_by_instructor("g_processes"))


def test_g_output_is_capped(course):
    path = course.path("autograded", "g_print_flood", ASSIGNMENT, f"{ASSIGNMENT}.ipynb")
    assert os.path.getsize(path) < 3 * 2 ** 20, os.path.getsize(path)
    assert len(course.feedback("g_print_flood")) < 6 * 2 ** 20


def test_g_memory_errors_stay_in_the_kernel(course):
    """The kernel survives its MemoryErrors: the functions after them are graded as the honest twin's."""
    grades, twin = course.grades("g_memory"), course.grades("wrong_twin")
    for grade_id in grades:
        if function_of(grade_id) in ("propagate_loop", "gd_step", "train_loop"):
            assert grades[grade_id] == twin[grade_id], (grade_id, grades[grade_id], twin[grade_id])
    assert "MemoryError" in course.messages("g_memory")


def test_g_a_zip_bomb_answer_is_refused(course):
    assert course.grades("g_zip_bomb") is not None
    assert "33554432" not in course.messages("g_zip_bomb")


def test_g_an_endless_cell_costs_only_itself(course):
    """The cell is stopped at its time limit and the kernel goes on: every function is graded as the twin's."""
    assert course.grades("0g_endless_cell") == course.grades("wrong_twin")


@pytest.mark.parametrize("student", ["0g_endless_call", "0h_kill_in_call", "0g_endless_call_unstoppable"])
def test_g_a_call_that_never_returns_costs_only_what_follows(course, student):
    """gd_step never returns (or kills its kernel): the functions graded before it keep the twin's grade;
    after an interruptible loop, so do the functions after it."""
    grades, twin = course.grades(student), course.grades("wrong_twin")
    before = FUNCTIONS[:FUNCTIONS.index("gd_step")]
    assert all(grades[g] == twin[g] for g in grades if function_of(g) in before), (grades, twin)
    assert all(grades[g] == 0 for g in grades if function_of(g) == "gd_step"), grades
    if student == "0g_endless_call":
        assert grades == {g: (0.0 if function_of(g) == "gd_step" else twin[g]) for g in twin}, (grades, twin)


def test_g_a_cell_stopped_at_its_time_limit_is_reported(course):
    assert re.search(r"time limit|did not finish", course.seen_by_instructor("0g_endless_cell"))


# ---- (h) a killed kernel -------------------------------------------------------------------------

def test_h_cells_before_the_kernel_died_keep_their_points(course):
    grades, twin = course.grades("h_exit_in_cell"), course.grades("wrong_twin")
    assert all(grades[g] == twin[g] for g in grades if function_of(g) == "sigmoid"), (grades, twin)
    assert all(grades[g] == 0 for g in grades if function_of(g) != "sigmoid"), grades
    assert re.search(r"h_exit_in_cell/01_logistic_loop: .*kernel died", course.report())


def test_h_kill_everyone_reaches_only_its_own_kernel(course):
    """kill(-1, SIGKILL) at the end of loss's answer cell: as root the kernel's uid owns nothing else; without root it is the
    instructor's uid, and only the pid namespace keeps the grader out of reach. Either way the kernel dies
    alone: the cells before keep their points, the batch and everyone else are graded (test_the_batch_completed,
    test_the_victim_and_the_course_are_untouched)."""
    grades, twin = course.grades("h_kill_everyone"), course.grades("wrong_twin")
    assert grades, "h_kill_everyone has no grades: the grader died with its kernel"
    assert all(grades[g] == twin[g] for g in grades if function_of(g) == "sigmoid"), (grades, twin)
    assert all(grades[g] == 0 for g in grades if function_of(g) != "sigmoid"), grades
    assert re.search(r"h_kill_everyone/01_logistic_loop: .*kernel died", course.report())


# ---- (i) hooks, transformers, captured output ------------------------------------------------------

@pytest.mark.parametrize("student", ["i_blank_cells", "i_hooks", "i_run_cell_replaced", "m_tests_pass"])
def test_i_test_cells_show_the_graders_report(course, student):
    nb, grades = course.autograded(student), course.grades(student)
    tests = {c.metadata.nbgrader["grade_id"]: c for c in nb.cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
             and not c.metadata.nbgrader.get("solution")}
    assert set(tests) == set(course.grades("victim"))
    for grade_id, cell in tests.items():
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert "[PASS] sigmoid: every check" not in text
        assert re.search(rf"Score: {grades[grade_id]:g} of", text), (grade_id, text[-500:])


def test_i_the_feedback_summary_cannot_be_forged(course):
    page = course.feedback("i_summary_injection")
    assert page
    summary = page[:page.find("Each test cell below")]
    # the student's text may show (inert, as the message of a failed check); a second bold total may not
    assert len(re.findall(r"<strong>Total: \d", summary)) == 1, re.findall(r"<strong>Total[^<]*</strong>", summary)
    full = course.max_score("i_summary_injection")
    assert f"<strong>Total: {full:g} of {full:g}" not in summary, "the forged full-marks total shows"
    assert 'href="javascript:' not in page


def test_i_no_live_student_script_in_feedback(course):
    page = course.feedback("i_html_output")
    assert page
    # the student's text may show, escaped; no live element may carry it
    assert not re.search(r"<script[^>]*>\s*window\.HOSTILE", page)
    assert not re.search(r"<[a-z]+\b[^<>]*\bonerror\s*=", page, re.I)
    assert "&lt;script&gt;window.HOSTILE_MARKDOWN" in page  # the written answer is shown, inert


# ---- (m) malformed submissions ----------------------------------------------------------------------

@pytest.mark.parametrize("student", ["m_tests_pass", "m_tests_deleted", "m_tests_repointed", "m_answer_made_test",
                                     "m_test_cell_duplicated", "m_unknown_graded_cell"])
def test_m_test_cells_come_back_from_the_source(course, student):
    nb = course.autograded(student)
    assert nb is not None, f"{student} was not graded: {course.failed(student)}"
    source = {c.metadata.nbgrader["grade_id"]: c.source for c in course.source.cells
              if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata.nbgrader.get("solution")
              and c.cell_type == "code"}
    graded = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            assert meta["grade_id"] not in graded, f"two test cells {meta['grade_id']}"
            graded[meta["grade_id"]] = cell.source
    assert graded == source
    assert set(course.grades(student)) == set(course.grades("victim"))


def test_m_a_renamed_notebook_is_named_in_the_report(course):
    line = next((l for l in course.report().splitlines() if l.startswith("- m_renamed/")), "")
    assert "01_logistic_loop (1).ipynb" in line or "01_logistic_loop.ipynb" in line, line


@pytest.mark.parametrize("student", ["m_broken_json", "m_not_a_notebook", "m_renamed", "m_no_notebook"])
def test_m_unreadable_submissions_score_nothing(course, student):
    grades = course.grades(student)
    assert grades is None or not any(grades.values()), grades
    assert re.search(rf"^- {student}/{ASSIGNMENT}: ", course.report(), re.M), \
        f"no problem line for {student} in the report"
