"""The course's nbgrader configuration (nbgrader_config.py loads this file).

Every plain `nbgrader` command run from the repository root, and the course's
own command line (python -m autograder), read their settings here.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads the file)
ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "nn-from-scratch"
c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = os.environ.get("NN_COURSE_DB_URL", "sqlite:///" + os.path.join(ROOT, "gradebook.db"))
c.CourseDirectory.assignment_id = ""
# the grader's own bookkeeping in autograded/ (see autograder/pipeline.py) is not copied into feedback
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            ".nn-course-graded.json", ".nn-course-failed.txt"]

# The release: nbgrader's steps, and the course's description of each hidden test cell
# (what it checks, from solutions/<assignment>_checks.py) once its code is cleared.
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.nbgrader_plugin.DescribeHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading: test cells run in the grader's process against the student's
# functions in a sandboxed kernel (autograder.grading), instead of nbgrader's
# Execute running everything inside the student's kernel.
c.Autograde.sanitize_preprocessors = [
    "autograder.nbgrader_plugin.SourceMetadata",  # first: nbgrader's steps fail on metadata a student broke
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_plugin.GradeInSandbox",
    "nbgrader.preprocessors.IgnorePattern",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True
# nbconvert checks the whole notebook against nbformat's schema after each preprocessor, six times per pass
# of autograde: once per pass, after the last (each output a kernel sends is checked as it is made)
c.NotebookExporter.optimistic_validation = True
# Late work (autograder.nbgrader_plugin.LatePenalty): 10% of a notebook's score per day or part of a day
# past the assignment's due date (`python -m autograder release A --due ...`), from the submission's timestamp.
c.AssignLatePenalties.plugin_class = "autograder.nbgrader_plugin.LatePenalty"
c.LatePenalty.percent_per_day = 10
c.GradeInSandbox.timeout = 300        # seconds per notebook, tests included
c.GradeInSandbox.cell_timeout = 60    # seconds per cell of the student's
c.GradeInSandbox.call_timeout = 10    # seconds per call of a student's function by a test
c.GradeInSandbox.memory_mb = 2048     # address-space limit of a student's kernel
# Each kernel is forked from its grading process's zygote, which paid ipykernel's, numpy's, matplotlib's
# and the data sets' imports once (autograder/zygote.py); False: a fresh Python in each sandbox.
c.GradeInSandbox.warm_kernels = True

# Feedback shows what each check found, never the hidden tests' code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    # nbgrader's feedback template renders markdown cells (the written answers) without the
    # HTMLExporter's clean_html: escape students' HTML here, outputs included
    "nbconvert.preprocessors.sanitize.SanitizeHTML",
    "autograder.feedback.AddSummary",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.SanitizeHTML.enabled = True  # nbconvert preprocessors are off unless enabled
# the pages' mathematics as MathML, drawn by the browser itself: no MathJax from the internet
c.GenerateFeedback.post_convert_hook = "autograder.feedback.render_math_offline"

# Student HTML and scripts in outputs and written answers stay inert in the feedback.
c.HTMLExporter.sanitize_html = True

# The exchange students fetch from and submit to (nbgrader's file-system exchange; on a hub, a folder
# every user sees: README, "On a JupyterHub"). `python -m autograder serve` collects from its inbound/.
c.Exchange.root = os.environ.get("NN_COURSE_EXCHANGE", "/usr/local/share/nbgrader/exchange")
# A submission whose folder in inbound/ is not owned by the student its name claims is never collected
# (turn off only where all students share one Unix user, e.g. DockerSpawner: then nothing tells them apart).
c.ExchangeCollect.check_owner = True
