"""The hidden checks: a student's function against the reference solutions.

Only the grader runs this module (it imports solutions/, which students do not
have). Inputs are made here, each side gets its own copy, the reference runs
here, and the student's outputs arrive as plain data; the comparison never
leaves this process.
"""
import importlib
import math
import os
import sys
import zlib

import numpy as np

from .checks import CheckResult, compare_outputs, error_message, _copy
from .compare import show
from .functions import SPECS
from .wire import Expr

GRADIENT_TOLERANCE = 1e-6
SEED = int(os.environ.get("NN_COURSE_SEED", "2026"))


def import_reference(module):
    try:
        return importlib.import_module(f"solutions.{module}")
    except ModuleNotFoundError:
        # an instructor validating source/ in a kernel: find the course root above the notebook
        path = os.getcwd()
        while path != os.path.dirname(path):
            if os.path.exists(os.path.join(path, "course_config.py")):
                sys.path.insert(0, path)
                return importlib.import_module(f"solutions.{module}")
            path = os.path.dirname(path)
        raise


def _live(value):
    """Arguments as the reference takes them (an Expr becomes a function here)."""
    if isinstance(value, Expr):
        return eval(value.source, {"np": np, "math": math})
    if isinstance(value, tuple):
        return tuple(_live(v) for v in value)
    if isinstance(value, list):
        return [_live(v) for v in value]
    if isinstance(value, dict):
        return {k: _live(v) for k, v in value.items()}
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


def _parts(spec, value):
    """The top-level outputs of a returned value, named: [(name, part)]."""
    if isinstance(value, tuple) and len(spec.outputs) == len(value) > 1:
        return list(zip(spec.outputs, value))
    if isinstance(value, dict) and len(spec.outputs) == 1:
        return list(value.items())
    return [(spec.outputs[0], value)]


def same_as_reference(spec, target, ref, rng):
    expected_parts = None
    failures = {}
    for k in range(spec.calls):
        args, kwargs = spec.make(rng, k)
        expected = ref(*_live(_copy(args)), **_live(_copy(kwargs)))
        outcome = target.call(args, kwargs, arg_names=spec.args)
        where = f" on the input {describe_inputs(spec, args, kwargs)}"
        parts = _parts(spec, expected)
        expected_parts = expected_parts or [name for name, _ in parts]
        if outcome.error:
            for name, _ in parts:
                failures.setdefault(name, (error_message(spec.name, outcome.error) + where, ""))
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
                                       m=_samples(args), exact_types=spec.exact_types)
            if problems:
                failures.setdefault(name, (problems[0][0] + where, problems[0][1]))
    titled = (lambda name: f"{name}: ") if len(expected_parts) > 1 else (lambda name: "")
    return [CheckResult(spec.name, f"{titled(name)}same as the reference on {spec.calls} fresh random inputs of "
                        "different shapes", name not in failures, *failures.get(name, ("", "")), hidden=True)
            for name in expected_parts]


def _shell(expected):
    """Only the outer structure of a tuple or dict (its size, its keys), so
    that a wrong structure is reported once, not for every part."""
    return tuple(_SKIP for _ in expected) if isinstance(expected, tuple) else {k: _SKIP for k in expected}


_SKIP = object()  # compare() passes over it


def _samples(args):
    """The number of samples m (the last axis of the 2-D arrays), to name 1/m slips."""
    sizes = [a.shape[1] for a in args if isinstance(a, np.ndarray) and a.ndim == 2]
    return max(set(sizes), key=sizes.count) if sizes else None


# ---- gradient checks -----------------------------------------------------------

def _get(container, path):
    for key in path.split("/"):
        container = container[key]
    return container


def _with(args, spec, path, value):
    """A copy of args with the argument at path ("w" or "params/W1") replaced."""
    args = _copy(list(args))
    name, *rest = path.split("/")
    index = spec.args.index(name)
    if not rest:
        args[index] = value
    else:
        holder = args[index]
        for key in rest[:-1]:
            holder = holder[key]
        holder[rest[-1]] = value
    return args


