"""Assignment 05: backpropagation and gradient checking (the lectures "Lecture 8: Neural Networks",
"Activation Functions and Error Functions", "Introduction to Neural Networks, Part 2" and
"Machine Learning, Lecture: Neural Networks").

The reference solution. Conventions of the course: samples are columns, X is
(n_x, m), Y is (1, m) with values 0/1; params {"W1": (n_h, n_x), "b1": (n_h, 1),
"W2": (n_y, n_h), "b2": (n_y, 1)} and grads {"dW1", "db1", "dW2", "db2"} with the
same shapes; costs are Python floats (mean over the m samples, natural log).
No function changes its arguments in place.

The forward pass of assignment 03 is re-exported here (forward, compute_cost,
initialize_parameters and the activations): the grader trains with
forward / compute_cost / backward / update_parameters of this one module.
"""
import numpy as np

from solutions.two_layer_forward import (  # noqa: F401 (re-exported for the grader)
    ACTIVATIONS,
    compute_cost,
    forward,
    initialize_parameters,
    leaky_relu,
    leaky_relu_prime,
    relu,
    relu_prime,
    sigmoid,
    sigmoid_prime,
    tanh,
    tanh_prime,
)


def graph_grads(a, b, c):
    """The computation graph J = 2(ab + c) of Lecture 8, forward then backward.

    Forward: u = ab, v = u + c, J = 2v.
    Backward (chain rule): dJ/dv = 2, dJ/du = dJ/dv * dv/du = 2 * 1,
    dJ/da = dJ/du * du/da = dJ/du * b, dJ/db = dJ/du * a, dJ/dc = dJ/dv * dv/dc = 2 * 1.
    Returns a tuple of Python floats (J, dJ_da, dJ_db, dJ_dc).
    """
    u = a * b
    v = u + c
    J = 2 * v
    dJ_dv = 2.0
    dJ_du = dJ_dv * 1.0
    dJ_dc = dJ_dv * 1.0
    dJ_da = dJ_du * b
    dJ_db = dJ_du * a
    return float(J), float(dJ_da), float(dJ_db), float(dJ_dc)


def sigmoid_backward(dA, Z):
    """dZ = dA * g'(Z) for g = sigmoid, with g'(z) = s (1 - s), s = sigmoid(z).

    Inputs: dA, the upstream gradient dJ/dA, and Z, the pre-activations, of one shape.
    Returns dZ of that shape.
    """
    s = sigmoid(Z)
    return dA * s * (1 - s)


def linear_backward(dZ, A_prev, W):
    """Backward step through Z = W A_prev + b, averaged over the m samples of the batch.

    Inputs: dZ of shape (n, m), A_prev of shape (p, m), W of shape (n, p).
    Returns a tuple of:
    - dW = (1/m) dZ A_prev^T, shape (n, p)
    - db = (1/m) sum of dZ over the samples, shape (n, 1)
    - dA_prev = W^T dZ, shape (p, m) (one column per sample: no 1/m here)
    """
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ
    return dW, db, dA_prev


def backward(X, Y, params, cache, hidden_activation="tanh"):
    """Gradients of the binary cross-entropy cost of the two-layer network.

    Inputs: X (n_x, m), Y (1, m), params, cache {"Z1", "A1", "Z2", "A2"} of forward().
    dZ2 = A2 - Y                      (sigmoid output with cross-entropy)
    dW2, db2, dA1 = linear_backward(dZ2, A1, W2)
    dZ1 = dA1 * g'(Z1)                (g: the hidden activation)
    dW1, db1, _ = linear_backward(dZ1, X, W1)
    Returns grads {"dW1", "db1", "dW2", "db2"}, each of its parameter's shape.
    """
    g_prime = ACTIVATIONS[hidden_activation][1]  # ACTIVATIONS[name] = (g, g')
    dZ2 = cache["A2"] - Y
    dW2, db2, dA1 = linear_backward(dZ2, cache["A1"], params["W2"])
    dZ1 = dA1 * g_prime(cache["Z1"])
    dW1, db1, _ = linear_backward(dZ1, X, params["W1"])
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def numerical_gradient(f, x, eps=1e-5):
    """Central differences of a scalar function f at the array x.

    grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), one entry of x at a time.
    Returns a float array of x's shape; x itself is left as it was (f sees a copy).
    """
    x = np.array(x, dtype=float)  # a copy: the caller's array is never touched
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = f(x)
        x[i] = old - eps
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def gradient_check(params, X, Y, hidden_activation="tanh"):
    """Relative difference between backward's gradients and numerical ones.

    g: backward's dW1, db1, dW2, db2, flattened and concatenated (in that order);
    g_num: numerical_gradient of J(p) = compute_cost(forward(X, p)[0], Y) for each parameter.
    difference = ||g - g_num|| / (||g|| + ||g_num||), 0.0 when both are zero vectors.
    Returns a Python float: below 1e-7 for a right backward, far more for a wrong one.
    """
    _, cache = forward(X, params, hidden_activation)
    grads = backward(X, Y, params, cache, hidden_activation)
    names = ("W1", "b1", "W2", "b2")
    g = np.concatenate([np.ravel(grads["d" + name]) for name in names])

    def cost_with(name):
        def cost(value):
            changed = dict(params)
            changed[name] = value
            return compute_cost(forward(X, changed, hidden_activation)[0], Y)
        return cost

    g_num = np.concatenate([numerical_gradient(cost_with(name), params[name]).ravel() for name in names])
    denominator = np.linalg.norm(g) + np.linalg.norm(g_num)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(g - g_num) / denominator)


def update_parameters(params, grads, learning_rate):
    """One step of gradient descent: W := W - alpha dW, b := b - alpha db for each layer.

    Returns a new dict of new arrays; the caller's params stay as they were.
    """
    return {name: value - learning_rate * grads["d" + name] for name, value in params.items()}


def train(X, Y, n_h, num_iterations, learning_rate, hidden_activation="tanh", seed=None):
    """Batch gradient descent on the two-layer network.

    params = initialize_parameters(n_x, n_h, n_y, seed); then each iteration:
    forward, cost (recorded before the update), backward, update_parameters.
    Returns a tuple (params, costs), costs a list of num_iterations Python floats.
    """
    params = initialize_parameters(X.shape[0], n_h, Y.shape[0], seed)
    costs = []
    for _ in range(num_iterations):
        A2, cache = forward(X, params, hidden_activation)
        costs.append(float(compute_cost(A2, Y)))
        grads = backward(X, Y, params, cache, hidden_activation)
        params = update_parameters(params, grads, learning_rate)
    return params, costs


def predict(params, X, hidden_activation="tanh"):
    """Labels of the samples X (n_x, m): 1 where A2 > 0.5, else 0.

    Returns an int64 array of shape (1, m).
    """
    A2, _ = forward(X, params, hidden_activation)
    return (A2 > 0.5).astype(np.int64)
