"""Calls a student's function and reports what it did.

This module runs where the student's code runs: inside the student's kernel at
grading time (driven by autograder.remote through files), and in the student's
own process for visible tests. It reports facts only (the value returned, the
exception raised, which arguments changed, how many lines of the student's code
ran); it never sees an expected value, so there is nothing here to steal.
Everything it reports is treated by the grader as the student's answer.
"""
import os
import sys
import sysconfig
import traceback
from dataclasses import dataclass, field

import numpy as np

from . import wire

# Taken before any student code runs, so that rebinding numpy's names later
# does not change how arguments are copied and compared.
_array_copy = np.array
_array_equal = np.array_equal
_ndarray = np.ndarray
_settrace = sys.settrace
_gettrace = sys.gettrace
_setprofile = sys.setprofile
_getprofile = sys.getprofile

_LIBRARY_DIRS = tuple(sorted({os.path.realpath(p) for p in (
    sys.prefix, sys.base_prefix, sys.exec_prefix,
    sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
    os.path.dirname(os.path.abspath(__file__)),
)}))


@dataclass
class Outcome:
    """What one call did: value (plain data after the wire), error (None or a
    dict with type, message and where: the student's frames), modified (labels
    of the arguments the call changed), lines (lines of student code run, or
    None), called (names of the student's functions the call ran)."""
    value: object = None
    error: dict = None
    modified: list = field(default_factory=list)
    lines: int = None
    called: list = field(default_factory=list)

    def as_dict(self):
        return {"value": self.value, "error": self.error, "modified": list(self.modified), "lines": self.lines,
                "called": list(self.called)}

    @classmethod
    def from_dict(cls, d):
        """An outcome that came over the wire: anything malformed is refused."""
        if not isinstance(d, dict):
            raise wire.WireError("malformed outcome")
        error = d.get("error")
        if error is not None and not isinstance(error, dict):
            raise wire.WireError("malformed error")
        lines = d.get("lines")
        called = d.get("called") if type(d.get("called")) is list else []
        return cls(d.get("value"), error, [str(m) for m in d.get("modified") or []],
                   lines if type(lines) is int else None, [str(c)[:100] for c in called[:50]])


# ---- arguments: snapshot before the call, compare after -------------------

def _snapshot(value, label, out, depth=0):
    if depth > 6:
        return
    if isinstance(value, _ndarray):
        out.append((label, value, _array_copy(value, copy=True)))
    elif type(value) is dict:
        out.append((label, value, dict(value)))
        for k, v in value.items():
            _snapshot(v, f"{label}[{k!r}]", out, depth + 1)
    elif type(value) is list:
        out.append((label, value, list(value)))
        for i, v in enumerate(value):
            _snapshot(v, f"{label}[{i}]", out, depth + 1)
    elif type(value) is tuple:
        for i, v in enumerate(value):
            _snapshot(v, f"{label}[{i}]", out, depth + 1)


def _changed(snapshot):
    changed = []
    for label, obj, before in snapshot:
        if isinstance(obj, _ndarray):
            same = obj.shape == before.shape and obj.dtype == before.dtype and _array_equal(
                _ndarray.view(obj, _ndarray), before, equal_nan=before.dtype.kind in "fc")
        elif type(obj) is dict:
            same = obj.keys() == before.keys() and all(obj[k] is before[k] for k in before)
        else:
            same = len(obj) == len(before) and all(a is b for a, b in zip(obj, before))
        if not same:
            changed.append(label)
    return changed


# ---- counting lines of student code ----------------------------------------

def _is_student_file(filename):
    if filename[:1] == "/":
        filename = os.path.realpath(filename)
    return not filename.startswith(_LIBRARY_DIRS) and not filename.startswith("<frozen")


class _LineCounter:
    """Counts 'line' events in the student's own code (notebook cells, helpers)."""

    def __init__(self):
        self.lines = 0

    def _local(self, frame, event, arg):
        if event == "line":
            self.lines += 1
        return self._local

    def _global(self, frame, event, arg):
        return self._local if _is_student_file(frame.f_code.co_filename) else None

    def __enter__(self):
        self._previous = _gettrace()
        _settrace(self._global)
        return self

    def __exit__(self, *exc):
        _settrace(self._previous)


