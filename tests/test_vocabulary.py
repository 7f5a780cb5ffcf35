"""The checking vocabulary on its own: the wire, the harness, comparisons and
their hints, and check() as a student meets it."""
import json
import math

import numpy as np
import pytest

from autograder import harness, wire
from autograder.checks import check, collecting, example, holds, score
from autograder.compare import compare


# ---- wire: only plain data crosses --------------------------------------------

def roundtrip(value):
    return wire.loads(wire.dumps(value))


def test_plain_values_cross_unchanged():
    value = (1.5, 3, True, None, "s", np.arange(6.0).reshape(2, 3), np.int64(4), np.float32(2.5),
             {"W1": np.ones((2, 1)), "n": [1, 2]})
    back = roundtrip(value)
    assert back[:5] == (1.5, 3, True, None, "s")
    assert type(back[0]) is float and type(back[1]) is int
    assert isinstance(back[5], np.ndarray) and type(back[5]) is np.ndarray and back[5].tolist() == value[5].tolist()
    assert type(back[6]) is np.int64 and type(back[7]) is np.float32
    assert back[8]["W1"].shape == (2, 1) and back[8]["n"] == [1, 2]


class AlwaysEqual(float):
    def __eq__(self, other):
        return True

    def __float__(self):
        return 42.0


class Sneaky(np.ndarray):
    def __array_function__(self, *args, **kwargs):
        return True

    def __eq__(self, other):
        return True


def test_hostile_objects_arrive_as_opaque():
    back = roundtrip((AlwaysEqual(0.5), np.zeros(3).view(Sneaky), object(), np.array([object()])))
    assert all(isinstance(v, wire.Opaque) for v in back)
    assert "AlwaysEqual" in back[0].type_name and "Sneaky" in back[1].type_name
    assert back[0] != 0.5 and not (back[1] == np.zeros(3))


