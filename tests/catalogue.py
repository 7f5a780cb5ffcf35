"""A catalogue of student answers for testing the tests, and the helper that grades them.

WRONG: realistic wrong implementations of the graded functions of the
curriculum (../../shared/curriculum.md), one mistake each, of the kinds students
make. RIGHT: correct implementations written differently from the reference.
Each entry is (assignment, function, name, code): code is the whole answer cell
of that function (the cell whose grade_id is the function's name); it replaces
that cell in a solved submission (the student release with every other answer
cell filled in from the source's solution; autograder.sample_class.solved and
with_function), and the submission is graded by the one grading path,
autograder.grading.grade_notebook(..., sandbox=True): the student's cells in a
sandboxed kernel, the source's visible and hidden test cells in the grader.

An entry with `gap` set is a known weakness of the grading: a wrong answer that
keeps full marks, or a right one that loses points. gap says why; the tests mark
it xfail(strict=True) with that reason, so that fixing the grader turns it into
an XPASS that asks for the entry to be updated.

Speed: the graded notebooks are reduced copies of the source and of the
submission that keep every setup, given, answer and test cell (and every
markdown cell) and drop the demo cells (grade_id "demo_..."): plots,
timings and training runs that no test reads. A demo cell that defines a
name a kept cell or a catalogue entry of the same assignment uses (03's
ACTIVATIONS table) is kept, with whatever it needs in turn. Each submission
is graded in a worker process of its own (os.cpu_count() + 1 at a time: a
grading spends much of its time waiting for its kernel): grade_notebook does
not shut down the kernel it starts (nbclient's setup_kernel only cleans up a
kernel manager it created itself), so every kernel lives until its grading
process exits, and one process per submission keeps them from piling up.

Used by tests/test_catalogue.py and benchmarks/catch_rates.py.
"""
import ast
import glob
import multiprocessing
import os
import symtable
import textwrap
import traceback
from collections import namedtuple

import nbformat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENTS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO, "source", "[0-9][0-9]_*")))


class Entry(namedtuple("Entry", "kind assignment function name code gap")):
    """kind: "wrong" or "right"; gap: None, or why the grader gets this entry wrong."""

    @property
    def id(self):
        return f"{self.assignment[:2]}-{self.function}-{self.name}"


def wrong(assignment, function, name, code, gap=None):
    return Entry("wrong", assignment, function, name, textwrap.dedent(code), gap)


def right(assignment, function, name, code, gap=None):
    return Entry("right", assignment, function, name, textwrap.dedent(code), gap)


A01, A02, A03, A04, A05 = ("01_logistic_loop", "02_logistic_vectorized", "03_two_layer_forward", "04_softmax",
                           "05_backprop")

# =====================================================================================================
# WRONG implementations: one mistake each
# =====================================================================================================

