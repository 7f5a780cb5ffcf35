"""Grading one notebook: the one path that the command line, nbgrader and a
learning-management system all go through (grade_notebook).

The student's cells run in a sandboxed kernel. Test cells do not: each runs in
this process, from the source notebook's text, with the student's functions
standing in as RemoteFunctions. So a test's result depends only on what the
student's functions return when called, never on what the student's code can
do to the kernel, its outputs or the test cell itself.
"""
import builtins
import copy
import json
import math
import os
import re
import shutil
import tempfile
import time

import nbformat
import numpy as np
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from . import checks
from .checks import CheckResult
from .remote import KernelSession, RemoteFunction, StudentError

SOLUTION_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?### END SOLUTION[^\n]*$", re.S | re.M)
OUTPUT_LIMIT = 200_000  # characters of output kept per cell


class CellResult:
    """The grade of one test cell."""

    def __init__(self, grade_id, points, results, note=""):
        self.grade_id = grade_id
        self.points = float(points)
        self.results = list(results)
        self.note = note
        self.score = round(self.points * checks.score(self.results), 2) if self.results else 0.0

    def as_dict(self):
        return {"grade_id": self.grade_id, "points": self.points, "score": self.score, "note": self.note,
                "results": [r.as_dict() for r in self.results]}


class NotebookResult:
    def __init__(self, name, cells, notebook=None, problems=()):
        self.name = name
        self.cells = list(cells)
        self.notebook = notebook
        self.problems = list(problems)  # notebook-wide: unreadable file, time limit, kernel died

    @property
    def score(self):
        return round(sum(c.score for c in self.cells), 4)

    @property
    def max_score(self):
        return sum(c.points for c in self.cells)

    def as_dict(self):
        return {"name": self.name, "score": self.score, "max_score": self.max_score, "problems": self.problems,
                "cells": [c.as_dict() for c in self.cells]}


def module_of(notebook_name):
    """solutions module of an assignment: 02_logistic_vectorized -> logistic_vectorized."""
    return re.sub(r"^\d+_", "", os.path.splitext(os.path.basename(notebook_name))[0])


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell):
    meta = _nbgrader(cell)
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def stub(cell):
    """An answer cell of the source as the student received it."""
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.source = SOLUTION_REGION.sub(lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()",
                                          cell.source)
    else:
        cell.source = "YOUR ANSWER HERE"
    return cell


def match_source_cells(cells, source, same_type=False):
    """(cell, the source cell it stands for, or None) for each of cells: the
    source cell with the cell's grade_id, for the first such cell only (with
    same_type, only for a cell of the source cell's type); None for unknown
    or duplicated ids and for cells without one."""
    by_id = {_nbgrader(c)["grade_id"]: c for c in source.cells if _nbgrader(c).get("grade_id")}
    used = set()
    for cell in cells:
        grade_id = _nbgrader(cell).get("grade_id")
        original = by_id.get(grade_id)
        if original is None or grade_id in used or (same_type and original.cell_type != cell.get("cell_type")):
            yield cell, None
            continue
        used.add(grade_id)
        yield cell, original


def merge_with_source(submitted, source):
    """The notebook to run: the source's read-only and test cells, the
    student's answer cells (matched by grade_id), and the student's own extra
    cells stripped of any nbgrader metadata. Test cells that were deleted,
    edited or re-pointed come back as the source has them."""
    cells, used = [], set()
    for cell, original in match_source_cells(submitted.cells, source):
        if original is None:
            cell = copy.deepcopy(cell)
            cell.get("metadata", {}).pop("nbgrader", None)
            cells.append(cell)
            continue
        used.add(_nbgrader(original)["grade_id"])
        if _nbgrader(original).get("solution"):
            answer = copy.deepcopy(original)
            answer.source = cell.get("source", "")
            cells.append(answer)
        else:
            cells.append(copy.deepcopy(original))
    # put back what is missing, after the source cell that precedes it
    order = [_nbgrader(c).get("grade_id") for c in source.cells]
    for position, grade_id in enumerate(order):
        if grade_id is None or grade_id in used:
            continue
        missing = source.cells[position]
        cell = stub(missing) if _nbgrader(missing).get("solution") else copy.deepcopy(missing)
        before = next((order[p] for p in range(position - 1, -1, -1) if order[p] in used), None)
        index = 0 if before is None else 1 + next(i for i, c in enumerate(cells) if _nbgrader(c).get("grade_id") == before)
        cells.insert(index, cell)
        used.add(grade_id)
    merged = copy.deepcopy(source)
    merged.cells = cells
    for cell in merged.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return merged


