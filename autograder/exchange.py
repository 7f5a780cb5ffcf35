"""The course's side of nbgrader's exchange: what students submitted, collected
safely, and the feedback released to them.

nbgrader's file-system exchange (c.Exchange.root) holds for the course:

  outbound/<assignment>/                        the release students fetch
  inbound/<student>+<assignment>+<time>+<random>/  every submission; none is ever removed
  feedback/<hash>.html                          released feedback; the hash is of the submission's
                                                secret and the notebook's name, so only the student
                                                holding that submission finds it

Students write inbound/ with their own Unix user, by nbgrader's submit or by
hand, so what is there is untrusted. A submission the service refuses
(`refusal`) is never collected and counts for no one: a name that is not a
submission's, an unknown assignment, a folder not owned by the student its
name claims (c.ExchangeCollect.check_owner), or a time in the future that
would make it the newest forever. The newest accepted submission of a
(student, assignment) is the one that counts; the earlier ones stay in
inbound/. Collecting it copies regular files and folders only, and a
submission whose files changed after its time, or whose timestamp.txt
disagrees with its name, is collected but rejected (`SafeCollect`).

Where a submission stands is read from files alone (`stage`): submitted/ and
its timestamp.txt (collected), the pipeline's markers in autograded/ (graded
or rejected), feedback/ and its timestamp.txt (feedback made for it) and the
exchange's feedback/ (released).
"""
import datetime
import functools
import glob
import html
import os
import pwd
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import notebook_hash, parse_utc, temp_attrs

from . import pipeline
from .results import GraderFault

STUDENT_ID = re.compile(r"[^\W_][\w.@-]*")  # a folder name; never "." or ".."
FUTURE_SLACK = datetime.timedelta(minutes=1)  # clocks of the student's server and the file system may differ
CHANGED_SLACK = datetime.timedelta(minutes=5)  # a slow submit writes its files this long after its time
MAX_FILES = 10_000  # files and folders copied from one submission
MAX_DEPTH = 20  # folders deep


@dataclass
class Submission:
    """One folder in inbound/."""
    path: str
    student: str = ""
    assignment: str = ""
    stamp: str = ""  # the time as nbgrader wrote it in the name (and in timestamp.txt)
    timestamp: datetime.datetime = None  # the same, UTC
    refused: str = None  # why the service never collects it

    @property
    def name(self):
        return os.path.basename(self.path)


def exchange_folder(course):
    """The course's folder in the exchange: <c.Exchange.root>/<course id>."""
    return os.path.join(course.config.Exchange.root, course.config.CourseDirectory.course_id)


def check_owner(config):
    return config.ExchangeCollect.get("check_owner", True)


def read_submission(path, assignments=None, owner_checked=True):
    """The Submission at path, with the reason it is refused, if it is."""
    sub = Submission(path)
    parts = sub.name.rsplit("+", 3)  # usernames may hold '+': nbgrader splits from the right
    if len(parts) == 3:
        parts.append("")
    if len(parts) != 4:
        sub.refused = "its name is not <student>+<assignment>+<time>+<random> (nbgrader's submit names it so)"
        return sub
    sub.student, sub.assignment, sub.stamp = parts[:3]
    try:
        sub.timestamp = parse_utc(sub.stamp)
        info = os.lstat(path)
    except (ValueError, OverflowError, OSError) as exc:
        sub.refused = f"its time cannot be read ({type(exc).__name__})"
        return sub
    if not STUDENT_ID.fullmatch(sub.student):
        sub.refused = f"{sub.student!r} is not a student id"
    elif assignments is not None and sub.assignment not in assignments:
        sub.refused = f"the course has no assignment {sub.assignment!r}"
    elif not stat.S_ISDIR(info.st_mode):
        sub.refused = "it is not a folder"
    elif owner_checked and _owner(info.st_uid) != sub.student:
        sub.refused = f"it claims to be {sub.student}'s but belongs to the user {_owner(info.st_uid)}"
    elif sub.timestamp > _utc(info.st_ctime) + FUTURE_SLACK:
        sub.refused = f"its time {sub.stamp} is later than when it arrived ({_utc(info.st_ctime):%Y-%m-%d %H:%M:%S} UTC)"
    return sub


