"""The hidden checks: a student's function against the reference solution.

Generic: what is checked of a function is its Spec, in its assignment's
checks module (solutions/<module>_checks.py, a list SPECS); this module knows
no assignment. For every spec: fresh random inputs of several shapes compared
with the reference (when the spec has a `make`), gradient checks, the loop
check (vectorised code, or an explicit loop), the spec's extra checks, and
that no argument is modified in place.

Only the grader (and an instructor running a source notebook) runs these:
they import solutions/. Inputs are made here, each side gets its own copy,
the reference runs here, and the student's outputs arrive as plain data.
A check that raises here is the grader's fault (GraderFault), never a
failed check of the student's.
"""
import os
import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import course
from .compare import compare_outputs, show
from .results import CheckResult, GraderFault, error_message, error_hint
from .wire import Expr, build

GRADIENT_TOLERANCE = 1e-6
SEED = int(os.environ.get("NN_COURSE_SEED", "2026"))  # set one per term: hidden inputs are then unknown


@dataclass(frozen=True)
class Gradient:
    """output (index or key in the returned value) must be the gradient of
    cost(reference, *args, **kwargs) with respect to the argument wrt ("w", or "params/W1")."""
    output: Any
    wrt: str
    cost: Callable


@dataclass(frozen=True)
class Spec:
    """How one graded function is checked. make(rng, k) -> (args, kwargs)
    makes the k-th fresh input (None: no comparison with the reference).
    extras: functions extra(spec, target, reference, rng) -> [CheckResult],
    each with a one-line .summary (see extra())."""
    name: str
    args: tuple
    outputs: tuple
    make: Callable = None
    vectorised: bool = False  # no Python loop over the samples
    loops: bool = False  # an explicit Python loop over the samples
    gradients: tuple = ()
    extras: tuple = ()
    rtol: float = 1e-5
    atol: float = 1e-7
    calls: int = 4  # fresh inputs compared with the reference
    exact_types: bool = True  # False: a number may also come back as a 0-d array

    @property
    def checked(self):
        """What the hidden checks of this function check, one item each, for students."""
        parts = []
        if self.make:
            parts.append("fresh random inputs of other shapes, compared with the reference solution")
        parts += [extra.summary for extra in self.extras]
        if self.gradients:
            parts.append("a gradient check of " + ", ".join(
                str(g.output) if isinstance(g.output, str) else self.outputs[g.output] for g in self.gradients))
        if self.vectorised:
            parts.append("that no Python loop runs over the samples (vectorised code)")
        if self.loops:
            parts.append("that the samples are visited in an explicit Python loop, as the slide's algorithm does")
        parts.append("that no argument is modified in place")
        return parts


def extra(summary):
    """Marks an extra check of a checks module with its one-line summary for students."""
    def mark(check):
        check.summary = summary
        return check
    return mark


# ---- where the specs come from --------------------------------------------------------------

def specs(module, root=None):
    """{function name: Spec} of an assignment (its checks module's SPECS)."""
    checks = course.load(f"{module}_checks", root)
    found = {spec.name: spec for spec in getattr(checks, "SPECS", ())}
    if not found:
        raise GraderFault(f"solutions/{module}_checks.py has no SPECS")
    return found


def spec_of(module, name, root=None):
    return specs(module, root).get(name)


# ---- inputs -----------------------------------------------------------------------------------

def labels(rng, m):
    """Binary labels Y of shape (1, m) with both classes once m > 1."""
    Y = (rng.random((1, m)) < 0.5).astype(np.int64)
    Y[0, 0] = 1 - Y[0, -1] if m > 1 else Y[0, 0]
    return Y


def away_from_zero(rng, shape, scale=3.0):
    """Normal values none of which is near 0 (a derivative at exactly 0 is a convention)."""
    z = rng.normal(0.0, scale, shape)
    return np.where(np.abs(z) < 1e-3, 0.5, z)


