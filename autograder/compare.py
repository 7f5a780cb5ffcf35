"""Comparing a student's output with an expected one, and naming the usual cause.

compare() returns None when the output is right, or a Mismatch that says what
is off and, where the difference has a recognisable shape (a lost keepdims, a
transposed product, a missing 1/m, a sign flip, log10 for ln), the usual cause.
Both sides are plain data here (values that came through autograder.wire).
"""
import math
from dataclasses import dataclass

import numpy as np

from .wire import Opaque


@dataclass
class Mismatch:
    what: str  # what is off
    hint: str = ""  # the usual cause, where the difference shows one


def show(value, precision=4, depth=0):
    """A short text for a value in a message: one line, long arrays and lists cut."""
    if depth > 3:
        return "..."
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return show(value[()], precision)
        if value.ndim > 1 and value.size > 12:
            if value.dtype.kind in "biuf" and np.all(np.isfinite(value)):
                return f"<array of shape {value.shape}, values from {show(value.min())} to {show(value.max())}>"
            return f"<array of shape {value.shape}>"
        text = np.array2string(value, precision=precision, threshold=12, edgeitems=2, max_line_width=10**6,
                               suppress_small=True, separator=", ")
        text = " ".join(text.split())
        return f"{text} (shape {value.shape})" if value.size > 12 else text
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{precision + 2}g}"
    if isinstance(value, list) and _numbers(value):
        return show(np.asarray(value, dtype=float), precision) if value else "[]"
    if isinstance(value, (tuple, list)):
        items = [show(v, precision, depth + 1) for v in value[:6]] + (["..."] if len(value) > 6 else [])
        return ("(" if isinstance(value, tuple) else "[") + ", ".join(items) + (")" if isinstance(value, tuple) else "]")
    if isinstance(value, dict):
        items = [f"{k!r}: {show(v, precision, depth + 1)}" for k, v in list(value.items())[:8]]
        return "{" + ", ".join(items + (["..."] if len(value) > 8 else [])) + "}"
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def describe_type(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, Opaque):
        return f"a {value.type_name}"
    if isinstance(value, np.generic):
        return f"a numpy {value.dtype} scalar"
    return f"a {type(value).__name__}"


def _as_float_array(value):
    """Plain float64 array of a number or numeric array, or None."""
    if isinstance(value, bool) or value is None or isinstance(value, (Opaque, str)):
        return None
    if isinstance(value, (int, float, np.generic, np.ndarray)):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return array.astype(np.float64)
    return None


def _shape_hint(name, got, want):
    if len(want) == 2 and got == (want[0],) and want[1] == 1:
        return f"keep the column: {name} must be {want[0]} x 1, e.g. np.sum(..., axis=1, keepdims=True) or .reshape({want[0]}, 1)"
    if len(want) == 2 and got == (want[1],) and want[0] == 1:
        return f"keep the row: {name} must be 1 x {want[1]}, e.g. keepdims=True or .reshape(1, {want[1]})"
    if len(got) == 2 and len(want) == 2 and got == want[::-1]:
        return "the result is transposed: check the order of the factors in the product and where .T belongs"
    if len(want) == 1 and len(got) == 2 and want[0] in got and 1 in got:
        return f"{name} must be a flat vector of shape {want}: e.g. np.argmax(..., axis=0) gives one label per column"
    if got == () and want != ():
        return "the result collapsed to a single number: a sum over the wrong axis (or over all axes)?"
    return "check the shapes in each product (samples are columns) and the axis of every sum"


def _scale_hint(actual, expected, m=None):
    """A usual cause when actual is a constant multiple of expected."""
    a, e = actual.ravel(), expected.ravel()
    mask = np.abs(e) > 1e-8 * max(1.0, float(np.max(np.abs(e))))
    if not np.any(mask):
        return ""
    ratios = a[mask] / e[mask]
    k = float(np.median(ratios))
    if not math.isfinite(k) or not np.allclose(ratios, k, rtol=1e-4, atol=1e-9):
        return ""
    known = [(-1.0, "the sign is flipped: the gradient of the cost is dA = A - Y, and gradient descent subtracts it"),
             (0.5, "half the expected value: a 1/(2m) where the mean has 1/m (a slip of the slides in "
                   "\"Machine Learning, Lecture: Neural Networks\")"),
             (2.0, "twice the expected value: a factor 2 too many (or a mean that should be a sum)"),
             (1 / math.log(10), "the natural logarithm is expected (np.log), not log10"),
             (math.log(10), "the natural logarithm is expected (np.log), not log10")]
    if m and m > 2:
        known += [(float(m), "m times too large: the 1/m of the mean is missing"),
                  (1 / m, "m times too small: divided by m once too often")]
    for factor, hint in known:
        if abs(k - factor) < 1e-3 * abs(factor):
            return hint
    if np.count_nonzero(mask) < 2:
        return ""
    return f"every value is {k:.4g} times the expected one: a constant factor is off"


