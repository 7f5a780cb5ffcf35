"""How the functions of 01_logistic_loop are checked at grading (autograder.hidden)."""
import numpy as np

from autograder.compare import show
from autograder.hidden import Gradient, Spec, extra, labels, line_counts, on_fixed_input
from autograder.results import CheckResult


def logreg_inputs(rng, k):
    """(w, b, X, Y) of the k-th shape, for a logistic-regression cost."""
    n_x, m = [(1, 1), (2, 5), (4, 3), (3, 12)][k % 4]
    return (rng.normal(0, 1, (n_x, 1)), float(rng.normal()), rng.normal(0, 1, (n_x, m)), labels(rng, m)), {}


def training_inputs(rng, k):
    """(X, Y, alpha, num_iterations) of the k-th size."""
    n_x, m, iterations = [(2, 10, 5), (3, 15, 8), (1, 6, 3), (4, 20, 12)][k % 4]
    return rng.normal(0, 1, (n_x, m)), labels(rng, m), [0.1, 0.5, 0.05, 0.2][k % 4], iterations


def logreg_cost(reference, w, b, X, Y):
    return reference.propagate_loop(w, b, X, Y)[0]


def _sigmoid_inputs(rng, k):
    shape = [(), (3, 4), (1, 7), (5,)][k % 4]
    z = rng.normal(0, 4, shape)
    return (float(z) if shape == () else z,), {}


def _gd_step_inputs(rng, k):
    (w, b, _, _), _ = logreg_inputs(rng, k)
    return (w, b, rng.normal(0, 1, w.shape), float(rng.normal()), [0.1, 0.01, 1.0, 0.5][k % 4]), {}


@extra("very large and very small inputs (no overflow, no NaN)")
def large_inputs(spec, target, reference, rng):
    z = np.array([[-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0]])
    return on_fixed_input(spec, target, (z,), reference.sigmoid(z.copy()),
                          "finite and right for inputs of size 1000 (no overflow)", f"the input z = {show(z)}",
                          rtol=1e-6, atol=1e-12)


@extra("the explicit loop over the n_x features (the work grows with n_x)")
def feature_loop(spec, target, reference, rng):
    """The contract's loop over the n_x features (the slide's dw1, dw2): lines grow with n_x."""
    (w, b, X, Y), kwargs = spec.make(rng, 3)
    title = "visits the n_x features in an explicit Python loop, as the slide's dw1, dw2"
    counts = line_counts(spec, target, [(np.tile(w, (times, 1)), b, np.tile(X, (times, 1)), Y) for times in (1, 5)],
                         kwargs, title)
    if isinstance(counts, CheckResult):
        return [counts]
    return [CheckResult(spec.name, title, counts[1] > counts[0],
                        f"with 5 times as many features ({X.shape[0]} -> {5 * X.shape[0]}) your code ran the same "
                        f"number of lines ({counts[0]})",
                        "inside the loop over the samples, loop over j = 0..n_x-1: dw[j, 0] += X[j, i] * dz "
                        "(the slide's dw1 += x1(i) dz(i), dw2 += x2(i) dz(i))", hidden=True)]


SPECS = [
    Spec("sigmoid", ("z",), ("s",), _sigmoid_inputs, extras=(large_inputs,), exact_types=False),
    Spec("loss", ("a", "y"), ("L",), lambda rng, k: ((float(rng.uniform(0.05, 0.95)), [0, 1, 1, 0][k % 4]), {}),
         exact_types=False),
    Spec("propagate_loop", ("w", "b", "X", "Y"), ("J", "dw", "db"), logreg_inputs, loops=True,
         gradients=(Gradient(1, "w", logreg_cost), Gradient(2, "b", logreg_cost)), extras=(feature_loop,)),
    Spec("gd_step", ("w", "b", "dw", "db", "alpha"), ("w", "b"), _gd_step_inputs),
    Spec("train_loop", ("X", "Y", "alpha", "num_iterations"), ("w", "b", "costs"),
         lambda rng, k: (training_inputs(rng, k), {}), calls=3),
]
