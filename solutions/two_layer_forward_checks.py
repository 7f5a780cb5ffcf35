"""How the functions of 03_two_layer_forward are checked at grading (autograder.hidden)."""
import numpy as np

from autograder.compare import compare_outputs
from autograder.hidden import Spec, away_from_zero, extra, labels
from autograder.results import CheckResult, error_hint, error_message

ACTIVATIONS = ("tanh", "relu", "leaky_relu", "sigmoid")


def params_of(rng, n_x, n_h, n_y, scale=0.5):
    return {"W1": rng.normal(0, scale, (n_h, n_x)), "b1": rng.normal(0, scale, (n_h, 1)),
            "W2": rng.normal(0, scale, (n_y, n_h)), "b2": rng.normal(0, scale, (n_y, 1))}


NET_SHAPES = [(2, 3, 1, 4), (3, 4, 1, 1), (5, 2, 1, 7), (4, 6, 1, 10)]  # (n_x, n_h, n_y, m)
_FORWARD_SHAPES = [(2, 3, 1, 4), (3, 4, 2, 1), (5, 2, 1, 7), (6, 4, 2, 10)]  # forward: one output or two


def network_inputs(rng, k, shapes=NET_SHAPES):
    """(X, params), {"hidden_activation"} of the k-th shape; every activation in turn."""
    n_x, n_h, n_y, m = shapes[k % 4]
    return (rng.normal(0, 1, (n_x, m)), params_of(rng, n_x, n_h, n_y)), {"hidden_activation": ACTIVATIONS[k % 4]}


def _activation_inputs(rng, k):
    return (away_from_zero(rng, [(4, 3), (1, 6), (2, 1), (3, 5)][k % 4]),), {}


def _leaky_inputs(rng, k):
    args, _ = _activation_inputs(rng, k)
    return args, ({"alpha": [0.01, 0.1, 0.2, 0.05][k % 4]} if k % 2 else {})


def _cost_inputs(rng, k):
    m = [1, 4, 9, 20][k % 4]
    return (rng.uniform(0.02, 0.98, (1, m)), labels(rng, m)), {}


@extra("the scale and reproducibility of the random weights and the zero biases")
def initialisation(spec, target, reference, rng):
    sizes = (40, 50, 3)
    results = []

    def result(title, ok, message="", hint=""):
        results.append(CheckResult(spec.name, title, ok, message, hint, hidden=True))

    first = target.call(sizes, {"seed": 7}, arg_names=spec.args)
    again = target.call(sizes, {"seed": 7}, arg_names=spec.args)
    other = target.call(sizes, {"seed": 8}, arg_names=spec.args)
    for outcome in (first, again, other):
        if outcome.error:
            result("runs", False, error_message(spec.name, outcome.error), error_hint(outcome.error))
            return results
    shapes = {"W1": (50, 40), "b1": (50, 1), "W2": (3, 50), "b2": (3, 1)}
    problems = [p for value in (first.value, again.value, other.value)
                for p in compare_outputs("params", value, {k: np.zeros(s) for k, s in shapes.items()},
                                         rtol=0.0, atol=1e300)]
    result("the four parameters with their shapes for n_x=40, n_h=50, n_y=3", not problems,
           problems[0][0] if problems else "", problems[0][1] if problems else "")
    if problems:
        return results
    params = first.value
    result("zero biases", all(np.all(params[k] == 0) for k in ("b1", "b2")), "the biases are not all zero",
           "b1 = np.zeros((n_h, 1)), b2 = np.zeros((n_y, 1))")
    spread, mean = float(np.std(params["W1"])), float(np.mean(params["W1"]))
    result("weights of scale 0.01 (standard normal x 0.01)", 0.007 < spread < 0.013 and abs(mean) < 0.003,
           f"W1 has mean {mean:.3g} and standard deviation {spread:.3g}",
           "np.random.randn(n_h, n_x) * 0.01 (or rng.standard_normal(...) * 0.01)")
    same = all(np.array_equal(first.value[k], again.value[k]) for k in shapes)
    differ = not np.array_equal(first.value["W1"], other.value["W1"])
    result("the same seed gives the same weights, another seed other weights", same and differ,
           "two calls with seed=7 differ" if not same else "seed=7 and seed=8 give the same W1",
           "seed a generator with the seed argument: rng = np.random.default_rng(seed) (or np.random.seed(seed))")
    return results


SPECS = [
    *[Spec(name, ("z",), ("da_dz" if name.endswith("_prime") else "a",), _activation_inputs, vectorised=True)
      for name in ("sigmoid", "tanh", "relu", "sigmoid_prime", "tanh_prime", "relu_prime")],
    Spec("leaky_relu", ("z", "alpha"), ("a",), _leaky_inputs, vectorised=True),
    Spec("leaky_relu_prime", ("z", "alpha"), ("da_dz",), _leaky_inputs, vectorised=True),
    Spec("count_parameters", ("layer_dims",), ("count",),
         lambda rng, k: (([[3, 4, 1], [5, 2], [784, 128, 64, 10], [2, 3, 3, 1]][k % 4],), {})),
    Spec("initialize_parameters", ("n_x", "n_h", "n_y", "seed"), ("params",), extras=(initialisation,)),
    Spec("forward_loop", ("X", "params"), ("A2",), lambda rng, k: network_inputs(rng, k, _FORWARD_SHAPES), loops=True),
    Spec("forward", ("X", "params"), ("A2", "cache"), lambda rng, k: network_inputs(rng, k, _FORWARD_SHAPES),
         vectorised=True),
    Spec("compute_cost", ("A2", "Y"), ("J",), _cost_inputs, vectorised=True),
]
