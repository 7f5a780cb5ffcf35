"""The real data sets of the course, shaped as the course writes them: one
sample per column. Both ship inside scikit-learn's wheel (no download).

Inputs:
- test_fraction: share of the samples held out for testing
- seed: the seed of the split, so that every student gets the same one
"""
import numpy as np
from sklearn import datasets


def _split(m, test_fraction, seed):
    order = np.random.default_rng(seed).permutation(m)
    n_test = int(round(m * test_fraction))
    return order[n_test:], order[:n_test]


def breast_cancer(test_fraction=0.25, seed=0):
    """Wisconsin breast cancer: 569 tumours, 30 features, label 1 = benign.

    Features are standardised with the training set's mean and standard deviation.
    Returns a tuple of:
    - X_train of shape (30, m_train), Y_train of shape (1, m_train) with values 0/1
    - X_test of shape (30, m_test), Y_test of shape (1, m_test)
    - feature_names, a list of 30 strings
    """
    data = datasets.load_breast_cancer()
    train, test = _split(len(data.target), test_fraction, seed)
    X, Y = data.data.T, data.target.reshape(1, -1).astype(np.int64)
    mean = X[:, train].mean(axis=1, keepdims=True)
    std = X[:, train].std(axis=1, keepdims=True)
    X = (X - mean) / std
    return X[:, train], Y[:, train], X[:, test], Y[:, test], list(data.feature_names)


def digits(test_fraction=0.25, seed=0):
    """Handwritten digits: 1797 images of 8 x 8 pixels, classes 0 to 9.

    Pixels are scaled from 0..16 to 0..1.
    Returns a tuple of:
    - X_train of shape (64, m_train), y_train of shape (m_train,) with integer labels
    - X_test of shape (64, m_test), y_test of shape (m_test,)
    """
    data = datasets.load_digits()
    train, test = _split(len(data.target), test_fraction, seed)
    X, y = data.data.T / 16.0, data.target.astype(np.int64)
    return X[:, train], y[train], X[:, test], y[test]