@functools.lru_cache(maxsize=4096)
def _owner(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"#{uid}"


def _utc(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)


def inbound(course):
    """Every Submission in the course's inbound/, refused ones included (their reason set)."""
    folder = os.path.join(exchange_folder(course), "inbound")
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    assignments, owner_checked = set(course.assignments()), check_owner(course.config)
    return [read_submission(os.path.join(folder, n), assignments, owner_checked) for n in names]


def newest(submissions):
    """{(student, assignment): the newest accepted Submission}."""
    found = {}
    for sub in submissions:
        key = (sub.student, sub.assignment)
        if sub.refused is None and (key not in found or sub.timestamp > found[key].timestamp):
            found[key] = sub
    return found


# ---- collecting -----------------------------------------------------------------------------

def copy_regular_files(src, dest, max_bytes):
    """Copy the folders and regular files under src to dest, never following
    a link and never opening anything else (a link would have the instructor's
    copy read what it points to, a named pipe would block it): every name is
    opened with O_NOFOLLOW relative to its folder's descriptor, so nothing
    swapped in meanwhile is followed either. Returns (what was left out and
    why, {relative path: when its status last changed, UTC})."""
    left_out, changed, state = [], {}, {"bytes": 0, "count": 0}
    try:
        top = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return ["the submission is not a folder"], changed
    try:
        changed["."] = _utc(os.fstat(top).st_ctime)
        _copy_folder(top, dest, "", max_bytes, left_out, changed, state)
    finally:
        os.close(top)
    return left_out, changed


def _copy_folder(fd, dest, rel, max_bytes, left_out, changed, state, depth=0):
    os.makedirs(os.path.join(dest, rel), exist_ok=True)
    with os.scandir(fd) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        name = os.path.join(rel, entry.name)
        state["count"] += 1
        if state["count"] > MAX_FILES or depth > MAX_DEPTH:
            left_out.append(f"{name}: more than {MAX_FILES} files or {MAX_DEPTH} folders deep, left out")
            return
        is_dir = entry.is_dir(follow_symlinks=False)
        if not is_dir and not entry.is_file(follow_symlinks=False):
            left_out.append(f"{name}: a link or special file, left out")
            continue
        flags = os.O_RDONLY | os.O_NOFOLLOW | (os.O_DIRECTORY if is_dir else os.O_NONBLOCK)
        try:
            opened = os.open(entry.name, flags, dir_fd=fd)
        except OSError:  # replaced by a link or a pipe since it was listed
            left_out.append(f"{name}: a link or special file, left out")
            continue
        try:
            info = os.fstat(opened)
            changed[name] = _utc(info.st_ctime)
            if is_dir:
                _copy_folder(opened, dest, name, max_bytes, left_out, changed, state, depth + 1)
            elif not stat.S_ISREG(info.st_mode):
                left_out.append(f"{name}: a link or special file, left out")
            else:
                with open(opened, "rb", closefd=False) as f, open(os.path.join(dest, name), "wb") as out:
                    while chunk := f.read(1 << 20):
                        state["bytes"] += len(chunk)
                        if state["bytes"] > max_bytes:
                            break
                        out.write(chunk)
                if state["bytes"] > max_bytes:
                    os.remove(os.path.join(dest, name))
                    left_out.append(f"{name}: over {max_bytes // 1_000_000} MB in all, left out")
        finally:
            os.close(opened)


def changed_after(changed, timestamp):
    """What changed well after timestamp ({path: UTC} from copy_regular_files):
    a submission edited after it was submitted, or back-dated."""
    return [f"{path} changed at {when:%Y-%m-%d %H:%M:%S} UTC"
            for path, when in sorted(changed.items()) if when > timestamp + CHANGED_SLACK]


class SafeCollect(ExchangeCollect):
    """nbgrader's collect (the newest submission of each student, the earlier
    ones left in inbound/; timestamp.txt and submission_secret.txt come along
    for late penalties and feedback), of accepted submissions only and
    without trusting their contents. What makes the collected submission
    unfit to grade is listed in `problems`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.problems = []
        self.collected = None  # the Submission collected

    def _path_to_record(self, path):
        sub = read_submission(path, owner_checked=self.check_owner)
        return {"username": sub.student, "filename": sub.name, "timestamp": sub.timestamp or datetime.datetime.min,
                "refused": sub.refused}

    def _sort_by_timestamp(self, records):
        return sorted(records, key=lambda r: (r["refused"] is None, r["timestamp"]), reverse=True)

    def copy_files(self):
        self.src_records = [r for r in self.src_records if r["refused"] is None]
        super().copy_files()

    def do_copy(self, src, dest, log=None):
        sub = self.collected = read_submission(src, owner_checked=False)
        max_bytes = 1000 * min(self.coursedir.max_dir_size, self.coursedir.max_file_size)
        with tempfile.TemporaryDirectory(prefix="nn-collect-") as scratch:
            safe = os.path.join(scratch, "submission")
            left_out, changed = copy_regular_files(src, safe, max_bytes)
            super().do_copy(safe, dest)  # nbgrader's rules: ignored files, sizes
        self.problems += left_out + changed_after(changed, sub.timestamp)
        stamp = os.path.join(dest, "timestamp.txt")
        written = open(stamp).read().strip() if os.path.isfile(stamp) else None
        if written is None:
            self.problems.append("timestamp.txt is missing: it was not submitted with nbgrader's submit")
        elif written != sub.stamp:
            self.problems.append(f"timestamp.txt says {written[:40]!r}, its name says {sub.stamp!r}")
        if not os.path.isfile(os.path.join(dest, "submission_secret.txt")):
            self.problems.append("submission_secret.txt is missing: it was not submitted with nbgrader's submit")


def collect(api, student, assignment):
    """Collect the newest accepted submission of (student, assignment) into
    submitted/ with nbgrader's exchange; returns (the Submission collected or
    None, what makes it unfit to grade: the student's to fix). A collect that
    fails is the grader's fault."""
    with temp_attrs(api.coursedir, assignment_id=assignment, student_id=student):
        app = SafeCollect(coursedir=api.coursedir, authenticator=api.authenticator, parent=api)
        app.update = True
        try:
            app.start()
        except Exception as exc:
            raise GraderFault(f"nbgrader could not collect {student}/{assignment}: {type(exc).__name__}: {exc}") \
                from exc
    return app.collected, app.problems


# ---- where a submission stands -----------------------------------------------------------------

def timestamp_in(folder):
    """The time in folder/timestamp.txt (UTC), or None."""
    try:
        with open(os.path.join(folder, "timestamp.txt")) as f:
            return parse_utc(f.read().strip())
    except (OSError, ValueError, OverflowError):
        return None


def outcome(course, student, assignment):
    """'graded' or 'rejected' if the collected submission was graded or
    rejected (pipeline's markers, which are cleared before each collect), else None."""
    folder = pipeline.autograded_folder(course, student, assignment)
    if os.path.exists(os.path.join(folder, pipeline.MARKER)):
        return "graded"
    try:
        with open(os.path.join(folder, pipeline.FAILED)) as f:
            return "rejected" if f.read().startswith("rejected") else None
    except OSError:
        return None


def released(course, student, assignment):
    """Every feedback page made for the submission is in the exchange's feedback/."""
    folder = course.path("feedback", student, assignment)
    try:
        with open(os.path.join(folder, "submission_secret.txt")) as f:
            secret = f.read()
    except OSError:
        return True  # no secret: nothing can ever be released for it
    pages = [os.path.basename(p)[:-5] for p in glob.glob(os.path.join(glob.escape(folder), "*.html"))]
    return all(os.path.exists(os.path.join(exchange_folder(course), "feedback",
                                           notebook_hash(secret=secret, notebook_id=page) + ".html"))
               for page in pages)


def stage(course, sub):
    """What is left to do for a (newest) submission: 'grade' (collect and
    grade it), 'feedback' (make and release its feedback), or None."""
    student, assignment = sub.student, sub.assignment
    if timestamp_in(course.path("feedback", student, assignment)) == sub.timestamp \
            and released(course, student, assignment):
        return None
    if timestamp_in(course.path("submitted", student, assignment)) == sub.timestamp \
            and outcome(course, student, assignment):
        return "feedback"
    return "grade"


def clear_for_collect(course, student, assignment):
    """Before collecting: no marker of an earlier grading, no half-done copy."""
    folder = pipeline.autograded_folder(course, student, assignment)
    for name in (pipeline.MARKER, pipeline.FAILED):
        if os.path.exists(os.path.join(folder, name)):
            os.remove(os.path.join(folder, name))
    shutil.rmtree(course.path("submitted", student, assignment), ignore_errors=True)


# ---- feedback ---------------------------------------------------------------------------------

NOT_GRADED = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{notebook}: not graded</title></head>
<body style="font-family: sans-serif; max-width: 50em; margin: 2em auto">
<h1>{notebook}: not graded</h1>
<p>Your submission of {assignment} made at {stamp} could not be graded, so nothing was recorded for it:</p>
<ul>{problems}</ul>
<p>Fix this and submit again: your newest submission is the one that counts.</p>
</body></html>
"""


def release_feedback(api, course, sub, status, problems):
    """Make the feedback of the collected submission sub and release it to
    the student: nbgrader's feedback of a graded submission; for a submission
    that was rejected, or whose notebooks were not graded, a page per
    submitted notebook that says why."""
    student, assignment = sub.student, sub.assignment
    submitted = course.path("submitted", student, assignment)
    folder = course.path("feedback", student, assignment)
    shutil.rmtree(folder, ignore_errors=True)
    if status == "graded":
        result = api.generate_feedback(assignment, student, force=True)
        if not result.get("success"):
            raise GraderFault(f"nbgrader could not make the feedback: {_last_lines(result)}")
    os.makedirs(folder, exist_ok=True)
    for name in ("timestamp.txt", "submission_secret.txt"):
        if os.path.isfile(os.path.join(submitted, name)) and not os.path.exists(os.path.join(folder, name)):
            shutil.copy(os.path.join(submitted, name), os.path.join(folder, name))
    if not os.path.isfile(os.path.join(folder, "timestamp.txt")):  # says which submission this feedback is of
        with open(os.path.join(folder, "timestamp.txt"), "w") as f:
            f.write(sub.stamp)
    if not glob.glob(os.path.join(glob.escape(folder), "*.html")):
        # a page for each notebook the student may hold: the student's fetch finds those of their own copy
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems or ["the grader found nothing to grade"])
        notebooks = course.source_notebooks(assignment) + glob.glob(os.path.join(glob.escape(submitted), "*.ipynb"))
        for name in sorted({os.path.basename(p)[:-6] for p in notebooks}):
            with open(os.path.join(folder, name + ".html"), "w", encoding="utf-8") as f:
                f.write(NOT_GRADED.format(notebook=html.escape(name), assignment=html.escape(assignment),
                                          stamp=html.escape(sub.stamp), problems=items))
    if os.path.isfile(os.path.join(folder, "submission_secret.txt")):
        result = api.release_feedback(assignment, student)
        if not result.get("success"):
            raise GraderFault(f"nbgrader could not release the feedback: {_last_lines(result)}")


def _last_lines(result, count=5):
    lines = [ln for ln in ((result.get("log") or "") + (result.get("error") or "")).splitlines() if ln.strip()]
    return " | ".join(lines[-count:])
