"""The reference solutions of assignment 04 (solutions/softmax.py), checked
without trusting them: expected values come from the slides' formulas written
out here with math.exp and math.log, gradients from central differences of a
cost computed here, and the seeds' worked examples are recomputed (where a
slide got a number wrong, the test asserts the right one and says so)."""
import math
import os
import warnings

import numpy as np
import pytest

from reference_helpers import answer_namespace, central_differences, relative_error
from solutions.softmax import cross_entropy, one_hot, predict_classes, softmax, softmax_propagate

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(REPO, "source", "04_softmax", "04_softmax.ipynb")


# ---- written out here, one number at a time ----------------------------------

def softmax_by_hand(z):
    """softmax of one list of numbers, with math.exp (the inputs here are small)."""
    t = [math.exp(v) for v in z]
    return [v / sum(t) for v in t]


def cost_by_hand(W, b, X, y):
    """J = (1/m) sum_i -ln a_{y_i}^(i), with a = softmax(W x + b), sample by sample."""
    K, n_x = W.shape
    m = X.shape[1]
    total = 0.0
    for i in range(m):
        z = [sum(W[k, j] * X[j, i] for j in range(n_x)) + b[k, 0] for k in range(K)]
        c = max(z)
        log_sum = c + math.log(sum(math.exp(v - c) for v in z))
        total += log_sum - z[y[i]]  # -ln(e^{z_y} / sum e^z)
    return total / m


def no_warnings(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
            return fn(*args)


def random_problem(seed, K, n_x, m):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, m)
    return rng.normal(0, 1, (K, n_x)), rng.normal(0, 1, (K, 1)), rng.normal(0, 1, (n_x, m)), y


# ---- softmax -------------------------------------------------------------------

def test_softmax_seed_004_worked_example():
    A = softmax(np.array([[6.0], [-2.0], [3.0]]))
    t = [math.exp(6), math.exp(-2), math.exp(3)]
    # slide: t = [403.4, 0.135, 20.0]; e^3 is 20.09 (the slide cut it to 20.0)
    assert round(t[2], 2) == 20.09
    # slide: sum t = 423.5; it is 423.65
    assert round(sum(t), 1) == 423.6
    expected = [v / sum(t) for v in t]
    np.testing.assert_allclose(A[:, 0], expected, rtol=1e-12)
    assert A.shape == (3, 1)
    # slide: [0.952, 0.00037, 0.048]; the first is right,
    assert round(A[0, 0], 3) == 0.952
    # slide says 0.00037, the correct value is 0.000319 (even 0.135 / 423.5 is 0.000319)
    assert round(A[1, 0], 6) == 0.000319
    assert round(0.135 / 423.5, 6) == 0.000319
    # slide says 0.048, the correct value is 0.0474 (0.047 to the slide's precision)
    assert round(A[2, 0], 4) == 0.0474


def test_softmax_columns_are_separate_samples():
    Z = np.array([[1.0, 0.0, -3.0], [2.0, 0.0, 4.0]])
    A = softmax(Z)
    for i in range(3):
        np.testing.assert_allclose(A[:, i], softmax_by_hand(Z[:, i]), rtol=1e-12)
    np.testing.assert_allclose(A.sum(axis=0), np.ones(3), rtol=1e-12)


def test_softmax_entries_in_the_thousands_no_overflow_no_warning():
    Z = np.array([[1000.0, -1000.0], [1001.0, 1000.0], [999.0, 0.0]])
    A = no_warnings(softmax, Z)
    assert np.all(np.isfinite(A))
    # column 1 is softmax([0, 1, -1]) (shift by 1000); column 2 is [e^-2000, 1, e^-1000] / (1 + ...) = [0, 1, 0]
    np.testing.assert_allclose(A[:, 0], softmax_by_hand([0.0, 1.0, -1.0]), rtol=1e-12)
    np.testing.assert_allclose(A[:, 1], [0.0, 1.0, 0.0], atol=1e-300)


def test_softmax_is_invariant_to_adding_a_constant_per_column():
    rng = np.random.default_rng(0)
    Z = rng.normal(0, 3, (4, 5))
    shift = rng.normal(0, 50, (1, 5))
    np.testing.assert_allclose(softmax(Z + shift), softmax(Z), rtol=1e-10)


