"""nbgrader's side of the course: the preprocessor that replaces nbgrader's
Execute in autograde, and the one that sets the submission's nbgrader
metadata right before nbgrader's own sanitize steps read it (see
course_config.py).

nbgrader sanitizes the submission and saves the grades; in between, this
preprocessor grades the notebook through autograder.grading (the same path
as `python -m autograder grade`), and leaves in every test cell the outputs
from which nbgrader's determine_grade reads the partial credit.
"""
import copy
import functools
import json
import math
import os
import re

import jsonschema
import nbformat
from nbgrader import api as nbgrader_api
from nbgrader.coursedir import CourseDirectory
from nbgrader.nbgraderformat import common as nbgrader_format
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer

from .course import Limits, module_of
from .grading import grade_notebook, is_test_cell, match_source_cells, read_source, report_outputs
from .results import GraderFault


faults = []  # (student, assignment, notebook, reason): the grader's own faults met in this process


class _SchemaCheckedOnce:
    """nbgrader's metadata validator calls jsonschema.validate for every cell, and that checks the
    schema itself against jsonschema's meta-schema, and builds a validator, every time: 80 ms for a
    notebook of 44 cells, and CheckCellMetadata runs twice in each autograde. The same validation,
    with each schema checked and compiled once per process (this module is loaded wherever the
    course's nbgrader configuration is)."""

    def __init__(self):
        self.validators = {}

    def validate(self, instance, schema):
        key = json.dumps(schema, sort_keys=True)
        if key not in self.validators:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            self.validators[key] = cls(schema)
        error = jsonschema.exceptions.best_match(self.validators[key].iter_errors(instance))
        if error is not None:
            raise error


nbgrader_format.jsonschema = _SchemaCheckedOnce()


def _engine_per_process(create_engine):
    """nbgrader's Gradebook makes a new SQLAlchemy engine at every opening, ten per notebook
    autograded, and SQLAlchemy compiles each query again for each engine (its cache of compiled
    queries is the engine's). One engine per database and process keeps that cache: 0.1 s per
    notebook. Gradebook.close still disposes of the engine's connections, as before; a forked
    process makes its own engine (no connection crosses a fork)."""
    engines = {}

    @functools.wraps(create_engine)
    def shared(url, **kwargs):
        key = (os.getpid(), str(url), json.dumps(kwargs, sort_keys=True, default=repr))
        if key not in engines:
            engines[key] = create_engine(url, **kwargs)
        return engines[key]
    return shared


nbgrader_api.create_engine = _engine_per_process(nbgrader_api.create_engine)


def _source_path(config, info):
    coursedir = CourseDirectory(config=config)
    return os.path.join(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]),
                        info["notebook"] + ".ipynb")


def _read_source(config, info):
    path = _source_path(config, info)
    if not os.path.isfile(path):
        raise GraderFault(f"the source notebook {path} is missing")
    return read_source(path, CourseDirectory(config=config).root, info["assignment"])[0]


def _noting_faults(preprocess):
    """A GraderFault stops nbgrader's autograde of the submission (nothing is
    saved), and is noted in `faults` for the course's pipeline."""
    @functools.wraps(preprocess)
    def noted(self, nb, resources):
        try:
            return preprocess(self, nb, resources)
        except GraderFault as fault:
            info = resources["nbgrader"]
            faults.append((info["student"], info["assignment"], info["notebook"], str(fault)))
            self.log.error("%s/%s/%s was not graded: a fault of the grader, not of the student: %s",
                           info["student"], info["assignment"], info["notebook"], fault)
            raise
    return noted


class SourceMetadata(NbGraderPreprocessor):
    """The nbgrader metadata of a submission's cells, as the source has them:
    a cell keeps the metadata of the source cell with its grade_id (once; the
    first such cell), any other cell loses its nbgrader metadata. A student
    who turned an answer into a test cell, duplicated a test cell or invented
    a grade_id would otherwise make nbgrader's OverwriteCells fail the whole
    submission (grading.match_source_cells, as merge_with_source uses it)."""

    @_noting_faults
    def preprocess(self, nb, resources):
        source = _read_source(self.config, resources["nbgrader"])
        for cell, original in match_source_cells(nb.cells, source, same_type=True):
            if original is None:
                cell.get("metadata", {}).pop("nbgrader", None)
            else:
                cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
        return nb, resources


