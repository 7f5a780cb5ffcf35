"""Every source notebook runs top to bottom with every test cell passing, as
an instructor's Run All (or `nbgrader validate` of the source) would: in a
plain kernel started in the notebook's folder, the visible and hidden tests
checking the notebook's own solutions against the course's reference."""
import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ASSIGNMENTS, REPO


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_source_notebook_runs_top_to_bottom(assignment):
    path = os.path.join(REPO, "source", assignment, f"{assignment}.ipynb")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": os.path.dirname(path)}}).execute()
    errors = [(c.metadata.get("nbgrader", {}).get("grade_id"), o.get("ename"), o.get("evalue", "")[:500])
              for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
             and c.cell_type == "code"]
    assert tests
    answers = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    for cell in tests:  # every check() of every test cell says it passed (a cell may hold several)
        printed = "".join(o.get("text", "") for o in cell.outputs)
        calls = len(re.findall(r"^check\(", cell.source, flags=re.M))
        assert calls and printed.count("passed. This is not the grade") == calls, (cell.source[:300], printed[-2000:])
        # a message names the student's function, never a wrapper a given cell defines (check's name=)
        named = set(re.findall(r"checks? of (\w+) passed", printed))
        assert named <= answers, (named - answers, cell.source[:300])