class _CallRecorder:
    """The names of the student's functions that run during a call (so that a
    function that fails because a function it calls is wrong can say so)."""

    _student_code = {}  # code object -> whether it is the student's

    def __init__(self):
        self.names = set()

    def _profile(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            known = self._student_code.get(code)
            if known is None:
                known = self._student_code[code] = _is_student_file(code.co_filename)
            if known and not code.co_name.startswith("<"):
                self.names.add(code.co_name)

    def __enter__(self):
        self._previous = _getprofile()
        _setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        _setprofile(self._previous)


# ---- the call ---------------------------------------------------------------

def _student_frames(tb, limit=6):
    frames = [f for f in traceback.extract_tb(tb) if _is_student_file(f.filename)]
    return [{"function": f.name, "line": f.lineno, "text": (f.line or "")[:300]} for f in frames[-limit:]]


def _describe(exc):
    try:
        message = str(exc)
    except BaseException:
        message = "(the exception's message could not be shown)"
    return {"type": type(exc).__name__, "message": message[:1000], "where": _student_frames(exc.__traceback__)}


def invoke(fn, args=(), kwargs=None, arg_names=(), count_lines=False):
    """Call fn(*args, **kwargs) and return an Outcome whose value has been
    through the wire (so it holds plain data only, as the grader will see it)."""
    kwargs = dict(kwargs or {})
    names = list(arg_names) + [f"argument {i + 1}" for i in range(len(arg_names), len(args))]
    snapshot = []
    for name, value in zip(names, args):
        _snapshot(value, name, snapshot)
    for name, value in kwargs.items():
        _snapshot(value, name, snapshot)
    counter = _LineCounter() if count_lines else None
    recorder = _CallRecorder()
    value = error = None
    try:
        if not callable(fn):
            raise TypeError(f"{type(fn).__name__} object is not callable")
        with recorder:
            if counter:
                with counter:
                    value = fn(*args, **kwargs)
            else:
                value = fn(*args, **kwargs)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: a student's exit() is a failed call
        error = _describe(exc)
    modified = _changed(snapshot)
    try:
        value = wire.loads(wire.dumps(value))
    except BaseException as exc:
        value, error = None, error or {"type": type(exc).__name__, "message": "the value returned could not be read", "where": []}
    called = sorted(recorder.names - {getattr(fn, "__name__", None)})
    return Outcome(value, error, modified, counter.lines if counter else None, called)


# ---- serving the grader inside the kernel ----------------------------------

def _user_namespace():
    ip = sys.modules.get("IPython")
    shell = ip.get_ipython() if ip else None
    return shell.user_ns if shell is not None else sys.modules["__main__"].__dict__


def serve(request_path):
    """Answer one request file from the grader with a response file beside it.

    Requests: {"call": name, "args", "kwargs", "arg_names", "count_lines"},
    {"describe": name} or {"get": name}."""
    request = wire.read(request_path, allow_expr=True)
    namespace = _user_namespace()
    if "describe" in request:
        name = request["describe"]
        found = name in namespace
        answer = {"defined": found, "callable": found and callable(namespace[name])}
    elif "get" in request:
        answer = invoke(lambda: namespace[request["get"]]).as_dict()
    else:
        fn = namespace.get(request["call"])
        if fn is None and request["call"] not in namespace:
            answer = Outcome(error={"type": "NameError", "where": [],
                                    "message": f"name '{request['call']}' is not defined"}).as_dict()
        else:
            answer = invoke(fn, wire.build(request["args"]), wire.build(request["kwargs"]),
                            request["arg_names"], request["count_lines"]).as_dict()
    wire.write(request_path + ".out", answer)


def serve_loop(requests_path, answers_path):
    """Answer requests until the grader says stop: each line on the requests pipe is the path of a
    request file; once its answer is written, the same line goes back on the answers pipe."""
    with open(requests_path, "rb") as requests, open(answers_path, "wb", buffering=0) as answers:
        for line in requests:
            path = line.rstrip(b"\n")
            if path == b"stop":
                return
            serve(path.decode())  # looked up each time: what the kernel's autograder.harness.serve is now
            answers.write(path + b"\n")
