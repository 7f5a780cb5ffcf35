"""Tests of solutions/two_layer_forward.py that do not trust it.

Every expected value is derived here: from the formulas with math.exp /
math.log / math.tanh, from central differences computed in this file, or from
the lectures' worked examples recomputed by hand. Where a slide is wrong the test
asserts that the module's value differs from the slide's, and a comment names the slip.
"""
import copy
import math
import os
import warnings

import numpy as np
import pytest

from reference_helpers import answer_namespace, relative_error
from solutions import two_layer_forward as net

ACTIVATION_NAMES = ("tanh", "relu", "leaky_relu", "sigmoid")


# ---- helpers written here, independent of the module --------------------------

def sigmoid_math(z):
    return 1.0 / (1.0 + math.exp(-z))


def tanh_math(z):
    return (math.exp(z) - math.exp(-z)) / (math.exp(z) + math.exp(-z))


def relu_math(z):
    return z if z > 0 else 0.0


def leaky_math(z, alpha=0.01):
    return z if z > 0 else alpha * z


HIDDEN_MATH = {"sigmoid": sigmoid_math, "tanh": tanh_math, "relu": relu_math, "leaky_relu": leaky_math}


def elementwise(f, Z):
    return np.array([[f(float(z)) for z in row] for row in np.atleast_2d(Z)]).reshape(np.shape(Z))


def central_difference(g, Z, eps=1e-6):
    """dg/dz entry by entry (g acts elementwise), by central differences."""
    Z = np.asarray(Z, dtype=np.float64)
    grad = np.zeros_like(Z)
    for i in np.ndindex(Z.shape):
        plus, minus = Z.copy(), Z.copy()
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (np.asarray(g(plus))[i] - np.asarray(g(minus))[i]) / (2 * eps)
    return grad


def forward_by_hand(x, W1, b1, W2, b2, g):
    """One sample, one neuron at a time, with Python floats."""
    z1 = [sum(W1[j][k] * x[k] for k in range(len(x))) + b1[j] for j in range(len(W1))]
    a1 = [g(z) for z in z1]
    z2 = [sum(W2[j][k] * a1[k] for k in range(len(a1))) + b2[j] for j in range(len(W2))]
    a2 = [sigmoid_math(z) for z in z2]
    return z1, a1, z2, a2


def random_params(rng, n_x, n_h, n_y, scale=0.7):
    return {"W1": rng.normal(0, scale, (n_h, n_x)), "b1": rng.normal(0, scale, (n_h, 1)),
            "W2": rng.normal(0, scale, (n_y, n_h)), "b2": rng.normal(0, scale, (n_y, 1))}


def away_from_zero(rng, shape, scale=2.0):
    z = rng.normal(0, scale, shape)
    return np.where(np.abs(z) < 1e-3, 0.5, z)


# ---- activations ----------------------------------------------------------------

@pytest.mark.parametrize("name, by_hand", [("sigmoid", sigmoid_math), ("tanh", tanh_math), ("relu", relu_math),
                                           ("leaky_relu", leaky_math)])
def test_activation_values_shapes_and_dtype(name, by_hand):
    Z = np.array([[-3.0, -0.5, 0.0], [0.25, 1.0, 4.0]])
    A = getattr(net, name)(Z)
    assert isinstance(A, np.ndarray) and A.shape == Z.shape and A.dtype == np.float64
    np.testing.assert_allclose(A, elementwise(by_hand, Z), rtol=1e-12, atol=1e-15)
    # integer input still gives floats
    A_int = getattr(net, name)(np.array([[-2, 0, 3]]))
    assert A_int.dtype == np.float64
    np.testing.assert_allclose(A_int, elementwise(by_hand, np.array([[-2.0, 0.0, 3.0]])), rtol=1e-12)


def test_leaky_relu_alpha():
    Z = np.array([[-2.0, -0.1, 0.3]])
    np.testing.assert_allclose(net.leaky_relu(Z, alpha=0.2), [[-0.4, -0.02, 0.3]], rtol=1e-12)
    np.testing.assert_allclose(net.leaky_relu(Z), [[-0.02, -0.001, 0.3]], rtol=1e-12)  # alpha defaults to 0.01


def test_sigmoid_special_values():
    assert float(net.sigmoid(0.0)) == 0.5
    # sigma(-z) = 1 - sigma(z)
    z = np.linspace(-6, 6, 13)
    np.testing.assert_allclose(net.sigmoid(-z), 1 - net.sigmoid(z), rtol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "sigmoid_prime", "tanh_prime"])
