"""The checking vocabulary of the test cells, visible and hidden.

A test cell calls check(fn, case, case, ...). Each case calls the function
(through autograder.harness, so every call also reports which arguments it
changed and how many lines of student code it ran) and yields CheckResults.

In a student's notebook check() prints what passed and raises
AssertionError listing what failed. At grading the same cell runs in the
grader's own process, where fn is a RemoteFunction standing for the
student's function inside the sandboxed kernel, and check() hands its
results to the grader instead of printing (see collecting()). Partial
credit is the passed weight over the total weight of a cell.

This module knows no assignment: what the hidden tests check of a function
is its spec in the assignment's checks module (autograder.hidden).
"""
import contextlib
import re
from dataclasses import dataclass, field

import numpy as np

from . import harness
from .wire import build
from .compare import compare_outputs, show
from .hidden import copy_value, samples
from .results import CheckResult, GraderFault, error_result, score  # noqa: F401 (score: for the grader)

_grading = None  # a _Grading while the grader collects results, else None


@dataclass
class _Grading:
    results: list = field(default_factory=list)
    root: str = None  # the course whose solutions/ the hidden tests compare with
    module: str = None  # the assignment's module (its checks module names the outputs)
    failing: set = field(default_factory=set)  # functions of this notebook whose checks failed so far


_failing_here = set()  # the same, in a student's own kernel


@contextlib.contextmanager
def collecting(root=None, module=None, failing=None):
    """Within this block check() gives its results to the grader (the list
    yielded) instead of printing and raising. failing: the set of the
    notebook's functions whose checks failed so far (shared by its test cells)."""
    global _grading
    previous, _grading = _grading, _Grading(root=root, module=module, failing=set() if failing is None else failing)
    try:
        yield _grading.results
    finally:
        _grading = previous


class Target:
    """The function under test, local or remote, with the calls made to it."""

    def __init__(self, fn):
        self.fn = fn
        self.remote = hasattr(fn, "remote_invoke")
        self.name = fn.name if self.remote else getattr(fn, "__name__", type(fn).__name__)
        self.function = self.name  # the function called; name may say whose checks these are (check's name=)
        self.modified = set()  # argument labels changed by any call
        self.returned = 0  # calls that returned a value (not an error)
        self.called = set()  # the student's other functions that its calls ran

    def call(self, args=(), kwargs=None, count_lines=False, arg_names=()):
        if self.remote:
            outcome = self.fn.remote_invoke(tuple(args), dict(kwargs or {}), tuple(arg_names), count_lines)
        else:
            outcome = harness.invoke(self.fn, build(copy_value(tuple(args))), build(copy_value(dict(kwargs or {}))),
                                     arg_names, count_lines)
        self.modified.update(outcome.modified)
        self.called.update(outcome.called)
        self.returned += not outcome.error
        return outcome

    def sibling(self, name):
        """Another function of the same notebook (gradient_check calls backward)."""
        if self.remote:
            return Target(self.fn.sibling(name))
        return Target(getattr(self.fn, "__globals__", {}).get(name))

    @property
    def outputs(self):
        """The names of what the function returns (its contract's), or () if unknown."""
        if _grading is not None and _grading.module:
            from .hidden import spec_of
            try:
                spec = spec_of(_grading.module, self.function, _grading.root)  # a given wrapper has none
            except GraderFault:  # an assignment without a checks module: the outputs go unnamed
                spec = None
            return spec.outputs if spec else ()
        return () if self.remote else returned_names(getattr(self.fn, "__doc__", None))


def returned_names(docstring):
    """The names in a docstring's "Returns a tuple (J, dw, db)", else ()."""
    found = re.search(r"Returns a tuple[^(]*\(([^)]*)\)", docstring or "")
    names = [n.strip() for n in found.group(1).split(",")] if found else []
    return tuple(names) if names and all(n.isidentifier() for n in names) else ()


# ---- cases ------------------------------------------------------------------

class Case:
    hidden = False
    title = ""

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
        outputs = target.outputs
        if isinstance(self.expect, tuple) and len(outputs) != len(self.expect):
            outputs = ()
        problems = compare_outputs(target.name, outcome.value, self.expect, outputs if isinstance(self.expect, tuple)
                                   else (), rtol=self.rtol, atol=self.atol, m=samples(self.args),
                                   exact_types=self.exact_types)
        if problems and outcome.modified:
            problems.append(("", f"{target.name} changed its argument {', '.join(outcome.modified)} in place: "
                                 "compute new arrays instead (w = w - alpha * dw, not w -= ...)"))
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
        except Exception as exc:  # the value was not of the kind the predicate expects: the student's
            verdict = f"the returned value could not be checked ({type(exc).__name__}: {exc}); it is {show(outcome.value)}"
        passed = verdict is True or (verdict is not False and not isinstance(verdict, str) and bool(verdict))
        message = verdict if isinstance(verdict, str) else (f"the returned value is {show(outcome.value)}" if not passed else "")
        return [CheckResult(target.name, self.title, passed, message, self.hint, hidden=self.hidden)]