WRONG = [
    # ---- 01: sigmoid --------------------------------------------------------------------------------
    wrong(A01, "sigmoid", "math-exp-one-number-only", """
        def sigmoid(z):
            return 1 / (1 + math.exp(-z))      # math.exp takes one number: no arrays, overflows at -1000
        """),
    wrong(A01, "sigmoid", "sign-flip-in-exponent", """
        def sigmoid(z):
            z = np.asarray(z, dtype=float)
            s = 1 / (1 + np.exp(z))            # e^{+z}: this is sigma(-z)
            return float(s) if s.ndim == 0 else s
        """),
    wrong(A01, "sigmoid", "unstable-exp-over-one-plus-exp", """
        def sigmoid(z):
            z = np.asarray(z, dtype=float)
            s = np.exp(z) / (1 + np.exp(z))    # inf / inf = nan at z = 1000
            return float(s) if s.ndim == 0 else s
        """),
    wrong(A01, "sigmoid", "stable-form-branches-swapped", """
        def sigmoid(z):
            z = np.asarray(z, dtype=float)
            e = np.exp(-np.abs(z))
            s = np.where(z >= 0, e / (1 + e), 1 / (1 + e))   # the two branches the wrong way round
            return float(s) if s.ndim == 0 else s
        """),
    wrong(A01, "sigmoid", "hard-coded-visible-examples", """
        def sigmoid(z):
            # the visible examples, copied from the test cell
            if np.ndim(z) == 0:
                return {0.0: 0.5, 2.0: 1 / (1 + math.exp(-2))}.get(float(z), 0.5)
            z = np.asarray(z, dtype=float)
            known = {-1000.0: 0.0, -40.0: math.exp(-40) / (1 + math.exp(-40)), -1.0: 1 / (1 + math.exp(1)),
                     0.0: 0.5, 3.0: 1 / (1 + math.exp(-3)), 40.0: 1 / (1 + math.exp(-40)), 1000.0: 1.0}
            return np.vectorize(lambda v: known.get(float(v), 0.5))(z).astype(float)
        """),
    # ---- 01: loss -----------------------------------------------------------------------------------
    wrong(A01, "loss", "missing-minus-sign", """
        def loss(a, y):
            return float(y * np.log(a) + (1 - y) * np.log(1 - a))     # seed 001 drops the minus
        """),
    wrong(A01, "loss", "log10-for-ln", """
        def loss(a, y):
            return float(-(y * np.log10(a) + (1 - y) * np.log10(1 - a)))
        """),
    wrong(A01, "loss", "only-the-y-term", """
        def loss(a, y):
            return float(-y * np.log(a))      # the (1 - y) log(1 - a) term is forgotten
        """),
    wrong(A01, "loss", "squared-error-instead", """
        def loss(a, y):
            return float((a - y) ** 2 / 2)     # the slide's first, rejected loss
        """),
    # ---- 01: propagate_loop -------------------------------------------------------------------------
    wrong(A01, "propagate_loop", "missing-1-over-m-on-dw", """
        def propagate_loop(w, b, X, Y):
            n_x, m = X.shape
            J, dw, db = 0.0, np.zeros((n_x, 1)), 0.0
            for i in range(m):
                a = sigmoid(float(w[:, 0] @ X[:, i]) + b)
                J += loss(a, Y[0, i])
                for j in range(n_x):
                    dw[j, 0] += X[j, i] * (a - Y[0, i])
                db += a - Y[0, i]
            return float(J / m), dw, float(db / m)     # dw is not divided by m
        """),
    wrong(A01, "propagate_loop", "vectorised-where-the-loop-is-asked", """
        def propagate_loop(w, b, X, Y):
            m = X.shape[1]
            A = sigmoid(w.T @ X + b)          # right numbers, but not the slide's loop
            J = float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
            return J, X @ (A - Y).T / m, float(np.sum(A - Y) / m)
        """),
    wrong(A01, "propagate_loop", "dz-sign-flipped", """
        def propagate_loop(w, b, X, Y):
            n_x, m = X.shape
            J, dw, db = 0.0, np.zeros((n_x, 1)), 0.0
            for i in range(m):
                a = sigmoid(float(w[:, 0] @ X[:, i]) + b)
                J += loss(a, Y[0, i])
                dz = Y[0, i] - a              # y - a instead of a - y
                for j in range(n_x):
                    dw[j, 0] += X[j, i] * dz
                db += dz
            return float(J / m), dw / m, float(db / m)
        """),
    wrong(A01, "propagate_loop", "hard-wired-two-features", """
        def propagate_loop(w, b, X, Y):
            m = X.shape[1]
            J, dw1, dw2, db = 0.0, 0.0, 0.0, 0.0      # the slide's dw1, dw2: n_x = 2 only
            for i in range(m):
                a = sigmoid(w[0, 0] * X[0, i] + w[1, 0] * X[1, i] + b)
                J += loss(a, Y[0, i])
                dz = a - Y[0, i]
                dw1 += X[0, i] * dz
                dw2 += X[1, i] * dz
                db += dz
            return float(J / m), np.array([[dw1 / m], [dw2 / m]]), float(db / m)
        """),
    wrong(A01, "propagate_loop", "forgotten-bias", """
        def propagate_loop(w, b, X, Y):
            n_x, m = X.shape
            J, dw, db = 0.0, np.zeros((n_x, 1)), 0.0
            for i in range(m):
                a = sigmoid(float(w[:, 0] @ X[:, i]))   # + b forgotten
                J += loss(a, Y[0, i])
                for j in range(n_x):
                    dw[j, 0] += X[j, i] * (a - Y[0, i])
                db += a - Y[0, i]
            return float(J / m), dw / m, float(db / m)
        """),
    wrong(A01, "propagate_loop", "J-left-as-1x1-array", """
        def propagate_loop(w, b, X, Y):
            n_x, m = X.shape
            J, dw, db = 0.0, np.zeros((n_x, 1)), 0.0
            for i in range(m):
                z = w.T @ X[:, i:i + 1] + b           # a (1, 1) array, not a number
                a = 1 / (1 + np.exp(-z))
                J = J - (Y[0, i] * np.log(a) + (1 - Y[0, i]) * np.log(1 - a))
                for j in range(n_x):
                    dw[j, 0] += X[j, i] * (a - Y[0, i]).item()
                db += (a - Y[0, i]).item()
            return J / m, dw / m, db / m             # J is a (1, 1) array
        """),
    wrong(A01, "propagate_loop", "hard-coded-visible-examples", """
        def propagate_loop(w, b, X, Y):
            # the visible examples' answers, worked out by hand (and a loop, for the loop check)
            n_x, m = X.shape
            for i in range(m):
                pass
            if (n_x, m) == (1, 1):
                s = 1 / (1 + math.exp(-1))
                return -math.log(1 - s), np.array([[2 * s]]), s
            if b == 0.0:
                dz = 0.5 - Y[0]
                return math.log(2), np.array([[np.sum(X[0] * dz) / 3], [np.sum(X[1] * dz) / 3]]), float(np.sum(dz) / 3)
            a = 1 / (1 + np.exp(-(0.5 * X[0] - 0.25 * X[1] + 0.1)))
            dz = a - Y[0]
            J = -np.sum(Y[0] * np.log(a) + (1 - Y[0]) * np.log(1 - a)) / 3
            return float(J), np.array([[np.sum(X[0] * dz) / 3], [np.sum(X[1] * dz) / 3]]), float(np.sum(dz) / 3)
        """),
    wrong(A01, "propagate_loop", "no-loop-over-the-features", """
        def propagate_loop(w, b, X, Y):
            n_x, m = X.shape
            J, dw, db = 0.0, np.zeros((n_x, 1)), 0.0
            for i in range(m):
                a = sigmoid(float(w[:, 0] @ X[:, i]) + b)
                J += loss(a, Y[0, i])
                dw += X[:, i:i + 1] * (a - Y[0, i])     # all n_x features at once: no loop over j
                db += a - Y[0, i]
            return float(J / m), dw / m, float(db / m)
        """),
    # ---- 01: gd_step --------------------------------------------------------------------------------
    wrong(A01, "gd_step", "plus-instead-of-minus", """
        def gd_step(w, b, dw, db, alpha):
            return w + alpha * dw, float(b + alpha * db)     # gradient ascent
        """),
    wrong(A01, "gd_step", "in-place-update-of-callers-w", """
        def gd_step(w, b, dw, db, alpha):
            w -= alpha * dw                   # changes the caller's array
            b -= alpha * db
            return w, float(b)
        """),
    wrong(A01, "gd_step", "fixed-learning-rate", """
        def gd_step(w, b, dw, db, alpha):
            return w - 0.01 * dw, float(b - 0.01 * db)      # the slide's 0.01, not alpha
        """),
    # ---- 01: train_loop -----------------------------------------------------------------------------
    wrong(A01, "train_loop", "cost-recorded-after-the-update", """
        def train_loop(X, Y, alpha, num_iterations):
            w, b, costs = np.zeros((X.shape[0], 1)), 0.0, []
            for _ in range(num_iterations):
                J, dw, db = propagate_loop(w, b, X, Y)
                w, b = gd_step(w, b, dw, db, alpha)
                costs.append(propagate_loop(w, b, X, Y)[0])   # the cost after the step
            return w, b, costs
        """),
    wrong(A01, "train_loop", "one-cost-every-100-iterations", """
        def train_loop(X, Y, alpha, num_iterations):
            w, b, costs = np.zeros((X.shape[0], 1)), 0.0, []
            for i in range(num_iterations):
                J, dw, db = propagate_loop(w, b, X, Y)
                if i % 100 == 0:              # the course-notes habit: not one cost per iteration
                    costs.append(J)
                w, b = gd_step(w, b, dw, db, alpha)
            return w, b, costs
        """),
    wrong(A01, "train_loop", "random-initialisation", """
        def train_loop(X, Y, alpha, num_iterations):
            w, b, costs = np.random.randn(X.shape[0], 1) * 0.01, 0.0, []   # not zeros
            for _ in range(num_iterations):
                J, dw, db = propagate_loop(w, b, X, Y)
                costs.append(J)
                w, b = gd_step(w, b, dw, db, alpha)
            return w, b, costs
        """),
    wrong(A01, "train_loop", "one-iteration-too-few", """
        def train_loop(X, Y, alpha, num_iterations):
            w, b, costs = np.zeros((X.shape[0], 1)), 0.0, []
            for _ in range(1, num_iterations):       # off by one
                J, dw, db = propagate_loop(w, b, X, Y)
                costs.append(J)
                w, b = gd_step(w, b, dw, db, alpha)
            return w, b, costs
        """),

    # ---- 02: propagate ------------------------------------------------------------------------------
    wrong(A02, "propagate", "slide-1-over-2m-in-J", """
        def propagate(w, b, X, Y):
            m = X.shape[1]
            A = sigmoid(w.T @ X + b)
            J = float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / (2 * m))
            return J, X @ (A - Y).T / m, float(np.sum(A - Y) / m)
        """),
    wrong(A02, "propagate", "loop-over-samples", """
        def propagate(w, b, X, Y):
            n_x, m = X.shape
            J, dw, db = 0.0, np.zeros((n_x, 1)), 0.0
            for i in range(m):                # right numbers, but a Python loop over the samples
                a = sigmoid(float(w[:, 0] @ X[:, i]) + b)
                J += -(Y[0, i] * np.log(a) + (1 - Y[0, i]) * np.log(1 - a))
                dw += X[:, i:i + 1] * (a - Y[0, i])
                db += a - Y[0, i]
            return float(J / m), dw / m, float(db / m)
        """),
    wrong(A02, "propagate", "transposed-dw", """
        def propagate(w, b, X, Y):
            m = X.shape[1]
            A = sigmoid(w.T @ X + b)
            J = float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
            dw = (A - Y) @ X.T / m            # (1, n_x): the transpose of dw
            return J, dw, float(np.sum(A - Y) / m)
        """),
    wrong(A02, "propagate", "db-left-as-1x1-array", """
        def propagate(w, b, X, Y):
            m = X.shape[1]
            A = sigmoid(w.T @ X + b)
            J = float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
            db = np.sum(A - Y, axis=1, keepdims=True) / m      # a (1, 1) array, not a float
            return J, X @ (A - Y).T / m, db
        """),
    wrong(A02, "propagate", "gradient-sign-flipped", """
        def propagate(w, b, X, Y):
            m = X.shape[1]
            A = sigmoid(w.T @ X + b)
            J = float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
            dZ = Y - A                         # Y - A instead of A - Y
            return J, X @ dZ.T / m, float(np.sum(dZ) / m)
        """),
    wrong(A02, "propagate", "missing-1-over-m-on-dw", """
        def propagate(w, b, X, Y):
            m = X.shape[1]
            A = sigmoid(w.T @ X + b)
            J = float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
            return J, X @ (A - Y).T, float(np.sum(A - Y) / m)
        """),
    wrong(A02, "propagate", "forgotten-bias", """
        def propagate(w, b, X, Y):
            m = X.shape[1]
            A = sigmoid(w.T @ X)              # + b forgotten
            J = float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
            return J, X @ (A - Y).T / m, float(np.sum(A - Y) / m)
        """),
    wrong(A02, "propagate", "log10-for-ln", """
        def propagate(w, b, X, Y):
            m = X.shape[1]
            A = sigmoid(w.T @ X + b)
            J = float(-np.sum(Y * np.log10(A) + (1 - Y) * np.log10(1 - A)) / m)
            return J, X @ (A - Y).T / m, float(np.sum(A - Y) / m)
        """),
    # ---- 02: optimize -------------------------------------------------------------------------------
    wrong(A02, "optimize", "in-place-update-of-callers-w", """
        def optimize(w, b, X, Y, num_iterations, alpha):
            costs = []
            for _ in range(num_iterations):
                J, dw, db = propagate(w, b, X, Y)
                costs.append(J)
                w -= alpha * dw               # changes the caller's w
                b = b - alpha * db
            return w, b, costs
        """),
    wrong(A02, "optimize", "starts-from-zeros", """
        def optimize(w, b, X, Y, num_iterations, alpha):
            w, b, costs = np.zeros_like(w), 0.0, []     # ignores the w and b it is given
            for _ in range(num_iterations):
                J, dw, db = propagate(w, b, X, Y)
                costs.append(J)
                w, b = w - alpha * dw, b - alpha * db
            return w, b, costs
        """),
    wrong(A02, "optimize", "cost-recorded-after-the-update", """
        def optimize(w, b, X, Y, num_iterations, alpha):
            costs = []
            for _ in range(num_iterations):
                J, dw, db = propagate(w, b, X, Y)
                w, b = w - alpha * dw, b - alpha * db
                costs.append(propagate(w, b, X, Y)[0])
            return w, b, costs
        """),
    wrong(A02, "optimize", "arguments-in-the-slides-order", """
        def optimize(w, b, X, Y, alpha, num_iterations):       # alpha and num_iterations swapped
            costs = []
            for _ in range(int(num_iterations)):
                J, dw, db = propagate(w, b, X, Y)
                costs.append(J)
                w, b = w - alpha * dw, b - alpha * db
            return w, b, costs
        """),
    wrong(A02, "optimize", "calls-the-loop-version", """
        def optimize(w, b, X, Y, num_iterations, alpha):
            costs = []
            for _ in range(num_iterations):
                J, dw, db = propagate_loop(w, b, X, Y)    # the given loop version, not propagate
                costs.append(J)
                w, b = w - alpha * dw, b - alpha * db
            return w, b, costs
        """),
    # ---- 02: predict --------------------------------------------------------------------------------
    wrong(A02, "predict", "float-labels", """
        def predict(w, b, X):
            return (sigmoid(w.T @ X + b) > 0.5) * 1.0      # 0.0 / 1.0, not integers
        """),
    wrong(A02, "predict", "boolean-labels", """
        def predict(w, b, X):
            return sigmoid(w.T @ X + b) > 0.5             # True / False, not 0 / 1 integers
        """, gap=None),
    wrong(A02, "predict", "loop-over-samples", """
        def predict(w, b, X):
            m = X.shape[1]
            Y_prediction = np.zeros((1, m), dtype=np.int64)
            for i in range(m):
                Y_prediction[0, i] = int(sigmoid(float(w[:, 0] @ X[:, i]) + b) > 0.5)
            return Y_prediction
        """),
    wrong(A02, "predict", "threshold-on-z-not-A", """
        def predict(w, b, X):
            return ((w.T @ X + b) > 0.5).astype(np.int64)     # z > 0.5 instead of sigma(z) > 0.5
        """),
    wrong(A02, "predict", "flat-labels", """
        def predict(w, b, X):
            return (sigmoid(w.T @ X + b) > 0.5).astype(np.int64).ravel()    # (m,), not (1, m)
        """),

    # ---- 03: activations ----------------------------------------------------------------------------
    wrong(A03, "sigmoid", "unstable-exp-over-one-plus-exp", """
        def sigmoid(z):
            return np.exp(z) / (1 + np.exp(z))     # nan at z = 1000
        """),
    wrong(A03, "sigmoid", "sign-flip-in-exponent", """
        def sigmoid(z):
            return 1 / (1 + np.exp(z))
        """),
    wrong(A03, "sigmoid", "np-vectorize-of-a-scalar-function", """
        def sigmoid(z):
            def one(v):
                return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
            return np.vectorize(one, otypes=[float])(z)     # a Python call per entry
        """),
    wrong(A03, "tanh", "textbook-formula-overflows", """
        def tanh(z):
            return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))     # inf / inf at |z| = 1000
        """),
    wrong(A03, "tanh", "sigmoid-of-2z", """
        def tanh(z):
            return 1 / (1 + np.exp(-2 * z))          # half of the identity tanh = 2 sigma(2z) - 1
        """),
    wrong(A03, "relu", "np-max-for-np-maximum", """
        def relu(z):
            return np.max(0, z)                      # np.max reduces; np.maximum is entry by entry
        """),
    wrong(A03, "relu", "in-place-on-callers-array", """
        def relu(z):
            z[z < 0] = 0                              # writes into the caller's array
            return z
        """),
    wrong(A03, "relu", "absolute-value", """
        def relu(z):
            return np.abs(z)
        """),
    wrong(A03, "leaky_relu", "alpha-hard-wired", """
        def leaky_relu(z, alpha=0.01):
            return np.where(z > 0, z, 0.01 * z)      # ignores the alpha argument
        """),
    wrong(A03, "leaky_relu", "negative-side-is-alpha-not-alpha-z", """
        def leaky_relu(z, alpha=0.01):
            return np.where(z > 0, z, alpha)
        """),
    wrong(A03, "leaky_relu", "in-place-on-callers-array", """
        def leaky_relu(z, alpha=0.01):
            z[z < 0] *= alpha                         # writes into the caller's array
            return z
        """),
    wrong(A03, "sigmoid_prime", "derivative-in-terms-of-z-not-a", """
        def sigmoid_prime(z):
            return z * (1 - z)                        # a (1 - a) with z in place of a = sigma(z)
        """),
    wrong(A03, "sigmoid_prime", "one-sigmoid-missing", """
        def sigmoid_prime(z):
            return sigmoid(z) * (1 - z)
        """),
    wrong(A03, "tanh_prime", "seed-003s-slip", """
        def tanh_prime(z):
            g = np.tanh(z)
            return 1 - (1 - g) ** 2
        """),
    wrong(A03, "tanh_prime", "derivative-in-terms-of-z-not-a", """
        def tanh_prime(z):
            return 1 - z ** 2                         # 1 - a^2 with z in place of a = tanh(z)
        """),
    wrong(A03, "tanh_prime", "square-forgotten", """
        def tanh_prime(z):
            return 1 - np.tanh(z)
        """),
    wrong(A03, "relu_prime", "returns-relu-itself", """
        def relu_prime(z):
            return np.maximum(0.0, z)
        """),
    wrong(A03, "relu_prime", "in-place-on-callers-array", """
        def relu_prime(z):
            z[z > 0] = 1.0                            # overwrites the caller's pre-activations
            z[z <= 0] = 0.0
            return z
        """),
    wrong(A03, "leaky_relu_prime", "negative-slope-zero", """
        def leaky_relu_prime(z, alpha=0.01):
            return np.where(z > 0, 1.0, 0.0)          # relu's derivative
        """),
    wrong(A03, "leaky_relu_prime", "alpha-hard-wired", """
        def leaky_relu_prime(z, alpha=0.01):
            return np.where(z > 0, 1.0, 0.01)
        """),
    wrong(A03, "leaky_relu_prime", "alpha-times-z-on-the-left", """
        def leaky_relu_prime(z, alpha=0.01):
            return np.where(z > 0, 1.0, alpha * z)    # the function's value, not its slope
        """),
    # ---- 03: count_parameters -----------------------------------------------------------------------
    wrong(A03, "count_parameters", "biases-forgotten", """
        def count_parameters(layer_dims):
            return sum(layer_dims[l] * layer_dims[l - 1] for l in range(1, len(layer_dims)))
        """),
    wrong(A03, "count_parameters", "biases-counted-for-the-input-layer", """
        def count_parameters(layer_dims):
            weights = sum(layer_dims[l] * layer_dims[l - 1] for l in range(1, len(layer_dims)))
            return weights + sum(layer_dims)          # the inputs have no biases
        """),
    wrong(A03, "count_parameters", "hard-wired-one-hidden-layer", """
        def count_parameters(layer_dims):
            n_x, n_h, n_y = layer_dims[0], layer_dims[1], layer_dims[2]   # the shallow network of seed 003 only
            return n_h * n_x + n_h + n_y * n_h + n_y
        """),
    wrong(A03, "count_parameters", "float-count", """
        def count_parameters(layer_dims):
            dims = np.array(layer_dims, dtype=float)
            return np.sum(dims[1:] * dims[:-1] + dims[1:])     # a float, not an int
        """),
    wrong(A03, "count_parameters", "hard-coded-visible-examples", """
        def count_parameters(layer_dims):
            return {(4, 5, 5, 3): 73, (2, 3, 1): 13, (7, 1): 8}.get(tuple(layer_dims), 0)
        """),
    # ---- 03: initialize_parameters ------------------------------------------------------------------
    wrong(A03, "initialize_parameters", "no-0.01-scale", """
        def initialize_parameters(n_x, n_h, n_y, seed=None):
            rng = np.random.default_rng(seed)
            return {"W1": rng.standard_normal((n_h, n_x)), "b1": np.zeros((n_h, 1)),
                    "W2": rng.standard_normal((n_y, n_h)), "b2": np.zeros((n_y, 1))}
        """),
    wrong(A03, "initialize_parameters", "transposed-weights", """
        def initialize_parameters(n_x, n_h, n_y, seed=None):
            rng = np.random.default_rng(seed)
            return {"W1": rng.standard_normal((n_x, n_h)) * 0.01, "b1": np.zeros((n_h, 1)),
                    "W2": rng.standard_normal((n_h, n_y)) * 0.01, "b2": np.zeros((n_y, 1))}
        """),
    wrong(A03, "initialize_parameters", "seed-ignored", """
        def initialize_parameters(n_x, n_h, n_y, seed=None):
            return {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
                    "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}
        """),
    wrong(A03, "initialize_parameters", "random-biases", """
        def initialize_parameters(n_x, n_h, n_y, seed=None):
            rng = np.random.default_rng(seed)
            return {"W1": rng.standard_normal((n_h, n_x)) * 0.01, "b1": rng.standard_normal((n_h, 1)) * 0.01,
                    "W2": rng.standard_normal((n_y, n_h)) * 0.01, "b2": rng.standard_normal((n_y, 1)) * 0.01}
        """),
    wrong(A03, "initialize_parameters", "uniform-not-normal", """
        def initialize_parameters(n_x, n_h, n_y, seed=None):
            rng = np.random.default_rng(seed)
            return {"W1": rng.random((n_h, n_x)) * 0.01, "b1": np.zeros((n_h, 1)),    # uniform on [0, 0.01)
                    "W2": rng.random((n_y, n_h)) * 0.01, "b2": np.zeros((n_y, 1))}
        """),
    # ---- 03: forward_loop ---------------------------------------------------------------------------
    wrong(A03, "forward_loop", "vectorised-where-the-loop-is-asked", """
        def forward_loop(X, params, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]
            return sigmoid(params["W2"] @ g(params["W1"] @ X + params["b1"]) + params["b2"])
        """),
    wrong(A03, "forward_loop", "hidden-activation-always-tanh", """
        def forward_loop(X, params, hidden_activation="tanh"):
            m = X.shape[1]
            A2 = np.zeros((params["W2"].shape[0], m))
            for i in range(m):
                a1 = np.tanh(params["W1"] @ X[:, i:i + 1] + params["b1"])    # ignores hidden_activation
                A2[:, i:i + 1] = sigmoid(params["W2"] @ a1 + params["b2"])
            return A2
        """),
    wrong(A03, "forward_loop", "sample-as-flat-vector", """
        def forward_loop(X, params, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]
            m = X.shape[1]
            A2 = np.zeros((params["W2"].shape[0], m))
            for i in range(m):
                z1 = params["W1"] @ X[:, i] + params["b1"]      # (n_h,) + (n_h, 1) broadcasts to (n_h, n_h)
                a2 = sigmoid(params["W2"] @ g(z1) + params["b2"])
                A2[:, i] = a2[:, 0]
            return A2
        """),
    wrong(A03, "forward_loop", "sigmoid-output-forgotten", """
        def forward_loop(X, params, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]
            m = X.shape[1]
            A2 = np.zeros((params["W2"].shape[0], m))
            for i in range(m):
                a1 = g(params["W1"] @ X[:, i:i + 1] + params["b1"])
                A2[:, i:i + 1] = g(params["W2"] @ a1 + params["b2"])    # the hidden activation on the output
            return A2
        """),
    wrong(A03, "forward_loop", "one-output-hard-wired", """
        def forward_loop(X, params, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]
            m = X.shape[1]
            A2 = np.zeros((1, m))                     # n_y = 1 hard-wired
            for i in range(m):
                a1 = g(params["W1"] @ X[:, i:i + 1] + params["b1"])
                A2[0, i] = sigmoid(params["W2"] @ a1 + params["b2"])[0, 0]
            return A2
        """, gap=None),
    # ---- 03: forward --------------------------------------------------------------------------------
    wrong(A03, "forward", "loop-over-samples", """
        def forward(X, params, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]
            m = X.shape[1]
            Z1 = np.zeros((params["W1"].shape[0], m))
            for i in range(m):                # Algorithm 1 again: a Python loop over the samples
                Z1[:, i:i + 1] = params["W1"] @ X[:, i:i + 1] + params["b1"]
            A1 = g(Z1)
            Z2 = params["W2"] @ A1 + params["b2"]
            A2 = sigmoid(Z2)
            return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
        """),
    wrong(A03, "forward", "transposed-first-product", """
        def forward(X, params, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]
            Z1 = params["W1"].T @ X + params["b1"]     # W1 is already (n_h, n_x)
            A1 = g(Z1)
            Z2 = params["W2"] @ A1 + params["b2"]
            A2 = sigmoid(Z2)
            return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
        """),
    wrong(A03, "forward", "forgotten-bias-b1", """
        def forward(X, params, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]
            Z1 = params["W1"] @ X
            A1 = g(Z1)
            Z2 = params["W2"] @ A1 + params["b2"]
            A2 = sigmoid(Z2)
            return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
        """),
    wrong(A03, "forward", "cache-holds-the-wrong-arrays", """
        def forward(X, params, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]
            Z1 = params["W1"] @ X + params["b1"]
            A1 = g(Z1)
            Z2 = params["W2"] @ A1 + params["b2"]
            A2 = sigmoid(Z2)
            return A2, {"Z1": A1, "A1": Z1, "Z2": Z2, "A2": A2}    # Z1 and A1 swapped
        """),
    wrong(A03, "forward", "hidden-activation-always-tanh", """
        def forward(X, params, hidden_activation="tanh"):
            Z1 = params["W1"] @ X + params["b1"]
            A1 = np.tanh(Z1)
            Z2 = params["W2"] @ A1 + params["b2"]
            A2 = sigmoid(Z2)
            return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
        """),
    # ---- 03: compute_cost ---------------------------------------------------------------------------
    wrong(A03, "compute_cost", "missing-1-over-m", """
        def compute_cost(A2, Y):
            return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)))
        """),
    wrong(A03, "compute_cost", "mean-along-axis-1-returns-an-array", """
        def compute_cost(A2, Y):
            return -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2), axis=1)     # shape (1,), not a float
        """),
    wrong(A03, "compute_cost", "log10-for-ln", """
        def compute_cost(A2, Y):
            m = Y.shape[1]
            return float(-np.sum(Y * np.log10(A2) + (1 - Y) * np.log10(1 - A2)) / m)
        """),
    wrong(A03, "compute_cost", "m-from-the-wrong-axis", """
        def compute_cost(A2, Y):
            m = Y.shape[0]                    # the rows: always 1
            return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)
        """),
    wrong(A03, "compute_cost", "sign-flip", """
        def compute_cost(A2, Y):
            m = Y.shape[1]
            return float(np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)
        """),

    # ---- 04: softmax --------------------------------------------------------------------------------
    wrong(A04, "softmax", "unstable-no-max-subtracted", """
        def softmax(Z):
            E = np.exp(Z)
            return E / np.sum(E, axis=0, keepdims=True)
        """),
    wrong(A04, "softmax", "sum-over-the-whole-array", """
        def softmax(Z):
            E = np.exp(Z - np.max(Z, axis=0, keepdims=True))
            return E / np.sum(E)                    # every entry of the array, not each column
        """),
    wrong(A04, "softmax", "wrong-axis-rows", """
        def softmax(Z):
            E = np.exp(Z - np.max(Z, axis=1, keepdims=True))
            return E / np.sum(E, axis=1, keepdims=True)
        """),
    wrong(A04, "softmax", "global-max-underflows-a-column", """
        def softmax(Z):
            E = np.exp(Z - np.max(Z))            # one shift for all columns: a column far below it is 0 / 0
            return E / np.sum(E, axis=0, keepdims=True)
        """),
    wrong(A04, "softmax", "in-place-shift-of-callers-Z", """
        def softmax(Z):
            Z -= np.max(Z, axis=0, keepdims=True)     # changes the caller's scores
            E = np.exp(Z)
            return E / np.sum(E, axis=0, keepdims=True)
        """),
    wrong(A04, "softmax", "loop-over-columns", """
        def softmax(Z):
            A = np.zeros(Z.shape)
            for i in range(Z.shape[1]):
                e = np.exp(Z[:, i] - np.max(Z[:, i]))
                A[:, i] = e / np.sum(e)
            return A
        """),
    # ---- 04: one_hot --------------------------------------------------------------------------------
    wrong(A04, "one_hot", "transposed", """
        def one_hot(y, num_classes):
            return np.eye(num_classes)[y]         # (m, K): one row per sample
        """),
    wrong(A04, "one_hot", "classes-from-the-labels-seen", """
        def one_hot(y, num_classes):
            K = int(np.max(y)) + 1                # not num_classes
            Y = np.zeros((K, y.shape[0]))
            Y[y, np.arange(y.shape[0])] = 1.0
            return Y
        """),
    wrong(A04, "one_hot", "labels-taken-as-1-based", """
        def one_hot(y, num_classes):
            Y = np.zeros((num_classes, y.shape[0]))
            Y[y - 1, np.arange(y.shape[0])] = 1.0
            return Y
        """),
    # ---- 04: cross_entropy --------------------------------------------------------------------------
    wrong(A04, "cross_entropy", "nan-at-unselected-zeros", """
        def cross_entropy(A, Y):
            return float(-np.sum(Y * np.log(A)) / Y.shape[1])     # 0 * log(0) = nan
        """),
    wrong(A04, "cross_entropy", "missing-1-over-m", """
        def cross_entropy(A, Y):
            log_A = np.log(A, out=np.zeros(A.shape), where=Y > 0)
            return float(-np.sum(Y * log_A))
        """),
    wrong(A04, "cross_entropy", "mean-over-classes-too", """
        def cross_entropy(A, Y):
            log_A = np.log(A, out=np.zeros(A.shape), where=Y > 0)
            return float(-np.mean(Y * log_A))      # divides by K * m
        """),
    wrong(A04, "cross_entropy", "log10-for-ln", """
        def cross_entropy(A, Y):
            log_A = np.log10(A, out=np.zeros(A.shape), where=Y > 0)
            return float(-np.sum(Y * log_A) / Y.shape[1])
        """),
    wrong(A04, "cross_entropy", "binary-cross-entropy-formula", """
        def cross_entropy(A, Y):
            m = Y.shape[1]
            A = np.clip(A, 1e-12, 1 - 1e-12)
            return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)    # the two-class formula
        """),
    # ---- 04: softmax_propagate ----------------------------------------------------------------------
    wrong(A04, "softmax_propagate", "missing-1-over-m-on-dW", """
        def softmax_propagate(W, b, X, Y):
            m = X.shape[1]
            A = softmax(W @ X + b)
            J = cross_entropy(A, Y)
            dZ = A - Y
            dW = dZ @ X.T
            db = np.sum(dZ, axis=1, keepdims=True) / m
            return J, dW, db
        """),
    wrong(A04, "softmax_propagate", "transposed-dW", """
        def softmax_propagate(W, b, X, Y):
            m = X.shape[1]
            A = softmax(W @ X + b)
            J = cross_entropy(A, Y)
            dZ = A - Y
            dW = X @ dZ.T / m                     # (n_x, K)
            db = np.sum(dZ, axis=1, keepdims=True) / m
            return J, dW, db
        """),
    wrong(A04, "softmax_propagate", "db-lost-keepdims", """
        def softmax_propagate(W, b, X, Y):
            m = X.shape[1]
            A = softmax(W @ X + b)
            J = cross_entropy(A, Y)
            dZ = A - Y
            return J, dZ @ X.T / m, np.sum(dZ, axis=1) / m     # (K,), not (K, 1)
        """),
    wrong(A04, "softmax_propagate", "dZ-sign-flipped", """
        def softmax_propagate(W, b, X, Y):
            m = X.shape[1]
            A = softmax(W @ X + b)
            J = cross_entropy(A, Y)
            dZ = Y - A
            return J, dZ @ X.T / m, np.sum(dZ, axis=1, keepdims=True) / m
        """),
    wrong(A04, "softmax_propagate", "forgotten-bias", """
        def softmax_propagate(W, b, X, Y):
            m = X.shape[1]
            A = softmax(W @ X)                    # + b forgotten
            J = cross_entropy(A, Y)
            dZ = A - Y
            return J, dZ @ X.T / m, np.sum(dZ, axis=1, keepdims=True) / m
        """),
    wrong(A04, "softmax_propagate", "loop-over-samples", """
        def softmax_propagate(W, b, X, Y):
            m = X.shape[1]
            J, dW, db = 0.0, np.zeros(W.shape), np.zeros(b.shape)
            for i in range(m):
                x, y = X[:, i:i + 1], Y[:, i:i + 1]
                a = softmax(W @ x + b)
                J += cross_entropy(a, y)
                dW += (a - y) @ x.T
                db += a - y
            return J / m, dW / m, db / m
        """),
    wrong(A04, "softmax_propagate", "unstable-softmax-inline", """
        def softmax_propagate(W, b, X, Y):
            m = X.shape[1]
            E = np.exp(W @ X + b)                     # seed 002's softmax: overflows for scores in the thousands
            A = E / np.sum(E, axis=0, keepdims=True)
            J = cross_entropy(A, Y)
            dZ = A - Y
            return J, dZ @ X.T / m, np.sum(dZ, axis=1, keepdims=True) / m
        """),
    # ---- 04: predict_classes ------------------------------------------------------------------------
    wrong(A04, "predict_classes", "argmax-over-the-wrong-axis", """
        def predict_classes(W, b, X):
            return np.argmax(W @ X + b, axis=1)
        """),
    wrong(A04, "predict_classes", "keepdims-labels", """
        def predict_classes(W, b, X):
            return np.argmax(W @ X + b, axis=0, keepdims=True)     # (1, m), not (m,)
        """),
    wrong(A04, "predict_classes", "float-labels", """
        def predict_classes(W, b, X):
            return np.argmax(W @ X + b, axis=0).astype(float)
        """),
    wrong(A04, "predict_classes", "forgotten-bias", """
        def predict_classes(W, b, X):
            return np.argmax(W @ X, axis=0)
        """),
    wrong(A04, "predict_classes", "hard-coded-visible-examples", """
        def predict_classes(W, b, X):
            return np.array([0, 1, 2]) if X.shape[1] == 3 else np.zeros(X.shape[1], dtype=np.int64)
        """),

    # ---- 05: graph_grads ----------------------------------------------------------------------------
    wrong(A05, "graph_grads", "factor-2-lost-in-the-chain", """
        def graph_grads(a, b, c):
            J = 2 * (a * b + c)
            return float(J), float(b), float(a), 1.0     # dJ/du taken as 1, not 2
        """),
    wrong(A05, "graph_grads", "da-and-db-swapped", """
        def graph_grads(a, b, c):
            J = 2 * (a * b + c)
            return float(J), float(2 * a), float(2 * b), 2.0
        """),
    wrong(A05, "graph_grads", "hard-coded-visible-examples", """
        def graph_grads(a, b, c):
            if (a, b, c) == (3.0, 2.0, 5.0):
                return 22.0, 4.0, 6.0, 2.0
            return -11.5, 8.0, -3.0, 2.0
        """),
    # ---- 05: sigmoid_backward -----------------------------------------------------------------------
    wrong(A05, "sigmoid_backward", "upstream-gradient-forgotten", """
        def sigmoid_backward(dA, Z):
            s = sigmoid(Z)
            return s * (1 - s)
        """),
    wrong(A05, "sigmoid_backward", "Z-taken-as-the-activation", """
        def sigmoid_backward(dA, Z):
            return dA * Z * (1 - Z)                   # a (1 - a) with a = Z
        """),
    wrong(A05, "sigmoid_backward", "in-place-on-callers-dA", """
        def sigmoid_backward(dA, Z):
            s = sigmoid(Z)
            dA *= s * (1 - s)                         # overwrites the caller's upstream gradient
            return dA
        """),
    # ---- 05: linear_backward ------------------------------------------------------------------------
    wrong(A05, "linear_backward", "missing-1-over-m", """
        def linear_backward(dZ, A_prev, W):
            return dZ @ A_prev.T, np.sum(dZ, axis=1, keepdims=True), W.T @ dZ
        """),
    wrong(A05, "linear_backward", "1-over-m-on-dA_prev-too", """
        def linear_backward(dZ, A_prev, W):
            m = A_prev.shape[1]
            return dZ @ A_prev.T / m, np.sum(dZ, axis=1, keepdims=True) / m, W.T @ dZ / m
        """),
    wrong(A05, "linear_backward", "db-lost-keepdims", """
        def linear_backward(dZ, A_prev, W):
            m = A_prev.shape[1]
            return dZ @ A_prev.T / m, np.sum(dZ, axis=1) / m, W.T @ dZ
        """),
    wrong(A05, "linear_backward", "transposed-dW", """
        def linear_backward(dZ, A_prev, W):
            m = A_prev.shape[1]
            return A_prev @ dZ.T / m, np.sum(dZ, axis=1, keepdims=True) / m, W.T @ dZ
        """),
    wrong(A05, "linear_backward", "db-summed-over-everything", """
        def linear_backward(dZ, A_prev, W):
            m = A_prev.shape[1]
            return dZ @ A_prev.T / m, np.sum(dZ) / m, W.T @ dZ
        """),
    # ---- 05: backward -------------------------------------------------------------------------------
    wrong(A05, "backward", "tanh-derivative-hard-wired", """
        def backward(X, Y, params, cache, hidden_activation="tanh"):
            dZ2 = cache["A2"] - Y
            dW2, db2, dA1 = linear_backward(dZ2, cache["A1"], params["W2"])
            dZ1 = dA1 * (1 - cache["A1"] ** 2)        # tanh's derivative whatever hidden_activation says
            dW1, db1, _ = linear_backward(dZ1, X, params["W1"])
            return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        """),
    wrong(A05, "backward", "activation-instead-of-its-derivative", """
        def backward(X, Y, params, cache, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]      # g, not g'
            dZ2 = cache["A2"] - Y
            dW2, db2, dA1 = linear_backward(dZ2, cache["A1"], params["W2"])
            dZ1 = dA1 * g(cache["Z1"])
            dW1, db1, _ = linear_backward(dZ1, X, params["W1"])
            return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        """),
    wrong(A05, "backward", "derivative-at-A1-not-Z1", """
        def backward(X, Y, params, cache, hidden_activation="tanh"):
            g_prime = ACTIVATIONS[hidden_activation][1]
            dZ2 = cache["A2"] - Y
            dW2, db2, dA1 = linear_backward(dZ2, cache["A1"], params["W2"])
            dZ1 = dA1 * g_prime(cache["A1"])          # g'(A1): the derivative of the wrong quantity
            dW1, db1, _ = linear_backward(dZ1, X, params["W1"])
            return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        """),
    wrong(A05, "backward", "dZ2-sign-flipped", """
        def backward(X, Y, params, cache, hidden_activation="tanh"):
            g_prime = ACTIVATIONS[hidden_activation][1]
            dZ2 = Y - cache["A2"]
            dW2, db2, dA1 = linear_backward(dZ2, cache["A1"], params["W2"])
            dZ1 = dA1 * g_prime(cache["Z1"])
            dW1, db1, _ = linear_backward(dZ1, X, params["W1"])
            return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        """),
    wrong(A05, "backward", "missing-1-over-m", """
        def backward(X, Y, params, cache, hidden_activation="tanh"):
            g_prime = ACTIVATIONS[hidden_activation][1]
            dZ2 = cache["A2"] - Y
            dW2, db2 = dZ2 @ cache["A1"].T, np.sum(dZ2, axis=1, keepdims=True)
            dZ1 = (params["W2"].T @ dZ2) * g_prime(cache["Z1"])
            dW1, db1 = dZ1 @ X.T, np.sum(dZ1, axis=1, keepdims=True)
            return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        """),
    wrong(A05, "backward", "in-place-on-callers-cache", """
        def backward(X, Y, params, cache, hidden_activation="tanh"):
            g_prime = ACTIVATIONS[hidden_activation][1]
            dZ2 = cache["A2"]
            dZ2 -= Y                                   # cache["A2"] is now A2 - Y
            dW2, db2, dA1 = linear_backward(dZ2, cache["A1"], params["W2"])
            dZ1 = dA1 * g_prime(cache["Z1"])
            dW1, db1, _ = linear_backward(dZ1, X, params["W1"])
            return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        """),
    # ---- 05: numerical_gradient ---------------------------------------------------------------------
    wrong(A05, "numerical_gradient", "one-sided-difference", """
        def numerical_gradient(f, x, eps=1e-5):
            x = np.array(x, dtype=float)
            grad = np.zeros_like(x)
            f0 = f(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + eps
                grad[i] = (f(x) - f0) / eps
                x[i] = old
            return grad
        """),
    wrong(A05, "numerical_gradient", "callers-x-changed-and-not-restored", """
        def numerical_gradient(f, x, eps=1e-5):
            grad = np.zeros(x.shape)
            for i in np.ndindex(x.shape):
                x[i] += eps                            # the caller's array
                f_plus = f(x)
                x[i] -= 2 * eps
                f_minus = f(x)
                grad[i] = (f_plus - f_minus) / (2 * eps)   # x[i] is left at x[i] - eps
            return grad
        """),
    wrong(A05, "numerical_gradient", "perturbs-callers-x-and-undoes-it-by-arithmetic", """
        def numerical_gradient(f, x, eps=1e-5):
            grad = np.zeros(x.shape)
            for i in np.ndindex(x.shape):
                x[i] += eps                            # the caller's array, put back by arithmetic:
                f_plus = f(x)                          # x + eps - 2 eps + eps is not always x in floating point
                x[i] -= 2 * eps
                f_minus = f(x)
                x[i] += eps
                grad[i] = (f_plus - f_minus) / (2 * eps)
            return grad
        """),
    wrong(A05, "numerical_gradient", "divides-by-eps-not-2-eps", """
        def numerical_gradient(f, x, eps=1e-5):
            x = np.array(x, dtype=float)
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                plus, minus = x.copy(), x.copy()
                plus[i] += eps
                minus[i] -= eps
                grad[i] = (f(plus) - f(minus)) / eps
            return grad
        """),
    wrong(A05, "numerical_gradient", "eps-hard-wired", """
        def numerical_gradient(f, x, eps=1e-5):
            x = np.array(x, dtype=float)
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                plus, minus = x.copy(), x.copy()
                plus[i] += 1e-5                        # ignores the eps argument
                minus[i] -= 1e-5
                grad[i] = (f(plus) - f(minus)) / 2e-5
            return grad
        """),
    wrong(A05, "numerical_gradient", "loops-over-rows-only", """
        def numerical_gradient(f, x, eps=1e-5):
            x = np.array(x, dtype=float)
            grad = np.zeros_like(x)
            for i in range(len(x)):                    # a whole row at a time when x is 2-D
                plus, minus = x.copy(), x.copy()
                plus[i] += eps
                minus[i] -= eps
                grad[i] = (f(plus) - f(minus)) / (2 * eps)
            return grad
        """),
    # ---- 05: gradient_check -------------------------------------------------------------------------
    wrong(A05, "gradient_check", "divides-by-the-numerical-norm-only", """
        def gradient_check(params, X, Y, hidden_activation="tanh"):
            _, cache = forward(X, params, hidden_activation)
            grads = backward(X, Y, params, cache, hidden_activation)
            names = ("W1", "b1", "W2", "b2")
            g = np.concatenate([grads["d" + n].ravel() for n in names])

            def cost_with(name):
                return lambda value: compute_cost(forward(X, dict(params, **{name: value}), hidden_activation)[0], Y)

            g_num = np.concatenate([numerical_gradient(cost_with(n), params[n]).ravel() for n in names])
            return float(np.linalg.norm(g - g_num) / np.linalg.norm(g_num))     # not ||g|| + ||g_num||
        """),
    wrong(A05, "gradient_check", "gradients-in-another-order", """
        def gradient_check(params, X, Y, hidden_activation="tanh"):
            _, cache = forward(X, params, hidden_activation)
            grads = backward(X, Y, params, cache, hidden_activation)
            g = np.concatenate([grads[k].ravel() for k in ("dW1", "dW2", "db1", "db2")])   # not the order below

            def cost_with(name):
                return lambda value: compute_cost(forward(X, dict(params, **{name: value}), hidden_activation)[0], Y)

            g_num = np.concatenate([numerical_gradient(cost_with(n), params[n]).ravel() for n in ("W1", "b1", "W2", "b2")])
            return float(np.linalg.norm(g - g_num) / (np.linalg.norm(g) + np.linalg.norm(g_num)))
        """),
    wrong(A05, "gradient_check", "hidden-activation-not-passed-on", """
        def gradient_check(params, X, Y, hidden_activation="tanh"):
            _, cache = forward(X, params)                  # always tanh, here and below
            grads = backward(X, Y, params, cache)
            names = ("W1", "b1", "W2", "b2")
            g = np.concatenate([grads["d" + n].ravel() for n in names])

            def cost_with(name):
                return lambda value: compute_cost(forward(X, dict(params, **{name: value}))[0], Y)

            g_num = np.concatenate([numerical_gradient(cost_with(n), params[n]).ravel() for n in names])
            return float(np.linalg.norm(g - g_num) / (np.linalg.norm(g) + np.linalg.norm(g_num)))
        """),
    wrong(A05, "gradient_check", "only-dW1-compared", """
        def gradient_check(params, X, Y, hidden_activation="tanh"):
            _, cache = forward(X, params, hidden_activation)
            g = backward(X, Y, params, cache, hidden_activation)["dW1"].ravel()      # dW1 only
            cost = lambda W1: compute_cost(forward(X, dict(params, W1=W1), hidden_activation)[0], Y)
            g_num = numerical_gradient(cost, params["W1"]).ravel()
            return float(np.linalg.norm(g - g_num) / (np.linalg.norm(g) + np.linalg.norm(g_num)))
        """),
    # ---- 05: update_parameters ----------------------------------------------------------------------
    wrong(A05, "update_parameters", "in-place-update-of-callers-params", """
        def update_parameters(params, grads, learning_rate):
            for name in ("W1", "b1", "W2", "b2"):
                params[name] -= learning_rate * grads["d" + name]     # the caller's arrays
            return params
        """),
    wrong(A05, "update_parameters", "shallow-copy-then-in-place", """
        def update_parameters(params, grads, learning_rate):
            new = dict(params)                        # a new dict, but the same arrays
            for name in new:
                new[name] -= learning_rate * grads["d" + name]
            return new
        """),
    wrong(A05, "update_parameters", "plus-instead-of-minus", """
        def update_parameters(params, grads, learning_rate):
            return {k: v + learning_rate * grads["d" + k] for k, v in params.items()}
        """),
    wrong(A05, "update_parameters", "biases-not-updated", """
        def update_parameters(params, grads, learning_rate):
            return {"W1": params["W1"] - learning_rate * grads["dW1"], "b1": params["b1"],
                    "W2": params["W2"] - learning_rate * grads["dW2"], "b2": params["b2"]}
        """),
    # ---- 05: train ----------------------------------------------------------------------------------
    wrong(A05, "train", "cost-recorded-after-the-update", """
        def train(X, Y, n_h, num_iterations, learning_rate, hidden_activation="tanh", seed=None):
            params = initialize_parameters(X.shape[0], n_h, Y.shape[0], seed)
            costs = []
            for _ in range(num_iterations):
                A2, cache = forward(X, params, hidden_activation)
                params = update_parameters(params, backward(X, Y, params, cache, hidden_activation), learning_rate)
                costs.append(compute_cost(forward(X, params, hidden_activation)[0], Y))
            return params, costs
        """),
    wrong(A05, "train", "seed-not-passed-on", """
        def train(X, Y, n_h, num_iterations, learning_rate, hidden_activation="tanh", seed=None):
            params = initialize_parameters(X.shape[0], n_h, Y.shape[0])      # seed forgotten
            costs = []
            for _ in range(num_iterations):
                A2, cache = forward(X, params, hidden_activation)
                costs.append(compute_cost(A2, Y))
                params = update_parameters(params, backward(X, Y, params, cache, hidden_activation), learning_rate)
            return params, costs
        """),
    wrong(A05, "train", "learning-rate-hard-wired", """
        def train(X, Y, n_h, num_iterations, learning_rate, hidden_activation="tanh", seed=None):
            params = initialize_parameters(X.shape[0], n_h, Y.shape[0], seed)
            costs = []
            for _ in range(num_iterations):
                A2, cache = forward(X, params, hidden_activation)
                costs.append(compute_cost(A2, Y))
                params = update_parameters(params, backward(X, Y, params, cache, hidden_activation), 0.01)
            return params, costs
        """),
    wrong(A05, "train", "hidden-activation-not-passed-to-backward", """
        def train(X, Y, n_h, num_iterations, learning_rate, hidden_activation="tanh", seed=None):
            params = initialize_parameters(X.shape[0], n_h, Y.shape[0], seed)
            costs = []
            for _ in range(num_iterations):
                A2, cache = forward(X, params, hidden_activation)
                costs.append(compute_cost(A2, Y))
                params = update_parameters(params, backward(X, Y, params, cache), learning_rate)   # tanh's g'
            return params, costs
        """),
    wrong(A05, "train", "hidden-size-hard-wired", """
        def train(X, Y, n_h, num_iterations, learning_rate, hidden_activation="tanh", seed=None):
            params = initialize_parameters(X.shape[0], 4, Y.shape[0], seed)     # the example's 4 hidden units
            costs = []
            for _ in range(num_iterations):
                A2, cache = forward(X, params, hidden_activation)
                costs.append(compute_cost(A2, Y))
                params = update_parameters(params, backward(X, Y, params, cache, hidden_activation), learning_rate)
            return params, costs
        """),
    # ---- 05: predict --------------------------------------------------------------------------------
    wrong(A05, "predict", "float-labels", """
        def predict(params, X, hidden_activation="tanh"):
            A2, _ = forward(X, params, hidden_activation)
            return np.round(A2)                        # 0.0 / 1.0, not integers
        """),
    wrong(A05, "predict", "loop-over-samples", """
        def predict(params, X, hidden_activation="tanh"):
            m = X.shape[1]
            labels = np.zeros((1, m), dtype=np.int64)
            for i in range(m):
                labels[0, i] = int(forward(X[:, i:i + 1], params, hidden_activation)[0][0, 0] > 0.5)
            return labels
        """),
    wrong(A05, "predict", "threshold-on-Z2-not-A2", """
        def predict(params, X, hidden_activation="tanh"):
            _, cache = forward(X, params, hidden_activation)
            return (cache["Z2"] > 0.5).astype(np.int64)
        """),
    wrong(A05, "predict", "hidden-activation-ignored", """
        def predict(params, X, hidden_activation="tanh"):
            A2, _ = forward(X, params)                 # always tanh
            return (A2 > 0.5).astype(np.int64)
        """),
]