def test_no_overflow_for_inputs_of_size_1000(name):
    Z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow in exp) fails the test
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is harmless
            A = getattr(net, name)(Z)
    assert np.all(np.isfinite(A))
    if name == "sigmoid":
        assert A[0, 0] == 0.0 and A[0, -1] == 1.0 and A[0, 2] == 0.5
        assert 0 < A[0, 1] < 1e-21 and abs(A[0, 1] - math.exp(-50)) < 1e-30
    if name == "tanh":
        assert A[0, 0] == -1.0 and A[0, -1] == 1.0


def test_the_lectures_tanh_code_overflows_where_ours_does_not():
    # Deep Learning for Vision's tanh: ex = np.exp(x); e_x = np.exp(-x); (ex - e_x) / (ex + e_x): nan for |x| = 1000
    x = np.array([-1000.0, -2.0, 0.5, 1000.0])
    with np.errstate(all="ignore"):
        slide = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
    ours = net.tanh(x)
    np.testing.assert_array_equal(np.isnan(slide), [True, False, False, True])
    np.testing.assert_allclose(ours[1:3], slide[1:3], rtol=1e-12)  # the same function where it does not overflow
    assert ours[0] == -1.0 and ours[-1] == 1.0


def test_tanh_is_a_scaled_sigmoid():
    # Machine Learning, Lecture: Neural Networks: tanh "is a scaled version of the Sigmoid curve": tanh(z) = 2 sigma(2z) - 1
    z = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(net.tanh(z), 2 * elementwise(sigmoid_math, 2 * z) - 1, rtol=1e-12, atol=1e-15)


# ---- derivatives: central differences -------------------------------------------

@pytest.mark.parametrize("g, g_prime, kwargs", [
    ("sigmoid", "sigmoid_prime", {}), ("tanh", "tanh_prime", {}), ("relu", "relu_prime", {}),
    ("leaky_relu", "leaky_relu_prime", {}), ("leaky_relu", "leaky_relu_prime", {"alpha": 0.2}),
])
def test_derivatives_match_central_differences(g, g_prime, kwargs):
    rng = np.random.default_rng(3)
    Z = away_from_zero(rng, (4, 5))
    Z = np.clip(Z, -4, 4)  # where tanh' and sigma' are not tiny
    numerical = central_difference(lambda v: getattr(net, g)(v, **kwargs), Z)
    analytic = getattr(net, g_prime)(Z, **kwargs)
    assert analytic.shape == Z.shape and analytic.dtype == np.float64
    assert relative_error(analytic, numerical) < 1e-7


def test_sigmoid_and_tanh_derivatives_from_first_principles():
    for z in (-2.0, -0.3, 0.0, 0.7, 3.0):
        h = 1e-6
        d_sig = (sigmoid_math(z + h) - sigmoid_math(z - h)) / (2 * h)
        d_tanh = (tanh_math(z + h) - tanh_math(z - h)) / (2 * h)
        assert abs(float(net.sigmoid_prime(np.array(z))) - d_sig) < 1e-9
        assert abs(float(net.tanh_prime(np.array(z))) - d_tanh) < 1e-9
    assert float(net.sigmoid_prime(np.array(0.0))) == 0.25  # sigma(0) (1 - sigma(0)) = 1/4
    assert float(net.tanh_prime(np.array(0.0))) == 1.0


def test_tanh_derivative_slip_of_lecture_8():
    # Lecture 8 writes tanh'(z) = 1 - (1 - g(z))^2 = 1 - a^2; only the last form, 1 - a^2, is right.
    z = np.array([-1.5, -0.4, 0.6, 2.0])
    a = np.tanh(z)
    assert relative_error(net.tanh_prime(z), central_difference(np.tanh, z)) < 1e-7
    np.testing.assert_allclose(net.tanh_prime(z), 1 - a ** 2, rtol=1e-12)
    slide_form = 1 - (1 - a) ** 2  # = 2a - a^2, negative for a < 0: not a derivative of tanh
    assert np.max(np.abs(slide_form - net.tanh_prime(z))) > 0.5


def test_the_machine_learning_lectures_backprop_uses_tanh_derivative_not_logistic():
    # the backprop slide of Machine Learning, Lecture: Neural Networks says it "uses a logistic activation unit" but multiplies by 1 - H^2,
    # which is tanh's derivative; the logistic's is H (1 - H).
    z = np.array([-1.0, 0.5, 2.0])
    assert np.allclose(net.tanh_prime(z), 1 - np.tanh(z) ** 2)
    s = elementwise(sigmoid_math, z)
    assert not np.allclose(net.sigmoid_prime(z), 1 - s ** 2)
    np.testing.assert_allclose(net.sigmoid_prime(z), s * (1 - s), rtol=1e-12)


