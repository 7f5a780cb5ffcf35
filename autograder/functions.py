"""What the grader knows of each graded function of ../shared/curriculum.md.

For every function: its arguments and outputs (by their names in the
contract), how to make fresh random inputs of several shapes, and which hidden
checks apply (vectorised code, gradient checks). Nothing here is secret: the
expected values come from the reference solutions, which only the grader can
import (autograder.reference).
"""
import numpy as np

ACTIVATIONS = ("tanh", "relu", "leaky_relu", "sigmoid")


class Gradient:
    """output (index or key in the returned value) must be the gradient of
    cost(ref, *args) with respect to the argument wrt ("w", or "params/W1")."""

    def __init__(self, output, wrt, cost):
        self.output, self.wrt, self.cost = output, wrt, cost


class Spec:
    def __init__(self, module, name, args, outputs, make, *, vectorised=False, loops=False,
                 gradients=(), rtol=1e-5, atol=1e-7, extra=(), compare_reference=True, calls=4, exact_types=True):
        self.module, self.name, self.args, self.outputs, self.make = module, name, tuple(args), tuple(outputs), make
        self.vectorised, self.loops, self.gradients = vectorised, loops, tuple(gradients)
        self.rtol, self.atol, self.extra = rtol, atol, tuple(extra)
        self.compare_reference, self.calls = compare_reference, calls
        self.exact_types = exact_types  # False: a number may also come back as a 0-d array

    @property
    def hidden_summary(self):
        parts = []
        if self.compare_reference:
            parts.append("fresh random inputs of other shapes, compared with the reference solution")
        parts += [EXTRA_SUMMARY[e] for e in self.extra]
        if self.gradients:
            parts.append("a gradient check of " + ", ".join(str(g.output) if isinstance(g.output, str)
                                                            else self.outputs[g.output] for g in self.gradients))
        if self.vectorised:
            parts.append("that no Python loop runs over the samples (vectorised code)")
        if self.loops:
            parts.append("that the samples are visited in an explicit Python loop, as the slide's algorithm does")
        parts.append("that no argument is modified in place")
        return "; ".join(parts)


EXTRA_SUMMARY = {
    "large_inputs": "very large and very small inputs (no overflow, no NaN)",
    "large_scores": "scores in the thousands (no overflow, no NaN)",
    "unselected_zeros": "probabilities that are exactly 0 for classes the labels do not select",
    "initialisation": "the scale and reproducibility of the random weights and the zero biases",
    "gradient_check_value": "small values for right gradients and large ones for wrong gradients",
    "training": "training runs with tanh and with relu hidden layers of other sizes, compared with the reference "
                "(one cost per iteration, starting near ln 2, going down)",
    "feature_loop": "the explicit loop over the n_x features (the work grows with n_x)",
}


# ---- random inputs -----------------------------------------------------------

def _labels(rng, m):
    Y = (rng.random((1, m)) < 0.5).astype(np.int64)
    Y[0, 0] = 1 - Y[0, -1] if m > 1 else Y[0, 0]  # both classes once m > 1
    return Y


def _away_from_zero(rng, shape, scale=3.0):
    z = rng.normal(0.0, scale, shape)
    return np.where(np.abs(z) < 1e-3, 0.5, z)  # the derivative at exactly 0 is a convention: avoid it


def _logreg(rng, k):
    n_x, m = [(1, 1), (2, 5), (4, 3), (3, 12)][k % 4]
    return (rng.normal(0, 1, (n_x, 1)), float(rng.normal()), rng.normal(0, 1, (n_x, m)), _labels(rng, m)), {}


def _params(rng, n_x, n_h, n_y, scale=0.5):
    return {"W1": rng.normal(0, scale, (n_h, n_x)), "b1": rng.normal(0, scale, (n_h, 1)),
            "W2": rng.normal(0, scale, (n_y, n_h)), "b2": rng.normal(0, scale, (n_y, 1))}


