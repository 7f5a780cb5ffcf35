"""The reference solutions of assignments 01 and 02 (solutions/logistic_loop.py,
solutions/logistic_vectorized.py), tested without trusting them.

Every expected value is derived here from first principles: the slides'
formulas written out with math.exp and math.log, one sample at a time, and
gradients by central differences of a cost written in this file. Where a
slide is wrong, the test asserts the correct value and says what the slide has.
"""
import math
import os
import sys
import warnings

import nbformat
import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)  # solutions/ is not installed: it lives in the repository only

from reference_helpers import answer_namespace, relative_error  # noqa: E402
from solutions import logistic_loop as loop  # noqa: E402
from solutions import logistic_vectorized as vec  # noqa: E402
EPS = 1e-6  # central differences
GRAD_TOL = 1e-7  # relative error of a gradient


# ---- first principles, written here --------------------------------------------

def sigma(z):
    """The logistic function of one number, with math.exp on the side that cannot overflow."""
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def cost_by_hand(w, b, X, Y):
    """J(w, b) = -(1/m) sum_i [y log a + (1 - y) log(1 - a)], one sample at a time."""
    n_x, m = X.shape
    total = 0.0
    for i in range(m):
        z = sum(float(w[j, 0]) * float(X[j, i]) for j in range(n_x)) + float(b)
        a = sigma(z)
        y = float(Y[0, i])
        total += -(y * math.log(a) + (1 - y) * math.log(1 - a))
    return total / m


def numerical_gradient(w, b, X, Y, eps=EPS):
    """Central differences of cost_by_hand in every weight and in b."""
    dw = np.zeros(w.shape)
    for j in range(w.shape[0]):
        plus, minus = w.astype(float), w.astype(float)
        plus[j, 0] += eps
        minus[j, 0] -= eps
        dw[j, 0] = (cost_by_hand(plus, b, X, Y) - cost_by_hand(minus, b, X, Y)) / (2 * eps)
    db = (cost_by_hand(w, b + eps, X, Y) - cost_by_hand(w, b - eps, X, Y)) / (2 * eps)
    return dw, db


def random_problem(seed, n_x, m):
    rng = np.random.default_rng(seed)
    Y = (rng.random((1, m)) < 0.5).astype(np.int64)
    Y[0, 0] = 1 - Y[0, -1] if m > 1 else Y[0, 0]
    return rng.normal(0, 1, (n_x, 1)), float(rng.normal()), rng.normal(0, 1.5, (n_x, m)), Y


SHAPES = [(1, 1), (2, 3), (3, 7), (5, 12)]
PROPAGATES = [loop.propagate_loop, vec.propagate]


# ---- sigmoid ---------------------------------------------------------------------

@pytest.mark.parametrize("z", [0.0, 1.0, -1.0, 2.5, -7.25, 30.0, -30.0, 700.0, -700.0, 1000.0, -1000.0])
def test_sigmoid_of_a_number_is_a_float_equal_to_the_formula(z):
    s = loop.sigmoid(z)
    assert type(s) is float
    assert math.isclose(s, sigma(z), rel_tol=1e-12, abs_tol=1e-300)


def test_sigmoid_at_zero_is_one_half():
    assert loop.sigmoid(0.0) == 0.5
    assert type(loop.sigmoid(np.float64(0.0))) is float
    assert type(loop.sigmoid(0)) is float


@pytest.mark.parametrize("shape", [(3,), (2, 4), (1, 1), (1, 6), (2, 2, 2)])
def test_sigmoid_of_an_array_keeps_its_shape(shape):
    z = np.random.default_rng(0).normal(0, 5, shape)
    s = loop.sigmoid(z)
    assert isinstance(s, np.ndarray) and s.shape == shape
    expected = np.vectorize(sigma)(z)
    np.testing.assert_allclose(s, expected, rtol=1e-12, atol=0)


def test_sigmoid_has_no_overflow_warning_up_to_1e3():
    z = np.array([[-1000.0, -745.0, -709.0, -50.0, 0.0, 50.0, 709.0, 745.0, 1000.0]])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        s = loop.sigmoid(z)
        for value in (-1000.0, 1000.0):
            loop.sigmoid(value)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    assert s[0, 0] == 0.0 and s[0, -1] == 1.0
    assert np.all(np.diff(s[0]) >= 0)  # non-decreasing