class _Namespace(dict):
    """Names a test cell sees in the grader: the checking vocabulary and
    numpy, and for anything else the student's kernel (a function becomes a
    RemoteFunction, a value arrives as plain data)."""

    def __init__(self, session):
        super().__init__({name: getattr(checks, name) for name in checks.__all__}, np=np, math=math,
                         __builtins__=builtins)
        self.session = session

    def __missing__(self, name):
        if hasattr(builtins, name) or self.session is None:
            raise KeyError(name)
        found = self.session.describe(name)
        if not found.get("defined"):
            raise KeyError(name)
        if found.get("callable"):
            value = RemoteFunction(self.session, name)
        else:
            outcome = self.session.get(name)
            if outcome.error:
                raise StudentError(name, outcome.error)
            value = outcome.value
        self[name] = value
        return value


def run_test_cell(source, session, label):
    """Run a test cell's code in this process; returns its CheckResults."""
    namespace = _Namespace(session)
    with checks.collecting() as results:
        try:
            # one namespace as globals: lambdas and comprehensions in the cell see np, math and the student's names
            exec(compile(source, f"<{label}>", "exec"), namespace)
        except StudentError as exc:
            results.append(CheckResult(exc.name, "runs", False, str(exc), checks._ERROR_HINTS.get(exc.error.get("type"), "")))
        except NameError as exc:
            results.append(CheckResult("notebook", "defines what the test needs", False,
                                       f"{exc}: the function or variable is not defined in your notebook",
                                       "run every cell above, and keep the names of the assignment"))
        except Exception as exc:
            results.append(CheckResult("notebook", "test cell", False, f"the test could not run: {type(exc).__name__}: {exc}"))
    if not results:  # a test cell that made no checks still has to count: its code ran without error
        results.append(CheckResult("notebook", "test cell ran", True))
    return list(results)


def report_outputs(cell_result):
    """The outputs a graded test cell shows: one line per check on stdout, and
    the score as the cell's value (nbgrader's determine_grade reads it as
    partial credit). Never stderr, which nbgrader would read as an error."""
    lines = [r.line() for r in cell_result.results]
    if cell_result.note:
        lines.append(cell_result.note)
    lines.append(f"Score: {cell_result.score:g} of {cell_result.points:g}")
    return [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
            nbformat.v4.new_output("execute_result", data={"text/plain": repr(cell_result.score)}, execution_count=None)]


class _Client(NotebookClient):
    """nbclient with a cap on how much output one cell may keep, and a note of
    the cells it had to interrupt at their time limit."""

    timed_out = False

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out = True  # nbclient itself leaves no trace of it in the cell
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):
        used = self._output_used.get(cell_index, 0)
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        self._output_used[cell_index] = used + size
        if used + size > OUTPUT_LIMIT:
            if used <= OUTPUT_LIMIT:
                outs.append(nbformat.v4.new_output("stream", name="stdout",
                                                   text=f"\n[the grader kept the first {OUTPUT_LIMIT} characters of output]\n"))
                self._output_used[cell_index] = OUTPUT_LIMIT + 1
            return None
        return super().output(outs, msg, display_id, cell_index)


def _kernel_manager(workdir, kernel_dir, sandbox, memory_mb):
    if sandbox:
        from .sandbox import SandboxedKernelManager
        return SandboxedKernelManager(workdir=workdir, memory_mb=memory_mb, extra_rw=(kernel_dir,))
    from jupyter_client.manager import AsyncKernelManager
    return AsyncKernelManager()