def test_derivatives_at_zero_follow_the_course_convention():
    Z = np.array([[0.0, -1.0, 2.0]])
    np.testing.assert_array_equal(net.relu_prime(Z), [[0.0, 0.0, 1.0]])  # relu'(0) = 0
    np.testing.assert_array_equal(net.leaky_relu_prime(Z), [[0.01, 0.01, 1.0]])  # leaky'(0) = alpha
    np.testing.assert_array_equal(net.leaky_relu_prime(Z, alpha=0.3), [[0.3, 0.3, 1.0]])
    assert net.relu_prime(np.array([[1, -1]])).dtype == np.float64


# ---- count_parameters ----------------------------------------------------------------

def test_count_parameters_of_the_pytorch_network_of_deep_learning_for_vision():
    # Linear(4, 5), Linear(5, 5), Linear(5, 3): 4*5+5 + 5*5+5 + 5*3+3 (the slide labels the last term "Hidden layer 3":
    # it is the output layer, Linear(5, 3); the network has 2 hidden layers)
    count = net.count_parameters([4, 5, 5, 3])
    assert count == (4 * 5 + 5) + (5 * 5 + 5) + (5 * 3 + 3) and type(count) is int
    assert count - net.count_parameters([4, 5, 5]) == net.count_parameters([5, 3]) == 5 * 3 + 3


def test_count_parameters_of_lecture_8s_shallow_network_and_l_equals_1():
    # Lecture 8: 2 inputs, 3 hidden units, 1 output: 3*2+3 + 1*3+1 = 13
    assert net.count_parameters([2, 3, 1]) == 3 * 2 + 3 + 1 * 3 + 1 == 13
    # Lecture 8: L = 1 (logistic regression) has n0 * 1 + 1 parameters
    for n0 in (1, 5, 30):
        assert net.count_parameters([n0, 1]) == n0 + 1


def test_count_parameters_other_networks():
    # the 3-3-4-1 network of Deep Learning for Vision (layers 1 and 2 hidden, layer 3 the output)
    assert net.count_parameters([3, 3, 4, 1]) == (3 * 3 + 3) + (4 * 3 + 4) + (1 * 4 + 1) == 33
    # the 5-3-1 and 6-4-2 networks of Introduction to Neural Networks, Part 2
    assert net.count_parameters([5, 3, 1]) == 15 + 3 + 3 + 1
    assert net.count_parameters([6, 4, 2]) == 24 + 4 + 8 + 2
    assert net.count_parameters((784, 128, 64, 10)) == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert net.count_parameters([7]) == 0  # no layer with weights
    assert type(net.count_parameters(np.array([3, 4, 1]))) is int


def test_count_parameters_agrees_with_initialize_parameters():
    params = net.initialize_parameters(6, 4, 2, seed=0)
    assert sum(v.size for v in params.values()) == net.count_parameters([6, 4, 2])


# ---- initialize_parameters ---------------------------------------------------------------

def test_initialize_parameters_answers_the_dimensions_question():
    # Introduction to Neural Networks, Part 2: 6 inputs, 4 hidden units, 2 outputs; the slide answers a=4, b=6 for W1
    params = net.initialize_parameters(6, 4, 2, seed=1)
    assert set(params) == {"W1", "b1", "W2", "b2"}
    assert params["W1"].shape == (4, 6) and params["b1"].shape == (4, 1)
    assert params["W2"].shape == (2, 4) and params["b2"].shape == (2, 1)
    # the lecture's first network: W1 (3x5), b1 (3x1), W2 (1x3), b2 (1x1)
    p = net.initialize_parameters(5, 3, 1)
    assert [p[k].shape for k in ("W1", "b1", "W2", "b2")] == [(3, 5), (3, 1), (1, 3), (1, 1)]