def test_sigmoid_does_not_modify_its_argument():
    z = np.array([[-2.0, 0.0, 3.0]])
    before = z.copy()
    loop.sigmoid(z)
    np.testing.assert_array_equal(z, before)


def test_sigmoid_derivative_slip_of_activation_functions_and_error_functions():
    """The lecture writes d sigma/dx = e^{-x} / (1 + e^x)^2. The derivative of the reference sigmoid is
    e^{-x} / (1 + e^{-x})^2; the slide's form is e^{2x} times smaller (the ratio 01's note quotes)."""
    for x in (-3.0, -0.5, 1.0, 2.0, 4.0):
        numeric = (loop.sigmoid(x + EPS) - loop.sigmoid(x - EPS)) / (2 * EPS)
        assert abs(numeric - math.exp(-x) / (1 + math.exp(-x)) ** 2) / numeric < GRAD_TOL
        slide = math.exp(-x) / (1 + math.exp(x)) ** 2  # the slide's denominator
        assert numeric / slide == pytest.approx(math.exp(2 * x), rel=1e-6)


def test_logistic_formula_sign_slip_of_the_machine_learning_lecture():
    """The recap writes logistic(X lambda^T + b) = 1 / (1 + e^{-X lambda^T + b}). The exponent is
    -(w^T x + b): the bias gets the minus sign too. 01's demo: w = (1.5, -0.5), x = (2, 1), b = -1."""
    w, x, b = np.array([[1.5], [-0.5]]), np.array([[2.0], [1.0]]), -1.0
    a = loop.sigmoid((w.T @ x).item() + b)
    assert math.isclose(a, sigma(1.5 * 2.0 + (-0.5) * 1.0 + b), rel_tol=1e-12)
    slide = 1 / (1 + math.exp(-(1.5 * 2.0 + (-0.5) * 1.0) + b))  # 0.9707 on the slide's reading, 0.8176 right
    assert abs(slide - a) > 0.1
    assert math.isclose(slide, loop.sigmoid((w.T @ x).item() - b), rel_tol=1e-12)  # the bias with the wrong sign


# ---- loss ------------------------------------------------------------------------

@pytest.mark.parametrize("a, y", [(0.8, 1), (0.8, 0), (0.5, 1), (0.5, 0), (0.01, 1), (0.99, 0), (0.3, 1)])
def test_loss_is_the_binary_cross_entropy(a, y):
    L = loop.loss(a, y)
    assert type(L) is float
    expected = -math.log(a) if y == 1 else -math.log(1 - a)
    assert math.isclose(L, expected, rel_tol=1e-12)
    assert L > 0


def test_loss_of_one_half_is_ln_2():
    assert math.isclose(loop.loss(0.5, 0), math.log(2), rel_tol=1e-12)
    assert math.isclose(loop.loss(0.5, 1), math.log(2), rel_tol=1e-12)


def test_bce_without_its_minus_sign_ranks_predictions_backwards():
    """Activation Functions and Error Functions first writes L = y log y_hat + (1 - y) log(1 - y_hat), without the
    minus sign: the negative of the loss, which ranks a bad prediction as better than a good one."""
    good, bad = 0.9, 0.1  # predictions for a sample with y = 1
    slide = lambda a, y: y * math.log(a) + (1 - y) * math.log(1 - a)  # noqa: E731
    assert loop.loss(good, 1) < loop.loss(bad, 1)
    for a, y in ((good, 1), (bad, 1), (0.3, 0)):
        assert math.isclose(slide(a, y), -loop.loss(a, y), rel_tol=1e-12)