# =====================================================================================================
# RIGHT implementations written differently from the reference
# =====================================================================================================

RIGHT = [
    right(A01, "sigmoid", "naive-form-numpy-scalar", """
        def sigmoid(z):
            return 1 / (1 + np.exp(-z))        # e^1000 overflows to inf (a warning), 1 / inf is exactly 0
        """),
    right(A01, "sigmoid", "via-tanh", """
        def sigmoid(z):
            return 0.5 * (1 + np.tanh(np.asarray(z, dtype=float) / 2))
        """, gap=None),
    right(A01, "loss", "math-log-and-branches", """
        def loss(a, y):
            return -math.log(a) if y == 1 else -math.log(1 - a)
        """),
    right(A01, "loss", "clipped-probability", """
        def loss(a, y):
            a = np.clip(a, 1e-12, 1 - 1e-12)          # guards log(0); far below the tolerances
            return float(-(y * np.log(a) + (1 - y) * np.log(1 - a)))
        """),
    right(A01, "propagate_loop", "features-outer-loop", """
        def propagate_loop(w, b, X, Y):
            n_x, m = X.shape
            a = [sigmoid(sum(w[j, 0] * X[j, i] for j in range(n_x)) + b) for i in range(m)]
            J = sum(loss(a[i], Y[0, i]) for i in range(m)) / m
            dw = np.zeros((n_x, 1))
            for j in range(n_x):               # features outside, samples inside
                for i in range(m):
                    dw[j, 0] += X[j, i] * (a[i] - Y[0, i]) / m
            db = sum(a[i] - Y[0, i] for i in range(m)) / m
            return float(J), dw, float(db)
        """),
    right(A01, "gd_step", "numpy-float-bias", """
        def gd_step(w, b, dw, db, alpha):
            return np.subtract(w, alpha * dw), np.float64(b) - alpha * np.float64(db)
        """),
    right(A01, "train_loop", "vectorised-gradient-inline", """
        def train_loop(X, Y, alpha, num_iterations):
            m = X.shape[1]
            w, b, costs = np.zeros((X.shape[0], 1)), 0.0, []
            for _ in range(num_iterations):
                A = sigmoid(w.T @ X + b)
                costs.append(float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))))
                w = w - alpha * (X @ (A - Y).T) / m
                b = b - alpha * float(np.mean(A - Y))
            return w, b, costs
        """),
    right(A02, "propagate", "np-dot-and-mean", """
        def propagate(w, b, X, Y):
            A = sigmoid(np.dot(w.T, X) + b)
            J = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))      # a numpy float64
            dZ = A - Y
            return J, np.dot(X, dZ.T) / X.shape[1], np.mean(dZ)
        """),
    right(A02, "optimize", "copies-then-in-place-on-its-own", """
        def optimize(w, b, X, Y, num_iterations, alpha):
            w = w.copy()                        # in place, but on its own copy
            costs = []
            for _ in range(num_iterations):
                J, dw, db = propagate(w, b, X, Y)
                costs.append(J)
                w -= alpha * dw
                b -= alpha * db
            return w, float(b), costs
        """),
    right(A02, "predict", "greater-or-equal-at-one-half", """
        def predict(w, b, X):
            return np.where(sigmoid(w.T @ X + b) >= 0.5, 1, 0)       # 1 at exactly 1/2 too
        """),
    right(A03, "sigmoid", "naive-form", """
        def sigmoid(z):
            return 1 / (1 + np.exp(-z))        # overflow warning at -1000, but exactly 0
        """),
    right(A03, "sigmoid", "scipy-expit", """
        from scipy.special import expit

        def sigmoid(z):
            return expit(z)
        """),
    right(A03, "tanh", "two-sigmoid-2z-minus-1", """
        def tanh(z):
            return 2 * sigmoid(2 * np.asarray(z, dtype=float)) - 1
        """),
    right(A03, "relu", "z-times-indicator", """
        def relu(z):
            return z * (z > 0)
        """),
    right(A03, "leaky_relu", "maximum-of-alpha-z-and-z", """
        def leaky_relu(z, alpha=0.01):
            return np.maximum(alpha * z, z)     # alpha < 1
        """),
    right(A03, "sigmoid_prime", "exp-form", """
        def sigmoid_prime(z):
            e = np.exp(-np.abs(z))              # sigma' is even: e^-|z| / (1 + e^-|z|)^2
            return e / (1 + e) ** 2
        """),
    right(A03, "tanh_prime", "one-over-cosh-squared", """
        def tanh_prime(z):
            return 1 / np.cosh(z) ** 2
        """),
    right(A03, "relu_prime", "one-at-zero-convention", """
        def relu_prime(z):
            return np.where(z >= 0, 1.0, 0.0)   # relu'(0) = 1: a defensible convention
        """),
    right(A03, "leaky_relu_prime", "one-at-zero-convention", """
        def leaky_relu_prime(z, alpha=0.01):
            return np.where(z >= 0, 1.0, float(alpha))     # leaky_relu'(0) = 1: a defensible convention
        """),
    right(A03, "count_parameters", "numpy-dot-int", """
        def count_parameters(layer_dims):
            dims = np.array(layer_dims)
            return np.dot(dims[1:], dims[:-1]) + np.sum(dims[1:])       # a numpy int64
        """),
    right(A03, "initialize_parameters", "legacy-np-random-seed", """
        def initialize_parameters(n_x, n_h, n_y, seed=None):
            if seed is not None:
                np.random.seed(seed)
            return {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
                    "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}
        """),
    right(A03, "forward_loop", "loops-over-samples-and-units", """
        def forward_loop(X, params, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]
            W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
            n_h, m = W1.shape[0], X.shape[1]
            A2 = np.zeros((W2.shape[0], m))
            for i in range(m):
                a1 = np.zeros((n_h, 1))
                for j in range(n_h):            # one hidden neuron at a time
                    a1[j, 0] = g(np.dot(W1[j], X[:, i]) + b1[j, 0])
                A2[:, i] = sigmoid(np.dot(W2, a1) + b2)[:, 0]
            return A2
        """),
    right(A03, "forward", "np-dot", """
        def forward(X, params, hidden_activation="tanh"):
            g = ACTIVATIONS[hidden_activation][0]
            cache = {}
            cache["Z1"] = np.dot(params["W1"], X) + params["b1"]
            cache["A1"] = g(cache["Z1"])
            cache["Z2"] = np.dot(params["W2"], cache["A1"]) + params["b2"]
            cache["A2"] = sigmoid(cache["Z2"])
            return cache["A2"], cache
        """),
    right(A03, "compute_cost", "dot-products-and-item", """
        def compute_cost(A2, Y):
            m = Y.shape[1]
            J = -(np.dot(Y, np.log(A2).T) + np.dot(1 - Y, np.log(1 - A2).T)) / m     # (1, 1)
            return J.item()
        """),
    right(A03, "compute_cost", "epsilon-in-the-log", """
        def compute_cost(A2, Y):
            eps = 1e-12                          # guards log(0); far below the tolerances
            return float(-np.mean(Y * np.log(A2 + eps) + (1 - Y) * np.log(1 - A2 + eps)))
        """),
    right(A04, "softmax", "axis-0-without-keepdims", """
        def softmax(Z):
            E = np.exp(Z - Z.max(axis=0))       # (m,) broadcasts over the rows: still one shift per column
            return E / E.sum(axis=0)
        """),
    right(A04, "softmax", "log-sum-exp", """
        def softmax(Z):
            c = np.max(Z, axis=0, keepdims=True)
            log_norm = c + np.log(np.sum(np.exp(Z - c), axis=0, keepdims=True))
            return np.exp(Z - log_norm)
        """),
    right(A04, "softmax", "scipy-softmax", """
        import scipy.special

        def softmax(Z):
            return scipy.special.softmax(Z, axis=0)
        """),
    right(A04, "one_hot", "loop-over-samples", """
        def one_hot(y, num_classes):
            Y = np.zeros((num_classes, len(y)))
            for i, label in enumerate(y):       # one_hot need not be vectorised
                Y[label, i] = 1
            return Y
        """),
    right(A04, "one_hot", "columns-of-the-identity", """
        def one_hot(y, num_classes):
            return np.eye(num_classes)[:, y]
        """),
    right(A04, "cross_entropy", "log-of-the-selected-probabilities", """
        def cross_entropy(A, Y):
            picked = np.sum(A * Y, axis=0)      # the probability of each sample's true class
            return float(-np.mean(np.log(picked)))
        """),
    right(A04, "cross_entropy", "epsilon-in-the-log", """
        def cross_entropy(A, Y):
            return -np.sum(Y * np.log(A + 1e-12)) / Y.shape[1]       # a numpy float64
        """),
    right(A04, "softmax_propagate", "np-dot-and-mean", """
        def softmax_propagate(W, b, X, Y):
            A = softmax(np.dot(W, X) + b)
            dZ = A - Y
            return cross_entropy(A, Y), np.dot(dZ, X.T) / X.shape[1], dZ.mean(axis=1, keepdims=True)
        """),
    right(A04, "predict_classes", "argmax-of-softmax", """
        def predict_classes(W, b, X):
            return softmax(W @ X + b).argmax(axis=0)
        """),
    right(A05, "graph_grads", "numpy-floats", """
        def graph_grads(a, b, c):
            a, b, c = np.float64(a), np.float64(b), np.float64(c)
            return 2 * (a * b + c), 2 * b, 2 * a, np.float64(2)
        """),
    right(A05, "sigmoid_backward", "sigma-z-times-sigma-minus-z", """
        def sigmoid_backward(dA, Z):
            return dA * sigmoid(Z) * sigmoid(-Z)     # 1 - sigma(z) = sigma(-z)
        """),
    right(A05, "linear_backward", "np-dot-and-mean", """
        def linear_backward(dZ, A_prev, W):
            return np.dot(dZ, A_prev.T) / A_prev.shape[1], dZ.mean(axis=1, keepdims=True), np.dot(W.T, dZ)
        """),
    right(A05, "linear_backward", "einsum", """
        def linear_backward(dZ, A_prev, W):
            m = A_prev.shape[1]
            return (np.einsum("im,jm->ij", dZ, A_prev) / m, np.einsum("im->i", dZ)[:, None] / m,
                    np.einsum("ij,im->jm", W, dZ))
        """),
    right(A05, "backward", "derivatives-from-the-activations", """
        def backward(X, Y, params, cache, hidden_activation="tanh"):
            m = X.shape[1]
            A1, Z1 = cache["A1"], cache["Z1"]
            slope = {"tanh": lambda: 1 - A1 ** 2, "sigmoid": lambda: A1 * (1 - A1),
                     "relu": lambda: (Z1 > 0).astype(float), "leaky_relu": lambda: np.where(Z1 > 0, 1.0, 0.01)}
            dZ2 = cache["A2"] - Y
            dZ1 = np.dot(params["W2"].T, dZ2) * slope[hidden_activation]()
            return {"dW1": np.dot(dZ1, X.T) / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
                    "dW2": np.dot(dZ2, A1.T) / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}
        """),
    right(A05, "backward", "recomputes-the-forward-pass", """
        def backward(X, Y, params, cache, hidden_activation="tanh"):
            _, mine = forward(X, params, hidden_activation)     # its own cache instead of the one passed in
            g_prime = ACTIVATIONS[hidden_activation][1]
            dZ2 = mine["A2"] - Y
            dW2, db2, dA1 = linear_backward(dZ2, mine["A1"], params["W2"])
            dW1, db1, _ = linear_backward(dA1 * g_prime(mine["Z1"]), X, params["W1"])
            return dict(dW1=dW1, db1=db1, dW2=dW2, db2=db2)
        """),
    right(A05, "numerical_gradient", "flat-index-with-copies", """
        def numerical_gradient(f, x, eps=1e-5):
            flat = np.asarray(x, dtype=float).ravel()
            grad = np.empty(flat.size)
            for k in range(flat.size):
                step = np.zeros(flat.size)
                step[k] = eps
                grad[k] = (f((flat + step).reshape(np.shape(x))) - f((flat - step).reshape(np.shape(x)))) / (2 * eps)
            return grad.reshape(np.shape(x))
        """),
    right(A05, "gradient_check", "vector-of-all-parameters", """
        def gradient_check(params, X, Y, hidden_activation="tanh"):
            names = ("W1", "b1", "W2", "b2")
            shapes = [params[n].shape for n in names]
            theta = np.concatenate([params[n].ravel() for n in names])

            def unpack(vector):
                out, start = {}, 0
                for n, s in zip(names, shapes):
                    size = int(np.prod(s))
                    out[n] = vector[start:start + size].reshape(s)
                    start += size
                return out

            J = lambda vector: compute_cost(forward(X, unpack(vector), hidden_activation)[0], Y)
            grads = backward(X, Y, params, forward(X, params, hidden_activation)[1], hidden_activation)
            g = np.concatenate([grads["d" + n].ravel() for n in names])
            g_num = numerical_gradient(J, theta)
            total = np.linalg.norm(g) + np.linalg.norm(g_num)
            return np.linalg.norm(g - g_num) / total if total else 0.0     # a numpy float64
        """),
    right(A05, "update_parameters", "deepcopy-then-in-place", """
        import copy

        def update_parameters(params, grads, learning_rate):
            new = copy.deepcopy(params)          # in place, but on its own arrays
            for key in grads:
                new[key[1:]] -= learning_rate * grads[key]
            return new
        """),
    right(A05, "train", "numpy-float-costs", """
        def train(X, Y, n_h, num_iterations, learning_rate, hidden_activation="tanh", seed=None):
            params, costs = initialize_parameters(X.shape[0], n_h, Y.shape[0], seed=seed), []
            while len(costs) < num_iterations:
                A2, cache = forward(X, params, hidden_activation)
                costs.append(np.float64(compute_cost(A2, Y)))
                grads = backward(X, Y, params, cache, hidden_activation)
                params = {k: params[k] - learning_rate * grads["d" + k] for k in params}
            return params, costs
        """),
    right(A05, "predict", "greater-or-equal-at-one-half", """
        def predict(params, X, hidden_activation="tanh"):
            return (forward(X, params, hidden_activation)[0] >= 0.5).astype(int)
        """),
    right(A05, "backward", "relu-slope-one-at-zero", """
        def backward(X, Y, params, cache, hidden_activation="tanh"):
            slopes = {"relu": lambda Z: (Z >= 0).astype(float)}      # relu'(0) = 1: a defensible convention
            g_prime = slopes.get(hidden_activation, ACTIVATIONS[hidden_activation][1])
            dZ2 = cache["A2"] - Y
            dW2, db2, dA1 = linear_backward(dZ2, cache["A1"], params["W2"])
            dW1, db1, _ = linear_backward(dA1 * g_prime(cache["Z1"]), X, params["W1"])
            return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        """),
]