def test_forged_messages_are_refused():
    good = wire.dumps({"x": np.ones(2)})
    with pytest.raises(wire.WireError):
        wire.loads(good[: len(good) // 2])
    with pytest.raises(wire.WireError):
        wire.loads(b"\x80\x04 not a pickle nor an npz")
    # an Expr never comes back from a kernel
    with pytest.raises(wire.WireError):
        wire.loads(wire.dumps(wire.Expr("__import__('os')")))
    assert isinstance(wire.loads(wire.dumps(wire.Expr("lambda x: x")), allow_expr=True), wire.Expr)


# ---- harness: facts of one call -------------------------------------------------

def test_harness_reports_arguments_changed_in_place():
    def update(params, grads, rate):
        params["W1"] -= rate * grads["dW1"]
        return params

    outcome = harness.invoke(update, ({"W1": np.ones((2, 2))}, {"dW1": np.ones((2, 2))}, 0.1),
                             arg_names=("params", "grads", "learning_rate"))
    assert outcome.modified == ["params['W1']"]

    def fresh(params, grads, rate):
        return {"W1": params["W1"] - rate * grads["dW1"]}

    assert harness.invoke(fresh, ({"W1": np.ones((2, 2))}, {"dW1": np.ones((2, 2))}, 0.1)).modified == []


def test_harness_counts_lines_that_grow_with_the_samples():
    def looped(X):
        total = 0.0
        for i in range(X.shape[1]):
            total += X[0, i]
        return total

    def comprehension(X):
        return sum([x for x in X[0]])

    def vectorised(X):
        return float(np.sum(X[0]))

    for fn, grows in ((looped, True), (comprehension, True), (vectorised, False)):
        small, large = (harness.invoke(fn, (np.ones((1, m)),), count_lines=True).lines for m in (4, 20))
        assert (large > small) == grows, fn.__name__


def test_harness_reports_the_students_line_of_an_exception():
    def broken(x):
        y = x + 1
        return y / 0

    error = harness.invoke(broken, (1,)).error
    assert error["type"] == "ZeroDivisionError"
    assert error["where"][-1]["function"] == "broken" and "y / 0" in error["where"][-1]["text"]


def test_harness_survives_exit_and_non_callables():
    assert harness.invoke(lambda: exit(3)).error["type"] == "SystemExit"
    assert harness.invoke(5).error["type"] == "TypeError"


# ---- compare: what is off, and the usual cause ------------------------------------

@pytest.mark.parametrize("actual, expected, what, hint", [
    (np.ones(3), np.ones((3, 1)), "has shape (3,) but must be (3, 1)", "keepdims=True"),
    (np.ones((1, 3)), np.ones((3, 1)), "has shape (1, 3) but must be (3, 1)", "transposed"),
    (np.ones((1, 1)), 0.5, "must be a Python float", ".item()"),
    (-np.arange(1.0, 5.0), np.arange(1.0, 5.0), "is off", "sign is flipped"),
    (np.arange(1.0, 5.0) / 2, np.arange(1.0, 5.0), "is off", "1/(2m)"),
    (np.arange(1.0, 5.0) * 5, np.arange(1.0, 5.0), "is off", "1/m of the mean is missing"),
    (math.log10(3.0), math.log(3.0), "should be", "not log10"),
    (np.array([np.nan, 1.0]), np.array([0.5, 1.0]), "contains NaN", "numerically stable"),
    (np.array([[0.0, 1.0]]), np.array([[0, 1]]), "must hold integers", ".astype(int)"),
])
def test_compare_names_what_is_off_and_the_usual_cause(actual, expected, what, hint):
    mismatch = compare("dw", actual, expected, m=5, exact_type=True)
    assert mismatch is not None and what in mismatch.what and hint in mismatch.hint, mismatch


@pytest.mark.parametrize("actual, expected", [
    (np.float64(0.5), 0.5), (0.5 + 1e-12, 0.5), (np.array([[1, 0]]), np.array([[1, 0]])),
    (np.array([[1.0, 2.0]]), np.array([[1.0, 2.0 + 1e-9]])), (np.int64(73), 73),
])
def test_compare_accepts_right_answers(actual, expected):
    assert compare("x", actual, expected, exact_type=True) is None


@pytest.mark.parametrize("actual", [np.array(0.5), np.array([[0.5]]), np.float32(0.5), "0.5"])
def test_a_cost_must_be_a_number_not_an_array(actual):
    assert "must be a Python float" in compare("J", actual, 0.5, exact_type=True).what


# ---- check() as the student meets it ------------------------------------------------

def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_passing_visible_checks_say_what_hidden_tests_add(capsys):
    check(sigmoid, example("sigmoid(0)", (0.0,), 0.5, exact_types=False))
    out = capsys.readouterr().out
    assert "[PASS] sigmoid: sigmoid(0)" in out
    assert "not the grade" in out and "hidden tests also check" in out
    assert "all tests passed" not in out.lower()


def test_failing_visible_checks_raise_with_every_message():
    def wrong(z):
        return 1 / (1 + np.exp(z))

    wrong.__name__ = "sigmoid"
    with pytest.raises(AssertionError) as info:
        check(wrong, example("sigmoid(0)", (0.0,), 0.5, exact_types=False),
              example("sigmoid(2)", (2.0,), 1 / (1 + math.exp(-2)), exact_types=False),
              holds("in [0, 1]", (np.linspace(-5, 5, 7),), lambda a: bool(np.all((a >= 0) & (a <= 1)))))
    text = str(info.value)
    assert "1 of 3 checks of sigmoid failed" in text
    assert "[FAIL] sigmoid: sigmoid(2)" in text and "should be 0.880797" in text


def test_partial_credit_is_the_passed_weight():
    def half_right(x):
        return x if x > 0 else 0.0

    with collecting() as results:
        check(half_right, example("positive", (2.0,), 2.0), example("negative", (-1.0,), -1.0))
    assert [r.passed for r in results] == [True, False]
    assert score(results) == 0.5


def test_an_exception_fails_the_check_with_the_students_line():
    def stub(z):
        raise NotImplementedError()

    stub.__name__ = "sigmoid"
    with collecting() as results:
        check(stub, example("sigmoid(0)", (0.0,), 0.5))
    [result] = results
    assert not result.passed and "raised NotImplementedError" in result.message
    assert "YOUR CODE HERE" in result.hint


def _forged(tree, arrays, payload=b""):
    header = json.dumps({"tree": tree, "arrays": arrays}).encode()
    return wire.MAGIC + len(header).to_bytes(8, "little") + header + payload


@pytest.mark.parametrize("spec, payload", [
    ({"dtype": "float64", "shape": [2 ** 25], "offset": 0, "nbytes": 2 ** 28}, bytes(64)),  # claims 256 MiB
    ({"dtype": "float64", "shape": [2 ** 25], "offset": 0, "nbytes": 8}, bytes(64)),  # shape and size disagree
    ({"dtype": "float64", "shape": [2], "offset": 60, "nbytes": 16}, bytes(64)),  # runs past the end
    ({"dtype": "float64", "shape": [-2], "offset": 0, "nbytes": -16}, bytes(64)),
    ({"dtype": "object", "shape": [1], "offset": 0, "nbytes": 8}, bytes(64)),
    ({"dtype": "float64", "shape": [1] * 40, "offset": 0, "nbytes": 8}, bytes(64)),
    ({"dtype": "float64", "shape": "8", "offset": 0, "nbytes": 8}, bytes(64)),
])
def test_an_array_is_never_bigger_than_the_bytes_its_message_carries(spec, payload):
    with pytest.raises(wire.WireError):
        wire.loads(_forged({"kind": "array", "key": "a0"}, {"a0": spec}, payload))


def test_a_header_that_lies_about_its_length_is_refused():
    good = wire.dumps({"x": np.ones(2)})
    start = len(wire.MAGIC)
    with pytest.raises(wire.WireError, match="truncated"):
        wire.loads(good[:start] + (len(good)).to_bytes(8, "little") + good[start + 8:])
    with pytest.raises(wire.WireError):
        wire.loads(good[:start] + (3).to_bytes(8, "little") + good[start + 8:])


def test_arrays_arrive_in_the_machines_byte_order_with_their_values():
    for array in (np.arange(6, dtype=">f8").reshape(2, 3), np.array([1, -2], dtype=">i2"), np.zeros((0, 3)),
                  np.array(True), np.arange(4.0)[::2], np.asfortranarray(np.arange(6.0).reshape(2, 3))):
        back = roundtrip(array)
        assert back.dtype.isnative and back.dtype.name == array.dtype.name and back.shape == array.shape
        assert np.array_equal(back, array) and back.flags.writeable