def _result_from(name, title, problems, hint, hidden):
    if not problems:
        return CheckResult(name, title, True, hidden=hidden)
    what = "; ".join(p[0] for p in problems if p[0])
    # what the returned value itself shows (a ratio, a shape, a NaN) first; the test's own hint where it shows nothing
    diagnosed = "; ".join(dict.fromkeys(p[1] for p in problems if p[1]))
    return CheckResult(name, title, False, what, diagnosed or hint, hidden=hidden)


class hidden_tests(Case):
    """The hidden checks of a function, as its assignment's checks module
    (solutions/<module>_checks.py) describes them: fresh random inputs
    compared with the reference, gradient checks, vectorisation, arguments
    left alone, extras."""
    hidden = True

    def __init__(self, module):
        self.module = module
        self.title = "hidden tests"

    def results(self, target):
        from .hidden import hidden_results  # needs the reference solutions: grader (and instructor) only
        return hidden_results(self.module, target, _grading.root if _grading else None)


# ---- running a test cell ----------------------------------------------------

def check(fn, *cases, name=None):
    """Run the cases on fn. In a student's notebook: print the results, raise
    ChecksFailed if any failed, return nothing (the cell shows no value).
    While the grader collects: hand it the results and return them.
    name: the student's function the checks are about, where fn is a
    wrapper given in the notebook (numerical_gradient_of calls numerical_gradient)."""
    __tracebackhide__ = True
    target = Target(fn)
    if name:
        target.name = name
    results = []
    for case in cases:
        try:
            results.extend(case.results(target))
        except GraderFault:
            raise
        except Exception as exc:  # the checks take any plain data: an exception here is the grader's own
            raise GraderFault(f"the check {case.title!r} of {target.name} failed in the grader: "
                              f"{type(exc).__name__}: {exc}") from exc
    _blame_callees(target, results, _grading.failing if _grading is not None else _failing_here)
    if _grading is not None:
        _grading.results.extend(results)
        return results
    _report_to_student(target.name, results)


def _blame_callees(target, results, failing):
    """A function that fails while a function it calls fails its own checks:
    say first which one to fix. Then note whether this function failed."""
    failed = [r for r in results if not r.passed]
    culprits = sorted((target.called & failing) - {target.name})
    if failed and culprits:
        them = ", ".join(culprits)
        first = (f"fix {them} first: {target.name} calls your {them}, which "
                 f"{'fails its' if len(culprits) == 1 else 'fail their'} own checks")
        for result in failed:
            result.hint = f"{first}; then: {result.hint}" if result.hint else first
    (failing.add if failed else failing.discard)(target.name)


class ChecksFailed(AssertionError):
    """Some checks of a function failed; a notebook shows the message alone, no traceback."""


def _show_message_only(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for ChecksFailed: the course's message, not the frames of this package."""
    lines = [f"{etype.__name__}: {value}"]
    shell._showtraceback(etype, value, lines)
    return lines


def _install_notebook_handler():
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((ChecksFailed,), _show_message_only)


_install_notebook_handler()


def _report_to_student(name, results):
    __tracebackhide__ = True
    text = "\n".join(r.line() for r in results)
    failed = [r for r in results if not r.passed]
    if failed:
        raise ChecksFailed(f"{len(failed)} of {len(results)} checks of {name} failed:\n{text}")
    kind = "" if any(r.hidden for r in results) else "visible "
    print(f"{text}\n{len(results)} {kind}check{'s' if len(results) != 1 else ''} of {name} passed. "
          f"This is not the grade: at grading, hidden tests also check {name} on fresh inputs of other shapes, "
          "and more (the hidden test cell below says what).")


def close_to(value, title=""):
    """A predicate for holds(): approximately equal to value."""
    return lambda got: bool(np.allclose(np.asarray(got, dtype=float), value)) or f"{title} is {show(got)}, not {show(value)}"


__all__ = ["check", "example", "holds", "hidden_tests", "close_to"]
