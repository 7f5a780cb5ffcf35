"""Vectorised logistic regression: the slide "A Better Implementation in Python"
(Introduction to Neural Networks, Part 2; Machine Learning, Lecture: Neural Networks).

Conventions: samples are columns, X of shape (n_x, m), Y of shape (1, m) with
values 0/1; w of shape (n_x, 1), b a Python float; costs are Python floats, the
mean over the m samples, natural logarithm. No Python loop over samples or
features; no argument is modified in place.
"""
import numpy as np

from solutions.logistic_loop import sigmoid


def propagate(w, b, X, Y):
    """One forward and backward pass over all m samples at once.

    Inputs: w of shape (n_x, 1), b a float, X of shape (n_x, m), Y of shape (1, m).
    Returns a tuple (J, dw, db):
    - A = sigma(w^T X + b), of shape (1, m)
    - J = -(1/m) sum(Y log A + (1 - Y) log(1 - A)), a Python float
    - dw = (1/m) X (A - Y)^T, of shape (n_x, 1)
    - db = (1/m) sum(A - Y), a Python float
    """
    m = X.shape[1]
    A = sigmoid(w.T @ X + b)
    J = float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
    dZ = A - Y
    dw = X @ dZ.T / m
    db = float(np.sum(dZ) / m)
    return J, dw, db


def optimize(w, b, X, Y, num_iterations, alpha):
    """Gradient descent from the given w, b: num_iterations updates w := w - alpha dw, b := b - alpha db.

    Returns a tuple (w, b, costs): the final w (n_x, 1) and b (float), and
    costs, a list of num_iterations floats: the cost J before each update.
    """
    costs = []
    for _ in range(num_iterations):
        J, dw, db = propagate(w, b, X, Y)
        costs.append(J)
        w = w - alpha * dw
        b = float(b - alpha * db)
    return w, b, costs


def predict(w, b, X):
    """Labels 0/1 for the columns of X: 1 where A = sigma(w^T X + b) > 0.5.

    Returns: Y_prediction of shape (1, m), dtype int64.
    """
    A = sigmoid(w.T @ X + b)
    return (A > 0.5).astype(np.int64)
