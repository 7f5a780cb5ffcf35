"""The checking vocabulary shared by visible and hidden tests.

A test cell calls check(fn, case, case, ...). Each case calls the function
(through autograder.harness, so every call also reports which arguments it
changed and how many lines of student code it ran) and yields CheckResults.

In a student's notebook check() prints what passed, says what the hidden tests
will add at grading, and raises AssertionError listing what failed. At grading
time the same cell runs in the grader's own process, where fn is a
RemoteFunction standing for the student's function inside the sandboxed
kernel, and check() hands its results to the grader instead of printing
(see collecting()). The results carry their own messages; partial credit is
the passed weight over the total weight of a cell.
"""
import contextlib

import numpy as np

from . import harness
from .compare import compare, show
from .functions import spec_for, output_names

_collector = None  # a list while the grader collects results, else None


class CheckResult:
    def __init__(self, function, title, passed, message="", hint="", weight=1.0, hidden=False):
        self.function = function
        self.title = title
        self.passed = bool(passed)
        self.message = message
        self.hint = hint
        self.weight = float(weight)
        self.hidden = hidden

    def line(self):
        mark = "PASS" if self.passed else "FAIL"
        text = f"[{mark}] {self.function}: {self.title}"
        if not self.passed:
            text += f"\n       what is off: {self.message}"
            if self.hint:
                text += f"\n       usual cause: {self.hint}"
        return text

    def as_dict(self):
        return dict(vars(self))

    def __repr__(self):
        return f"CheckResult({self.function!r}, {self.title!r}, passed={self.passed})"


class Target:
    """The function under test, local or remote, with the calls made to it."""

    def __init__(self, fn):
        self.fn = fn
        self.remote = hasattr(fn, "remote_invoke")
        self.name = fn.name if self.remote else getattr(fn, "__name__", type(fn).__name__)
        self.modified = set()  # argument labels changed by any call
        self.returned = 0  # calls that returned a value (not an error)

    def call(self, args=(), kwargs=None, count_lines=False, arg_names=()):
        if self.remote:
            outcome = self.fn.remote_invoke(tuple(args), dict(kwargs or {}), tuple(arg_names), count_lines)
        else:
            outcome = harness.invoke(self.fn, tuple(_copy(a) for a in args),
                                     {k: _copy(v) for k, v in (kwargs or {}).items()}, arg_names, count_lines)
        self.modified.update(outcome.modified)
        self.returned += not outcome.error
        return outcome

    def sibling(self, name):
        """Another function of the same notebook (gradient_check calls backward)."""
        if self.remote:
            return Target(self.fn.sibling(name))
        return Target(getattr(self.fn, "__globals__", {}).get(name))


