"""Grading one notebook: the one path that the command line, nbgrader and a
learning-management system all go through (grade_notebook).

The student's cells run in a sandboxed kernel. Test cells do not: each runs in
this process, from the source notebook's text, with the student's functions
standing in as RemoteFunctions. So a test's result depends only on what the
student's functions return when called, never on what the student's code can
do to the kernel, its outputs or the test cell itself.
"""
import builtins
import contextlib
import copy
import json
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field

import nbformat
import numpy as np
from nbclient import NotebookClient
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import DeadKernelError

from . import checks
from .course import Limits, find_root, module_of
from .results import CheckResult, GraderFault, error_hint
from .remote import KernelSession, RemoteFunction, StudentError, wait_until_ready

SOLUTION_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?### END SOLUTION[^\n]*$", re.S | re.M)
OUTPUT_LIMIT = 200_000  # characters of output kept per cell


@dataclass
class CellResult:
    """The grade of one test cell."""
    grade_id: str
    points: float
    results: list
    note: str = ""

    def __post_init__(self):
        self.points = float(self.points)
        self.results = list(self.results)

    @property
    def score(self):
        return round(self.points * checks.score(self.results), 2) if self.results else 0.0

    def as_dict(self):
        return {"grade_id": self.grade_id, "points": self.points, "score": self.score, "note": self.note,
                "results": [r.as_dict() for r in self.results]}


@dataclass
class NotebookResult:
    name: str
    cells: list
    notebook: object = None  # the graded notebook: test cells show their checks and score
    problems: list = field(default_factory=list)  # notebook-wide: unreadable file, time limit, kernel died

    @property
    def score(self):
        return round(sum(c.score for c in self.cells), 4)

    @property
    def max_score(self):
        return sum(c.points for c in self.cells)

    def as_dict(self):
        return {"name": self.name, "score": self.score, "max_score": self.max_score, "problems": self.problems,
                "cells": [c.as_dict() for c in self.cells]}


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


def run_test_cell(source, session, label, root=None, module=None, failing=None):
    """Run a test cell's code in this process; returns its CheckResults.
    root and module: the course and assignment whose checks apply; failing:
    the notebook's functions whose checks failed so far (shared by its test
    cells). A GraderFault goes up: the grader's fault is never a failed check."""
    namespace = _Namespace(session)
    with checks.collecting(root, module, failing) as results:
        try:
            # one namespace as globals: lambdas and comprehensions in the cell see np, math and the student's names
            exec(compile(source, f"<{label}>", "exec"), namespace)
        except GraderFault:
            raise
        except StudentError as exc:
            results.append(CheckResult(exc.name, "runs", False, str(exc), error_hint(exc.error)))
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
    """nbclient with a cap on how much output one cell may keep, a note of the
    cells it had to interrupt at their time limit, and no wait for iopub's
    silence once the kernel is ready (remote.wait_until_ready)."""

    timed_out = False

    async def async_start_new_kernel_client(self):
        self.kc = self.km.client()
        await ensure_async(self.kc.start_channels())
        try:
            await wait_until_ready(self.kc, self.startup_timeout)
        except Exception:
            await self._async_cleanup_kernel()
            raise
        self.kc.allow_stdin = False
        return self.kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

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


def _kernel_manager(workdir, kernel_dir, sandbox, memory_mb, warm):
    if sandbox:
        from .sandbox import SandboxedKernelManager
        return SandboxedKernelManager(workdir=workdir, memory_mb=memory_mb, extra_rw=(kernel_dir,), warm=warm)
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
    except (json.JSONDecodeError, UnicodeDecodeError, nbformat.reader.NotJSONError):
        return None, ("the notebook is not valid JSON (cut off, or edited outside JupyterLab); "
                      "open it in JupyterLab, save it again and resubmit")
    except Exception as exc:
        return None, f"the notebook could not be read ({type(exc).__name__}: {exc})"


def read_source(source, root=None, assignment=None):
    """(source notebook, course root, assignment module) of a source given as
    a path (root and assignment found from it) or a NotebookNode (root and
    assignment given). Anything missing is the grader's fault."""
    if isinstance(source, nbformat.NotebookNode):
        if not (root and assignment):
            raise GraderFault("a source notebook given as a NotebookNode needs its course root and assignment")
        return source, root, module_of(assignment)
    root = root or find_root(source)
    if root is None:
        raise GraderFault(f"the source notebook {source} is not in a course folder (none above it has "
                          "course_config.py): the grader cannot find the reference solutions")
    try:
        nb = nbformat.read(source, as_version=4)
    except Exception as exc:
        raise GraderFault(f"the source notebook {source} could not be read: {type(exc).__name__}: {exc}") from exc
    return nb, root, module_of(assignment or os.path.basename(os.path.dirname(os.path.abspath(source))))


