"""The real data sets of the course, shaped as the course writes them: one
sample per column. Both ship inside scikit-learn's wheel (no download); they
are read here with numpy alone, as scikit-learn's loaders read them, because
importing scikit-learn costs a kernel more than a second and a half.

Inputs:
- test_fraction: share of the samples held out for testing
- seed: the seed of the split, so that every student gets the same one
"""
import importlib.util
import os

import numpy as np

# scikit-learn's load_breast_cancer names the columns in its code, not in the file
_MEASURES = ("radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity", "concave points",
             "symmetry", "fractal dimension")
BREAST_CANCER_FEATURES = ([f"mean {m}" for m in _MEASURES] + [f"{m} error" for m in _MEASURES]
                          + [f"worst {m}" for m in _MEASURES])


def _data_file(name):
    """A data file of scikit-learn's wheel, found without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the course's data sets ship with scikit-learn, which is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data", name)


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
    # first line: samples, features, class names; then one row per tumour, its label last
    table = np.loadtxt(_data_file("breast_cancer.csv"), delimiter=",", skiprows=1, ndmin=2)
    data, target = table[:, :-1], table[:, -1].astype(np.int64)
    train, test = _split(len(target), test_fraction, seed)
    X, Y = data.T, target.reshape(1, -1)
    mean = X[:, train].mean(axis=1, keepdims=True)
    std = X[:, train].std(axis=1, keepdims=True)
    X = (X - mean) / std
    return X[:, train], Y[:, train], X[:, test], Y[:, test], list(BREAST_CANCER_FEATURES)


def digits(test_fraction=0.25, seed=0):
    """Handwritten digits: 1797 images of 8 x 8 pixels, classes 0 to 9.

    Pixels are scaled from 0..16 to 0..1.
    Returns a tuple of:
    - X_train of shape (64, m_train), y_train of shape (m_train,) with integer labels
    - X_test of shape (64, m_test), y_test of shape (m_test,)
    """
    table = np.loadtxt(_data_file("digits.csv.gz"), delimiter=",")  # 64 pixels, then the label
    data, target = table[:, :-1], table[:, -1].astype(np.int64)
    train, test = _split(len(target), test_fraction, seed)
    X, y = data.T / 16.0, target
    return X[:, train], y[train], X[:, test], y[test]