_NET_SHAPES = [(2, 3, 1, 4), (3, 4, 1, 1), (5, 2, 1, 7), (4, 6, 1, 10)]


_FORWARD_SHAPES = [(2, 3, 1, 4), (3, 4, 2, 1), (5, 2, 1, 7), (6, 4, 2, 10)]  # 03's forward: one output or two


def _network(rng, k, shapes=_NET_SHAPES):
    n_x, n_h, n_y, m = shapes[k % 4]
    return (rng.normal(0, 1, (n_x, m)), _params(rng, n_x, n_h, n_y)), {"hidden_activation": ACTIVATIONS[k % 4]}


def _softmax_data(rng, k):
    K, n_x, m = [(3, 2, 4), (4, 5, 1), (10, 3, 6), (2, 4, 9)][k % 4]
    y = rng.integers(0, K, m)
    Y = np.eye(K)[:, y]
    return K, n_x, m, y, Y


def _activation(rng, k):
    return (_away_from_zero(rng, [(4, 3), (1, 6), (2, 1), (3, 5)][k % 4]),), {}


def _leaky(rng, k):
    args, _ = _activation(rng, k)
    return args, ({"alpha": [0.01, 0.1, 0.2, 0.05][k % 4]} if k % 2 else {})


def _sigmoid01(rng, k):
    shape = [(), (3, 4), (1, 7), (5,)][k % 4]
    z = rng.normal(0, 4, shape)
    return (float(z) if shape == () else z,), {}


def _backward(rng, k):
    from importlib import import_module  # the cache is the reference's forward pass: grader only
    forward = import_module("solutions.two_layer_forward").forward
    (X, params), kw = _network(rng, k)
    Y = _labels(rng, X.shape[1])
    _, cache = forward(X, params, kw["hidden_activation"])
    return (X, Y, params, cache), kw


def _numerical_gradient_inputs(rng, k):
    from .wire import Expr
    f = ["lambda x: float(np.sum(x ** 3))", "lambda x: float(np.sum(np.sin(x) * x ** 2))",
         "lambda x: float(np.log(1 + np.sum(x ** 2)))", "lambda x: float(np.prod(np.cos(x)))"][k % 4]
    x = rng.normal(0, 1, [(3,), (2, 3), (4, 1), (1, 5)][k % 4])
    return (Expr(f), x), ({"eps": 1e-4} if k == 3 else {})


def _cost_logreg(ref, w, b, X, Y):
    return ref.propagate_loop(w, b, X, Y)[0] if hasattr(ref, "propagate_loop") else ref.propagate(w, b, X, Y)[0]


def _net_cost(ref, X, Y, params, cache, hidden_activation="tanh"):
    from importlib import import_module
    net = import_module("solutions.two_layer_forward")
    return net.compute_cost(net.forward(X, params, hidden_activation)[0], Y)


def _sm_cost(ref, W, b, X, Y):
    return ref.softmax_propagate(W, b, X, Y)[0]


SPECS = {}


def _add(*specs):
    for spec in specs:
        SPECS[(spec.module, spec.name)] = spec


def _gd_step(rng, k):
    (w, b, _, _), _ = _logreg(rng, k)
    return (w, b, rng.normal(0, 1, w.shape), float(rng.normal()), [0.1, 0.01, 1.0, 0.5][k % 4]), {}


def _train_logreg(rng, k):
    n_x, m, iters = [(2, 10, 5), (3, 15, 8), (1, 6, 3), (4, 20, 12)][k % 4]
    X = rng.normal(0, 1, (n_x, m))
    return X, _labels(rng, m), [0.1, 0.5, 0.05, 0.2][k % 4], iters