def test_loss_derivatives_and_the_dL_da_sign_slip():
    """dL/da = -y/a + (1 - y)/(1 - a); Activation Functions and Error Functions has -(1 - y)/(1 - a) in its first line.
    dL/dz = a - y through the sigmoid."""
    for a, y in ((0.3, 0), (0.3, 1), (0.75, 0), (0.75, 1)):
        numeric = (loop.loss(a + EPS, y) - loop.loss(a - EPS, y)) / (2 * EPS)
        assert abs(numeric - (-y / a + (1 - y) / (1 - a))) / abs(numeric) < GRAD_TOL
        slide = -y / a - (1 - y) / (1 - a)
        if y == 0:
            assert math.isclose(slide, -numeric, rel_tol=1e-6)  # the slide's sign turns the derivative around
    for z in (-2.0, 0.5, 3.0):
        for y in (0, 1):
            numeric = (loop.loss(sigma(z + EPS), y) - loop.loss(sigma(z - EPS), y)) / (2 * EPS)
            assert abs(numeric - (sigma(z) - y)) / abs(sigma(z) - y) < GRAD_TOL


# ---- propagate_loop and propagate --------------------------------------------------

def implement_all_that(w1, w2, b, X, Y):
    """The slide "Implement all that", line by line, for two features."""
    m = X.shape[1]
    J = 0.0
    dw1 = 0.0
    dw2 = 0.0
    db = 0.0
    for i in range(m):
        z = w1 * X[0, i] + w2 * X[1, i] + b
        a = 1 / (1 + math.exp(-z))
        J += -(Y[0, i] * math.log(a) + (1 - Y[0, i]) * math.log(1 - a))
        dz = a - Y[0, i]
        dw1 += X[0, i] * dz
        dw2 += X[1, i] * dz
        db += dz
    return J / m, dw1 / m, dw2 / m, db / m


@pytest.mark.parametrize("propagate", PROPAGATES)
def test_propagate_reproduces_the_slide_loop(propagate):
    X = np.array([[1.0, -2.0, 0.5, 3.0], [3.0, 0.0, -1.0, 0.25]])
    Y = np.array([[1, 0, 1, 0]])
    w, b = np.array([[0.5], [-0.25]]), 0.1
    J, dw1, dw2, db = implement_all_that(0.5, -0.25, 0.1, X, Y)
    got_J, got_dw, got_db = propagate(w, b, X, Y)
    assert type(got_J) is float and type(got_db) is float
    assert got_dw.shape == (2, 1)
    assert math.isclose(got_J, J, rel_tol=1e-12)
    np.testing.assert_allclose(got_dw, [[dw1], [dw2]], rtol=1e-12)
    assert math.isclose(got_db, db, rel_tol=1e-12)


@pytest.mark.parametrize("propagate", PROPAGATES)
def test_propagate_at_zero_weights_costs_ln_2(propagate):
    _, _, X, Y = random_problem(3, 4, 9)
    J, dw, db = propagate(np.zeros((4, 1)), 0.0, X, Y)
    assert math.isclose(J, math.log(2), rel_tol=1e-12)
    # every a = 1/2, so dz(i) = 1/2 - y(i)
    expected_dw = np.array([[sum(X[j, i] * (0.5 - Y[0, i]) for i in range(9)) / 9] for j in range(4)])
    np.testing.assert_allclose(dw, expected_dw, rtol=1e-12, atol=1e-15)
    assert math.isclose(db, sum(0.5 - Y[0, i] for i in range(9)) / 9, rel_tol=1e-12, abs_tol=1e-15)


@pytest.mark.parametrize("propagate", PROPAGATES)
@pytest.mark.parametrize("seed, shape", list(enumerate(SHAPES)))
def test_propagate_cost_and_gradient_check(propagate, seed, shape):
    w, b, X, Y = random_problem(seed, *shape)
    J, dw, db = propagate(w, b, X, Y)
    assert type(J) is float and type(db) is float and dw.shape == (shape[0], 1)
    assert math.isclose(J, cost_by_hand(w, b, X, Y), rel_tol=1e-10)
    num_dw, num_db = numerical_gradient(w, b, X, Y)
    assert relative_error(dw, num_dw) < GRAD_TOL
    assert relative_error(db, num_db) < GRAD_TOL