def test_softmax_of_equal_scores_is_uniform():
    np.testing.assert_allclose(softmax(np.zeros((10, 3))), np.full((10, 3), 0.1), rtol=1e-12)


# ---- one_hot -------------------------------------------------------------------

def test_one_hot_small_case():
    Y = one_hot(np.array([2, 0, 1, 2]), 3)
    expected = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]], dtype=float)
    assert Y.shape == (3, 4) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y, expected)


def test_one_hot_unseen_classes_are_zero_rows():
    Y = one_hot(np.array([1, 1]), 5)
    assert Y.shape == (5, 2)
    np.testing.assert_array_equal(Y.sum(axis=0), [1.0, 1.0])
    np.testing.assert_array_equal(Y.sum(axis=1), [0.0, 2.0, 0.0, 0.0, 0.0])


# ---- cross_entropy -------------------------------------------------------------

def test_cross_entropy_seed_004_first_label():
    t = [math.exp(6), math.exp(-2), math.exp(3)]
    p = [v / sum(t) for v in t]
    J = cross_entropy(np.array([[p[0]], [p[1]], [p[2]]]), np.array([[1.0], [0.0], [0.0]]))
    assert type(J) is float
    assert J == pytest.approx(-math.log(p[0]), rel=1e-12)
    # slide says -0.021, the correct value is 0.049: the slide took log10 (0.0212) and lost the sign;
    # a cross-entropy is never negative
    assert round(J, 3) == 0.049
    assert round(-math.log10(0.952), 3) == 0.021
    # with the slide's rounded 0.952 it is 0.049 as well
    assert round(-math.log(0.952), 3) == 0.049


def test_cross_entropy_seed_004_third_label():
    t = [math.exp(6), math.exp(-2), math.exp(3)]
    p = [v / sum(t) for v in t]
    J = cross_entropy(np.array([[p[0]], [p[1]], [p[2]]]), np.array([[0.0], [0.0], [1.0]]))
    assert J == pytest.approx(-math.log(p[2]), rel=1e-12)
    # slide says -log(0.048) = 1.31, the correct value is -ln 0.048 = 3.04 (3.05 with the exact 0.0474);
    # 1.31 is near log10 (-log10 0.048 = 1.319)
    assert round(-math.log(0.048), 2) == 3.04
    assert round(J, 2) == 3.05
    assert round(-math.log10(0.048), 2) == 1.32


def test_cross_entropy_seed_002_cat_dog_fish():
    J = cross_entropy(np.array([[0.2], [0.3], [0.5]]), np.array([[0.0], [1.0], [0.0]]))
    # slide: E = -ln 0.3 = 1.2 (right, rounded; natural log: log10 would give 0.52)
    assert J == pytest.approx(-math.log(0.3), rel=1e-12)
    assert round(J, 3) == 1.204