ENTRIES = WRONG + RIGHT


# =====================================================================================================
# grading a catalogue entry through the real path
# =====================================================================================================

def graded_functions(assignment):
    """The graded functions of an assignment: code answer cells whose grade_id names the function they define."""
    functions = []
    for cell in source_notebook(assignment).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and meta.get("grade_id") in _defined(cell.source):
            functions.append(meta["grade_id"])
    return functions


_NOTEBOOKS = {}


def source_notebook(assignment):
    key = ("source", assignment)
    if key not in _NOTEBOOKS:
        _NOTEBOOKS[key] = nbformat.read(os.path.join(REPO, "source", assignment, f"{assignment}.ipynb"), as_version=4)
    return _NOTEBOOKS[key]


def release_notebook(assignment):
    """The student release; the source itself if release/ is missing or out of step with it (merge_with_source
    takes the test cells from the source anyway, and solved() fills in the answers)."""
    key = ("release", assignment)
    if key not in _NOTEBOOKS:
        path = os.path.join(REPO, "release", assignment, f"{assignment}.ipynb")
        ids = lambda nb: [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells]
        nb = nbformat.read(path, as_version=4) if os.path.exists(path) else None
        _NOTEBOOKS[key] = nb if nb is not None and ids(nb) == ids(source_notebook(assignment)) else \
            source_notebook(assignment)
    return _NOTEBOOKS[key]