def test_half_gradient_slip_of_the_machine_learning_lecture():
    """The lecture writes d lambda = (1/(2m)) X E^T and db = (1/(2m)) sum E. The gradient of the
    cross-entropy cost (1/m) sum L is (1/m) X E^T, which propagate and propagate_loop return: the slide's is half."""
    w, b, X, Y = random_problem(11, 3, 8)
    num_dw, num_db = numerical_gradient(w, b, X, Y)
    m = X.shape[1]
    E = np.array([[sigma(float(w[:, 0] @ X[:, i]) + b) - Y[0, i] for i in range(m)]])
    slide_dw, slide_db = X @ E.T / (2 * m), float(np.sum(E)) / (2 * m)
    for propagate in PROPAGATES:
        _, dw, db = propagate(w, b, X, Y)
        assert relative_error(dw, num_dw) < GRAD_TOL and relative_error(db, num_db) < GRAD_TOL
        np.testing.assert_allclose(slide_dw, dw / 2, rtol=1e-12)
        assert math.isclose(slide_db, db / 2, rel_tol=1e-12)


@pytest.mark.parametrize("seed, shape", list(enumerate(SHAPES + [(30, 200)])))
def test_loop_and_vectorised_agree(seed, shape):
    w, b, X, Y = random_problem(seed + 20, *shape)
    J1, dw1, db1 = loop.propagate_loop(w, b, X, Y)
    J2, dw2, db2 = vec.propagate(w, b, X, Y)
    assert math.isclose(J1, J2, rel_tol=1e-12)
    np.testing.assert_allclose(dw1, dw2, rtol=1e-10, atol=1e-14)
    assert math.isclose(db1, db2, rel_tol=1e-10, abs_tol=1e-14)


@pytest.mark.parametrize("propagate", PROPAGATES)
def test_propagate_accepts_float_labels(propagate):
    w, b, X, Y = random_problem(5, 2, 6)
    a = propagate(w, b, X, Y)
    c = propagate(w, b, X, Y.astype(float))
    assert a[0] == pytest.approx(c[0]) and np.allclose(a[1], c[1]) and a[2] == pytest.approx(c[2])


# ---- gd_step, train_loop, optimize ------------------------------------------------

def test_gd_step_values_types_and_new_arrays():
    w, dw = np.array([[1.0], [-2.0]]), np.array([[0.5], [0.25]])
    new_w, new_b = loop.gd_step(w, 0.5, dw, -1.0, 0.1)
    np.testing.assert_allclose(new_w, [[1.0 - 0.05], [-2.0 - 0.025]], rtol=1e-15)
    assert type(new_b) is float and math.isclose(new_b, 0.5 + 0.1, rel_tol=1e-15)
    assert new_w is not w
    np.testing.assert_array_equal(w, [[1.0], [-2.0]])
    np.testing.assert_array_equal(dw, [[0.5], [0.25]])


def gradient_descent_by_hand(w, b, X, Y, alpha, iterations):
    """Independent gradient descent: the cost and gradient by hand, the cost recorded before each step."""
    costs = []
    for _ in range(iterations):
        costs.append(cost_by_hand(w, b, X, Y))
        m = X.shape[1]
        dz = [sigma(float(w[:, 0] @ X[:, i]) + b) - float(Y[0, i]) for i in range(m)]
        dw = np.array([[sum(X[j, i] * dz[i] for i in range(m)) / m] for j in range(X.shape[0])])
        w, b = w - alpha * dw, b - alpha * sum(dz) / m
    return w, b, costs


@pytest.mark.parametrize("seed, shape, alpha, iterations", [(0, (2, 10), 0.1, 5), (1, (3, 15), 0.5, 8), (2, (1, 1), 1.0, 3)])
def test_train_loop_and_optimize_follow_gradient_descent(seed, shape, alpha, iterations):
    _, _, X, Y = random_problem(seed, *shape)
    w_ref, b_ref, costs_ref = gradient_descent_by_hand(np.zeros((shape[0], 1)), 0.0, X, Y, alpha, iterations)
    for w, b, costs in (loop.train_loop(X, Y, alpha, iterations),
                        vec.optimize(np.zeros((shape[0], 1)), 0.0, X, Y, iterations, alpha)):
        assert type(costs) is list and len(costs) == iterations
        assert all(type(c) is float for c in costs)
        assert math.isclose(costs[0], math.log(2), rel_tol=1e-12)  # zero initialisation
        np.testing.assert_allclose(costs, costs_ref, rtol=1e-10)
        assert w.shape == (shape[0], 1) and type(b) is float
        np.testing.assert_allclose(w, w_ref, rtol=1e-9, atol=1e-12)
        assert math.isclose(b, b_ref, rel_tol=1e-9, abs_tol=1e-12)