class GradeInSandbox(NbGraderPreprocessor):
    """Grades the notebook through autograder.grading instead of nbgrader's Execute."""
    timeout = Float(Limits.timeout, help="Seconds a whole notebook may run, tests included").tag(config=True)
    cell_timeout = Float(Limits.cell_timeout, help="Seconds one cell of the student's may run").tag(config=True)
    call_timeout = Float(Limits.call_timeout, help="Seconds one call of a student's function by a test may take"
                         ).tag(config=True)
    memory_mb = Integer(Limits.memory_mb, help="Memory limit of a student's kernel (address space), in MiB"
                        ).tag(config=True)
    sandbox = Bool(True, help="Run students' kernels in the bubblewrap sandbox (never turn off for real submissions)"
                   ).tag(config=True)
    warm_kernels = Bool(True, help="Fork each student's kernel from the grading process's zygote, whose imports "
                        "are paid once (autograder/zygote.py); False: a fresh Python per notebook").tag(config=True)

    @_noting_faults
    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        limits = Limits(self.timeout, self.cell_timeout, self.call_timeout, self.memory_mb)
        # the kernel works in a fresh folder of its own, never in autograded/: what it leaves there
        # (links, FIFOs, extra notebooks) must not reach nbgrader, the feedback or the report
        result = grade_notebook(nb, _read_source(self.config, info), workdir=None, name=info["notebook"],
                                limits=limits, sandbox=self.sandbox, warm=self.warm_kernels, root=CourseDirectory(config=self.config).root,
                                assignment=info["assignment"])
        for problem in result.problems:
            self.log.warning("%s/%s/%s: %s", info["student"], info["assignment"], info["notebook"], problem)
        graded = result.notebook if result.notebook is not None else nb
        # keep nbgrader's checksums (they tell an untouched answer cell from an answered one)
        checksums = {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader.get("checksum")
                     for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}
        by_id = {c.grade_id: c for c in result.cells}
        for cell in graded.cells:
            meta = cell.metadata.get("nbgrader", {})
            if checksums.get(meta.get("grade_id")):
                meta["checksum"] = checksums[meta["grade_id"]]
            if is_test_cell(cell) and meta.get("grade_id") in by_id:
                cell.outputs = report_outputs(by_id[meta["grade_id"]])
        graded.metadata["nn_course"] = result.as_dict()  # per-check results, for feedback and reports
        return graded, resources


class DescribeHiddenTests(NbGraderPreprocessor):
    """In the student release, the first line of each hidden test cell says
    what its hidden tests check (from the assignment's checks module), so a
    student reads it under the visible test: "# Hidden tests of sigmoid, run
    at grading: ...". Runs in generate_assignment after ClearHiddenTests."""

    def preprocess(self, nb, resources):
        from .course import has_module
        from .hidden import specs
        root, module = CourseDirectory(config=self.config).root, module_of(resources["nbgrader"]["assignment"])
        if not has_module(f"{module}_checks", root):  # a course whose hidden tests need no checks module
            return nb, resources
        found = specs(module, root)
        for cell in nb.cells:
            first = re.match(r"# Hidden tests of (\w+)[^\n]*", cell.source) if is_test_cell(cell) else None
            if first and first.group(1) in found:
                checked = "".join(f"\n# - {item}" for item in found[first.group(1)].checked)
                cell.source = f"# Hidden tests of {first.group(1)}, run at grading. They check:{checked}" + \
                    cell.source[first.end():]
        return nb, resources


class LatePenalty(LateSubmissionPlugin):
    """The course's late penalty (c.AssignLatePenalties.plugin_class): a share of
    the notebook's score per day, or part of a day, past the assignment's due
    date in the gradebook (with the student's extension, if any), at most the
    whole score. nbgrader's AssignLatePenalties calls it for a late submission
    only, with the lateness from the submission's timestamp.txt."""
    percent_per_day = Float(10, help="Percent of the score taken per day (or part of a day) late").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        days = math.ceil(total_seconds_late / 86400)
        return round(min(score, score * self.percent_per_day / 100 * days), 2)