def read_notebook(path):
    """The submitted notebook, or the reason it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            nb = nbformat.read(f, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
        return nb, None
    except FileNotFoundError:
        return None, "the notebook was not submitted"
    except (json.JSONDecodeError, UnicodeDecodeError, nbformat.reader.NotJSONError) as exc:
        return None, f"the notebook is not valid JSON ({exc}); open it in JupyterLab, save it again and resubmit"
    except Exception as exc:
        return None, f"the notebook could not be read ({type(exc).__name__}: {exc})"


def grade_notebook(submitted, source, *, workdir=None, name=None, timeout=300, cell_timeout=60,
                   call_timeout=30, memory_mb=2048, sandbox=True):
    """Grade one submitted notebook against its source notebook.

    submitted: a path or a NotebookNode; source: the same (the instructor's
    notebook with solutions and hidden tests). workdir: the folder the
    student's code runs in (a temporary copy of nothing if None). Returns a
    NotebookResult with one CellResult per test cell of the source and the
    executed notebook, whose test cells show the checks and their score."""
    if not isinstance(source, nbformat.NotebookNode):
        source = nbformat.read(source, as_version=4)
    name = name or (os.path.basename(submitted) if isinstance(submitted, str) else "notebook.ipynb")
    problems = []
    if isinstance(submitted, str):
        submitted, problem = read_notebook(submitted)
        if problem:
            problems.append(problem)
    tests = [c for c in source.cells if is_test_cell(c)]
    if submitted is None:
        cells = [CellResult(_nbgrader(c)["grade_id"], _nbgrader(c).get("points", 0),
                            [CheckResult("notebook", "readable", False, problems[0])]) for c in tests]
        return NotebookResult(name, cells, None, problems)

    nb = merge_with_source(submitted, source)
    own_workdir = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="nn-grade-")
    os.makedirs(workdir, exist_ok=True)
    kernel_dir = tempfile.mkdtemp(prefix="nn-kernel-")
    results = {}
    deadline = time.monotonic() + timeout
    client = _Client(nb, km=_kernel_manager(workdir, kernel_dir, sandbox, memory_mb), timeout=cell_timeout,
                     allow_errors=True, interrupt_on_timeout=True, startup_timeout=120,
                     error_on_timeout={"ename": "CellTimeoutError", "evalue": "",
                                       "traceback": ["the cell did not finish within the time limit"]},
                     extra_arguments=["--HistoryManager.hist_file=:memory:"],
                     resources={"metadata": {"path": workdir}})
    client._output_used = {}
    session = None
    try:
        with client.setup_kernel(cleanup_kc=True):  # shut the kernel down after: we own it
            session = KernelSession(client.km, kernel_dir, call_timeout)
            session.deadline = deadline
            session.run_code("import autograder.harness", timeout=60)  # before any student code
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if is_test_cell(cell):
                    grade_id = _nbgrader(cell)["grade_id"]
                    if session.dead_reason or time.monotonic() > deadline:
                        reason = session.dead_reason or f"the notebook used up its time limit of {timeout:g} s"
                        found = [CheckResult("notebook", "runs", False, f"not run: {reason}")]
                    else:
                        found = run_test_cell(cell.source, session, f"test cell {grade_id}")
                    results[grade_id] = CellResult(grade_id, _nbgrader(cell).get("points", 0), found)
                    cell.outputs = report_outputs(results[grade_id])
                    continue
                if session.dead_reason:
                    continue
                if time.monotonic() > deadline:
                    session.mark_dead(f"the notebook used up its time limit of {timeout:g} s")
                    problems.append(session.dead_reason)
                    continue
                client.timeout = max(1, int(min(cell_timeout, deadline - time.monotonic())))
                client.timed_out = False
                try:
                    client.execute_cell(cell, index)
                except DeadKernelError:
                    session.mark_dead(f"the kernel died while running cell {index + 1} "
                                      "(os._exit, a crash, or out of memory)")
                    problems.append(session.dead_reason)
                    continue
                if client.timed_out:
                    problems.append(f"cell {index + 1} did not finish within the time limit of {client.timeout} s "
                                    "and was interrupted")
                    cell.outputs.append(nbformat.v4.new_output("error", ename="CellTimeoutError", evalue="",
                                                               traceback=[problems[-1]]))
                    try:
                        session.run_code("pass", timeout=5)
                    except Exception:
                        session.mark_dead(f"cell {index + 1} ran past the time limit and the kernel did not stop")
                        problems.append(session.dead_reason)
    except Exception as exc:  # the kernel would not start, or the sandbox failed: say so, grade nothing
        problems.append(f"the notebook could not be run: {type(exc).__name__}: {exc}")
    finally:
        if session:
            session.close()
        shutil.rmtree(kernel_dir, ignore_errors=True)
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    cells = []
    for cell in tests:
        grade_id = _nbgrader(cell)["grade_id"]
        cells.append(results.get(grade_id) or CellResult(
            grade_id, _nbgrader(cell).get("points", 0),
            [CheckResult("notebook", "runs", False, "not run: " + (problems[-1] if problems else "unknown reason"))]))
    return NotebookResult(name, cells, nb, problems)