def test_optimize_starts_from_the_given_parameters():
    w0, b0, X, Y = random_problem(7, 3, 9)
    w_ref, b_ref, costs_ref = gradient_descent_by_hand(w0, b0, X, Y, 0.3, 4)
    before = (w0.copy(), X.copy(), Y.copy())
    w, b, costs = vec.optimize(w0, b0, X, Y, 4, 0.3)
    np.testing.assert_allclose(costs, costs_ref, rtol=1e-10)
    np.testing.assert_allclose(w, w_ref, rtol=1e-9)
    assert math.isclose(b, b_ref, rel_tol=1e-9)
    for array, copy in zip((w0, X, Y), before):
        np.testing.assert_array_equal(array, copy)


def test_training_lowers_the_cost():
    rng = np.random.default_rng(1)
    Y = (rng.random((1, 40)) < 0.5).astype(np.int64)
    X = np.where(Y == 1, 1.0, -1.0) + rng.normal(0, 0.7, (2, 40))
    _, _, costs = loop.train_loop(X, Y, 0.5, 50)
    assert all(later < earlier for earlier, later in zip(costs, costs[1:]))


def test_the_slides_alpha_of_1e_5_barely_moves():
    """The slide's alpha = 0.00001 ("Implement all that"): on standardised features, 200 iterations leave the cost near ln 2,
    while alpha = 0.5 gets over a hundred times further."""
    rng = np.random.default_rng(2)
    Y = (rng.random((1, 50)) < 0.5).astype(np.int64)
    X = np.where(Y == 1, 1.0, -1.0) + rng.normal(0, 1.0, (2, 50))
    _, _, slow = vec.optimize(np.zeros((2, 1)), 0.0, X, Y, 200, 0.00001)
    _, _, good = vec.optimize(np.zeros((2, 1)), 0.0, X, Y, 200, 0.5)
    assert slow[-1] < slow[0] and math.log(2) - slow[-1] < 0.005
    assert math.log(2) - good[-1] > 100 * (math.log(2) - slow[-1])


# ---- predict ------------------------------------------------------------------------

def test_predict_labels_shape_dtype_and_threshold():
    w, b = np.array([[1.0], [-1.0]]), 0.0
    X = np.array([[2.0, 0.5, -1.0, 3.0, 1.0], [1.0, 2.0, -2.0, 4.0, 1.0]])  # z = 1, -1.5, 1, -1, 0
    labels = vec.predict(w, b, X)
    assert labels.shape == (1, 5) and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [[1, 0, 1, 0, 0]])  # sigma(0) = 0.5 is not > 0.5


@pytest.mark.parametrize("seed, shape", list(enumerate(SHAPES)))
def test_predict_is_one_where_the_probability_exceeds_one_half(seed, shape):
    w, b, X, _ = random_problem(seed + 40, *shape)
    labels = vec.predict(w, b, X)
    expected = [[1 if sigma(float(w[:, 0] @ X[:, i]) + b) > 0.5 else 0 for i in range(shape[1])]]
    np.testing.assert_array_equal(labels, expected)
    assert set(np.unique(labels)) <= {0, 1}


# ---- no function modifies its arguments ----------------------------------------------

CALLS = [
    (loop.sigmoid, lambda w, b, X, Y: (X,)),
    (loop.propagate_loop, lambda w, b, X, Y: (w, b, X, Y)),
    (loop.gd_step, lambda w, b, X, Y: (w, b, w * 0.5, 0.25, 0.1)),
    (loop.train_loop, lambda w, b, X, Y: (X, Y, 0.1, 3)),
    (vec.propagate, lambda w, b, X, Y: (w, b, X, Y)),
    (vec.optimize, lambda w, b, X, Y: (w, b, X, Y, 3, 0.1)),
    (vec.predict, lambda w, b, X, Y: (w, b, X)),
]