def numerical_gradient(cost, args, spec, path, eps=1e-6):
    name, *rest = path.split("/")
    x0 = args[spec.args.index(name)]
    x0 = _get(x0, "/".join(rest)) if rest else x0
    x = np.array(x0, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += eps
        minus[i] -= eps
        as_arg = (lambda v: float(v)) if isinstance(x0, float) else (lambda v: v)
        grad[i] = (cost(*_with(args, spec, path, as_arg(plus))) - cost(*_with(args, spec, path, as_arg(minus)))) / (2 * eps)
    return grad


def gradient_result(spec, target, ref_module, gradient, rng):
    out_name = gradient.output if isinstance(gradient.output, str) else spec.outputs[gradient.output]
    title = f"{out_name} passes a gradient check (central differences of the cost)"
    args, kwargs = spec.make(rng, 1)
    outcome = target.call(args, kwargs, arg_names=spec.args)
    if outcome.error:
        return CheckResult(spec.name, title, False, error_message(spec.name, outcome.error), hidden=True)
    try:
        got = outcome.value[gradient.output]
        got = np.asarray(got, dtype=float)
    except Exception:
        return CheckResult(spec.name, title, False, f"{out_name} could not be read from what {spec.name} returned",
                           hidden=True)
    cost = lambda *a: gradient.cost(ref_module, *a, **kwargs)
    numeric = numerical_gradient(cost, list(args), spec, gradient.wrt)
    if got.size != numeric.size:
        return CheckResult(spec.name, title, False, f"{out_name} has {got.size} entries but the gradient has "
                           f"{numeric.size} (shape {numeric.shape})", hidden=True)
    got = got.reshape(numeric.shape)
    denominator = np.linalg.norm(got) + np.linalg.norm(numeric)
    error = 0.0 if denominator == 0 else float(np.linalg.norm(got - numeric) / denominator)
    if error < GRADIENT_TOLERANCE:
        return CheckResult(spec.name, title, True, hidden=True)
    return CheckResult(spec.name, title, False,
                       f"{out_name} disagrees with the numerical gradient: relative error {error:.3g} "
                       f"(a right gradient is below {GRADIENT_TOLERANCE:g}) on the input {describe_inputs(spec, args, kwargs)}",
                       "derive the gradient of the cost itself (with its 1/m), and check each factor of the chain rule",
                       hidden=True)


# ---- loops over samples ----------------------------------------------------------

def _tile(value, m, times):
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[1] == m:
        return np.tile(value, (1, times))
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.shape[0] == m:
        return np.tile(value, times)
    if isinstance(value, dict):
        return {k: _tile(v, m, times) for k, v in value.items()}
    return value


def _line_counts(spec, target, calls, kwargs, title):
    """The lines the student's code ran for each argument list in calls, or
    the failed CheckResult (with title) saying why they could not be counted."""
    counts = []
    for args in calls:
        outcome = target.call(args, kwargs, count_lines=True, arg_names=spec.args)
        if outcome.error or outcome.lines is None:
            return CheckResult(spec.name, title, False,
                               error_message(spec.name, outcome.error) if outcome.error else "no line count came back",
                               hidden=True)
        counts.append(outcome.lines)
    return counts


def loop_result(spec, target, rng):
    args, kwargs = spec.make(rng, 3)
    if "X" in spec.args and isinstance(args[spec.args.index("X")], np.ndarray):
        m = args[spec.args.index("X")].shape[1]  # samples are the columns of X
    else:
        m = _samples(args) or next(a.shape[0] for a in args if isinstance(a, np.ndarray))
    counts = _line_counts(spec, target, [[_tile(a, m, times) for a in args] for times in (1, 5)], kwargs,
                          "the loop check could run")
    if isinstance(counts, CheckResult):
        return counts
    grows = counts[1] > counts[0]
    if spec.vectorised:
        return CheckResult(spec.name, "vectorised: no Python loop over the samples", not grows,
                           f"with 5 times as many samples ({m} -> {5 * m}) your code ran {counts[0]} -> {counts[1]} "
                           "lines: a Python loop (for, while, a comprehension, map or np.vectorize) visits the samples",
                           "replace the loop by whole-array operations: a matrix product and np.sum(..., axis=1, keepdims=True)",
                           hidden=True)
    return CheckResult(spec.name, "visits the samples in an explicit Python loop, as the slide's algorithm", grows,
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


# ---- the extra checks of some functions ------------------------------------------

def _on_fixed_input(spec, target, args, expected, title, shown, hint=None, what=None, **tolerances):
    """One hidden check on a fixed input: the student's output on args against
    expected; shown names the input in the message; hint (if None, the
    comparison's own) is the usual cause."""
    outcome = target.call(args, arg_names=spec.args)
    if outcome.error:
        return [CheckResult(spec.name, title, False, error_message(spec.name, outcome.error), hidden=True)]
    problems = compare_outputs(what or spec.name, outcome.value, expected, **tolerances)
    return [CheckResult(spec.name, title, not problems, problems[0][0] + f" on {shown}" if problems else "",
                        (problems[0][1] if problems else "") if hint is None else hint, hidden=True)]


def _large_inputs(spec, target, ref_module, rng):
    if spec.name == "sigmoid":
        z = np.array([[-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0]])
    else:
        z = np.array([[1000.0, -1000.0, 5.0], [1001.0, 1000.0, 5.0], [999.0, 0.0, 5.0]])
    return _on_fixed_input(spec, target, (z,), getattr(ref_module, spec.name)(z.copy()),
                           "finite and right for inputs of size 1000 (no overflow)", f"the input z = {show(z)}",
                           rtol=1e-6, atol=1e-12)


def _large_scores(spec, target, ref_module, rng):
    """Scores Z = W X + b near 1000 (b = 1000 + noise): exp overflows unless the column's max is taken off first."""
    K, n_x, m = 3, 2, 4
    W, X = rng.normal(0, 1, (K, n_x)), rng.normal(0, 1, (n_x, m))
    b = 1000.0 + rng.normal(0, 1, (K, 1))
    Y = np.eye(K)[:, rng.integers(0, K, m)]
    return _on_fixed_input(spec, target, (W, b, X, Y), ref_module.softmax_propagate(W.copy(), b.copy(), X.copy(), Y.copy()),
                           "finite and right for scores near 1000 (no overflow)",
                           f"W = {show(W)}, b = {show(b)}, X = {show(X)}, Y = {show(Y)}",
                           "use your stable softmax (subtract each column's max before np.exp), not np.exp(W @ X + b)",
                           rtol=1e-6, atol=1e-9)


def _feature_loop(spec, target, ref_module, rng):
    """The contract's loop over the n_x features (the slide's dw1, dw2): lines grow with n_x."""
    (w, b, X, Y), kwargs = spec.make(rng, 3)
    counts = _line_counts(spec, target, [(np.tile(w, (times, 1)), b, np.tile(X, (times, 1)), Y) for times in (1, 5)],
                          kwargs, "the feature-loop check could run")
    if isinstance(counts, CheckResult):
        return [counts]
    return [CheckResult(spec.name, "visits the n_x features in an explicit Python loop, as the slide's dw1, dw2",
                        counts[1] > counts[0],
                        f"with 5 times as many features ({X.shape[0]} -> {5 * X.shape[0]}) your code ran the same "
                        f"number of lines ({counts[0]})",
                        "inside the loop over the samples, loop over j = 0..n_x-1: dw[j, 0] += X[j, i] * dz "
                        "(the slide's dw1 += x1(i) dz(i), dw2 += x2(i) dz(i))", hidden=True)]


def _unselected_zeros(spec, target, ref_module, rng):
    A = np.array([[0.7, 0.0, 0.2], [0.3, 1.0, 0.0], [0.0, 0.0, 0.8]])
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    return _on_fixed_input(spec, target, (A, Y), ref_module.cross_entropy(A.copy(), Y.copy()),
                           "finite where A is exactly 0 at classes that Y does not select", f"A = {show(A)}, Y = {show(Y)}",
                           "0 * log(0) is nan in numpy: take the log only where Y > 0 (or of the selected probabilities)",
                           what="J")


def _initialisation(spec, target, ref_module, rng):
    sizes = (40, 50, 3)
    results = []

    def result(title, ok, message="", hint=""):
        results.append(CheckResult(spec.name, title, ok, message, hint, hidden=True))

    first = target.call(sizes, {"seed": 7}, arg_names=spec.args)
    again = target.call(sizes, {"seed": 7}, arg_names=spec.args)
    other = target.call(sizes, {"seed": 8}, arg_names=spec.args)
    for outcome in (first, again, other):
        if outcome.error:
            result("runs", False, error_message(spec.name, outcome.error))
            return results
    shapes = {"W1": (50, 40), "b1": (50, 1), "W2": (3, 50), "b2": (3, 1)}
    params = first.value
    problems = compare_outputs("params", params, {k: np.zeros(s) for k, s in shapes.items()}, rtol=0.0, atol=1e300)
    result("the four parameters with their shapes for n_x=40, n_h=50, n_y=3", not problems,
           problems[0][0] if problems else "", problems[0][1] if problems else "")
    if problems:
        return results
    biases_zero = all(np.all(params[k] == 0) for k in ("b1", "b2"))
    result("zero biases", biases_zero, "the biases are not all zero", "b1 = np.zeros((n_h, 1)), b2 = np.zeros((n_y, 1))")
    spread = float(np.std(params["W1"]))
    result("weights of scale 0.01 (standard normal x 0.01)", 0.007 < spread < 0.013 and abs(float(np.mean(params["W1"]))) < 0.003,
           f"W1 has mean {float(np.mean(params['W1'])):.3g} and standard deviation {spread:.3g}",
           "np.random.randn(n_h, n_x) * 0.01 (or rng.standard_normal(...) * 0.01)")
    same = all(np.array_equal(first.value[k], again.value[k]) for k in shapes)
    differ = not np.array_equal(first.value["W1"], other.value["W1"])
    result("the same seed gives the same weights, another seed other weights", same and differ,
           "two calls with seed=7 differ" if not same else "seed=7 and seed=8 give the same W1",
           "seed a generator with the seed argument: rng = np.random.default_rng(seed) (or np.random.seed(seed))")
    return results


def _gradient_check_value(spec, target, ref_module, rng):
    net = importlib.import_module("solutions.two_layer_forward")
    title = "agrees with the relative difference between your backward and numerical gradients"
    results = []
    for k, activation in ((0, "tanh"), (1, "relu")):
        n_x, n_h, n_y, m = (3, 4, 1, 5) if k == 0 else (2, 3, 1, 4)
        X = rng.normal(0, 1, (n_x, m))
        Y = (rng.random((1, m)) < 0.5).astype(float)
        params = {"W1": rng.normal(0, 1, (n_h, n_x)), "b1": rng.normal(0, 1, (n_h, 1)),
                  "W2": rng.normal(0, 1, (n_y, n_h)), "b2": rng.normal(0, 1, (n_y, 1))}
        if activation == "relu":
            # a kink: sample 0 is all zeros and the bias of the unit that weighs most in W2 is 0, so Z1 = 0
            # there. Central differences see half of relu's slope; backward sees relu'(0). The relative
            # difference is then about 1e-2 (only b1 of that unit differs): a check that ignores the
            # activation, or leaves out b1, returns a tiny number instead.
            X[:, 0] = 0.0
            params["b1"][int(np.argmax(np.abs(params["W2"][0]))), 0] = 0.0
        outcome = target.call((params, X, Y), {"hidden_activation": activation}, arg_names=spec.args)
        _, cache = net.forward(X, params, activation)
        theirs = target.sibling("backward").call((X, Y, params, cache), {"hidden_activation": activation})
        if outcome.error or theirs.error:
            error = outcome.error or theirs.error
            name = spec.name if outcome.error else "backward"
            results.append(CheckResult(spec.name, f"{title} ({activation})", False, error_message(name, error), hidden=True))
            continue
        cost = lambda p: net.compute_cost(net.forward(X, p, activation)[0], Y)
        try:
            g = np.concatenate([np.asarray(theirs.value["d" + key], dtype=float).ravel() for key in ("W1", "b1", "W2", "b2")])
        except Exception:
            results.append(CheckResult(spec.name, f"{title} ({activation})", False,
                                       "backward's gradients could not be read", hidden=True))
            continue
        g_num = np.concatenate([numerical_gradient(cost, [params], _OneArg, "params/" + key).ravel()
                                for key in ("W1", "b1", "W2", "b2")])
        expected = float(np.linalg.norm(g - g_num) / (np.linalg.norm(g) + np.linalg.norm(g_num)))
        value = outcome.value
        ok = isinstance(value, (float, np.floating)) and math.isfinite(float(value)) and (
            (expected < 1e-6 and float(value) < 1e-6) or
            (expected >= 1e-6 and expected / 10 < float(value) < expected * 10))
        results.append(CheckResult(spec.name, f"{title} ({activation})", ok,
                                   f"gradient_check returned {show(value)} but your backward's gradients differ from "
                                   f"the numerical ones by {expected:.3g}",
                                   "compare all four gradients, flattened and concatenated, with central differences "
                                   "of compute_cost(forward(..., hidden_activation)) (the activation passed on to "
                                   "forward and backward), and use ||g - g_num|| / (||g|| + ||g_num||)",
                                   hidden=True))
    return results


class _OneArg:
    args = ("params",)


def _training(spec, target, ref_module, rng):
    X = rng.normal(0, 1, (2, 24))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    iterations, rate, seed = 12, 0.5, 3
    results = []
    for activation, n_h in (("tanh", 4), ("relu", 5)):
        runs = f"({activation}, n_h = {n_h})"
        outcome = target.call((X, Y, n_h, iterations, rate), {"hidden_activation": activation, "seed": seed},
                              arg_names=spec.args)
        if outcome.error:
            results.append(CheckResult(spec.name, f"runs {runs}", False, error_message(spec.name, outcome.error),
                                       hidden=True))
            continue
        try:
            params, costs = outcome.value
            costs = np.asarray(costs, dtype=float).ravel()
        except Exception:
            results.append(CheckResult(spec.name, f"runs {runs}", False, "train must return (params, costs)",
                                       hidden=True))
            continue
        if activation == "tanh":
            ok = (costs.size == iterations and np.all(np.isfinite(costs)) and abs(costs[0] - math.log(2)) < 0.05
                  and costs[-1] < costs[0])
            results.append(CheckResult(spec.name, f"one cost per iteration, starting near ln 2 and going down {runs}",
                                       ok, f"costs = {show(costs)} for {iterations} iterations",
                                       "record compute_cost once per iteration, before the update; start from "
                                       "initialize_parameters (weights x 0.01)", hidden=True))
        same_title = f"the same costs and parameters as the reference trained from your initialize_parameters {runs}"
        start = target.sibling("initialize_parameters").call((2, n_h, 1), {"seed": seed})
        if start.error or not isinstance(start.value, dict):
            results.append(CheckResult(spec.name, same_title, False, "initialize_parameters did not return a dict",
                                       hidden=True))
            continue
        reference = dict(start.value)
        ref_costs = []
        for _ in range(iterations):
            A2, cache = ref_module.forward(X, reference, activation)
            ref_costs.append(ref_module.compute_cost(A2, Y))
            reference = ref_module.update_parameters(reference, ref_module.backward(X, Y, reference, cache, activation),
                                                     rate)
        problems = compare_outputs(spec.name, outcome.value, (reference, ref_costs), rtol=1e-6, atol=1e-9)
        if not problems:
            problems = compare_outputs("costs", costs, np.array(ref_costs), rtol=1e-6, atol=1e-9)
            problems += compare_outputs("params", params, reference, rtol=1e-6, atol=1e-9)
        results.append(CheckResult(spec.name, same_title, not problems, "; ".join(p[0] for p in problems),
                                   "initialise with initialize_parameters(n_x, n_h, n_y, seed) with the n_h given, then "
                                   "per iteration: forward, compute_cost, backward, update_parameters, passing "
                                   "hidden_activation on to forward and backward", hidden=True))
    return results


EXTRAS = {"large_inputs": _large_inputs, "unselected_zeros": _unselected_zeros, "initialisation": _initialisation,
          "gradient_check_value": _gradient_check_value, "training": _training, "feature_loop": _feature_loop,
          "large_scores": _large_scores}


def hidden_results(module, target):
    spec = SPECS.get((module, target.name))
    if spec is None:
        return [CheckResult(target.name, "hidden tests", False, f"no hidden tests are known for {module}.{target.name}",
                            hidden=True)]
    ref_module = import_reference(module)
    rng = np.random.default_rng([SEED, zlib.crc32(f"{module}.{target.name}".encode())])
    results = []
    if spec.compare_reference:
        results += same_as_reference(spec, target, getattr(ref_module, spec.name), rng)
    results += [gradient_result(spec, target, ref_module, g, rng) for g in spec.gradients]
    if spec.vectorised or spec.loops:
        results.append(loop_result(spec, target, rng))
    for extra in spec.extra:
        results += EXTRAS[extra](spec, target, ref_module, rng)
    results.append(untouched_result(target))
    return results