def grade_notebook(submitted, source, *, workdir=None, name=None, limits=Limits(), sandbox=True, root=None,
                   assignment=None, warm=True):
    """Grade one submitted notebook against its source notebook.

    submitted: a path or a NotebookNode; source: the same (the instructor's
    notebook with solutions and hidden tests, source/NN_name/NN_name.ipynb of
    a course: the hidden tests compare with that course's solutions/).
    workdir: the folder the student's code runs in (a temporary one if None).
    warm: the kernel comes from this process's zygote (autograder.zygote: the imports paid once per
    process); False: a fresh Python per notebook. Either way in the sandbox, if sandbox.
    Returns a NotebookResult with one CellResult per test cell of the source
    and the executed notebook, whose test cells show the checks and their
    score. Raises GraderFault for a fault of the grader, the reference or the
    sandbox: nothing of such a run may count as the student's grade."""
    source, root, module = read_source(source, root, assignment)
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
    deadline = time.monotonic() + limits.timeout
    cell_limit = limits.cell_timeout  # after a cell ran out of time, later cells get a call's limit
    failing = set()  # functions whose checks failed so far: a caller's failure names them first
    client = _Client(nb, km=_kernel_manager(workdir, kernel_dir, sandbox, limits.memory_mb, warm), timeout=cell_limit,
                     allow_errors=True, interrupt_on_timeout=True, startup_timeout=120,
                     shutdown_kernel="immediate",  # its state is of no use after: no polite shutdown to wait for
                     error_on_timeout={"ename": "CellTimeoutError", "evalue": "",
                                       "traceback": ["the cell did not finish within the time limit"]},
                     extra_arguments=["--HistoryManager.hist_file=:memory:"],
                     resources={"metadata": {"path": workdir}})
    client._output_used = {}
    session = None
    kernel = contextlib.ExitStack()
    try:
        try:
            kernel.enter_context(client.setup_kernel(cleanup_kc=True))  # shuts the kernel down after: we own it
            session = KernelSession(client.km, kernel_dir, limits.call_timeout)
            session.deadline = deadline
            session.run_code("import autograder.harness", timeout=60)  # before any student code
        except Exception as exc:
            raise GraderFault(f"the kernel could not be started (sandbox: {'on' if sandbox else 'off'}"
                              f"{', warm' if sandbox and warm else ''}): "
                              f"{type(exc).__name__}: {exc}") from exc
        index = 0
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if is_test_cell(cell):
                    grade_id = _nbgrader(cell)["grade_id"]
                    if session.dead_reason or time.monotonic() > deadline:
                        reason = session.dead_reason or f"the notebook used up its time limit of {limits.timeout:g} s"
                        found = [CheckResult("notebook", "runs", False, f"not run: {reason}")]
                    else:
                        found = run_test_cell(cell.source, session, f"test cell {grade_id}", root, module, failing)
                    results[grade_id] = CellResult(grade_id, _nbgrader(cell).get("points", 0), found)
                    cell.outputs = report_outputs(results[grade_id])
                    continue
                if session.dead_reason:
                    continue
                if time.monotonic() > deadline:
                    session.mark_dead(f"the notebook used up its time limit of {limits.timeout:g} s")
                    problems.append(session.dead_reason)
                    continue
                session.finish_calls()  # the harness's loop of the test cells' calls gives the kernel back
                if session.dead_reason:
                    problems.append(session.dead_reason)
                    continue
                client.timeout = max(1, int(min(cell_limit, deadline - time.monotonic())))
                client.timed_out = False
                try:
                    client.execute_cell(cell, index)
                except DeadKernelError:
                    session.mark_dead(f"the kernel died while running cell {index + 1} "
                                      "(os._exit, a crash, or out of memory)")
                    problems.append(session.dead_reason)
                    continue
                if client.timed_out:
                    cell_limit = min(cell_limit, limits.call_timeout)
                    problems.append(f"cell {index + 1} did not finish within the time limit of {client.timeout} s "
                                    f"and was interrupted; later cells had {cell_limit:g} s each")
                    cell.outputs.append(nbformat.v4.new_output("error", ename="CellTimeoutError", evalue="",
                                                               traceback=[problems[-1]]))
                    try:
                        session.run_code("pass", timeout=5)
                    except Exception:
                        session.mark_dead(f"cell {index + 1} ran past the time limit and the kernel did not stop")
                        problems.append(session.dead_reason)
        except GraderFault:
            raise
        except Exception as exc:  # not something the student's code is known to have done: not theirs to pay for
            raise GraderFault(f"grading stopped at cell {index + 1}: {type(exc).__name__}: {exc}") from exc
    finally:
        if session:
            session.close()
        try:
            kernel.close()
        except Exception:  # the grades are made; a kernel that will not shut down is the sandbox's to clean up
            pass
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