@pytest.mark.parametrize("fn, make", CALLS, ids=[f.__module__.split(".")[-1] + "." + f.__name__ for f, _ in CALLS])
def test_no_function_modifies_its_arguments(fn, make):
    args = make(*random_problem(9, 3, 6))
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    fn(*args)
    for a, b in zip(args, before):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)


# ---- the notebooks' solutions are the reference's ----------------------------------------

def notebook_path(name):
    return os.path.join(REPO, "source", name, f"{name}.ipynb")


@pytest.mark.parametrize("name, module, functions", [
    ("01_logistic_loop", loop, ("sigmoid", "loss", "propagate_loop", "gd_step", "train_loop")),
    ("02_logistic_vectorized", vec, ("propagate", "optimize", "predict")),
])
def test_notebook_solutions_agree_with_the_reference(name, module, functions):
    ns = answer_namespace(notebook_path(name), also=lambda grade_id: grade_id.startswith("given_"))
    for seed, shape in enumerate(SHAPES):
        w, b, X, Y = random_problem(seed + 60, *shape)
        calls = {
            "sigmoid": (X,), "loss": (float(loop.sigmoid(X[0, 0])), int(Y[0, 0])), "propagate_loop": (w, b, X, Y),
            "gd_step": (w, b, w * 0.3, 0.7, 0.2), "train_loop": (X, Y, 0.3, 4), "propagate": (w, b, X, Y),
            "optimize": (w, b, X, Y, 4, 0.3), "predict": (w, b, X),
        }
        for fn in functions:
            got, want = ns[fn](*calls[fn]), getattr(module, fn)(*calls[fn])
            got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
            assert len(got) == len(want), fn
            for g, v in zip(got, want):
                assert type(g) is type(v), (fn, type(g), type(v))
                np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(v, dtype=float), rtol=1e-12,
                                           err_msg=fn)


def test_notebook_02_gives_the_loop_version_of_assignment_01():
    path = notebook_path("02_logistic_vectorized")
    nb = nbformat.read(path, as_version=4)
    ns = answer_namespace(path, also=lambda grade_id: grade_id.startswith("given_"))
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    assert "given_propagate_loop" in ids
    given = nb.cells[ids.index("given_propagate_loop")].metadata.nbgrader
    assert given["locked"] and not given["solution"] and not given["grade"]
    for seed, shape in enumerate(SHAPES):
        w, b, X, Y = random_problem(seed + 80, *shape)
        for got, want in zip(ns["propagate_loop"](w, b, X, Y), loop.propagate_loop(w, b, X, Y)):
            np.testing.assert_allclose(got, want, rtol=1e-12)
        np.testing.assert_allclose(ns["sigmoid"](X), loop.sigmoid(X), rtol=1e-12)


@pytest.mark.parametrize("name, module, functions", [
    ("01_logistic_loop", "logistic_loop", ("sigmoid", "loss", "propagate_loop", "gd_step", "train_loop")),
    ("02_logistic_vectorized", "logistic_vectorized", ("propagate", "optimize", "predict")),
])
def test_notebook_has_a_visible_and_a_hidden_test_per_function(name, module, functions):
    nb = nbformat.read(os.path.join(REPO, "source", name, f"{name}.ipynb"), as_version=4)
    cells = {c.metadata.nbgrader["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    for fn in functions:
        assert cells[fn].metadata.nbgrader["solution"]
        visible, hidden = cells[f"test_{fn}"], cells[f"hidden_{fn}"]
        assert visible.source.lstrip().startswith("check(") or f"check({fn}," in visible.source
        assert hidden.source == (f"# Hidden tests of {fn}: run at grading.\n### BEGIN HIDDEN TESTS\n"
                                 f"check({fn}, hidden_tests(\"{module}\"))\n### END HIDDEN TESTS")
        assert hidden.metadata.nbgrader["points"] >= visible.metadata.nbgrader["points"] > 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