def _parsable(source):
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _defined(source):
    """Names a cell binds at the top level (assignments, def, class, import, for targets); over-approximated."""
    try:
        tree = ast.parse(_parsable(source))
    except SyntaxError:
        return None
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def top_level_names(source):
    """Names a cell binds in the notebook's namespace (its module scope: def, class, import, assignment)."""
    table = symtable.symtable(_parsable(source), "<cell>", "exec")
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}


def _used(source):
    """Global names a cell reads, at the top level or inside its functions (symtable: parameters and locals
    of a function are not counted)."""
    try:
        table = symtable.symtable(_parsable(source), "<cell>", "exec")
    except SyntaxError:
        return None
    names, stack = set(), [table]
    while stack:
        scope = stack.pop()
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and (scope.get_type() == "module" or symbol.is_global()):
                names.add(symbol.get_name())
        stack.extend(scope.get_children())
    return names


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def dropped_cells(assignment, extra_code=()):
    """grade_ids of the demo cells a reduced notebook leaves out: every "demo_" code cell except those that
    define a name that a kept cell, or one of extra_code, reads without defining it itself (transitively)."""
    cells = source_notebook(assignment).cells
    demo = {_grade_id(c): c for c in cells if c.cell_type == "code" and (_grade_id(c) or "").startswith("demo_")}
    keep = {gid for gid, c in demo.items() if _defined(c.source) is None}  # unreadable: keep, to be safe
    while True:
        sources = [c.source for c in cells if c.cell_type == "code" and
                   (_grade_id(c) not in demo or _grade_id(c) in keep)] + list(extra_code)
        needed = set().union(*[(_used(s) or set()) - (_defined(s) or set()) for s in sources])
        more = {gid for gid, c in demo.items() if gid not in keep and _defined(c.source) & needed}
        if not more:
            return set(demo) - keep
        keep |= more