def test_initialize_parameters_values():
    params = net.initialize_parameters(40, 50, 3, seed=7)
    assert np.all(params["b1"] == 0) and np.all(params["b2"] == 0)
    assert all(v.dtype == np.float64 for v in params.values())
    assert 0.008 < np.std(params["W1"]) < 0.012 and abs(np.mean(params["W1"])) < 0.002
    # the documented draw: W1 first, then W2, standard normal times 0.01
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(params["W1"], rng.standard_normal((50, 40)) * 0.01)
    np.testing.assert_array_equal(params["W2"], rng.standard_normal((3, 50)) * 0.01)
    again = net.initialize_parameters(40, 50, 3, seed=7)
    other = net.initialize_parameters(40, 50, 3, seed=8)
    assert all(np.array_equal(params[k], again[k]) for k in params)
    assert not np.array_equal(params["W1"], other["W1"])
    # seed None: fresh randomness, still the right shapes
    a, b = net.initialize_parameters(3, 4, 1), net.initialize_parameters(3, 4, 1)
    assert not np.array_equal(a["W1"], b["W1"])


def test_small_weights_keep_the_first_output_near_one_half():
    # with weights x 0.01 and zero biases, Z2 is tiny and A2 is close to sigma(0) = 0.5
    X = np.random.default_rng(0).normal(0, 1, (6, 10))
    A2, _ = net.forward(X, net.initialize_parameters(6, 4, 1, seed=0))
    assert np.all(np.abs(A2 - 0.5) < 1e-3)


# ---- forward ----------------------------------------------------------------------------