_add(
    Spec("logistic_loop", "sigmoid", ["z"], ["s"], _sigmoid01, extra=["large_inputs"], exact_types=False),
    Spec("logistic_loop", "loss", ["a", "y"], ["L"],
         lambda rng, k: ((float(rng.uniform(0.05, 0.95)), [0, 1, 1, 0][k % 4]), {}), exact_types=False),
    Spec("logistic_loop", "propagate_loop", ["w", "b", "X", "Y"], ["J", "dw", "db"], _logreg, loops=True,
         gradients=[Gradient(1, "w", _cost_logreg), Gradient(2, "b", _cost_logreg)], extra=["feature_loop"]),
    Spec("logistic_loop", "gd_step", ["w", "b", "dw", "db", "alpha"], ["w", "b"], _gd_step),
    Spec("logistic_loop", "train_loop", ["X", "Y", "alpha", "num_iterations"], ["w", "b", "costs"],
         lambda rng, k: (_train_logreg(rng, k), {}), calls=3),
    Spec("logistic_vectorized", "propagate", ["w", "b", "X", "Y"], ["J", "dw", "db"], _logreg, vectorised=True,
         gradients=[Gradient(1, "w", _cost_logreg), Gradient(2, "b", _cost_logreg)]),
    Spec("logistic_vectorized", "optimize", ["w", "b", "X", "Y", "num_iterations", "alpha"], ["w", "b", "costs"],
         lambda rng, k: ((lambda X, Y, a, n: (rng.normal(0, 0.5, (X.shape[0], 1)), float(rng.normal(0, 0.5)), X, Y, n, a))(
             *_train_logreg(rng, k)), {}),
         vectorised=True, calls=3),
    Spec("logistic_vectorized", "predict", ["w", "b", "X"], ["Y_prediction"],
         lambda rng, k: (_logreg(rng, k)[0][:3], {}), vectorised=True),
)

_add(*[Spec("two_layer_forward", name, ["z"], ["da_dz" if name.endswith("_prime") else "a"], _activation,
            vectorised=True) for name in ("sigmoid", "tanh", "relu", "sigmoid_prime", "tanh_prime", "relu_prime")])
_add(
    Spec("two_layer_forward", "leaky_relu", ["z", "alpha"], ["a"], _leaky, vectorised=True),
    Spec("two_layer_forward", "leaky_relu_prime", ["z", "alpha"], ["da_dz"], _leaky, vectorised=True),
    Spec("two_layer_forward", "count_parameters", ["layer_dims"], ["count"],
         lambda rng, k: (([[3, 4, 1], [5, 2], [784, 128, 64, 10], [2, 3, 3, 1]][k % 4],), {})),
    Spec("two_layer_forward", "initialize_parameters", ["n_x", "n_h", "n_y", "seed"], ["params"],
         lambda rng, k: ((3, 4, 1), {"seed": 1}), compare_reference=False, extra=["initialisation"]),
    Spec("two_layer_forward", "forward_loop", ["X", "params"], ["A2"],
         lambda rng, k: _network(rng, k, _FORWARD_SHAPES), loops=True),
    Spec("two_layer_forward", "forward", ["X", "params"], ["A2", "cache"],
         lambda rng, k: _network(rng, k, _FORWARD_SHAPES), vectorised=True),
    Spec("two_layer_forward", "compute_cost", ["A2", "Y"], ["J"],
         lambda rng, k: ((lambda m: (rng.uniform(0.02, 0.98, (1, m)), _labels(rng, m)))([1, 4, 9, 20][k % 4]), {}),
         vectorised=True),
)


def _softmax_Z(rng, k):
    K, _, m, _, _ = _softmax_data(rng, k)
    return (rng.normal(0, 3, (K, m)),), {}


def _cross_entropy(rng, k):
    K, _, m, _, Y = _softmax_data(rng, k)
    Z = rng.normal(0, 2, (K, m))
    A = np.exp(Z - Z.max(axis=0)) / np.exp(Z - Z.max(axis=0)).sum(axis=0)
    return (A, Y), {}


def _softmax_regression(rng, k):
    K, n_x, m, _, Y = _softmax_data(rng, k)
    return (rng.normal(0, 1, (K, n_x)), rng.normal(0, 1, (K, 1)), rng.normal(0, 1, (n_x, m)), Y), {}


