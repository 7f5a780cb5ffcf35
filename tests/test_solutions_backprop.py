"""solutions/backprop.py checked without trusting it.

Every gradient is compared with central differences computed here (float64,
eps = 1e-6, relative error below 1e-7) of a cost that this file writes out
itself; the lectures' worked examples are recomputed by hand with math.exp.
Where a slide is wrong, the test asserts that the module's value differs from
the slide's, and says what the slide wrote.
"""
import ast
import math
import os

import nbformat
import numpy as np
import pytest

from reference_helpers import answer_namespace, central_differences, relative_error
from solutions import backprop as bp

EPS = 1e-6
TOLERANCE = 1e-7
ACTIVATIONS = ("tanh", "relu", "leaky_relu", "sigmoid")


def logistic(z):
    return 1.0 / (1.0 + np.exp(-z))


G = {"tanh": np.tanh, "relu": lambda z: np.maximum(0.0, z),
     "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z), "sigmoid": logistic}


def my_forward(X, params, activation):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = G[activation](Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = logistic(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def my_cost(A2, Y):
    """Cross-entropy summed over the outputs, averaged over the m samples (the columns)."""
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / Y.shape[1])


def net_cost(X, Y, params, activation):
    """The same cost from Z2 without cancellation: -log sigmoid(z) = log(1 + e^{-z})."""
    Z2 = my_forward(X, params, activation)[1]["Z2"]
    return float(np.sum(Y * np.logaddexp(0, -Z2) + (1 - Y) * np.logaddexp(0, Z2)) / Y.shape[1])


def network(rng, n_x, n_h, n_y, m, scale=0.8):
    X = rng.normal(0, 1, (n_x, m))
    Y = (rng.random((n_y, m)) < 0.5).astype(float)
    params = {"W1": rng.normal(0, scale, (n_h, n_x)), "b1": rng.normal(0, scale, (n_h, 1)),
              "W2": rng.normal(0, scale, (n_y, n_h)), "b2": rng.normal(0, scale, (n_y, 1))}
    return X, Y, params


def copies(d):
    return {k: v.copy() for k, v in d.items()}


def assert_unchanged(before, after):
    assert before.keys() == after.keys()
    for k in before:
        assert np.array_equal(before[k], after[k]), f"{k} was modified in place"


# ---- the re-exports the grader relies on --------------------------------------------

def test_forward_pass_of_assignment_03_is_re_exported():
    for name in ("forward", "compute_cost", "initialize_parameters", "sigmoid", "tanh", "relu", "leaky_relu",
                 "sigmoid_prime", "tanh_prime", "relu_prime", "leaky_relu_prime"):
        assert callable(getattr(bp, name)), name


# ---- graph_grads: Lecture 8's J = 2(ab + c) -----------------------------------------------

def test_graph_grads_lecture_8_example():
    a, b, c = 3.0, 2.0, 5.0
    u = a * b          # 6
    v = u + c          # 11
    J = 2 * v          # 22
    result = bp.graph_grads(a, b, c)
    assert result == (J, 2 * 1 * b, 2 * 1 * a, 2 * 1.0) == (22.0, 4.0, 6.0, 2.0)
    assert all(type(r) is float for r in result)


def test_graph_grads_slide_finite_steps():
    # the slide nudges a from 3 to 3.1: J goes from 22 to 22.4, a slope of 4 (J is linear in a)
    J_nudged, J = bp.graph_grads(3.1, 2.0, 5.0)[0], bp.graph_grads(3.0, 2.0, 5.0)[0]
    assert J_nudged == pytest.approx(22.4)
    assert (J_nudged - J) / 0.1 == pytest.approx(bp.graph_grads(3.0, 2.0, 5.0)[1])


@pytest.mark.parametrize("seed", range(5))
def test_graph_grads_matches_central_differences(seed):
    point = np.random.default_rng(seed).normal(0, 3, 3)
    J, *grads = bp.graph_grads(*map(float, point))
    assert J == pytest.approx(2 * (point[0] * point[1] + point[2]))
    numeric = central_differences(lambda p: 2 * (p[0] * p[1] + p[2]), point)
    assert relative_error(grads, numeric) < TOLERANCE


# ---- sigmoid_backward ---------------------------------------------------------------------

def test_sigmoid_backward_lecture_8_zero_output_layer():
    # linear2 with zero weights and bias: z2 = 0, a2 = 1/(1 + e^0) = 0.5; upstream gradient 0.5
    a2 = 1 / (1 + math.exp(-0.0))
    expected = 0.5 * a2 * (1 - a2)   # 0.5 * 0.25
    dZ = bp.sigmoid_backward(np.full((2, 1), 0.5), np.zeros((2, 1)))
    assert dZ.shape == (2, 1)
    assert np.allclose(dZ, expected) and expected == 0.125


def test_sigmoid_derivative_slip_of_activation_functions_and_error_functions():
    # the lecture writes dsigma/dx = e^{-x} / (1 + e^x)^2; the denominator is (1 + e^{-x})^2. At x = 1 the slide's
    # value is e^2 = 7.39 times too small (05's note: "about 7.4 times"), not eight.
    x = 1.0
    numeric = (1 / (1 + math.exp(-(x + EPS))) - 1 / (1 + math.exp(-(x - EPS)))) / (2 * EPS)
    ours = float(bp.sigmoid_backward(np.array([[1.0]]), np.array([[x]]))[0, 0])
    assert ours == pytest.approx(numeric, rel=1e-8)
    assert ours == pytest.approx(math.exp(-x) / (1 + math.exp(-x)) ** 2, rel=1e-12)
    slide = math.exp(-x) / (1 + math.exp(x)) ** 2
    assert ours / slide == pytest.approx(math.exp(2 * x), rel=1e-12)
    assert round(ours / slide, 1) == 7.4


@pytest.mark.parametrize("shape", [(3, 4), (1, 1), (2, 7)])
def test_sigmoid_backward_matches_central_differences(shape):
    rng = np.random.default_rng(sum(shape))
    dA, Z = rng.normal(0, 1, shape), rng.normal(0, 2, shape)
    before = (dA.copy(), Z.copy())
    dZ = bp.sigmoid_backward(dA, Z)
    numeric = central_differences(lambda z: float(np.sum(dA * logistic(z))), Z)
    assert dZ.shape == shape
    assert relative_error(dZ, numeric) < TOLERANCE
    assert np.array_equal(dA, before[0]) and np.array_equal(Z, before[1])


# ---- linear_backward -------------------------------------------------------------------------

LECTURE_8_W1 = np.arange(1.0, 13.0).reshape(4, 3)   # W = 1..12 by rows (nn.Linear(3, 4))
LECTURE_8_X = np.array([[1.0], [2.0], [3.0]])


def test_linear_backward_lecture_8_layer_1():
    # forward: z1 = W x with zero bias = [1*1 + 2*2 + 3*3, 4*1 + 5*2 + 6*3, ...] = [14, 32, 50, 68], all through the ReLU
    a1 = bp.relu(LECTURE_8_W1 @ LECTURE_8_X)
    assert a1.ravel().tolist() == [14.0, 32.0, 50.0, 68.0]
    # the slide writes the upstream gradient as [.5 .5 .5]: three entries, but a1 has four
    # units (torch.ones_like(a1) * 0.5 has 4 entries, and the slide's own dB has 4)
    dZ = np.full_like(a1, 0.5)   # relu'(z1) = 1 since every z1 > 0: dz = da
    dW, db, dA_prev = bp.linear_backward(dZ, LECTURE_8_X, LECTURE_8_W1)
    # dx_j = sum_i dz_i W_ij: 0.5 * (1 + 4 + 7 + 10) = 11, 0.5 * (2 + 5 + 8 + 11) = 13, 0.5 * 27 = 15
    assert dA_prev.tolist() == [[11.0], [13.0], [15.0]]
    with pytest.raises(ValueError):  # the slide's three entries do not fit the four units
        bp.linear_backward(np.full((3, 1), 0.5), LECTURE_8_X, LECTURE_8_W1)
    # dW_ij = dz_i x_j: every row is 0.5 * [1, 2, 3]; dB = dz = 0.5 for each of the 4 units
    assert np.array_equal(dW, [[0.5 * LECTURE_8_X[j, 0] for j in range(3)] for _ in range(4)])
    assert np.array_equal(db, np.full((4, 1), 0.5))


def test_linear_backward_lecture_8_layer_2():
    # layer 2 = nn.Linear(4, 2) with zero weight and bias after a ReLU; upstream gradient 0.5 on a2
    a1 = np.maximum(0.0, LECTURE_8_W1 @ LECTURE_8_X)          # [14, 32, 50, 68]
    W2, b2 = np.zeros((2, 4)), np.zeros((2, 1))
    z2 = W2 @ a1 + b2
    a2 = 1 / (1 + np.exp(-z2))
    assert np.all(a2 == 0.5)
    dZ2 = bp.sigmoid_backward(np.full((2, 1), 0.5), z2)     # 0.5 * 0.5 * 0.5 = 0.125
    dW2, db2, da1 = bp.linear_backward(dZ2, a1, W2)
    assert np.array_equal(dW2, [[0.125 * 14, 0.125 * 32, 0.125 * 50, 0.125 * 68]] * 2)
    assert np.array_equal(dW2[0], [1.75, 4.0, 6.25, 8.5])  # the slide's row, recomputed
    assert np.array_equal(db2, [[0.125], [0.125]])
    assert np.array_equal(da1, np.zeros((4, 1)))            # zero weights pass no gradient back


def test_linear_backward_averages_over_the_batch():
    # two copies of the one sample: dW and db are the means, so they are unchanged;
    # dA_prev keeps one column per sample
    X2 = np.hstack([LECTURE_8_X, LECTURE_8_X])
    dW1, db1, dx1 = bp.linear_backward(np.full((4, 1), 0.5), LECTURE_8_X, LECTURE_8_W1)
    dW2, db2, dx2 = bp.linear_backward(np.full((4, 2), 0.5), X2, LECTURE_8_W1)
    assert np.allclose(dW2, dW1) and np.allclose(db2, db1)
    assert np.allclose(dx2, np.hstack([dx1, dx1]))


def test_lecture_8_logistic_dw2_typo():
    # Lecture 8 first writes dw_2 = (a - y) x_1, a typo for (a - y) x_2 (its next line has it right)
    x = np.array([[0.3], [-1.7]])
    w, b, y = np.array([[0.4, -0.2]]), 0.1, 1.0
    loss = lambda w_: float(-(y * np.log(logistic(w_ @ x + b)) + (1 - y) * np.log(1 - logistic(w_ @ x + b)))[0, 0])
    a = 1 / (1 + math.exp(-(0.4 * 0.3 + (-0.2) * (-1.7) + 0.1)))
    numeric = central_differences(loss, w)
    dW, _, _ = bp.linear_backward(np.array([[a - y]]), x, w)
    assert relative_error(dW, numeric) < TOLERANCE
    assert dW[0, 1] == pytest.approx((a - y) * x[1, 0], rel=1e-12)
    assert abs(dW[0, 1] - (a - y) * x[0, 0]) > 0.1  # the slide's first (a - y) x_1


def test_dL_da_sign_slip_of_activation_functions_and_error_functions():
    # the lecture writes dL/da = -y/a - (1 - y)/(1 - a); the second term has a plus sign. Through the sigmoid the right
    # dL/da gives dz = a - y (sigmoid_backward), the slide's does not.
    a, y = 0.3, 0.0
    loss = lambda a_: -(y * math.log(a_) + (1 - y) * math.log(1 - a_))
    numeric = (loss(a + EPS) - loss(a - EPS)) / (2 * EPS)
    z = math.log(a / (1 - a))  # sigma(z) = a
    right = float(bp.sigmoid_backward(np.array([[numeric]]), np.array([[z]]))[0, 0])
    slide = float(bp.sigmoid_backward(np.array([[-y / a - (1 - y) / (1 - a)]]), np.array([[z]]))[0, 0])
    assert right == pytest.approx(a - y, rel=1e-7)
    assert slide == pytest.approx(-(a - y), rel=1e-12)


@pytest.mark.parametrize("n, p, m", [(3, 2, 4), (1, 4, 1), (4, 4, 6), (2, 5, 3)])
def test_linear_backward_matches_central_differences(n, p, m):
    rng = np.random.default_rng(n * 100 + p * 10 + m)
    dZ, A, W, b = rng.normal(0, 1, (n, m)), rng.normal(0, 1, (p, m)), rng.normal(0, 1, (n, p)), rng.normal(0, 1, (n, 1))
    before = (dZ.copy(), A.copy(), W.copy())
    dW, db, dA = bp.linear_backward(dZ, A, W)
    # J = (1/m) sum(dZ * Z) with Z = W A + b has dJ/dZ = dZ / m: its gradients are dW and db;
    # dA_prev is the gradient of sum(dZ * Z) (per sample, without 1/m)
    assert dW.shape == (n, p) and db.shape == (n, 1) and dA.shape == (p, m)
    assert relative_error(dW, central_differences(lambda w: float(np.sum(dZ * (w @ A + b))) / m, W)) < TOLERANCE
    assert relative_error(db, central_differences(lambda b_: float(np.sum(dZ * (W @ A + b_))) / m, b)) < TOLERANCE
    assert relative_error(dA, central_differences(lambda a: float(np.sum(dZ * (W @ a + b))), A)) < TOLERANCE
    assert all(np.array_equal(x, y) for x, y in zip(before, (dZ, A, W)))


# ---- backward -------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_x, n_h, n_y, m", [(2, 3, 1, 4), (3, 4, 1, 1), (5, 2, 1, 7), (4, 6, 1, 10), (3, 3, 2, 5)])
def test_backward_matches_central_differences(activation, n_x, n_h, n_y, m):
    rng = np.random.default_rng([n_x, n_h, n_y, m, len(activation)])
    X, Y, params = network(rng, n_x, n_h, n_y, m)
    _, cache = my_forward(X, params, activation)
    assert np.min(np.abs(cache["Z1"])) > 1e-3  # away from relu's kink
    before_params, before_cache, before_X = copies(params), copies(cache), X.copy()
    grads = bp.backward(X, Y, params, cache, hidden_activation=activation)
    assert sorted(grads) == ["dW1", "dW2", "db1", "db2"]
    for name in ("W1", "b1", "W2", "b2"):
        def cost(value, name=name):
            return net_cost(X, Y, dict(params, **{name: value}), activation)
        numeric = central_differences(cost, params[name])
        assert grads["d" + name].shape == params[name].shape, name
        assert relative_error(grads["d" + name], numeric) < TOLERANCE, (name, activation)
    assert_unchanged(before_params, params)
    assert_unchanged(before_cache, cache)
    assert np.array_equal(before_X, X)


def test_backward_default_activation_is_tanh():
    X, Y, params = network(np.random.default_rng(5), 3, 4, 1, 6)
    _, cache = my_forward(X, params, "tanh")
    default = bp.backward(X, Y, params, cache)
    explicit = bp.backward(X, Y, params, cache, "tanh")
    assert all(np.array_equal(default[k], explicit[k]) for k in default)


def test_backward_zero_network():
    # all parameters 0: A1 = tanh(0) = 0, A2 = sigmoid(0) = 1/2; only db2 = mean(1/2 - y) is non-zero
    X = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    Y = np.array([[1.0, 0.0, 1.0]])
    params = {"W1": np.zeros((4, 2)), "b1": np.zeros((4, 1)), "W2": np.zeros((1, 4)), "b2": np.zeros((1, 1))}
    _, cache = my_forward(X, params, "tanh")
    grads = bp.backward(X, Y, params, cache, "tanh")
    assert np.array_equal(grads["db2"], [[(0.5 - 1 + 0.5 - 0 + 0.5 - 1) / 3]])
    for name in ("dW1", "db1", "dW2"):
        assert not np.any(grads[name]), name


def test_backward_one_sample_by_hand():
    # one input, one hidden tanh unit, one sample: the chain rule on scalars with math.tanh
    x, y, w1, b1, w2, b2 = 0.7, 1.0, -0.4, 0.2, 1.3, -0.5
    a1 = math.tanh(w1 * x + b1)
    a2 = 1 / (1 + math.exp(-(w2 * a1 + b2)))
    dz2 = a2 - y
    dz1 = w2 * dz2 * (1 - a1 ** 2)
    params = {"W1": np.array([[w1]]), "b1": np.array([[b1]]), "W2": np.array([[w2]]), "b2": np.array([[b2]])}
    _, cache = my_forward(np.array([[x]]), params, "tanh")
    grads = bp.backward(np.array([[x]]), np.array([[y]]), params, cache, "tanh")
    expected = {"dW2": dz2 * a1, "db2": dz2, "dW1": dz1 * x, "db1": dz1}
    for name, value in expected.items():
        assert float(grads[name][0, 0]) == pytest.approx(value, rel=1e-12), name


def test_tanh_derivative_slip_of_lecture_8():
    # Lecture 8 writes tanh'(z) = 1 - (1 - g(z))^2; the derivative is 1 - g(z)^2
    z = np.array([[1.0]])
    numeric = (math.tanh(1.0 + EPS) - math.tanh(1.0 - EPS)) / (2 * EPS)
    assert float(bp.tanh_prime(z)[0, 0]) == pytest.approx(numeric, rel=1e-8)              # 0.41997
    assert abs(float(bp.tanh_prime(z)[0, 0]) - (1 - (1 - math.tanh(1.0)) ** 2)) > 0.5      # the slide's 0.94319
    # a backward built with the slide's formula fails a gradient check; the module's passes
    X, Y, params = network(np.random.default_rng(11), 3, 4, 1, 5)
    _, cache = my_forward(X, params, "tanh")
    numeric_dW1 = central_differences(lambda w: net_cost(X, Y, dict(params, W1=w), "tanh"), params["W1"])
    dZ1_slide = params["W2"].T @ (cache["A2"] - Y) * (1 - (1 - cache["A1"]) ** 2)
    assert relative_error(dZ1_slide @ X.T / 5, numeric_dW1) > 1e-2
    assert relative_error(bp.backward(X, Y, params, cache, "tanh")["dW1"], numeric_dW1) < TOLERANCE


def test_the_machine_learning_lectures_hidden_derivative_is_tanh_not_logistic():
    # Machine Learning, Lecture: Neural Networks says its code "uses a logistic activation unit" but multiplies by
    # 1 - H^2, the tanh derivative; with a logistic hidden layer the factor is H (1 - H)
    X, Y, params = network(np.random.default_rng(12), 2, 3, 1, 6)
    _, cache = my_forward(X, params, "sigmoid")
    H = cache["A1"]
    numeric_dW1 = central_differences(lambda w: net_cost(X, Y, dict(params, W1=w), "sigmoid"), params["W1"])
    dZ = params["W2"].T @ (cache["A2"] - Y)
    dW1 = bp.backward(X, Y, params, cache, "sigmoid")["dW1"]
    assert relative_error(dW1, numeric_dW1) < TOLERANCE
    assert relative_error(dZ * H * (1 - H) @ X.T / 6, dW1) < TOLERANCE
    assert relative_error(dZ * (1 - H ** 2) @ X.T / 6, dW1) > 1e-2


def test_the_machine_learning_lectures_missing_keepdims_breaks_the_update():
    # the lecture writes db = (1/m) np.sum(dA, axis = 1) without keepdims: a vector of shape (n_h,),
    # and b1 - alpha db1 then broadcasts (n_h, 1) against (n_h,) to an (n_h, n_h) matrix
    X, Y, params = network(np.random.default_rng(13), 2, 3, 1, 4)
    _, cache = my_forward(X, params, "tanh")
    grads = bp.backward(X, Y, params, cache, "tanh")
    assert grads["db1"].shape == (3, 1) and grads["db2"].shape == (1, 1)
    slide_db1 = np.sum(grads["db1"] * 4, axis=1) / 4
    assert (params["b1"] - 0.1 * slide_db1).shape == (3, 3)
    assert bp.update_parameters(params, grads, 0.1)["b1"].shape == (3, 1)


def test_lecture_8s_dz_L_is_not_a_row_sum():
    # Lecture 8 writes dz^[L] = (1/m) rowsum(a^[L] - y): that is db^[L]; dz^[L] = a^[L] - y, one entry per sample
    X, Y, params = network(np.random.default_rng(14), 2, 3, 1, 6)
    _, cache = my_forward(X, params, "tanh")
    grads = bp.backward(X, Y, params, cache, "tanh")
    numeric_b2 = central_differences(lambda b: net_cost(X, Y, dict(params, b2=b), "tanh"), params["b2"])
    assert np.allclose(grads["db2"], np.mean(cache["A2"] - Y, axis=1, keepdims=True))
    assert relative_error(grads["db2"], numeric_b2) < TOLERANCE
    # dz^[L] = A2 - Y, one entry per sample, gives linear_backward the right dW2; the slide's row sum (1 x 1)
    # cannot even be multiplied with the 6 columns of A1
    dW2, db2, _ = bp.linear_backward(cache["A2"] - Y, cache["A1"], params["W2"])
    assert np.allclose(dW2, grads["dW2"]) and np.allclose(db2, grads["db2"])
    with pytest.raises(ValueError):
        bp.linear_backward(np.sum(cache["A2"] - Y, axis=1, keepdims=True) / 6, cache["A1"], params["W2"])


def test_symmetric_start_keeps_hidden_units_identical():
    # Lecture 8: with equal weights every hidden unit computes the same function and gets the same update
    rng = np.random.default_rng(15)
    X = rng.normal(0, 1, (2, 20))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    params = {"W1": np.full((4, 2), 0.3), "b1": np.zeros((4, 1)), "W2": np.full((1, 4), 0.2), "b2": np.zeros((1, 1))}
    for _ in range(25):
        _, cache = bp.forward(X, params, "tanh")
        params = bp.update_parameters(params, bp.backward(X, Y, params, cache, "tanh"), 0.5)
    assert np.allclose(params["W1"], params["W1"][0]) and np.allclose(params["W2"], params["W2"][0, 0])
    assert not np.allclose(params["W1"], 0.3)  # they did move, all together


# ---- numerical_gradient ------------------------------------------------------------------------

@pytest.mark.parametrize("f, exact, shape", [
    (lambda x: float(np.sum(x ** 3)), lambda x: 3 * x ** 2, (3,)),
    (lambda x: float(np.sum(np.sin(x) * x ** 2)), lambda x: np.cos(x) * x ** 2 + 2 * x * np.sin(x), (2, 3)),
    (lambda x: float(np.log(1 + np.sum(x ** 2))), lambda x: 2 * x / (1 + np.sum(x ** 2)), (4, 1)),
    (lambda x: float(np.prod(np.cos(x))), lambda x: -np.tan(x) * np.prod(np.cos(x)), (1, 5)),
])
def test_numerical_gradient_of_known_functions(f, exact, shape):
    x = np.random.default_rng(len(shape)).normal(0, 1, shape)
    before = x.copy()
    grad = bp.numerical_gradient(f, x)
    assert grad.shape == shape and grad.dtype == np.float64
    assert np.allclose(grad, exact(x), rtol=1e-8, atol=1e-9)
    assert np.array_equal(x, before)


def test_numerical_gradient_is_central_with_the_given_eps():
    # ((x + h)^3 - (x - h)^3) / (2h) = 3x^2 + h^2 exactly: the h^2 shows which step was taken
    x = np.array([1.0, -2.0])
    for eps in (0.1, 0.01):
        assert np.allclose(bp.numerical_gradient(lambda v: float(np.sum(v ** 3)), x, eps=eps), 3 * x ** 2 + eps ** 2)
    # and the default is 1e-5
    assert np.allclose(bp.numerical_gradient(lambda v: float(np.sum(v ** 3)), x), 3 * x ** 2 + 1e-10, rtol=1e-9)


def test_numerical_gradient_of_an_integer_array_is_float_and_leaves_f_a_copy():
    seen = []
    x = np.array([[1, 2], [3, 4]])
    grad = bp.numerical_gradient(lambda v: seen.append(v) or float(np.sum(v ** 2)), x)
    assert grad.dtype == np.float64 and np.allclose(grad, 2 * x)
    assert x.dtype.kind == "i" and np.array_equal(x, [[1, 2], [3, 4]])
    assert all(v is not x for v in seen)


# ---- gradient_check ---------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradient_check_is_small_for_the_right_backward(activation):
    X, Y, params = network(np.random.default_rng(20), 3, 4, 1, 5, scale=1.0)
    before = copies(params)
    difference = bp.gradient_check(params, X, Y, hidden_activation=activation)
    assert type(difference) is float
    assert difference < 1e-7
    assert_unchanged(before, params)


def test_gradient_check_is_the_relative_difference(monkeypatch):
    # a backward whose gradients are twice the right ones: ||2g - g|| / (||2g|| + ||g||) = 1/3
    X, Y, params = network(np.random.default_rng(21), 2, 3, 1, 4)
    right = bp.backward

    def doubled(X, Y, params, cache, hidden_activation="tanh"):
        return {k: 2 * v for k, v in right(X, Y, params, cache, hidden_activation).items()}

    monkeypatch.setattr(bp, "backward", doubled)
    assert bp.gradient_check(params, X, Y) == pytest.approx(1 / 3, rel=1e-6)

    # a backward that forgets the gradient of b2 only: the difference is ||db2|| / (||g|| + ||g_num||)
    def no_db2(X, Y, params, cache, hidden_activation="tanh"):
        grads = right(X, Y, params, cache, hidden_activation)
        return dict(grads, db2=np.zeros_like(grads["db2"]))

    monkeypatch.setattr(bp, "backward", no_db2)
    _, cache = my_forward(X, params, "tanh")
    g = {name: central_differences(lambda v, name=name: net_cost(X, Y, dict(params, **{name: v}), "tanh"),
                                   params[name]) for name in ("W1", "b1", "W2", "b2")}
    full = np.concatenate([g[k].ravel() for k in ("W1", "b1", "W2", "b2")])
    partial = np.concatenate([g[k].ravel() for k in ("W1", "b1", "W2")] + [np.zeros(1)])
    expected = np.linalg.norm(g["b2"]) / (np.linalg.norm(partial) + np.linalg.norm(full))
    assert bp.gradient_check(params, X, Y) == pytest.approx(expected, rel=1e-5)


def test_gradient_check_of_all_zero_gradients_is_zero(monkeypatch):
    X, Y, params = network(np.random.default_rng(22), 2, 2, 1, 3)
    monkeypatch.setattr(bp, "backward", lambda X, Y, params, cache, hidden_activation="tanh":
                        {"d" + k: np.zeros_like(v) for k, v in params.items()})
    monkeypatch.setattr(bp, "compute_cost", lambda A2, Y: 0.5)
    assert bp.gradient_check(params, X, Y) == 0.0


# ---- update_parameters ----------------------------------------------------------------------------------

def test_update_parameters_steps_against_the_gradient():
    rng = np.random.default_rng(30)
    _, _, params = network(rng, 3, 4, 1, 2)
    grads = {"d" + k: rng.normal(0, 1, v.shape) for k, v in params.items()}
    before, before_grads = copies(params), copies(grads)
    new = bp.update_parameters(params, grads, 0.1)
    for k in params:
        assert np.array_equal(new[k], before[k] - 0.1 * before_grads["d" + k])
        assert new[k] is not params[k]
    assert_unchanged(before, params)
    assert_unchanged(before_grads, grads)


# ---- train and predict ------------------------------------------------------------------------------------

def xor_data(seed=3, m=24):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (2, m))
    return X, (X[0:1] * X[1:2] > 0).astype(float)


def test_train_costs_are_floats_recorded_before_each_update():
    X, Y = xor_data()
    params, costs = bp.train(X, Y, 4, 12, 0.5, hidden_activation="tanh", seed=3)
    assert len(costs) == 12 and all(type(c) is float for c in costs)
    start = bp.initialize_parameters(2, 4, 1, 3)
    assert costs[0] == pytest.approx(my_cost(my_forward(X, start, "tanh")[0], Y), rel=1e-12)
    assert abs(costs[0] - math.log(2)) < 0.05 and costs[-1] < costs[0]
    assert sorted(params) == ["W1", "W2", "b1", "b2"]


def test_train_is_gradient_descent_on_the_cost():
    # three steps of gradient descent with gradients from central differences, done here
    X, Y = xor_data(seed=4, m=10)
    params = bp.initialize_parameters(2, 3, 1, 9)
    costs = []
    for _ in range(3):
        cost = lambda name: (lambda v: net_cost(X, Y, dict(params, **{name: v}), "relu"))
        costs.append(my_cost(my_forward(X, params, "relu")[0], Y))
        params = {k: v - 1.5 * central_differences(cost(k), v) for k, v in params.items()}
    trained, their_costs = bp.train(X, Y, 3, 3, 1.5, hidden_activation="relu", seed=9)
    assert np.allclose(their_costs, costs, rtol=1e-10)
    for k in params:
        assert np.allclose(trained[k], params[k], rtol=1e-6, atol=1e-10), k


def test_train_same_seed_same_result():
    X, Y = xor_data()
    a = bp.train(X, Y, 3, 5, 0.3, seed=1)
    b = bp.train(X, Y, 3, 5, 0.3, seed=1)
    assert a[1] == b[1] and all(np.array_equal(a[0][k], b[0][k]) for k in a[0])


def test_train_learns_xor():
    X, Y = xor_data(seed=5, m=200)
    params, costs = bp.train(X, Y, 8, 3000, 1.0, seed=0)
    accuracy = float(np.mean(bp.predict(params, X) == Y))
    assert costs[-1] < 0.2 and accuracy > 0.95


def test_predict_thresholds_the_output_at_one_half():
    X, _, params = network(np.random.default_rng(40), 3, 4, 1, 30, scale=2.0)
    before = copies(params)
    for activation in ("tanh", "relu"):
        A2 = my_forward(X, params, activation)[0]
        predictions = bp.predict(params, X, activation) if activation != "tanh" else bp.predict(params, X)
        assert predictions.shape == (1, 30) and predictions.dtype == np.int64
        assert np.array_equal(predictions, (A2 > 0.5).astype(int))
        assert 0 < predictions.sum() < 30
    assert_unchanged(before, params)


# ---- the source notebook and the modules do not drift apart ------------------------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(REPO, "source", "05_backprop", "05_backprop.ipynb")
SOLUTION_NAMES = ("graph_grads", "sigmoid_backward", "linear_backward", "backward", "numerical_gradient",
                  "gradient_check", "update_parameters", "train", "predict")
needs_notebook = pytest.mark.skipif(not os.path.exists(NOTEBOOK), reason="no source notebook yet")


def notebook_cells():
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nbformat.read(NOTEBOOK, as_version=4).cells
            if c.metadata.get("nbgrader", {}).get("grade_id")}


