"""Logistic regression one sample at a time: the slide "Implement all that"
(Introduction to Neural Networks, Part 2).

Conventions: samples are columns, X of shape (n_x, m), Y of shape (1, m) with
values 0/1; w of shape (n_x, 1), b a Python float; costs are Python floats, the
mean over the m samples, natural logarithm. No argument is modified in place.
"""
import numpy as np


def sigmoid(z):
    """sigma(z) = 1 / (1 + e^{-z}), computed without overflow for any |z|.

    Inputs: z, a number or an array of any shape.
    Returns: a Python float for a number, else an array of the shape of z.
    For z >= 0 it uses 1 / (1 + e^{-z}), for z < 0 the equal form
    e^{z} / (1 + e^{z}): the exponent is never positive, so e^{...} <= 1.
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # e^{-|z|} lies in (0, 1]
    s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return float(s) if s.ndim == 0 else s


def loss(a, y):
    """The single-sample binary cross-entropy L(a, y) = -(y log a + (1 - y) log(1 - a)).

    Inputs: a, the prediction in (0, 1); y, the label 0 or 1.
    Returns: L as a Python float.
    """
    return float(-(y * np.log(a) + (1 - y) * np.log(1 - a)))


def propagate_loop(w, b, X, Y):
    """One pass of the slide's algorithm, with loops over the samples and the features.

    Inputs: w of shape (n_x, 1), b a float, X of shape (n_x, m), Y of shape (1, m).
    Returns a tuple (J, dw, db):
    - J = (1/m) sum_i L(a^(i), y^(i)), a Python float
    - dw of shape (n_x, 1): dw_j = (1/m) sum_i x_j^(i) (a^(i) - y^(i))
    - db = (1/m) sum_i (a^(i) - y^(i)), a Python float
    """
    n_x, m = X.shape
    J = 0.0
    dw = np.zeros((n_x, 1))
    db = 0.0
    for i in range(m):
        z_i = float(w[:, 0] @ X[:, i]) + b  # z(i) = w^T x(i) + b
        a_i = sigmoid(z_i)
        J += loss(a_i, Y[0, i])
        dz_i = a_i - Y[0, i]
        for j in range(n_x):  # dw1 += x1(i) dz(i), dw2 += x2(i) dz(i), ...
            dw[j, 0] += X[j, i] * dz_i
        db += dz_i
    return float(J / m), dw / m, float(db / m)


def gd_step(w, b, dw, db, alpha):
    """One gradient-descent update: w := w - alpha dw, b := b - alpha db.

    Returns a tuple (w, b): a new array of the shape of w, and a Python float.
    """
    return w - alpha * dw, float(b - alpha * db)


def train_loop(X, Y, alpha, num_iterations):
    """Gradient descent from w = 0, b = 0 with propagate_loop and gd_step.

    Inputs: X of shape (n_x, m), Y of shape (1, m), the learning rate alpha,
    the number of iterations.
    Returns a tuple (w, b, costs): w of shape (n_x, 1), b a float, and costs,
    a list of num_iterations floats: the cost J before each update.
    """
    w = np.zeros((X.shape[0], 1))
    b = 0.0
    costs = []
    for _ in range(num_iterations):
        J, dw, db = propagate_loop(w, b, X, Y)
        costs.append(J)
        w, b = gd_step(w, b, dw, db, alpha)
    return w, b, costs