def _copy(value):
    """Each side of a comparison gets its own copy of the inputs."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    return value


def error_message(name, error):
    message = str(error.get("message") or "").strip()
    text = f"{name} raised {error.get('type')}" + (f": {message}" if message else "")
    where = error.get("where") or []
    if where:
        last = where[-1]
        text += f" (in {last['function']}, line {last['line']}"
        text += f": {last['text'].strip()})" if last.get("text") else ")"
    return text


_ERROR_HINTS = {
    "NotImplementedError": "the function is still the stub: write your solution where it says YOUR CODE HERE",
    "NameError": "a name is used before it is defined: run the cells above, or check the spelling",
    "ValueError": "often a shape mismatch in a product: print the shapes of both factors",
    "IndexError": "an index runs past the end: check which axis holds the samples (columns) and which the features (rows)",
    "TimeoutError": "the call did not finish in time: an endless loop, or far more work than needed",
}


def error_result(name, title, error, hidden):
    return CheckResult(name, title, False, error_message(name, error), _ERROR_HINTS.get(error.get("type"), ""),
                       hidden=hidden)


def compare_outputs(name, value, expected, *, rtol=1e-5, atol=1e-7, m=None, exact_types=True):
    """All the mismatches between a returned value and the expected one, as
    (what, hint) pairs, naming each output by its name in the contract."""
    names = output_names(name)
    problems = []

    def walk(label, got, want):
        if isinstance(want, list) and _numbers(want):  # a list of numbers (costs) anywhere: compare as arrays
            want = np.asarray(want, dtype=float)
            got = np.asarray(got, dtype=float) if _numbers(got) else got
        mismatch = compare(label, got, want, rtol=rtol, atol=atol, m=m, exact_type=exact_types)
        if mismatch:
            problems.append((mismatch.what, mismatch.hint))
        elif isinstance(want, tuple):
            for i, (g, w) in enumerate(zip(got, want)):
                walk(names[i] if names and len(names) == len(want) else f"{label}[{i}]", g, w)
        elif isinstance(want, dict):
            for key in want:
                walk(key, got[key], want[key])

    if isinstance(expected, list):  # a list of numbers (costs): compare as an array
        expected = np.asarray(expected, dtype=float)
        value = np.asarray(value, dtype=float) if _numbers(value) else value
    walk(names[0] if names and len(names) == 1 else name, value, expected)
    return problems


def _numbers(value):
    return isinstance(value, (list, tuple)) and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                                                    for v in value)


# ---- cases ------------------------------------------------------------------

class Case:
    hidden = False

    def results(self, target):  # -> list of CheckResult
        raise NotImplementedError


class example(Case):
    """fn(*args, **kwargs) must equal expect (a number, an array, a tuple or a dict of them)."""

    def __init__(self, title, args=(), expect=None, *, kwargs=None, rtol=1e-5, atol=1e-7, hint="", exact_types=True):
        self.title, self.args, self.kwargs, self.expect = title, tuple(args), dict(kwargs or {}), expect
        self.rtol, self.atol, self.hint, self.exact_types = rtol, atol, hint, exact_types

    def results(self, target):
        outcome = target.call(self.args, self.kwargs)
        if outcome.error:
            return [error_result(target.name, self.title, outcome.error, self.hidden)]
        problems = compare_outputs(target.name, outcome.value, self.expect, rtol=self.rtol, atol=self.atol,
                                   exact_types=self.exact_types)
        return [_result_from(target.name, self.title, problems, self.hint, self.hidden)]


class holds(Case):
    """predicate(value) must be true for fn(*args, **kwargs); it may instead
    return a string saying what is off."""

    def __init__(self, title, args=(), predicate=None, *, kwargs=None, hint=""):
        self.title, self.args, self.kwargs, self.predicate, self.hint = title, tuple(args), dict(kwargs or {}), predicate, hint

    def results(self, target):
        outcome = target.call(self.args, self.kwargs)
        if outcome.error:
            return [error_result(target.name, self.title, outcome.error, self.hidden)]
        try:
            verdict = self.predicate(outcome.value)
        except Exception as exc:  # the value was not of the expected kind
            verdict = f"the returned value could not be checked ({type(exc).__name__}: {exc}); it is {show(outcome.value)}"
        passed = verdict is True or (verdict is not False and not isinstance(verdict, str) and bool(verdict))
        message = verdict if isinstance(verdict, str) else (f"the returned value is {show(outcome.value)}" if not passed else "")
        return [CheckResult(target.name, self.title, passed, message, self.hint, hidden=self.hidden)]


def _result_from(name, title, problems, hint, hidden):
    if not problems:
        return CheckResult(name, title, True, hidden=hidden)
    what = "; ".join(p[0] for p in problems)
    # the test's own hint knows the function; the comparison's pattern hints are the fallback
    hints = hint or "; ".join(dict.fromkeys(p[1] for p in problems if p[1]))
    return CheckResult(name, title, False, what, hints, hidden=hidden)


class hidden_tests(Case):
    """The hidden checks of a function (fresh random inputs compared with the
    reference, gradient checks, vectorisation, arguments left alone), as the
    function's entry in autograder.functions describes them."""
    hidden = True

    def __init__(self, module):
        self.module = module

    def results(self, target):
        from .reference import hidden_results  # needs the reference solutions: grader only
        return hidden_results(self.module, target)


# ---- running a test cell ----------------------------------------------------

def check(fn, *cases):
    """Run the cases on fn. In a student's notebook: print the results, raise
    AssertionError if any failed, return nothing (the cell shows no value).
    While the grader collects: hand it the results and return them."""
    __tracebackhide__ = True  # IPython shows the course's message, not this module's frames
    target = Target(fn)
    results = []
    for case in cases:
        try:
            results.extend(case.results(target))
        except Exception as exc:  # a broken case must not hide the others
            results.append(CheckResult(target.name, getattr(case, "title", type(case).__name__), False,
                                       f"the check could not run: {type(exc).__name__}: {exc}", hidden=case.hidden))
    if _collector is not None:
        _collector.extend(results)
        return results
    _report_to_student(target.name, results)


def _report_to_student(name, results):
    __tracebackhide__ = True
    text = "\n".join(r.line() for r in results)
    failed = [r for r in results if not r.passed]
    if failed:
        raise AssertionError(f"{len(failed)} of {len(results)} checks of {name} failed:\n{text}")
    spec = spec_for(name)
    later = spec.hidden_summary if spec else "fresh random inputs compared with the reference solution"
    kind = "" if any(r.hidden for r in results) else "visible "
    print(f"{text}\n{len(results)} {kind}check{'s' if len(results) != 1 else ''} of {name} passed. "
          f"This is not the grade: at grading, hidden tests also check {later}.")


@contextlib.contextmanager
def collecting():
    """Within this block check() gives its results to the grader (the list
    yielded) instead of printing and raising."""
    global _collector
    previous, _collector = _collector, []
    try:
        yield _collector
    finally:
        _collector = previous


def score(results):
    """Fraction of the weight that passed (1.0 for no results)."""
    total = sum(r.weight for r in results)
    return 1.0 if total == 0 else sum(r.weight for r in results if r.passed) / total


def close_to(value, title=""):
    """A predicate for holds(): approximately equal to value."""
    return lambda got: bool(np.allclose(np.asarray(got, dtype=float), value)) or f"{title} is {show(got)}, not {show(value)}"


__all__ = ["check", "example", "holds", "hidden_tests", "close_to"]