def copy_value(value):
    """Each side of a comparison gets its own copy of the inputs."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: copy_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(copy_value(v) for v in value)
    return value


def describe_inputs(spec, args, kwargs):
    names = list(spec.args) + [f"argument {i + 1}" for i in range(len(spec.args), len(args))]
    parts = [f"{n} = {_short(v)}" for n, v in zip(names, args)]
    parts += [f"{n} = {_short(v)}" for n, v in kwargs.items()]
    return ", ".join(parts)


def _short(value):
    if isinstance(value, np.ndarray) and value.size > 12:
        return f"<array of shape {value.shape}>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Expr):
        return value.source
    return show(value)


def samples(args):
    """The number of samples m (the last axis of the 2-D arrays), to name 1/m slips."""
    sizes = [a.shape[1] for a in args if isinstance(a, np.ndarray) and a.ndim == 2]
    return max(set(sizes), key=sizes.count) if sizes else None


# ---- the same values as the reference ----------------------------------------------------------

def _parts(spec, value):
    """The top-level outputs of a returned value, named: [(name, part)]."""
    if isinstance(value, tuple) and len(spec.outputs) == len(value) > 1:
        return list(zip(spec.outputs, value))
    if isinstance(value, dict) and len(spec.outputs) == 1:
        return list(value.items())
    return [(spec.outputs[0], value)]


_SKIP = object()  # compare() passes over it


def _shell(expected):
    """Only the outer structure of a tuple or dict (its size, its keys), so
    that a wrong structure is reported once, not for every part."""
    return tuple(_SKIP for _ in expected) if isinstance(expected, tuple) else {k: _SKIP for k in expected}


def run_reference(spec, reference_fn, args, kwargs):
    """The reference's output; a reference that fails is the grader's fault."""
    try:
        return reference_fn(*build(copy_value(args)), **build(copy_value(kwargs)))
    except Exception as exc:
        raise GraderFault(f"the reference {spec.name} failed on the grader's own input: "
                          f"{type(exc).__name__}: {exc}") from exc


def same_as_reference(spec, target, reference, rng):
    reference_fn = getattr(reference, spec.name)
    expected_parts = None
    failures = {}
    for k in range(spec.calls):
        args, kwargs = spec.make(rng, k)
        expected = run_reference(spec, reference_fn, args, kwargs)
        outcome = target.call(args, kwargs, arg_names=spec.args)
        where = f" on the input {describe_inputs(spec, args, kwargs)}"
        parts = _parts(spec, expected)
        expected_parts = expected_parts or [name for name, _ in parts]
        if outcome.error:
            for name, _ in parts:
                failures.setdefault(name, (error_message(spec.name, outcome.error) + where, error_hint(outcome.error)))
            continue
        structure = (compare_outputs(spec.name, outcome.value, _shell(expected))
                     if isinstance(expected, (tuple, dict)) else [])
        if structure:
            for name, _ in parts:
                failures.setdefault(name, (structure[0][0] + where, structure[0][1]))
            continue
        got = dict(_parts(spec, outcome.value))
        for name, want in parts:
            problems = compare_outputs(name, got.get(name), want, rtol=spec.rtol, atol=spec.atol,
                                       m=samples(args), exact_types=spec.exact_types)
            if problems:
                failures.setdefault(name, (problems[0][0] + where, problems[0][1]))
    titled = (lambda name: f"{name}: ") if len(expected_parts) > 1 else (lambda name: "")
    return [CheckResult(spec.name, f"{titled(name)}same as the reference on {spec.calls} fresh random inputs of "
                        "different shapes", name not in failures, *failures.get(name, ("", "")), hidden=True)
            for name in expected_parts]


# ---- gradient checks -----------------------------------------------------------------------------

def _get(container, path):
    for key in path.split("/"):
        container = container[key]
    return container


def _with(args, arg_names, path, value):
    """A copy of args with the argument at path ("w" or "params/W1") replaced."""
    args = copy_value(list(args))
    name, *rest = path.split("/")
    index = list(arg_names).index(name)
    if not rest:
        args[index] = value
    else:
        holder = args[index]
        for key in rest[:-1]:
            holder = holder[key]
        holder[rest[-1]] = value
    return args


def numerical_gradient(cost, args, arg_names, path, eps=1e-6):
    """Central differences of cost(*args) with respect to the argument at path."""
    name, *rest = path.split("/")
    x0 = args[list(arg_names).index(name)]
    x0 = _get(x0, "/".join(rest)) if rest else x0
    x = np.array(x0, dtype=float)
    grad = np.zeros_like(x)
    as_arg = (lambda v: float(v)) if isinstance(x0, float) else (lambda v: v)
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (cost(*_with(args, arg_names, path, as_arg(plus))) -
                   cost(*_with(args, arg_names, path, as_arg(minus)))) / (2 * eps)
    return grad


def relative_error(got, want):
    denominator = np.linalg.norm(got) + np.linalg.norm(want)
    return 0.0 if denominator == 0 else float(np.linalg.norm(got - want) / denominator)


def gradient_result(spec, target, reference, gradient, rng):
    out_name = gradient.output if isinstance(gradient.output, str) else spec.outputs[gradient.output]
    title = f"{out_name} passes a gradient check (central differences of the cost)"
    args, kwargs = spec.make(rng, 1)
    outcome = target.call(args, kwargs, arg_names=spec.args)
    if outcome.error:
        return CheckResult(spec.name, title, False, error_message(spec.name, outcome.error),
                           error_hint(outcome.error), hidden=True)
    try:
        got = np.asarray(outcome.value[gradient.output], dtype=float)
    except Exception:
        return CheckResult(spec.name, title, False, f"{out_name} could not be read from what {spec.name} returned",
                           hidden=True)
    try:
        numeric = numerical_gradient(lambda *a: gradient.cost(reference, *a, **kwargs), list(args), spec.args,
                                     gradient.wrt)
    except Exception as exc:
        raise GraderFault(f"the gradient check of {spec.name} failed in the grader: {type(exc).__name__}: {exc}") from exc
    if got.size != numeric.size:
        return CheckResult(spec.name, title, False, f"{out_name} has {got.size} entries but the gradient has "
                           f"{numeric.size} (shape {numeric.shape})", hidden=True)
    error = relative_error(got.reshape(numeric.shape), numeric)
    if error < GRADIENT_TOLERANCE:
        return CheckResult(spec.name, title, True, hidden=True)
    return CheckResult(spec.name, title, False,
                       f"{out_name} disagrees with the numerical gradient: relative error {error:.3g} "
                       f"(a right gradient is below {GRADIENT_TOLERANCE:g}) on the input {describe_inputs(spec, args, kwargs)}",
                       "derive the gradient of the cost itself (with its 1/m), and check each factor of the chain rule",
                       hidden=True)


# ---- loops over samples ------------------------------------------------------------------------------

def _tile(value, m, times):
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[1] == m:
        return np.tile(value, (1, times))
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.shape[0] == m:
        return np.tile(value, times)
    if isinstance(value, dict):
        return {k: _tile(v, m, times) for k, v in value.items()}
    return value


def line_counts(spec, target, calls, kwargs, title):
    """The lines the student's code ran for each argument list in calls, or
    the failed CheckResult of the check titled title, saying why they could not be counted."""
    counts = []
    for args in calls:
        outcome = target.call(args, kwargs, count_lines=True, arg_names=spec.args)
        if outcome.error or outcome.lines is None:
            return CheckResult(spec.name, title, False,
                               error_message(spec.name, outcome.error) if outcome.error
                               else "the lines your code ran could not be counted (no count came back from your kernel)",
                               error_hint(outcome.error) if outcome.error else "", hidden=True)
        counts.append(outcome.lines)
    return counts


def loop_result(spec, target, rng):
    args, kwargs = spec.make(rng, 3)
    if "X" in spec.args and isinstance(args[spec.args.index("X")], np.ndarray):
        m = args[spec.args.index("X")].shape[1]  # samples are the columns of X
    else:
        m = samples(args) or next(a.shape[0] for a in args if isinstance(a, np.ndarray))
    title = ("vectorised: no Python loop over the samples" if spec.vectorised else
             "visits the samples in an explicit Python loop, as the slide's algorithm")
    counts = line_counts(spec, target, [[_tile(a, m, times) for a in args] for times in (1, 5)], kwargs, title)
    if isinstance(counts, CheckResult):
        return counts
    grows = counts[1] > counts[0]
    if spec.vectorised:
        return CheckResult(spec.name, title, not grows,
                           f"with 5 times as many samples ({m} -> {5 * m}) your code ran {counts[0]} -> {counts[1]} "
                           "lines: a Python loop (for, while, a comprehension, map or np.vectorize) visits the samples",
                           "replace the loop by whole-array operations: a matrix product and np.sum(..., axis=1, keepdims=True)",
                           hidden=True)
    return CheckResult(spec.name, title, grows,
                       f"with 5 times as many samples your code ran the same number of lines ({counts[0]}): "
                       "this assignment asks for the loop version (the vectorised one is the next assignment)",
                       "write the for loop over i = 1..m of the slide", hidden=True)


def untouched_result(target):
    changed = sorted(target.modified)
    if not target.returned:  # nothing to judge: a function that never returns modifies nothing
        return CheckResult(target.name, "leaves its arguments unmodified", False,
                           f"no call of {target.name} returned a value, so this could not be checked", hidden=True)
    return CheckResult(target.name, "leaves its arguments unmodified", not changed,
                       f"{target.name} changed its argument{'s' if len(changed) > 1 else ''} {', '.join(changed)} in place",
                       "compute new arrays (w = w - alpha * dw) instead of changing the caller's (w -= ...), "
                       "and copy before writing into an array (x = x.copy())", hidden=True)


# ---- helpers for the extra checks of checks modules ------------------------------------------------

def on_fixed_input(spec, target, args, expected, title, shown, hint=None, what=None, **tolerances):
    """One hidden check on a fixed input: the student's output on args against
    expected; shown names the input in the message; hint (if None, the
    comparison's own) is the usual cause."""
    outcome = target.call(args, arg_names=spec.args)
    if outcome.error:
        return [CheckResult(spec.name, title, False, error_message(spec.name, outcome.error),
                            error_hint(outcome.error), hidden=True)]
    problems = compare_outputs(what or spec.name, outcome.value, expected, **tolerances)
    return [CheckResult(spec.name, title, not problems, problems[0][0] + f" on {shown}" if problems else "",
                        (problems[0][1] if problems else "") if hint is None else hint, hidden=True)]


# ---- all the hidden checks of one function -----------------------------------------------------------

def hidden_results(module, target, root=None):
    """Every hidden check of target (a checks.Target) as its assignment's spec says.
    root: the course whose solutions/ holds the reference (None: see course.load)."""
    spec = spec_of(module, target.name, root)
    if spec is None:
        raise GraderFault(f"solutions/{module}_checks.py has no spec for {target.name}")
    reference = course.load(module, root)
    rng = np.random.default_rng([SEED, zlib.crc32(f"{module}.{target.name}".encode())])
    try:
        results = []
        if spec.make:
            results += same_as_reference(spec, target, reference, rng)
        results += [gradient_result(spec, target, reference, g, rng) for g in spec.gradients]
        if spec.vectorised or spec.loops:
            results.append(loop_result(spec, target, rng))
        for check in spec.extras:
            results += check(spec, target, reference, rng)
        results.append(untouched_result(target))
    except GraderFault:
        raise
    except Exception as exc:  # the student's values are plain data: a check must handle all of them
        raise GraderFault(f"a hidden check of {target.name} failed in the grader: {type(exc).__name__}: {exc}") from exc
    return results