def test_the_worked_forward_pass_of_the_machine_learning_lecture():
    # input <0.2, 0.5, -0.9>, bias 0.1 everywhere, sigmoid in both layers; weights read from the products
    # shown on the slides: neuron 1 (1.2, 0.9, 0.3), neuron 2 (0.2, 0.3, 0.1), neuron 3 (1.3, 1.9, 0.1),
    # output (0.2, 0.6, 0.2). The module's pass is checked against the hand computation, then against the
    # slide's numbers: the right ones agree to the slide's rounding, the wrong ones do not.
    x = [0.2, 0.5, -0.9]
    W1 = [[1.2, 0.9, 0.3], [0.2, 0.3, 0.1], [1.3, 1.9, 0.1]]
    W2 = [[0.2, 0.6, 0.2]]
    z1, a1, z2, a2 = forward_by_hand(x, W1, [0.1] * 3, W2, [0.1], sigmoid_math)
    params = {"W1": np.array(W1), "b1": np.full((3, 1), 0.1), "W2": np.array(W2), "b2": np.full((1, 1), 0.1)}
    X = np.array(x).reshape(3, 1)
    A2, cache = net.forward(X, params, hidden_activation="sigmoid")
    np.testing.assert_allclose(cache["Z1"], np.array(z1).reshape(3, 1), rtol=1e-12)
    np.testing.assert_allclose(cache["A1"], np.array(a1).reshape(3, 1), rtol=1e-12)
    np.testing.assert_allclose(cache["Z2"], [[z2[0]]], rtol=1e-12)
    np.testing.assert_allclose(A2, [[a2[0]]], rtol=1e-12)
    np.testing.assert_allclose(net.forward_loop(X, params, hidden_activation="sigmoid"), [[a2[0]]], rtol=1e-12)
    Z1, A1 = cache["Z1"][:, 0], cache["A1"][:, 0]
    # right on the slides: z = 0.52 and 1.22, sigmoid(1.22) = 0.77
    assert round(Z1[0], 2) == 0.52 and round(Z1[2], 2) == 1.22 and round(A1[2], 2) == 0.77
    # neuron 1: the slide's sigmoid(0.52) = 0.62 is 0.627
    assert round(A1[0], 3) == 0.627
    # neuron 2: the slide's z = 0.55 is sigmoid(0.20), the activation; it then takes sigmoid(0.55) = 0.63
    assert round(Z1[1], 2) == 0.20 and round(A1[1], 2) == 0.55
    assert round(float(net.sigmoid(np.array(A1[1]))), 2) == 0.63
    # output: the slide's 0.756 and 0.68 follow from its 0.62, 0.63, 0.77; the right values are 0.710 and 0.670
    slide_z2 = float(np.array(W2[0]) @ np.array([0.62, 0.63, 0.77]) + 0.1)
    assert round(slide_z2, 3) == 0.756 and round(float(net.sigmoid(np.array(slide_z2))), 2) == 0.68
    assert round(float(cache["Z2"][0, 0]), 3) == 0.710 and round(float(A2[0, 0]), 3) == 0.670


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("n_x, n_h, n_y, m", [(2, 3, 1, 4), (5, 2, 1, 1), (4, 6, 2, 7)])
def test_forward_matches_hand_computation(activation, n_x, n_h, n_y, m):
    rng = np.random.default_rng(n_x * 100 + m)
    X = rng.normal(0, 1, (n_x, m))
    params = random_params(rng, n_x, n_h, n_y)
    A2, cache = net.forward(X, params, hidden_activation=activation)
    assert set(cache) == {"Z1", "A1", "Z2", "A2"}
    assert cache["Z1"].shape == cache["A1"].shape == (n_h, m)
    assert cache["Z2"].shape == A2.shape == (n_y, m)
    assert cache["A2"] is A2 or np.array_equal(cache["A2"], A2)
    P = {k: v.tolist() for k, v in params.items()}
    g = HIDDEN_MATH[activation]
    for i in range(m):
        z1, a1, z2, a2 = forward_by_hand(X[:, i].tolist(), P["W1"], [b[0] for b in P["b1"]], P["W2"],
                                         [b[0] for b in P["b2"]], g)
        np.testing.assert_allclose(cache["Z1"][:, i], z1, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(cache["A1"][:, i], a1, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(cache["Z2"][:, i], z2, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(A2[:, i], a2, rtol=1e-10, atol=1e-12)
    loop = net.forward_loop(X, params, hidden_activation=activation)
    assert loop.shape == (n_y, m)
    np.testing.assert_allclose(loop, A2, rtol=1e-12, atol=1e-15)


def test_forward_default_activation_is_tanh():
    rng = np.random.default_rng(11)
    X, params = rng.normal(0, 1, (3, 5)), random_params(rng, 3, 4, 1)
    np.testing.assert_array_equal(net.forward(X, params)[0], net.forward(X, params, "tanh")[0])
    np.testing.assert_array_equal(net.forward_loop(X, params), net.forward_loop(X, params, "tanh"))


def test_forward_rejects_an_unknown_activation():
    rng = np.random.default_rng(0)
    X, params = rng.normal(0, 1, (2, 3)), random_params(rng, 2, 3, 1)
    with pytest.raises(ValueError):
        net.forward(X, params, hidden_activation="softplus")


def test_activations_table():
    assert set(net.ACTIVATIONS) == set(ACTIVATION_NAMES)
    z = np.array([[-1.0, 0.5]])
    for name, (g, g_prime) in net.ACTIVATIONS.items():
        np.testing.assert_allclose(g(z), elementwise(HIDDEN_MATH[name], z), rtol=1e-12)
        assert relative_error(g_prime(z), central_difference(g, z)) < 1e-7


def test_without_non_linearity_two_layers_are_one_linear_map():
    # Introduction to Neural Networks, Part 2 and Lecture 8: with g(z) = z, a2 = W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)
    # relu is the identity where every Z1 > 0, so forward's Z2 must equal the collapsed map there
    rng = np.random.default_rng(5)
    X = rng.uniform(0.5, 1.5, (3, 8))
    params = {"W1": rng.uniform(0.1, 1.0, (4, 3)), "b1": rng.uniform(0.1, 0.5, (4, 1)),
              "W2": rng.normal(0, 1, (1, 4)), "b2": rng.normal(0, 1, (1, 1))}
    _, cache = net.forward(X, params, hidden_activation="relu")
    assert np.all(cache["Z1"] > 0)
    W = params["W2"] @ params["W1"]
    b = params["W2"] @ params["b1"] + params["b2"]
    np.testing.assert_allclose(cache["Z2"], W @ X + b, rtol=1e-12)


# ---- compute_cost -------------------------------------------------------------------------

def test_compute_cost_by_hand():
    A2 = np.array([[0.9, 0.2, 0.6, 0.35]])
    Y = np.array([[1, 0, 0, 1]])
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4) + math.log(0.35)) / 4
    J = net.compute_cost(A2, Y)
    assert type(J) is float
    assert abs(J - expected) < 1e-12


def test_compute_cost_special_cases():
    # a prediction of 0.5 for everything costs ln 2, whatever the labels
    for m in (1, 3, 10):
        Y = (np.arange(m) % 2).reshape(1, m)
        assert abs(net.compute_cost(np.full((1, m), 0.5), Y) - math.log(2)) < 1e-12
    # the mean: repeating the samples does not change the cost
    A2 = np.array([[0.3, 0.8]])
    Y = np.array([[0.0, 1.0]])
    assert abs(net.compute_cost(np.tile(A2, 5), np.tile(Y, 5)) - net.compute_cost(A2, Y)) < 1e-12


def test_compute_cost_of_a_forward_pass():
    # the untrained network (weights x 0.01) costs about ln 2
    rng = np.random.default_rng(2)
    X = rng.normal(0, 1, (4, 30))
    Y = (rng.random((1, 30)) < 0.5).astype(int)
    A2, _ = net.forward(X, net.initialize_parameters(4, 5, 1, seed=2))
    assert abs(net.compute_cost(A2, Y) - math.log(2)) < 1e-3


# ---- arguments are never modified ---------------------------------------------------------

def _calls():
    rng = np.random.default_rng(9)
    Z = rng.normal(0, 2, (3, 4))
    X = rng.normal(0, 1, (3, 5))
    params = random_params(rng, 3, 4, 1)
    A2 = rng.uniform(0.1, 0.9, (1, 5))
    Y = np.array([[1, 0, 1, 1, 0]])
    calls = [(getattr(net, name), (Z,), {}) for name in
             ("sigmoid", "tanh", "relu", "leaky_relu", "sigmoid_prime", "tanh_prime", "relu_prime", "leaky_relu_prime")]
    calls += [(net.leaky_relu, (Z,), {"alpha": 0.1}), (net.count_parameters, ([3, 4, 1],), {})]
    calls += [(fn, (X, params), {"hidden_activation": a}) for fn in (net.forward, net.forward_loop) for a in ACTIVATION_NAMES]
    calls += [(net.compute_cost, (A2, Y), {})]
    return calls


@pytest.mark.parametrize("fn, args, kwargs", _calls(), ids=lambda v: getattr(v, "__name__", None))
def test_no_function_modifies_its_arguments(fn, args, kwargs):
    before = copy.deepcopy(args)
    out = fn(*args, **kwargs)
    for old, new in zip(before, args):
        if isinstance(old, dict):
            assert all(np.array_equal(old[k], new[k]) for k in old)
        elif isinstance(old, np.ndarray):
            assert np.array_equal(old, new)
        else:
            assert old == new
    # a returned array is a new array, never one of the arguments
    outs = out if isinstance(out, tuple) else (out,)
    flat = [v for o in outs for v in (o.values() if isinstance(o, dict) else [o])]
    arrays = [a for a in args if isinstance(a, np.ndarray)] + [v for a in args if isinstance(a, dict) for v in a.values()]
    assert not any(o is a for o in flat for a in arrays)


# ---- the source notebook's solutions and this module agree ------------------------------

NOTEBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "source", "03_two_layer_forward", "03_two_layer_forward.ipynb")
SOLUTION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "sigmoid_prime", "tanh_prime", "relu_prime",
                  "leaky_relu_prime", "count_parameters", "initialize_parameters", "forward_loop", "forward",
                  "compute_cost")


