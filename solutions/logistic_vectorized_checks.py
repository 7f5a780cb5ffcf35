"""How the functions of 02_logistic_vectorized are checked at grading (autograder.hidden)."""
from autograder.hidden import Gradient, Spec
from solutions.logistic_loop_checks import logreg_inputs, training_inputs


def _cost(reference, w, b, X, Y):
    return reference.propagate(w, b, X, Y)[0]


def _optimize_inputs(rng, k):
    X, Y, alpha, iterations = training_inputs(rng, k)
    return (rng.normal(0, 0.5, (X.shape[0], 1)), float(rng.normal(0, 0.5)), X, Y, iterations, alpha), {}


SPECS = [
    Spec("propagate", ("w", "b", "X", "Y"), ("J", "dw", "db"), logreg_inputs, vectorised=True,
         gradients=(Gradient(1, "w", _cost), Gradient(2, "b", _cost))),
    Spec("optimize", ("w", "b", "X", "Y", "num_iterations", "alpha"), ("w", "b", "costs"), _optimize_inputs,
         vectorised=True, calls=3),
    Spec("predict", ("w", "b", "X"), ("Y_prediction",), lambda rng, k: (logreg_inputs(rng, k)[0][:3], {}),
         vectorised=True),
]