_add(
    Spec("softmax", "softmax", ["Z"], ["A"], _softmax_Z, vectorised=True, extra=["large_inputs"]),
    Spec("softmax", "one_hot", ["y", "num_classes"], ["Y"],
         lambda rng, k: ((lambda K, n_x, m, y, Y: (y, K))(*_softmax_data(rng, k)), {})),
    Spec("softmax", "cross_entropy", ["A", "Y"], ["J"], _cross_entropy, vectorised=True, extra=["unselected_zeros"]),
    Spec("softmax", "softmax_propagate", ["W", "b", "X", "Y"], ["J", "dW", "db"], _softmax_regression,
         vectorised=True, gradients=[Gradient(1, "W", _sm_cost), Gradient(2, "b", _sm_cost)], extra=["large_scores"]),
    Spec("softmax", "predict_classes", ["W", "b", "X"], ["labels"],
         lambda rng, k: (_softmax_regression(rng, k)[0][:3], {}), vectorised=True),
)


def _linear_backward(rng, k):
    n, p, m = [(3, 2, 4), (1, 4, 1), (4, 4, 6), (2, 5, 3)][k % 4]
    return (rng.normal(0, 1, (n, m)), rng.normal(0, 1, (p, m)), rng.normal(0, 1, (n, p))), {}


def _update(rng, k):
    (X, params), _ = _network(rng, k)
    grads = {"d" + key: rng.normal(0, 1, value.shape) for key, value in params.items()}
    return (params, grads, [0.1, 1.2, 0.01, 0.5][k % 4]), {}


_add(
    Spec("backprop", "graph_grads", ["a", "b", "c"], ["J", "dJ_da", "dJ_db", "dJ_dc"],
         lambda rng, k: (tuple(float(v) for v in rng.normal(0, 3, 3)), {})),
    Spec("backprop", "sigmoid_backward", ["dA", "Z"], ["dZ"],
         lambda rng, k: ((lambda s: (rng.normal(0, 1, s), rng.normal(0, 2, s)))([(3, 4), (1, 1), (2, 7), (5, 2)][k % 4]), {}),
         vectorised=True),
    Spec("backprop", "linear_backward", ["dZ", "A_prev", "W"], ["dW", "db", "dA_prev"], _linear_backward,
         vectorised=True,
         gradients=[Gradient(0, "W", lambda ref, dZ, A, W: float(np.sum(dZ * (W @ A))) / A.shape[1]),
                    Gradient(2, "A_prev", lambda ref, dZ, A, W: float(np.sum(dZ * (W @ A))))]),
    Spec("backprop", "backward", ["X", "Y", "params", "cache"], ["grads"], _backward, vectorised=True,
         gradients=[Gradient(key, "params/" + key[1:], _net_cost) for key in ("dW1", "db1", "dW2", "db2")]),
    Spec("backprop", "numerical_gradient", ["f", "x", "eps"], ["grad"], _numerical_gradient_inputs,
         rtol=1e-6, atol=1e-8),
    Spec("backprop", "gradient_check", ["params", "X", "Y"], ["difference"],
         lambda rng, k: None, compare_reference=False, extra=["gradient_check_value"]),
    Spec("backprop", "update_parameters", ["params", "grads", "learning_rate"], ["params"], _update),
    Spec("backprop", "train", ["X", "Y", "n_h", "num_iterations", "learning_rate"], ["params", "costs"],
         lambda rng, k: None, compare_reference=False, extra=["training"]),
    Spec("backprop", "predict", ["params", "X"], ["predictions"],
         lambda rng, k: (lambda args, kw: ((args[1], args[0]), kw))(*_network(rng, k)), vectorised=True),
)


def spec_for(name, module=None):
    """The spec of a function; by name alone, the first module that has it."""
    if module is not None:
        return SPECS.get((module, name))
    for (mod, fname), spec in SPECS.items():
        if fname == name:
            return spec
    return None


def output_names(name):
    spec = spec_for(name)
    return spec.outputs if spec else ()