@pytest.mark.skipif(not os.path.exists(NOTEBOOK), reason="no source notebook yet")
def test_notebook_solutions_agree_with_the_reference_module():
    # the answer cells and the locked ACTIVATIONS table they use
    found = answer_namespace(NOTEBOOK, also=lambda grade_id: grade_id == "demo_activations_table")
    assert all(name in found for name in SOLUTION_NAMES)
    rng = np.random.default_rng(21)
    Z = rng.normal(0, 3, (4, 6))
    Z[0, 0] = 0.0
    for name in SOLUTION_NAMES[:8]:
        np.testing.assert_array_equal(found[name](Z), getattr(net, name)(Z))
    for name in ("leaky_relu", "leaky_relu_prime"):
        np.testing.assert_array_equal(found[name](Z, alpha=0.2), getattr(net, name)(Z, alpha=0.2))
    for dims in ([4, 5, 5, 3], [2, 3, 1], [7, 1]):
        assert found["count_parameters"](dims) == net.count_parameters(dims)
    for seed in (0, 5):
        mine, ref = found["initialize_parameters"](3, 4, 1, seed=seed), net.initialize_parameters(3, 4, 1, seed=seed)
        assert all(np.array_equal(mine[k], ref[k]) for k in ref)
    X = rng.normal(0, 1, (3, 9))
    params = random_params(rng, 3, 4, 1)
    Y = (rng.random((1, 9)) < 0.5).astype(int)
    for activation in ACTIVATION_NAMES:
        np.testing.assert_array_equal(found["forward_loop"](X, params, activation),
                                      net.forward_loop(X, params, activation))
        (A2, cache), (A2_ref, cache_ref) = found["forward"](X, params, activation), net.forward(X, params, activation)
        np.testing.assert_array_equal(A2, A2_ref)
        assert all(np.array_equal(cache[k], cache_ref[k]) for k in cache_ref)
        assert found["compute_cost"](A2, Y) == net.compute_cost(A2_ref, Y)
