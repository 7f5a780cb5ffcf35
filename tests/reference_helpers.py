"""Helpers of the reference package's tests (tests/test_solutions_*.py), written
independently of the code under test: central differences, the relative error
of two gradients, and a source notebook's answer cells executed."""
import math
import re

import nbformat
import numpy as np

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\n", re.M)


def central_differences(f, x, eps=1e-6):
    """Gradient of the scalar f at the array x, one entry at a time."""
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (f(plus) - f(minus)) / (2 * eps)
    return grad


def relative_error(a, b):
    """||a - b|| / (||a|| + ||b||) over every entry; 0 when both are zero."""
    a, b = np.ravel(np.asarray(a, dtype=float)), np.ravel(np.asarray(b, dtype=float))
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def answer_namespace(path, also=lambda grade_id: False):
    """The namespace after running, in notebook order, the answer cells of the
    source notebook at path (solution markers removed) and the code cells whose
    grade_id also() selects; np and math are given."""
    namespace = {"np": np, "math": math}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (meta.get("solution") or also(meta.get("grade_id", ""))):
            exec(compile(SOLUTION_MARKERS.sub("", cell.source), f"<{path}:{meta['grade_id']}>", "exec"), namespace)
    return namespace