def reduced(nb, dropped):
    nb = nbformat.from_dict(nb)
    nb = nbformat.from_dict(dict(nb, cells=[c for c in nb.cells if _grade_id(c) not in dropped]))
    return nb


def grading_inputs(assignment, reduce=True):
    """(solved submission, source) of an assignment, both reduced unless reduce is False."""
    from autograder.sample_class import solved
    key = ("inputs", assignment, reduce)
    if key not in _NOTEBOOKS:
        submission = solved(release_notebook(assignment), source_notebook(assignment))
        source = source_notebook(assignment)
        if reduce:
            dropped = dropped_cells(assignment, [e.code for e in ENTRIES if e.assignment == assignment])
            submission, source = reduced(submission, dropped), reduced(source, dropped)
        _NOTEBOOKS[key] = (submission, source)
    return _NOTEBOOKS[key]


def grade_code(assignment, function=None, code=None, reduce=True):
    """Grade the solved submission of an assignment with the answer cell of function replaced by code
    (function None: the solved submission itself). Returns plain data:
    {"score", "max_score", "problems", "cells": [{"grade_id", "score", "points", "results": [CheckResult dicts]}]}
    or {"error": traceback} if grading itself raised."""
    from autograder.grading import grade_notebook
    from autograder.sample_class import with_function
    try:
        submission, source = grading_inputs(assignment, reduce)
        if function is not None:
            submission = with_function(submission, function, code)
        result = grade_notebook(submission, source, sandbox=True, root=REPO, assignment=assignment)
        return {"score": result.score, "max_score": result.max_score, "problems": list(result.problems),
                "cells": [{"grade_id": c.grade_id, "score": c.score, "points": c.points,
                           "results": [r.as_dict() for r in c.results]} for c in result.cells]}
    except Exception:
        return {"error": traceback.format_exc()}


