"""Softmax regression: K classes instead of two (assignment 04).

The slides' notation: Z = W X + b holds the pre-activations (Machine Learning,
Lecture: Neural Networks calls them A^[2]), A = softmax(Z) the predicted probabilities (its H^[2],
the a = y-hat of Introduction to Neural Networks, Part 2), Y the one-hot labels. Samples are columns: X is
(n_x, m), Z, A and Y are (K, m). Costs are Python floats, the mean over the
m samples, natural logarithm.
"""
import numpy as np


def softmax(Z):
    """A[k, i] = e^{Z[k, i]} / sum_j e^{Z[j, i]}, column by column.

    Each column's maximum is subtracted first: the factor e^{-max} cancels
    between numerator and denominator, and the largest exponent becomes e^0 = 1,
    so nothing overflows.
    Inputs: Z of shape (K, m), one column of pre-activations per sample.
    Returns: A of shape (K, m), each column a probability distribution.
    """
    T = np.exp(Z - np.max(Z, axis=0, keepdims=True))  # the slides' t = e^{A^[2]}, shifted
    return T / np.sum(T, axis=0, keepdims=True)


def one_hot(y, num_classes):
    """Y[y[i], i] = 1 and every other entry 0.

    Inputs: y of shape (m,), integer labels in 0..num_classes-1; num_classes = K.
    Returns: Y of shape (K, m), floats.
    """
    m = y.shape[0]
    Y = np.zeros((num_classes, m))
    Y[y, np.arange(m)] = 1.0
    return Y


def cross_entropy(A, Y):
    """J = (1/m) sum_i L(a^(i), y^(i)) with L(a, y) = -sum_k y_k ln a_k.

    The log is taken only where Y > 0: a class the label does not select adds
    0 whatever A holds there, even an exact 0 (0 * ln 0 would be nan).
    Inputs: A of shape (K, m), probabilities; Y of shape (K, m), one-hot labels.
    Returns: J, a Python float.
    """
    m = Y.shape[1]
    log_A = np.log(A, out=np.zeros(np.shape(A)), where=Y > 0)
    return float(-np.sum(Y * log_A) / m)


def softmax_propagate(W, b, X, Y):
    """Forward and backward pass of softmax regression.

    Z = W X + b, A = softmax(Z), J = cross_entropy(A, Y);
    dZ = A - Y, dW = (1/m) dZ X^T, db = (1/m) sum_i dZ[:, i].
    Inputs: W of shape (K, n_x), b of shape (K, 1), X of shape (n_x, m), Y of shape (K, m) one-hot.
    Returns a tuple of: J (a Python float), dW of shape (K, n_x), db of shape (K, 1).
    """
    m = X.shape[1]
    A = softmax(W @ X + b)
    J = cross_entropy(A, Y)
    dZ = A - Y
    dW = dZ @ X.T / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    return J, dW, db


def predict_classes(W, b, X):
    """The most probable class of each sample: argmax_k of softmax(W X + b).

    softmax keeps the order within a column, so the argmax of Z is enough.
    Inputs: W of shape (K, n_x), b of shape (K, 1), X of shape (n_x, m).
    Returns: labels of shape (m,), int64.
    """
    return np.argmax(W @ X + b, axis=0).astype(np.int64)