@needs_notebook
def test_given_forward_cell_is_assignment_03s_reference():
    from solutions import two_layer_forward
    source = open(two_layer_forward.__file__).read()
    pieces = {node.name if isinstance(node, ast.FunctionDef) else node.targets[0].id: ast.get_source_segment(source, node)
              for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.Assign))}
    given = notebook_cells()["given_forward"].source
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "sigmoid_prime", "tanh_prime", "relu_prime",
                 "leaky_relu_prime", "ACTIVATIONS", "_activation", "initialize_parameters", "forward", "compute_cost"):
        assert pieces[name] in given, \
            f"{name} in the notebook's given_forward cell differs from solutions/two_layer_forward.py: rebuild the notebook"


@needs_notebook
def test_notebook_solutions_agree_with_the_reference_module():
    cells = notebook_cells()
    assert all(cells[name].metadata["nbgrader"]["solution"] for name in SOLUTION_NAMES)
    namespace = answer_namespace(NOTEBOOK, also=lambda grade_id: grade_id == "given_forward")
    found = {name: namespace[name] for name in SOLUTION_NAMES}

    assert found["graph_grads"](3.0, 2.0, 5.0) == bp.graph_grads(3.0, 2.0, 5.0)
    rng = np.random.default_rng(50)
    dA, Z = rng.normal(0, 1, (3, 4)), rng.normal(0, 2, (3, 4))
    assert np.array_equal(found["sigmoid_backward"](dA, Z), bp.sigmoid_backward(dA, Z))
    dZ, A, W = rng.normal(0, 1, (2, 5)), rng.normal(0, 1, (3, 5)), rng.normal(0, 1, (2, 3))
    for got, want in zip(found["linear_backward"](dZ, A, W), bp.linear_backward(dZ, A, W)):
        assert np.array_equal(got, want)
    x = rng.normal(0, 1, (2, 3))
    f = lambda v: float(np.sum(np.sin(v) * v))
    assert np.array_equal(found["numerical_gradient"](f, x), bp.numerical_gradient(f, x))
    for activation in ACTIVATIONS:
        X, Y, params = network(rng, 3, 4, 1, 6)
        _, cache = bp.forward(X, params, activation)
        got, want = found["backward"](X, Y, params, cache, activation), bp.backward(X, Y, params, cache, activation)
        assert all(np.array_equal(got[k], want[k]) for k in want)
        assert found["gradient_check"](params, X, Y, activation) == bp.gradient_check(params, X, Y, activation)
        assert np.array_equal(found["predict"](params, X, activation), bp.predict(params, X, activation))
        new_got, new_want = found["update_parameters"](params, want, 0.3), bp.update_parameters(params, want, 0.3)
        assert all(np.array_equal(new_got[k], new_want[k]) for k in new_want)
    X, Y = xor_data()
    (p_got, c_got), (p_want, c_want) = found["train"](X, Y, 3, 7, 0.5, seed=2), bp.train(X, Y, 3, 7, 0.5, seed=2)
    assert c_got == c_want and all(np.array_equal(p_got[k], p_want[k]) for k in p_want)