def _job(args):
    key, assignment, function, code, reduce = args
    return key, grade_code(assignment, function, code, reduce)


def grade_all(jobs, workers=None, progress=None):
    """jobs: {key: (assignment, function, code)} (function None: the solved submission). Grades them in a
    pool of worker processes (workers; default os.cpu_count() + 1), each of which keeps its warm-kernel
    zygote from job to job as autograde's workers do (each notebook still gets a kernel and a sandbox of
    its own), and returns {key: grade_code's result}."""
    jobs = dict(jobs)
    for assignment in sorted({a for a, _, _ in jobs.values()}):
        grading_inputs(assignment)  # read and reduce once, before the workers fork
    import autograder.grading  # noqa: F401  (imported once, inherited by the workers)
    context = multiprocessing.get_context("fork")
    results = {}
    # the later assignments' hidden tests take longest: start them first, so that the workers finish together
    order = sorted(jobs.items(), key=lambda item: item[1][0], reverse=True)
    with context.Pool(processes=workers or (os.cpu_count() or 2) + 1) as pool:
        for key, result in pool.imap_unordered(_job, [(k, a, f, c, True) for k, (a, f, c) in order]):
            results[key] = result
            if progress:
                progress(key, result, len(results), len(jobs))
    return results


def entry_job(entry):
    return entry.assignment, entry.function, entry.code


