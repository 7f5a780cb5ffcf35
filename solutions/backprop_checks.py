"""How the functions of 05_backprop are checked at grading (autograder.hidden)."""
import math

import numpy as np

from autograder.compare import compare_outputs, show
from autograder.hidden import Gradient, Spec, extra, labels, numerical_gradient, relative_error
from autograder.results import CheckResult, error_hint, error_message
from autograder.wire import Expr
from solutions.two_layer_forward_checks import network_inputs


def _backward_inputs(rng, k):
    from solutions.backprop import forward  # the cache is the reference's forward pass
    (X, params), kwargs = network_inputs(rng, k)
    Y = labels(rng, X.shape[1])
    _, cache = forward(X, params, kwargs["hidden_activation"])
    return (X, Y, params, cache), kwargs


def _network_cost(reference, X, Y, params, cache, hidden_activation="tanh"):
    return reference.compute_cost(reference.forward(X, params, hidden_activation)[0], Y)


def _numerical_gradient_inputs(rng, k):
    f = ["lambda x: float(np.sum(x ** 3))", "lambda x: float(np.sum(np.sin(x) * x ** 2))",
         "lambda x: float(np.log(1 + np.sum(x ** 2)))", "lambda x: float(np.prod(np.cos(x)))"][k % 4]
    x = rng.normal(0, 1, [(3,), (2, 3), (4, 1), (1, 5)][k % 4])
    return (Expr(f), x), ({"eps": 1e-4} if k == 3 else {})


def _linear_backward_inputs(rng, k):
    n, p, m = [(3, 2, 4), (1, 4, 1), (4, 4, 6), (2, 5, 3)][k % 4]
    return (rng.normal(0, 1, (n, m)), rng.normal(0, 1, (p, m)), rng.normal(0, 1, (n, p))), {}


def _update_inputs(rng, k):
    (X, params), _ = network_inputs(rng, k)
    grads = {"d" + key: rng.normal(0, 1, value.shape) for key, value in params.items()}
    return (params, grads, [0.1, 1.2, 0.01, 0.5][k % 4]), {}


def _predict_inputs(rng, k):
    (X, params), kwargs = network_inputs(rng, k)
    return (params, X), kwargs


def _sigmoid_backward_inputs(rng, k):
    shape = [(3, 4), (1, 1), (2, 7), (5, 2)][k % 4]
    return (rng.normal(0, 1, shape), rng.normal(0, 2, shape)), {}


@extra("small values for right gradients and large ones for wrong gradients")
def gradient_check_value(spec, target, reference, rng):
    title = "agrees with the relative difference between your backward and numerical gradients"
    results = []
    for k, activation in ((0, "tanh"), (1, "relu")):
        n_x, n_h, n_y, m = (3, 4, 1, 5) if k == 0 else (2, 3, 1, 4)
        X = rng.normal(0, 1, (n_x, m))
        Y = (rng.random((1, m)) < 0.5).astype(float)
        params = {"W1": rng.normal(0, 1, (n_h, n_x)), "b1": rng.normal(0, 1, (n_h, 1)),
                  "W2": rng.normal(0, 1, (n_y, n_h)), "b2": rng.normal(0, 1, (n_y, 1))}
        if activation == "relu":
            # a kink: sample 0 is all zeros and the bias of the unit that weighs most in W2 is 0, so Z1 = 0
            # there. Central differences see half of relu's slope; backward sees relu'(0). The relative
            # difference is then about 1e-2 (only b1 of that unit differs): a check that ignores the
            # activation, or leaves out b1, returns a tiny number instead.
            X[:, 0] = 0.0
            params["b1"][int(np.argmax(np.abs(params["W2"][0]))), 0] = 0.0
        outcome = target.call((params, X, Y), {"hidden_activation": activation}, arg_names=spec.args)
        _, cache = reference.forward(X, params, activation)
        theirs = target.sibling("backward").call((X, Y, params, cache), {"hidden_activation": activation})
        if outcome.error or theirs.error:
            error = outcome.error or theirs.error
            name = spec.name if outcome.error else "backward"
            results.append(CheckResult(spec.name, f"{title} ({activation})", False, error_message(name, error),
                                       error_hint(error), hidden=True))
            continue
        try:
            g = np.concatenate([np.asarray(theirs.value["d" + key], dtype=float).ravel()
                                for key in ("W1", "b1", "W2", "b2")])
        except Exception:
            results.append(CheckResult(spec.name, f"{title} ({activation})", False,
                                       "backward's gradients could not be read", hidden=True))
            continue
        cost = lambda p: reference.compute_cost(reference.forward(X, p, activation)[0], Y)
        g_num = np.concatenate([numerical_gradient(cost, [params], ("params",), "params/" + key).ravel()
                                for key in ("W1", "b1", "W2", "b2")])
        expected = relative_error(g, g_num) if g.size == g_num.size else math.inf
        value = outcome.value
        ok = isinstance(value, (float, np.floating)) and math.isfinite(float(value)) and (
            (expected < 1e-6 and float(value) < 1e-6) or
            (expected >= 1e-6 and expected / 10 < float(value) < expected * 10))
        results.append(CheckResult(spec.name, f"{title} ({activation})", ok,
                                   f"gradient_check returned {show(value)} but your backward's gradients differ from "
                                   f"the numerical ones by {expected:.3g}",
                                   "compare all four gradients, flattened and concatenated, with central differences "
                                   "of compute_cost(forward(..., hidden_activation)) (the activation passed on to "
                                   "forward and backward), and use ||g - g_num|| / (||g|| + ||g_num||)",
                                   hidden=True))
    return results


