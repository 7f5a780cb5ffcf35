"""The bundled sample class, made by code from the source notebooks (nothing
hand-edited): the README's main command grades it, the end-to-end test checks
its grades.

Every submission starts from the student release (as a student receives it);
a solved answer cell gets the source's solution with nbgrader's markers
removed. The students:

  ada        every assignment solved
  ben        every assignment untouched (the release as handed out)
  one student per assignment with one realistic mistake (MISTAKES), the rest solved
  dora       01 with broken JSON (the file was cut off)
  ed         02 with an endless loop in propagate
  fay        03 whose kernel dies half way through
"""
import copy
import os
import re
import shutil
import textwrap

import nbformat

MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION.*\n?", re.M)

# (student, assignment, function, wrong implementation): each a mistake students make
MISTAKES = [
    ("carl", "01_logistic_loop", "propagate_loop", """\
        def propagate_loop(w, b, X, Y):
            n_x, m = X.shape
            J, dw, db = 0.0, np.zeros((n_x, 1)), 0.0
            for i in range(m):
                a = sigmoid(float(np.dot(w[:, 0], X[:, i])) + b)
                y = Y[0, i]
                J += -(y * math.log(a) + (1 - y) * math.log(1 - a))
                dz = a - y
                for j in range(n_x):
                    dw[j, 0] += X[j, i] * dz
                db += dz
            return J / m, dw, db / m      # forgot to divide dw by m
        """),
    ("gina", "02_logistic_vectorized", "propagate", """\
        def propagate(w, b, X, Y):
            m = X.shape[1]
            A = 1 / (1 + np.exp(-(w.T @ X + b)))
            J = float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / (2 * m))   # the slide's 1/(2m)
            dw = X @ (A - Y).T / m
            db = float(np.sum(A - Y) / m)
            return J, dw, db
        """),
    ("hal", "03_two_layer_forward", "tanh_prime", """\
        def tanh_prime(z):
            g = np.tanh(z)
            return 1 - (1 - g) ** 2      # the slide's formula
        """),
    ("iris", "04_softmax", "softmax", """\
        def softmax(Z):
            E = np.exp(Z)                # no max subtracted: overflows for large entries
            return E / np.sum(E, axis=0, keepdims=True)
        """),
    ("jon", "05_backprop", "linear_backward", """\
        def linear_backward(dZ, A_prev, W):
            dW = dZ @ A_prev.T           # forgot the 1/m of the batch
            db = np.sum(dZ, axis=1, keepdims=True)
            dA_prev = W.T @ dZ
            return dW, db, dA_prev
        """),
]
ENDLESS = ("ed", "02_logistic_vectorized", "propagate", """\
        def propagate(w, b, X, Y):
            m = X.shape[1]
            A = 1 / (1 + np.exp(-(w.T @ X + b)))
            J, i = 0.0, 0
            while i < m:                 # forgot i += 1: never ends
                J += -(Y[0, i] * np.log(A[0, i]) + (1 - Y[0, i]) * np.log(1 - A[0, i]))
            dw = X @ (A - Y).T / m
            db = float(np.sum(A - Y) / m)
            return float(J / m), dw, db
        """)
KERNEL_DIES = "\n\nimport os\nos._exit(1)   # the kernel dies here\n"


def _answer_cells(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def solved(release_nb, source_nb):
    """The release notebook with every answer cell filled in from the source's solution."""
    nb = copy.deepcopy(release_nb)
    answers = _answer_cells(source_nb)
    for grade_id, cell in _answer_cells(nb).items():
        if grade_id in answers:
            cell.source = MARKERS.sub("", answers[grade_id].source)
    return nb


def with_function(nb, function, code):
    """nb with the answer cell of function replaced by code."""
    nb = copy.deepcopy(nb)
    cell = _answer_cells(nb)[function]
    cell.source = textwrap.dedent(code)
    return nb


def _append_to_answer(nb, index, text):
    nb = copy.deepcopy(nb)
    cell = list(_answer_cells(nb).values())[index]
    cell.source += text
    return nb


def sample_submissions(root):
    """{(student, assignment): notebook text} of the whole class."""
    release_dir, source_dir = os.path.join(root, "release"), os.path.join(root, "source")
    names = sorted(n for n in os.listdir(source_dir) if re.match(r"\d\d_", n))
    release = {n: nbformat.read(os.path.join(release_dir, n, f"{n}.ipynb"), as_version=4) for n in names}
    source = {n: nbformat.read(os.path.join(source_dir, n, f"{n}.ipynb"), as_version=4) for n in names}
    right = {n: solved(release[n], source[n]) for n in names}
    text = lambda nb: nbformat.writes(nb)
    out = {}
    for n in names:
        out[("ada", n)] = text(right[n])
        out[("ben", n)] = text(release[n])
    for student, assignment, function, code in MISTAKES:
        if assignment in right:
            out[(student, assignment)] = text(with_function(right[assignment], function, code))
    if "01_logistic_loop" in right:
        whole = text(right["01_logistic_loop"])
        out[("dora", "01_logistic_loop")] = whole[: len(whole) // 2]
    student, assignment, function, code = ENDLESS
    if assignment in right:
        out[(student, assignment)] = text(with_function(right[assignment], function, code))
    if "03_two_layer_forward" in right:
        nb = right["03_two_layer_forward"]
        out[("fay", "03_two_layer_forward")] = text(_append_to_answer(nb, len(_answer_cells(nb)) // 2, KERNEL_DIES))
    return out


def make_sample_class(root):
    """Write the sample class into submitted/ (replacing earlier sample submissions)."""
    submissions = sample_submissions(root)
    for (student, assignment), content in sorted(submissions.items()):
        folder = os.path.join(root, "submitted", student, assignment)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        with open(os.path.join(folder, f"{assignment}.ipynb"), "w", encoding="utf-8") as f:
            f.write(content)
        with open(os.path.join(folder, "timestamp.txt"), "w") as f:
            f.write("2026-11-20 12:00:00.000000 UTC\n")
    students = sorted({s for s, _ in submissions})
    print(f"sample class: {len(submissions)} submissions of {len(students)} students -> submitted/")
    return submissions
