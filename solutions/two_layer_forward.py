"""Assignment 03: a two-layer network, forward (the lectures of ../shared/curriculum.md).

The reference solution. Conventions of the course: samples are columns, X is
(n_x, m), Y is (1, m) with values 0/1; params {"W1": (n_h, n_x), "b1": (n_h, 1),
"W2": (n_y, n_h), "b2": (n_y, 1)}; the cost is a Python float (mean over the m
samples, natural log). No function changes its arguments in place.

Layer l computes Z[l] = W[l] A[l-1] + b[l], A[l] = g[l](Z[l]), with A[0] = X;
the hidden activation g[1] is chosen by name, the output g[2] is the sigmoid.
"""
import numpy as np


# ---------------------------------------------------------------- activations

def sigmoid(z):
    """sigma(z) = 1 / (1 + e^{-z}), without overflow for any |z|.

    Inputs: z, a number or an array of any shape.
    Returns: a float array of the shape of z, values in [0, 1].
    For z >= 0 it uses 1 / (1 + e^{-z}), for z < 0 the equal form e^{z} / (1 + e^{z}):
    the exponent is never positive.
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # e^{-|z|} lies in (0, 1]
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def tanh(z):
    """tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z}), values in [-1, 1]; float array of the shape of z."""
    return np.tanh(np.asarray(z, dtype=float))


def relu(z):
    """ReLU(z) = max(0, z); float array of the shape of z."""
    return np.maximum(0.0, np.asarray(z, dtype=float))


def leaky_relu(z, alpha=0.01):
    """Leaky ReLU(z) = z for z > 0, alpha z otherwise; float array of the shape of z."""
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, alpha * z)


def sigmoid_prime(z):
    """sigma'(z) = sigma(z) (1 - sigma(z)); float array of the shape of z."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh_prime(z):
    """tanh'(z) = 1 - tanh(z)^2; float array of the shape of z."""
    return 1.0 - tanh(z) ** 2


def relu_prime(z):
    """ReLU'(z) = 1 for z > 0, 0 otherwise (so ReLU'(0) = 0); float array of the shape of z."""
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, 1.0, 0.0)


def leaky_relu_prime(z, alpha=0.01):
    """Leaky ReLU'(z) = 1 for z > 0, alpha otherwise (so the value at 0 is alpha); float array of the shape of z."""
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, 1.0, float(alpha))


# g and g' of each hidden activation, by the name forward() takes
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
}


def _activation(name):
    """The function g of the hidden activation called `name`."""
    if name not in ACTIVATIONS:
        raise ValueError(f"hidden_activation must be one of {sorted(ACTIVATIONS)}, not {name!r}")
    return ACTIVATIONS[name][0]


# ----------------------------------------------------------------- parameters

def count_parameters(layer_dims):
    """Number of weights and biases of a fully connected network.

    Inputs: layer_dims = [n_0, n_1, ..., n_L], n_0 the number of inputs.
    Returns: sum over l = 1..L of n_l n_{l-1} (W[l]) + n_l (b[l]), a Python int.
    """
    dims = [int(n) for n in layer_dims]
    return int(sum(dims[l] * dims[l - 1] + dims[l] for l in range(1, len(dims))))


def initialize_parameters(n_x, n_h, n_y, seed=None):
    """Small random weights, zero biases.

    Inputs: n_x inputs, n_h hidden units, n_y outputs; seed for np.random.default_rng.
    Returns: {"W1": (n_h, n_x), "b1": (n_h, 1), "W2": (n_y, n_h), "b2": (n_y, 1)},
    W drawn from N(0, 1) times 0.01 (W1 first, then W2), b zeros.
    """
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((n_h, n_x)) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = rng.standard_normal((n_y, n_h)) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


# -------------------------------------------------------------------- forward

def forward_loop(X, params, hidden_activation="tanh"):
    """The slides' "Algorithm 1": the forward pass one sample at a time.

    for i = 1..m: z[1](i) = W[1] x(i) + b[1], a[1](i) = g(z[1](i)),
                  z[2](i) = W[2] a[1](i) + b[2], a[2](i) = sigma(z[2](i)).
    Inputs: X of shape (n_x, m), params as initialize_parameters returns.
    Returns: A2 of shape (n_y, m), column i being a[2](i).
    """
    g = _activation(hidden_activation)
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    A2 = np.zeros((W2.shape[0], m))
    for i in range(m):
        x_i = X[:, i:i + 1]  # column (n_x, 1)
        z1 = W1 @ x_i + b1
        a1 = g(z1)
        z2 = W2 @ a1 + b2
        A2[:, i:i + 1] = sigmoid(z2)
    return A2


def forward(X, params, hidden_activation="tanh"):
    """The slides' "Algorithm 2": the vectorised forward pass, all m samples at once.

    Z1 = W1 X + b1, A1 = g(Z1), Z2 = W2 A1 + b2, A2 = sigma(Z2)
    (b broadcast across the m columns).
    Inputs: X of shape (n_x, m), params as initialize_parameters returns.
    Returns a tuple (A2, cache): A2 of shape (n_y, m) and
    cache = {"Z1": (n_h, m), "A1": (n_h, m), "Z2": (n_y, m), "A2": (n_y, m)}.
    """
    g = _activation(hidden_activation)
    Z1 = params["W1"] @ X + params["b1"]
    A1 = g(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    """Binary cross-entropy J = -(1/m) sum_i (y(i) log a(i) + (1 - y(i)) log(1 - a(i))).

    Inputs: A2 of shape (1, m), predictions in (0, 1); Y of shape (1, m), labels 0/1.
    Returns: J, a Python float.
    """
    m = Y.shape[1]
    J = -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
    return float(J)