@extra("training runs with tanh and with relu hidden layers of other sizes, compared with the reference "
       "(one cost per iteration, starting near ln 2, going down)")
def training(spec, target, reference, rng):
    X = rng.normal(0, 1, (2, 24))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    iterations, rate, seed = 12, 0.5, 3
    results = []
    for activation, n_h in (("tanh", 4), ("relu", 5)):
        runs = f"({activation}, n_h = {n_h})"
        outcome = target.call((X, Y, n_h, iterations, rate), {"hidden_activation": activation, "seed": seed},
                              arg_names=spec.args)
        if outcome.error:
            results.append(CheckResult(spec.name, f"runs {runs}", False, error_message(spec.name, outcome.error),
                                       error_hint(outcome.error), hidden=True))
            continue
        try:
            params, costs = outcome.value
            costs = np.asarray(costs, dtype=float).ravel()
        except Exception:
            results.append(CheckResult(spec.name, f"runs {runs}", False, "train must return (params, costs)",
                                       hidden=True))
            continue
        if activation == "tanh":
            ok = (costs.size == iterations and np.all(np.isfinite(costs)) and abs(costs[0] - math.log(2)) < 0.05
                  and costs[-1] < costs[0])
            results.append(CheckResult(spec.name, f"one cost per iteration, starting near ln 2 and going down {runs}",
                                       ok, f"costs = {show(costs)} for {iterations} iterations",
                                       "record compute_cost once per iteration, before the update; start from "
                                       "initialize_parameters (weights x 0.01)", hidden=True))
        same_title = f"the same costs and parameters as the reference trained from your initialize_parameters {runs}"
        start = target.sibling("initialize_parameters").call((2, n_h, 1), {"seed": seed})
        problems = [] if start.error else compare_outputs("initialize_parameters", start.value,
                                                          {k: np.zeros(s) for k, s in (("W1", (n_h, 2)), ("b1", (n_h, 1)),
                                                                                       ("W2", (1, n_h)), ("b2", (1, 1)))},
                                                          rtol=0.0, atol=1e300)
        if start.error or problems:
            results.append(CheckResult(spec.name, same_title, False,
                                       "initialize_parameters did not return the four parameters of their shapes",
                                       "fix initialize_parameters first: train starts from it", hidden=True))
            continue
        trained = {key: np.array(value, dtype=float) for key, value in start.value.items()}
        ref_costs = []
        for _ in range(iterations):
            A2, cache = reference.forward(X, trained, activation)
            ref_costs.append(reference.compute_cost(A2, Y))
            trained = reference.update_parameters(trained, reference.backward(X, Y, trained, cache, activation), rate)
        problems = compare_outputs(spec.name, outcome.value, (trained, ref_costs), rtol=1e-6, atol=1e-9)
        if not problems:
            problems = compare_outputs("costs", costs, np.array(ref_costs), rtol=1e-6, atol=1e-9)
            problems += compare_outputs("params", params, trained, rtol=1e-6, atol=1e-9)
        results.append(CheckResult(spec.name, same_title, not problems, "; ".join(p[0] for p in problems),
                                   "initialise with initialize_parameters(n_x, n_h, n_y, seed) with the n_h given, then "
                                   "per iteration: forward, compute_cost, backward, update_parameters, passing "
                                   "hidden_activation on to forward and backward", hidden=True))
    return results


SPECS = [
    Spec("graph_grads", ("a", "b", "c"), ("J", "dJ_da", "dJ_db", "dJ_dc"),
         lambda rng, k: (tuple(float(v) for v in rng.normal(0, 3, 3)), {})),
    Spec("sigmoid_backward", ("dA", "Z"), ("dZ",), _sigmoid_backward_inputs, vectorised=True),
    Spec("linear_backward", ("dZ", "A_prev", "W"), ("dW", "db", "dA_prev"), _linear_backward_inputs, vectorised=True,
         gradients=(Gradient(0, "W", lambda ref, dZ, A, W: float(np.sum(dZ * (W @ A))) / A.shape[1]),
                    Gradient(2, "A_prev", lambda ref, dZ, A, W: float(np.sum(dZ * (W @ A)))))),
    Spec("backward", ("X", "Y", "params", "cache"), ("grads",), _backward_inputs, vectorised=True,
         gradients=tuple(Gradient(key, "params/" + key[1:], _network_cost) for key in ("dW1", "db1", "dW2", "db2"))),
    Spec("numerical_gradient", ("f", "x", "eps"), ("grad",), _numerical_gradient_inputs, rtol=1e-6, atol=1e-8),
    Spec("gradient_check", ("params", "X", "Y"), ("difference",), extras=(gradient_check_value,)),
    Spec("update_parameters", ("params", "grads", "learning_rate"), ("params",), _update_inputs),
    Spec("train", ("X", "Y", "n_h", "num_iterations", "learning_rate"), ("params", "costs"), extras=(training,)),
    Spec("predict", ("params", "X"), ("predictions",), _predict_inputs, vectorised=True),
]