def test_cross_entropy_is_the_mean_over_samples():
    A = np.array([[0.2, 0.7], [0.3, 0.1], [0.5, 0.2]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    assert cross_entropy(A, Y) == pytest.approx((-math.log(0.3) - math.log(0.7)) / 2, rel=1e-12)


def test_cross_entropy_exact_zeros_where_labels_do_not_select():
    A = np.array([[0.7, 0.0, 0.2], [0.3, 1.0, 0.0], [0.0, 0.0, 0.8]])
    Y = np.eye(3)
    J = no_warnings(cross_entropy, A, Y)
    assert J == pytest.approx((-math.log(0.7) - math.log(1.0) - math.log(0.8)) / 3, rel=1e-12)


def test_untrained_classifier_loss_is_ln_K():
    for K in (2, 3, 10):
        m = 7
        y = np.arange(m) % K
        J, _, _ = softmax_propagate(np.zeros((K, 4)), np.zeros((K, 1)), np.ones((4, m)), one_hot(y, K))
        assert J == pytest.approx(math.log(K), rel=1e-12)


# ---- softmax_propagate -----------------------------------------------------------

@pytest.mark.parametrize("K, n_x, m", [(3, 2, 4), (4, 5, 1), (10, 3, 6), (2, 4, 9)])
def test_softmax_propagate_cost_and_gradient_check(K, n_x, m):
    W, b, X, y = random_problem(K * 100 + m, K, n_x, m)
    J, dW, db = softmax_propagate(W, b, X, one_hot(y, K))
    assert type(J) is float
    assert J == pytest.approx(cost_by_hand(W, b, X, y), rel=1e-12)
    assert dW.shape == (K, n_x) and db.shape == (K, 1)
    dW_num = central_differences(lambda V: cost_by_hand(V, b, X, y), W)
    db_num = central_differences(lambda c: cost_by_hand(W, c, X, y), b)
    assert relative_error(dW, dW_num) < 1e-7
    assert relative_error(db, db_num) < 1e-7


def test_dZ_is_A_minus_Y_for_one_sample():
    """With W = identity, x = z and b = 0, the gradient dW x^T reduces to dZ: check A - Y by central differences."""
    z = np.array([[6.0], [-2.0], [3.0]])
    y = np.array([1])
    J, dW, db = softmax_propagate(np.eye(3), np.zeros((3, 1)), z, one_hot(y, 3))
    dZ_num = central_differences(lambda Z: cost_by_hand(np.eye(3), np.zeros((3, 1)), Z, y), z)
    A = np.array([softmax_by_hand([6.0, -2.0, 3.0])]).T
    np.testing.assert_allclose(db, A - np.array([[0.0], [1.0], [0.0]]), rtol=1e-12)
    assert relative_error(db, dZ_num) < 1e-7


# ---- predict_classes ---------------------------------------------------------------

def test_predict_classes_picks_the_largest_score():
    W = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    b = np.array([[0.0], [0.5], [0.0]])
    X = np.array([[2.0, 0.0, -3.0], [1.0, 0.0, -3.0]])
    # scores per column: [2, 1.5, -3], [0, 0.5, 0], [-3, -2.5, 6]
    labels = predict_classes(W, b, X)
    assert labels.shape == (3,) and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [0, 1, 2])


def test_predict_classes_agrees_with_the_most_probable_class():
    W, b, X, _ = random_problem(5, 4, 3, 20)
    labels = predict_classes(W, b, X)
    for i in range(20):
        probabilities = softmax_by_hand([float(W[k] @ X[:, i] + b[k, 0]) for k in range(4)])
        assert labels[i] == probabilities.index(max(probabilities))


# ---- properties of them all ----------------------------------------------------------

def test_no_function_modifies_its_arguments():
    W, b, X, y = random_problem(1, 3, 4, 5)
    Y = one_hot(y, 3)
    A = softmax(W @ X + b)
    calls = [(softmax, (W @ X + b,)), (one_hot, (y, 3)), (cross_entropy, (A, Y)),
             (softmax_propagate, (W, b, X, Y)), (predict_classes, (W, b, X))]
    for fn, args in calls:
        before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        fn(*args)
        for a, a0 in zip(args, before):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, a0, err_msg=f"{fn.__name__} modified an argument")


def test_softmax_returns_a_new_array():
    Z = np.zeros((3, 2))
    assert softmax(Z) is not Z


# ---- the notebook's solutions are the same as solutions/softmax.py ------------------------

SOLUTION_NAMES = ["softmax", "one_hot", "cross_entropy", "softmax_propagate", "predict_classes"]


@pytest.mark.skipif(not os.path.exists(NOTEBOOK), reason="no source notebook yet")
def test_notebook_solutions_agree_with_the_reference_module():
    found = answer_namespace(NOTEBOOK)
    assert all(name in found for name in SOLUTION_NAMES)
    for seed, (K, n_x, m) in enumerate([(3, 2, 4), (10, 64, 7), (2, 1, 1)]):
        W, b, X, y = random_problem(seed, K, n_x, m)
        Y = one_hot(y, K)
        Z = W @ X + b
        np.testing.assert_array_equal(found["softmax"](Z), softmax(Z))
        np.testing.assert_array_equal(found["one_hot"](y, K), Y)
        assert found["cross_entropy"](softmax(Z), Y) == cross_entropy(softmax(Z), Y)
        for got, want in zip(found["softmax_propagate"](W, b, X, Y), softmax_propagate(W, b, X, Y)):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(found["predict_classes"](W, b, X), predict_classes(W, b, X))
