"""The class on a hub: nbgrader's exchange round trip with students who are Unix
users of their own, and the grading service (`python -m autograder serve`):
grading on submission, hostile and broken submissions, a restart, a burst.

    .venv/bin/python -m pytest tests/test_exchange.py     # about 8 minutes on 2 shared cores; root
"""
import datetime
import glob
import json
import os
import pwd
import re
import shutil
import signal
import tempfile
import time

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from autograder.exchange import changed_after, copy_regular_files, read_submission
from autograder import exchange as ex
from autograder.nbgrader_plugin import LatePenalty
from autograder.sample_class import with_function

from conftest import ASSIGNMENTS
from hub import (Service, Student, UnixStudents, make_hub, read_feedback, run_cli, score_of, solved_notebook,
                 unix_students_unavailable, wait_for_feedback)

A = "01_logistic_loop"
WRONG_SIGMOID = "def sigmoid(z):\n    return 0.5 + 0 * np.asarray(z, dtype=float)\n"

needs_grading = [
    pytest.mark.skipif(A not in ASSIGNMENTS, reason=f"source/{A} does not exist yet"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the grading sandbox needs root"),
]


def grades(test):
    for mark in needs_grading:
        test = mark(test)
    return test


def gradebook(root):
    return Gradebook(f"sqlite:///{root}/gradebook.db")


def submission_of(root, student, assignment=A):
    """(timestamp, autograded score, max, late penalty) of a student's submission in the gradebook."""
    with gradebook(root) as gb:
        sub = gb.find_submission(assignment, student)
        return sub.timestamp, sub.code_score, sub.max_code_score, sub.late_submission_penalty


def inbound_names(exchange, student):
    return sorted(n for n in os.listdir(os.path.join(exchange, "nn-from-scratch", "inbound"))
                  if n.startswith(student + "+"))


def stamp_of(name):
    return name.rsplit("+", 3)[2]


# ---- the rules for what is in inbound/ (no grading) ----------------------------------------------

def test_late_penalty_is_ten_percent_per_day_or_part_of_a_day():
    penalty = LatePenalty().late_submission_penalty
    assert [penalty("s", 30.0, seconds) for seconds in (1, 86400, 86401, 3 * 86400 + 5)] == [3.0, 3.0, 6.0, 12.0]
    assert penalty("s", 30.0, 20 * 86400) == 30.0 and penalty("s", 0.0, 86400) == 0.0


def test_what_inbound_holds_is_refused_or_accepted(tmp_path):
    def folder(name, **kw):
        path = tmp_path / name
        path.mkdir()
        return read_submission(str(path), {A}, **kw)
    now = utc_stamp()
    accepted = folder(f"ada+{A}+{now}+xyz", owner_checked=False)
    assert accepted.refused is None and (accepted.student, accepted.assignment, accepted.stamp) == ("ada", A, now)
    assert folder(f"ada+{A}+{now}", owner_checked=False).refused is None  # nbgrader without the random part
    me = pwd.getpwuid(os.geteuid()).pw_name
    assert folder(f"{me}+{A}+{now}+a").refused is None
    refusals = {
        "no-plus-signs": "its name is not",
        f"ada+{A}+yesterday+a": "its time cannot be read",
        f"..+{A}+{now}+a": "is not a student id",
        f"ada+99_unknown+{now}+a": "no assignment '99_unknown'",
        f"ada+{A}+{utc_stamp(datetime.timedelta(hours=1))}+a": "later than when it arrived",
    }
    for name, reason in refusals.items():
        assert reason in folder(name, owner_checked=False).refused, name
    assert f"belongs to the user {me}" in folder(f"notme+{A}+{now}+b").refused
    (tmp_path / f"ada+{A}+{now}+file").write_text("")
    assert "not a folder" in read_submission(str(tmp_path / f"ada+{A}+{now}+file"), {A}, False).refused
    older = folder(f"ada+{A}+{utc_stamp(-datetime.timedelta(seconds=5))}+old", owner_checked=False)
    assert ex.newest([older, accepted])[("ada", A)] is accepted


def test_collect_copies_regular_files_only(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    (src / "data" / "deeper").mkdir(parents=True)
    (src / "nb.ipynb").write_text("{}")
    (src / "data" / "deeper" / "x.csv").write_text("1,2")
    (src / "big.bin").write_bytes(b"0" * 5000)
    os.symlink("/etc/passwd", src / "link.ipynb")
    os.symlink("/etc", src / "linked-folder")
    os.mkfifo(src / "pipe.ipynb")
    left_out, changed = copy_regular_files(str(src), str(dest), max_bytes=10_000)
    assert sorted(left_out) == ["link.ipynb: a link or special file, left out",
                                "linked-folder: a link or special file, left out",
                                "pipe.ipynb: a link or special file, left out"]
    copied = sorted(os.path.relpath(os.path.join(d, f), dest) for d, _, fs in os.walk(dest) for f in fs)
    assert copied == ["big.bin", "data/deeper/x.csv", "nb.ipynb"]
    assert sorted(changed) == [".", "big.bin", "data", "data/deeper", "data/deeper/x.csv", "nb.ipynb"]
    assert "big.bin: over 0 MB in all, left out" in copy_regular_files(str(src), str(tmp_path / "small"), 1000)[0]
    assert not os.path.exists(tmp_path / "small" / "big.bin")
    assert copy_regular_files(str(src / "link.ipynb"), str(tmp_path / "x"), 1000)[0] == \
        ["the submission is not a folder"]
    assert changed_after(changed, parse_utc(utc_stamp())) == []
    assert len(changed_after(changed, parse_utc(utc_stamp(-datetime.timedelta(hours=1))))) == len(changed)


# ---- the round trip with nbgrader's exchange, students as Unix users ----------------------------

@grades
def test_round_trip_on_a_hub():
    """release -> fetch -> submit (twice) -> collect -> autograde -> feedback -> release -> fetch_feedback,
    with the instructor and each student in course folders of their own, students as Unix users."""
    unavailable = unix_students_unavailable()
    if unavailable:
        pytest.skip(unavailable)
    base = tempfile.mkdtemp(prefix="nn-hub-")  # /tmp: every user can reach the exchange in it
    try:
        root, exchange = make_hub(base, check_owner=True)
        os.chmod(root, 0o700)  # the instructor's course: no student reads the sources or the gradebook
        run_cli(root, "release", A, "--exchange")
        inbound = os.path.join(exchange, "nn-from-scratch", "inbound")
        assert os.stat(inbound).st_mode & 0o1777 == 0o1733, oct(os.stat(inbound).st_mode)
        solved, wrong = solved_notebook(root, A), with_function(solved_notebook(root, A), "sigmoid", WRONG_SIGMOID)
        with UnixStudents(base, exchange, ["ada", "ben", "eve"]) as students:
            ada, ben, eve = (students.users[n] for n in ("ada", "ben", "eve"))
            for name in ("ada", "ben"):
                students.nbgrader(name, "fetch_assignment", A)
            notebook = lambda name: os.path.join(students.home(name), A, f"{A}.ipynb")
            assert os.stat(notebook("ada")).st_uid == os.stat(students.home("ada")).st_uid

            # ada submits twice: a wrong sigmoid, then everything right
            for nb in (wrong, solved):
                students.write("ada", notebook("ada"), nbformat.writes(nb))
                students.nbgrader("ada", "submit", A)
                time.sleep(1.1)  # nbgrader's timestamps tell them apart
            first, second = inbound_names(exchange, ada)
            assert first < second

            # eve cannot list inbound/, cannot remove ada's submission, and forges one in ada's name
            probe = students.run("eve", "-c", f"""
import os, shutil
for what, act in [("list", lambda: os.listdir({inbound!r})),
                  ("rename", lambda: os.rename({inbound + '/' + second!r}, {inbound + '/' + second + 'x'!r})),
                  ("read the course", lambda: os.listdir({root!r}))]:
    try:
        act(); print(what, "allowed")
    except PermissionError:
        print(what, "refused")
import datetime
stamp = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S.%f UTC")
forged = {inbound!r} + "/{ada}+{A}+" + stamp + "+forged"
os.mkdir(forged)
open(forged + "/{A}.ipynb", "w").write("{{not a notebook")
open(forged + "/timestamp.txt", "w").write(stamp)
""")
            assert probe.stdout.split("\n")[:3] == ["list refused", "rename refused", "read the course refused"], \
                probe.stdout
            assert len(inbound_names(exchange, ada)) == 3

            # the due date passes; ben submits late
            with gradebook(root) as gb:
                gb.update_or_create_assignment(A, duedate=datetime.datetime.utcnow())
            time.sleep(1.1)
            students.write("ben", notebook("ben"), nbformat.writes(solved))
            students.nbgrader("ben", "submit", A)

            # the instructor: collect (the forgery refused), autograde, feedback released to the exchange
            proc = run_cli(root, "collect", A)
            assert f"refused {ada}+{A}+" in proc.stderr and f"belongs to the user {eve}" in proc.stderr, proc.stderr
            assert f"collected {ada}/{A} (submitted {stamp_of(second)})" in proc.stdout, proc.stdout
            run_cli(root, "autograde", A)
            run_cli(root, "feedback", A, "--release")

            # the newest of ada's own submissions counts, on time; the earlier ones stay in inbound/
            when, score, top, penalty = submission_of(root, ada)
            assert when == parse_utc(stamp_of(second)) and score == top > 0 and not penalty
            assert inbound_names(exchange, ada)[:2] == [first, second]
            # ben's is late: 10% per started day (course_config.py)
            when, score, top, penalty = submission_of(root, ben)
            assert score == top and penalty == pytest.approx(0.1 * score)

            # each student fetches the feedback of the submission that counted
            for name in ("ada", "ben"):
                students.nbgrader(name, "fetch_feedback", A)
            pages = read_feedback(os.path.join(students.home("ada"), A, "feedback"))
            assert list(pages) == [stamp_of(second)], pages.keys()
            assert score_of(pages[stamp_of(second)][A])[0] == top
            pages = read_feedback(os.path.join(students.home("ben"), A, "feedback"))
            assert len(pages) == 1
            students.nbgrader("eve", "fetch_feedback", A)  # nothing of anyone else's
            assert not os.path.exists(os.path.join(students.home("eve"), A))
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---- the grading service -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """(course root, exchange, folder for students): assignment 01 released to the exchange.
    Students act in this process under ids of their own (their submissions belong to root)."""
    base = tmp_path_factory.mktemp("hub")
    root, exchange = make_hub(base, check_owner=False)
    run_cli(root, "release", A, "--exchange")
    return root, exchange, base


def hand_made(exchange, student, stamp, files, suffix="byhand"):
    """A submission written into inbound/ without nbgrader's submit: {name: text, or a function making it}."""
    folder = os.path.join(exchange, "nn-from-scratch", "inbound", f"{student}+{A}+{stamp}+{suffix}")
    os.mkdir(folder)
    for name, content in {"timestamp.txt": stamp, "submission_secret.txt": "s3cret-" + student, **files}.items():
        path = os.path.join(folder, name)
        content(path) if callable(content) else open(path, "w").write(content)
    return folder


def utc_stamp(delta=datetime.timedelta(0)):
    return (datetime.datetime.utcnow() + delta).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def events(log, kind):
    """[(student, assignment)] of the log lines of one kind, in order."""
    return re.findall(rf"^\S+ {kind} (\S+)/(\S+)", log, re.M)


def at_most_one_at_a_time(log, student):
    """Between a grading of student's and its end, no other grading of student's starts."""
    open_ = False
    for line in log.splitlines():
        if re.match(rf"\S+ grading {student}/", line):
            assert not open_, f"two gradings of {student} at once:\n{log}"
            open_ = True
        elif re.match(rf"\S+ (graded|rejected|FAULT) {student}/", line):
            open_ = False


@grades
def test_serve_grades_on_submission_and_withstands_hostile_submissions(hub):
    root, exchange, base = hub
    solved, wrong = solved_notebook(root, A), with_function(solved_notebook(root, A), "sigmoid", WRONG_SIGMOID)
    names = ("ada", "dora", "rene", "zed")
    students = {n: Student(n, base / n, exchange) for n in names}
    for student in students.values():
        student.fetch(A)
    source = os.path.join(root, "source", A, f"{A}.ipynb")
    with Service(root, base / "serve-hostile.log", workers=2) as service:
        service.wait_for(r"worker\(s\) ready", 180)
        # ada submits twice in a row; dora's notebook is cut off
        students["ada"].write(A, wrong)
        students["ada"].submit(A)
        students["ada"].write(A, solved)
        students["ada"].submit(A)
        students["dora"].write(A, nbformat.writes(solved)[:2000])
        students["dora"].submit(A)
        # rene's notebook was saved under another name (the notebook of the release is gone)
        rene = students["rene"].notebook(A)
        os.rename(rene, rene.replace(f"{A}.ipynb", f"{A} (1).ipynb"))
        students["rene"].submit(A)
        # submissions written by hand into inbound/
        hand_made(exchange, "linker", utc_stamp(), {f"{A}.ipynb": lambda p: os.symlink(source, p)})
        hand_made(exchange, "piper", utc_stamp(), {f"{A}.ipynb": os.mkfifo})
        hand_made(exchange, "backdater", utc_stamp(-datetime.timedelta(hours=1)),
                  {f"{A}.ipynb": nbformat.writes(solved)})
        hand_made(exchange, "futurist", utc_stamp(datetime.timedelta(days=3650)), {f"{A}.ipynb": "{}"})
        hand_made(exchange, "..", utc_stamp(), {f"{A}.ipynb": "{}"})
        # then an honest student: the service is still there for them
        students["zed"].write(A, solved)
        students["zed"].submit(A)

        ada = wait_for_feedback(students["ada"], A, timeout=600)
        zed = wait_for_feedback(students["zed"], A, timeout=600)
        dora = wait_for_feedback(students["dora"], A, timeout=600)
        rene = wait_for_feedback(students["rene"], A, timeout=600)
        service.wait_for(r"feedback released (linker|piper|backdater)/", 600, count=3)
        log = service.log()

    # ada: the newest submission counts, graded once or twice but never twice at once
    newest = inbound_names(exchange, "ada")[-1]
    assert len(inbound_names(exchange, "ada")) == 2
    assert list(ada) == [stamp_of(newest)] or stamp_of(newest) in ada
    when, score, top, _ = submission_of(root, "ada")
    assert when == parse_utc(stamp_of(newest)) and score == top > 0
    assert score_of(ada[stamp_of(newest)][A])[0] == top
    at_most_one_at_a_time(log, "ada")
    assert submission_of(root, "zed")[1] == top
    # dora: rejected, and told why in her feedback; nothing recorded
    page = list(dora.values())[0][A]
    assert "not graded" in page and "not valid JSON" in page
    assert re.search(rf"rejected dora/{A} .*not valid JSON", log)
    with gradebook(root) as gb, pytest.raises(Exception):
        gb.find_submission(A, "dora")
    # rene: rejected, and the page (found under the name rene submitted) says which notebook is missing
    page = list(rene.values())[0][f"{A} (1)"]
    assert "not graded" in page and f"{A}.ipynb was not submitted (found: {A} (1).ipynb)" in page
    # the link was not followed (the instructor's source never reached submitted/), the named pipe
    # never opened (the service went on): both rejected, and the students told why
    assert not os.path.exists(os.path.join(root, "submitted", "linker", A, f"{A}.ipynb"))
    for student in ("linker", "piper"):
        assert re.search(rf"rejected {student}/{A} .*{A}.ipynb: a link or special file, left out", log), log
        assert f"{A}.ipynb: a link or special file, left out" in feedback_page(root, student)
    # a back-dated submission is rejected; a future-dated one and a bad name are refused, never collected
    assert re.search(rf"rejected backdater/{A} .*changed at", log), log
    assert re.search(rf"refused futurist\+{A}\+.*later than when it arrived", log), log
    assert re.search(rf"refused \.\.\+{A}\+.*not a student id", log), log
    assert not os.path.exists(os.path.join(root, "submitted", "futurist"))
    assert ("futurist", A) not in events(log, "grading")
    assert "Traceback" not in log, log


def feedback_page(root, student):
    """The page made for a student's submission (in the instructor's feedback/)."""
    pages = glob.glob(os.path.join(root, "feedback", student, A, "*.html"))
    assert pages, f"no feedback made for {student}"
    return open(pages[0]).read()


def worker_pids(service_pid):
    """The service's worker processes (multiprocessing's spawned children)."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                spawned = b"spawn_main" in f.read()
        except (OSError, ValueError, IndexError):
            continue
        if parent == service_pid and spawned:
            pids.append(int(entry))
    return pids


def in_flight_at_most(log, workers):
    """No more submissions in hand at once than workers, by the log's order of events."""
    busy, most = set(), 0
    for line in log.splitlines():
        started = re.match(r"\S+ grading (\S+) ", line)
        ended = re.match(r"\S+ (feedback released|FAULT) (\S+?):? ", line)
        if started:
            busy.add(started.group(1))
        elif ended:
            busy.discard(ended.group(2))
        most = max(most, len(busy))
    assert most <= workers, f"{most} submissions in hand with {workers} workers:\n{log}"
    return most


@grades
def test_serve_restart_loses_nothing_and_grades_nothing_twice(hub):
    """A worker killed mid-grading: its submission is graded again. The service stopped mid-grading:
    that submission is graded at the next start, with one that arrived while it was down; what was
    finished is never graded again."""
    root, exchange, base = hub
    solved = solved_notebook(root, A)
    ann, bob, cat = (Student(n, base / n, exchange) for n in ("ann", "bob", "cat"))
    for student in (ann, bob, cat):
        student.fetch(A)
        student.write(A, solved)
    log = base / "serve-restart.log"
    with Service(root, log, workers=1) as service:
        service.wait_for(r"worker\(s\) ready", 180)
        ann.submit(A)
        service.wait_for(rf"grading ann/{A}")
        time.sleep(1)
        [worker] = worker_pids(service.proc.pid)
        os.kill(worker, signal.SIGKILL)
        service.wait_for(rf"FAULT ann/{A}: the grading worker died .* it will be tried again")
        service.wait_for(rf"feedback released ann/{A}", 900)
        bob.submit(A)
        service.wait_for(rf"grading bob/{A}")
        time.sleep(1)
        started = time.monotonic()
        assert service.stop(signal.SIGTERM) == 0
        assert time.monotonic() - started < 15
    first = service.log()
    assert re.search(rf"stopped; bob/{A} will be graded at the next start", first), first
    assert not os.path.exists(os.path.join(root, "autograded", "bob", A, ".nn-course-graded.json"))
    assert not worker_pids(service.proc.pid)
    cat.submit(A)  # while the service is down

    with Service(root, log, workers=1) as service:
        service.wait_for(rf"feedback released (bob|cat)/{A}", 900, count=2)
        second = service.log()
    assert sorted(events(second, "grading")) == [("bob", A), ("cat", A)], second
    with Service(root, log, workers=1) as service:
        service.wait_for(r"worker\(s\) ready", 180)
        time.sleep(2)  # ten looks at the exchange
        third = service.log()
    assert not re.search(r" (queued|grading) ", third), third

    for student in (ann, bob, cat):
        pages = student.fetch_feedback(A)
        [stamp] = [stamp_of(n) for n in inbound_names(exchange, student.name)]
        assert list(pages) == [stamp]
        when, score, top, _ = submission_of(root, student.name)
        assert when == parse_utc(stamp) and score == top > 0
    assert "Traceback" not in open(log).read()


@grades
def test_serve_burst_in_arrival_order_with_bounded_workers(hub):
    """Twelve students submit at once (one of them twice): each is graded once in the order of
    submission, never more at a time than workers, and every feedback is fetchable."""
    root, exchange, base = hub
    solved = solved_notebook(root, A)
    students = [Student(f"burst{i:02d}", base / f"burst{i:02d}", exchange) for i in range(12)]
    for student in students:
        student.fetch(A)
        student.write(A, solved)
    with Service(root, base / "serve-burst.log", workers=2) as service:
        service.wait_for(r"worker\(s\) ready", 180)
        started = time.monotonic()
        for student in students:
            student.submit(A)
        students[0].submit(A)  # a second submission right after the first
        service.wait_for(r"feedback released burst", 1800, count=len(students))
        took = time.monotonic() - started
        log = service.log()
    print(f"burst of {len(students)}: last feedback after {took:.0f} s")
    in_flight_at_most(log, 2)
    # queued in arrival order (the submissions' timestamps), every student; burst00's second submission
    # may come in before its first is graded (then one grading takes the newest) or after (then two)
    queued = re.findall(r"^\S+ queued (\S+)/\S+ \(submitted ([^)]*)\)", log, re.M)
    assert [stamp for _, stamp in queued] == sorted(stamp for _, stamp in queued), log
    assert {s for s, _ in queued} == {s.name for s in students}, log
    graded_newest = re.findall(r"^\S+ grading burst00/\S+ \(submitted ([^)]*)\)", log, re.M)
    assert graded_newest and graded_newest[-1] == stamp_of(inbound_names(exchange, "burst00")[-1]), log
    gradings = [s for s, _ in events(log, "grading")]
    assert all(gradings.count(s.name) == 1 for s in students[1:]) and gradings.count("burst00") <= 2, log
    for student in students:
        pages = student.fetch_feedback(A)
        newest = stamp_of(inbound_names(exchange, student.name)[-1])
        assert newest in pages and score_of(pages[newest][A])[0] == submission_of(root, student.name)[2]
    assert len(inbound_names(exchange, "burst00")) == 2
    assert submission_of(root, "burst00")[0] == parse_utc(stamp_of(inbound_names(exchange, "burst00")[-1]))
    at_most_one_at_a_time(log, "burst00")