def compare(name, actual, expected, *, rtol=1e-5, atol=1e-7, m=None, exact_type=False):
    """Compare one output. m (the number of samples) lets 1/m slips be named."""
    if type(expected) is object:  # a placeholder: only the structure around it is compared
        return None
    if isinstance(actual, Opaque):
        return Mismatch(f"{name} is {describe_type(actual)}, which is not a number or a numpy array",
                        "return plain numbers and numpy arrays (np.ndarray, not a subclass)")
    if isinstance(expected, tuple):
        if not isinstance(actual, (tuple, list)):
            return Mismatch(f"{name} returned {describe_type(actual)} but must return a tuple of {len(expected)} values",
                            "return all the values, separated by commas: return " + ", ".join(["..."] * len(expected)))
        if len(actual) != len(expected):
            return Mismatch(f"{name} returned {len(actual)} values but must return {len(expected)}")
        return None  # the parts are compared one by one by the caller
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return Mismatch(f"{name} returned {describe_type(actual)} but must return a dict with keys {sorted(expected)}")
        missing = sorted(set(expected) - set(actual))
        if missing:
            return Mismatch(f"{name} is missing the keys {missing}", f"the dict must have the keys {sorted(expected)}")
        return None
    # a number must be a number: a Python float (np.float64 is one) or int, not an array holding one
    if type(expected) is float and exact_type and not isinstance(actual, float):
        if isinstance(actual, np.ndarray):
            return Mismatch(f"{name} is {describe_type(actual)} but must be a Python float",
                            "costs and biases are plain numbers: .item() turns a 1 x 1 array into one")
        return Mismatch(f"{name} is {describe_type(actual)} but must be a Python float", "wrap it in float(...) (of an array with one element: .item())")
    if type(expected) is int and exact_type and (isinstance(actual, bool) or not isinstance(actual, (int, np.integer))):
        return Mismatch(f"{name} is {describe_type(actual)} but must be a whole number (int)", "wrap it in int(...)")

    want = _as_float_array(expected)
    got = _as_float_array(actual)
    if got is None:
        return Mismatch(f"{name} is {describe_type(actual)} but must be {describe_type(expected)}")
    if isinstance(expected, np.ndarray):
        if not isinstance(actual, np.ndarray):
            if want.size == 1 and got.size == 1 and expected.ndim == 0:
                pass
            else:
                return Mismatch(f"{name} is {describe_type(actual)} but must be an array of shape {expected.shape}",
                                "return a numpy array (np.array(...)), not a number or a list")
        elif actual.shape != expected.shape:
            return Mismatch(f"{name} has shape {actual.shape} but must be {expected.shape}",
                            _shape_hint(name, actual.shape, expected.shape))
        elif expected.dtype.kind in "iu" and actual.dtype.kind not in "iu":
            return Mismatch(f"{name} has dtype {actual.dtype} but must hold integers",
                            "labels are integers (not floats or booleans): .astype(int)")
    elif got.size != 1:
        return Mismatch(f"{name} is {describe_type(actual)} but must be a single number",
                        "a sum over all samples gives one number: np.sum(...) without axis, or float(...)")
    got, want = got.reshape(want.shape), want
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(want)):
        return Mismatch(f"{name} contains {'NaN' if np.any(np.isnan(got)) else 'inf'} where the expected values are finite",
                        "overflow in np.exp or log(0): use the numerically stable form (subtract the max, or exp(-|z|))")
    if np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
        return None
    hint = _scale_hint(got, want, m)
    if not hint and got.ndim == 2 and got.shape[0] == got.shape[1] and np.allclose(got.T, want, rtol=rtol, atol=atol):
        hint = "the result is transposed: check the order of the factors and where .T belongs"
    if got.size == 1:
        return Mismatch(f"{name} is {show(got.reshape(()))} but should be {show(want.reshape(()))}", hint)
    worst = np.unravel_index(np.argmax(np.abs(got - want)), want.shape)
    return Mismatch(f"{name} is off: at index {tuple(int(i) for i in worst)} it is {show(got[worst])} "
                    f"but should be {show(want[worst])} (largest difference {float(np.max(np.abs(got - want))):.3g})", hint)


def compare_outputs(name, value, expected, names=(), *, rtol=1e-5, atol=1e-7, m=None, exact_types=True):
    """All the mismatches between a returned value and the expected one, as
    (what, hint) pairs, naming each output by names (its name in the
    contract, when known)."""
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

    walk(names[0] if names and len(names) == 1 else name, value, expected)
    return problems


def _numbers(value):
    return isinstance(value, (list, tuple)) and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                                                    for v in value)
