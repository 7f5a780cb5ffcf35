"""How the functions of 04_softmax are checked at grading (autograder.hidden)."""
import numpy as np

from autograder.compare import show
from autograder.hidden import Gradient, Spec, extra, on_fixed_input


def _classes(rng, k):
    """K, n_x, m, the labels y and their one-hot Y, of the k-th size."""
    K, n_x, m = [(3, 2, 4), (4, 5, 1), (10, 3, 6), (2, 4, 9)][k % 4]
    y = rng.integers(0, K, m)
    return K, n_x, m, y, np.eye(K)[:, y]


def _scores(rng, k):
    K, _, m, _, _ = _classes(rng, k)
    return (rng.normal(0, 3, (K, m)),), {}


def _one_hot_inputs(rng, k):
    K, _, _, y, _ = _classes(rng, k)
    return (y, K), {}


def _cross_entropy_inputs(rng, k):
    K, _, m, _, Y = _classes(rng, k)
    Z = rng.normal(0, 2, (K, m))
    E = np.exp(Z - Z.max(axis=0))
    return (E / E.sum(axis=0), Y), {}


def _regression_inputs(rng, k):
    K, n_x, m, _, Y = _classes(rng, k)
    return (rng.normal(0, 1, (K, n_x)), rng.normal(0, 1, (K, 1)), rng.normal(0, 1, (n_x, m)), Y), {}


def _cost(reference, W, b, X, Y):
    return reference.softmax_propagate(W, b, X, Y)[0]


@extra("very large and very small inputs (no overflow, no NaN)")
def large_inputs(spec, target, reference, rng):
    z = np.array([[1000.0, -1000.0, 5.0], [1001.0, 1000.0, 5.0], [999.0, 0.0, 5.0]])
    return on_fixed_input(spec, target, (z,), reference.softmax(z.copy()),
                          "finite and right for inputs of size 1000 (no overflow)", f"the input z = {show(z)}",
                          rtol=1e-6, atol=1e-12)


@extra("scores in the thousands (no overflow, no NaN)")
def large_scores(spec, target, reference, rng):
    """Scores Z = W X + b near 1000 (b = 1000 + noise): exp overflows unless the column's max is taken off first."""
    K, n_x, m = 3, 2, 4
    W, X = rng.normal(0, 1, (K, n_x)), rng.normal(0, 1, (n_x, m))
    b = 1000.0 + rng.normal(0, 1, (K, 1))
    Y = np.eye(K)[:, rng.integers(0, K, m)]
    return on_fixed_input(spec, target, (W, b, X, Y), reference.softmax_propagate(W.copy(), b.copy(), X.copy(), Y.copy()),
                          "finite and right for scores near 1000 (no overflow)",
                          f"W = {show(W)}, b = {show(b)}, X = {show(X)}, Y = {show(Y)}",
                          "use your stable softmax (subtract each column's max before np.exp), not np.exp(W @ X + b)",
                          rtol=1e-6, atol=1e-9)


@extra("probabilities that are exactly 0 for classes the labels do not select")
def unselected_zeros(spec, target, reference, rng):
    A = np.array([[0.7, 0.0, 0.2], [0.3, 1.0, 0.0], [0.0, 0.0, 0.8]])
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    return on_fixed_input(spec, target, (A, Y), reference.cross_entropy(A.copy(), Y.copy()),
                          "finite where A is exactly 0 at classes that Y does not select", f"A = {show(A)}, Y = {show(Y)}",
                          "0 * log(0) is nan in numpy: take the log only where Y > 0 (or of the selected probabilities)",
                          what="J")


SPECS = [
    Spec("softmax", ("Z",), ("A",), _scores, vectorised=True, extras=(large_inputs,)),
    Spec("one_hot", ("y", "num_classes"), ("Y",), _one_hot_inputs),
    Spec("cross_entropy", ("A", "Y"), ("J",), _cross_entropy_inputs, vectorised=True, extras=(unselected_zeros,)),
    Spec("softmax_propagate", ("W", "b", "X", "Y"), ("J", "dW", "db"), _regression_inputs, vectorised=True,
         gradients=(Gradient(1, "W", _cost), Gradient(2, "b", _cost)), extras=(large_scores,)),
    Spec("predict_classes", ("W", "b", "X"), ("labels",), lambda rng, k: (_regression_inputs(rng, k)[0][:3], {}),
         vectorised=True),
]
