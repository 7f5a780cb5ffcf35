"""The walk-through of docs/authoring.md ("Adding an assignment, file by file"),
done as it is written: its code blocks become a sixth assignment in a copy of
the course, which is released, its reference tested, and a right and a wrong
submission graded by the real command line. No file of the other
assignments, nor of autograder/, is touched."""
import hashlib
import os
import re
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.api import Gradebook

from autograder.sample_class import solved, with_function
from conftest import REPO, course_env, make_course, needs_sandbox

NAME = "06_feature_scaling"
DOC = os.path.join(REPO, "docs", "authoring.md")
BLOCK = re.compile(r"^```python (?P<info>[^\n]+)\n(?P<code>.*?)^```\n", re.S | re.M)



def blocks():
    """[(info dict, code)] of the walk-through's annotated code blocks."""
    text = open(DOC, encoding="utf-8").read()
    walk = text[text.index("## Adding an assignment, file by file"):]
    return [(dict(item.split("=", 1) for item in m.group("info").split()), m.group("code")) for m in BLOCK.finditer(walk)]


def notebook_from(cells):
    """The source notebook the walk-through describes, cell by cell, with nbgrader's metadata for each role."""
    roles = {"setup": dict(grade=False, solution=False, locked=True),
             "answer": dict(grade=False, solution=True, locked=False),
             "test": dict(grade=True, solution=False, locked=True),
             "hidden": dict(grade=True, solution=False, locked=True)}
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    for info, code in cells:
        if info["cell"] == "markdown":
            nb.cells.append(new_markdown_cell(code.strip()))
            continue
        meta = dict(roles[info["cell"]], grade_id=info["grade_id"], schema_version=3, task=False)
        if "points" in info:
            meta["points"] = int(info["points"])
        nb.cells.append(new_code_cell(code.rstrip("\n"), metadata={"nbgrader": meta}))
    return nb


def digest(root, folders):
    found = {}
    for folder in folders:
        for base, _, files in os.walk(os.path.join(root, folder)):
            for name in files:
                if "__pycache__" not in base:
                    path = os.path.join(base, name)
                    found[os.path.relpath(path, root)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return found


def run(root, *args):
    proc = subprocess.run([sys.executable, *args], cwd=root, env=course_env(root), capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_the_walk_through_names_four_files_and_a_wrong_answer():
    found = blocks()
    files = [info["file"] for info, _ in found if "file" in info]
    assert files == ["solutions/feature_scaling.py", "solutions/feature_scaling_checks.py",
                     "tests/test_solutions_feature_scaling.py"]
    assert any(info.get("cell") == "hidden" for info, _ in found)
    assert [info["wrong"] for info, _ in found if "wrong" in info] == ["standardize"]


@needs_sandbox
def test_a_new_assignment_from_the_walk_through_is_released_and_graded(tmp_path):
    root = make_course(tmp_path / "course")
    untouched = digest(root, ["source", "solutions"])
    found = blocks()
    for info, code in found:
        if "file" in info:
            path = os.path.join(root, info["file"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").write(code)
    os.makedirs(os.path.join(root, "source", NAME))
    source = notebook_from([(info, code) for info, code in found if "cell" in info])
    nbformat.write(source, os.path.join(root, "source", NAME, f"{NAME}.ipynb"))

    run(root, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_solutions_feature_scaling.py")
    run(root, "-m", "autograder", "release", NAME)
    release = nbformat.read(os.path.join(root, "release", NAME, f"{NAME}.ipynb"), as_version=4)
    hidden = next(c.source for c in release.cells if "Hidden tests of standardize" in c.source)
    assert "features on very different scales" in hidden and "hidden_tests(" not in hidden

    right = solved(release, source)
    wrong_code = next(code for info, code in found if info.get("wrong") == "standardize")
    for student, nb in (("right", right), ("wrong", with_function(right, "standardize", wrong_code))):
        folder = os.path.join(root, "submitted", student, NAME)
        os.makedirs(folder)
        nbformat.write(nb, os.path.join(folder, f"{NAME}.ipynb"))
    run(root, "-m", "autograder", "autograde", NAME)

    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        grades = {s: {g.name: (g.score, g.max_score) for g in gb.find_submission_notebook(NAME, NAME, s).grades
                      if g.cell_type == "code"} for s in ("right", "wrong")}
    assert grades["right"] == {"test_standardize": (1, 1), "hidden_standardize": (2, 2)}
    assert grades["wrong"]["test_standardize"][0] < 1 and grades["wrong"]["hidden_standardize"][0] < 2
    stored = nbformat.read(os.path.join(root, "autograded", "wrong", NAME, f"{NAME}.ipynb"), as_version=4)
    failed = [r for c in stored.metadata["nn_course"]["cells"] for r in c["results"] if not r["passed"]]
    assert any("each row scaled by its own standard deviation" == r["title"] for r in failed), failed
    assert all(r["function"] == "standardize" and r["message"] for r in failed)
    after = digest(root, ["source", "solutions"])
    assert {path: after.get(path) for path in untouched} == untouched  # the other assignments' files as they were