# =====================================================================================================
# verdicts, shared by the tests and the benchmark
# =====================================================================================================

def cells_of(function, graded):
    return [c for c in graded.get("cells", []) if c["grade_id"] in (f"test_{function}", f"hidden_{function}")]


def wrong_verdict(entry, graded):
    """What is not as it should be for a wrong entry (empty: it loses points in its own cells, and every
    failed check there names the function and says what is off)."""
    if "error" in graded:
        return [f"grading raised:\n{graded['error']}"]
    problems = [f"notebook problem: {p}" for p in graded["problems"]]
    mine = cells_of(entry.function, graded)
    if not mine:
        return problems + [f"no test cell test_{entry.function} / hidden_{entry.function}"]
    lost = sum(c["points"] - c["score"] for c in mine)
    if lost <= 0:
        return problems + [f"keeps full marks in {', '.join(c['grade_id'] for c in mine)}"]
    for cell in mine:
        for r in cell["results"]:
            if r["passed"]:
                continue
            if entry.function not in r["function"]:
                problems.append(f"{cell['grade_id']}: a failed check names {r['function']!r}, not {entry.function!r} "
                                f"({r['title']}: {r['message']})")
            if not r["message"].strip():
                problems.append(f"{cell['grade_id']}: the failed check {r['title']!r} says nothing about what is off")
    return problems


def caught(entry, graded):
    """Did the wrong entry lose points in the cells of its function?"""
    return "error" not in graded and sum(c["points"] - c["score"] for c in cells_of(entry.function, graded)) > 0


def right_verdict(entry, graded):
    """What is not as it should be for a right entry (empty: full marks in every cell)."""
    if "error" in graded:
        return [f"grading raised:\n{graded['error']}"]
    problems = [f"notebook problem: {p}" for p in graded["problems"]]
    for cell in graded["cells"]:
        if cell["score"] < cell["points"]:
            failed = "; ".join(f"[{r['function']}] {r['title']}: {r['message']}" for r in cell["results"]
                               if not r["passed"])
            problems.append(f"{cell['grade_id']} scores {cell['score']:g} of {cell['points']:g}: {failed}")
    return problems


def spared(entry, graded):
    return not right_verdict(entry, graded)
