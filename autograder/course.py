"""A course tree and the one way the course drives nbgrader.

A course is a folder with course_config.py (and nbgrader_config.py loading
it), source/NN_name/NN_name.ipynb per assignment, and solutions/: for each
assignment its reference module solutions/<name>.py and its checks module
solutions/<name>_checks.py (how its functions are checked at grading).
Assignments are discovered from source/; an assignment's module name is its
folder's name without the number (02_logistic_vectorized -> logistic_vectorized).
"""
import copy
import glob
import importlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from functools import cached_property

from .results import GraderFault

CONFIG_FILE = "course_config.py"


def module_of(assignment):
    """An assignment's module name: 02_logistic_vectorized(.ipynb) -> logistic_vectorized."""
    return re.sub(r"^\d+_", "", os.path.splitext(os.path.basename(assignment))[0])


def find_root(start):
    """The course folder at or above start (a file or folder), or None."""
    path = os.path.abspath(start)
    if os.path.isfile(path):
        path = os.path.dirname(path)
    while True:
        if os.path.isfile(os.path.join(path, CONFIG_FILE)):
            return path
        if path == os.path.dirname(path):
            return None
        path = os.path.dirname(path)


def _tools_on_path():
    """nbgrader runs its own `alembic` command to create a gradebook: find it
    beside the running Python, whatever PATH the instructor's shell has."""
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


@dataclass(frozen=True)
class Limits:
    """Time and memory a student's notebook gets (course_config.py, c.GradeInSandbox)."""
    timeout: float = 300  # seconds per notebook, tests included
    cell_timeout: float = 60  # seconds per cell of the student's
    call_timeout: float = 10  # seconds per call of a student's function by a test
    memory_mb: int = 2048  # address-space limit of a student's kernel


class Course:
    def __init__(self, root, config=None):
        """config: an nbgrader configuration to use instead of the folder's own files (a
        grading worker's throwaway course, whose configuration comes with each task)."""
        self.root = os.path.abspath(root)
        if config is not None:
            config = copy.deepcopy(config)
            config.CourseDirectory.root = self.root
            self.__dict__["config"] = config  # what the cached property below would hold
        elif not os.path.isfile(os.path.join(self.root, CONFIG_FILE)):
            raise GraderFault(f"{self.root} is not a course folder: it has no {CONFIG_FILE}")

    @classmethod
    def here(cls):
        """The course of this command: NN_COURSE_ROOT, else the folder at or
        above the current one with course_config.py, else this repository."""
        if os.environ.get("NN_COURSE_ROOT"):
            return cls(os.environ["NN_COURSE_ROOT"])
        return cls(find_root(os.getcwd()) or os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    # ---- configuration and nbgrader ---------------------------------------------------------

    @cached_property
    def config(self):
        """The course's nbgrader configuration, as nbgrader loads it from nbgrader_config.py."""
        from nbgrader.apps.nbgraderapp import NbGraderApp
        app = NbGraderApp()
        app.config_file_paths.insert(0, self.root)
        cwd = os.getcwd()
        os.chdir(self.root)  # the configuration names files relative to the course
        try:
            app.load_config_file()
        finally:
            os.chdir(cwd)
        app.config.CourseDirectory.root = self.root
        return app.config

    def api(self, log_level="WARN"):
        """nbgrader's Python API with the course's configuration: what every command uses."""
        from nbgrader.apps import NbGraderAPI
        _tools_on_path()
        self.use_reference()
        api = NbGraderAPI(config=self.config)
        api.log.setLevel(log_level)
        return api

    @property
    def db_url(self):
        return self.config.CourseDirectory.db_url

    @property
    def limits(self):
        settings = self.config.GradeInSandbox
        return Limits(**{field: settings[field] for field in Limits.__dataclass_fields__ if field in settings})

    @property
    def warm_kernels(self):
        """Whether kernels come from a zygote (c.GradeInSandbox.warm_kernels, on unless turned off)."""
        return bool(self.config.GradeInSandbox.get("warm_kernels", True))

    def warm_kernels_at_a_glance(self):
        """What the course folder's own configuration files say of warm kernels, read by traitlets
        alone (0.08 s, where loading nbgrader's configuration imports nbgrader: 1.5 s). A hint, to
        start the zygote early; the full configuration (warm_kernels) decides."""
        if "config" in self.__dict__:
            return self.warm_kernels
        from traitlets.config.loader import PyFileConfigLoader
        cwd = os.getcwd()
        try:
            os.chdir(self.root)  # as in config: the files name others relative to the course
            config = PyFileConfigLoader("nbgrader_config.py", path=self.root).load_config()
            return bool(config.GradeInSandbox.get("warm_kernels", True))
        except Exception:  # the full configuration says what is wrong with it
            return False
        finally:
            os.chdir(cwd)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    # ---- assignments ----------------------------------------------------------------------

    def assignments(self):
        """The assignments: the folders of source/ (NN_name), in order."""
        return sorted(os.path.basename(p) for p in glob.glob(self.path("source", "[0-9]*_*")) if os.path.isdir(p))

    def source_notebooks(self, assignment):
        return sorted(glob.glob(self.path("source", assignment, "*.ipynb")))

    def use_reference(self):
        """Make this course's solutions/ the package `solutions` of this process."""
        use_reference_of(self.root)


def use_reference_of(root):
    """Put root first on sys.path, and forget a `solutions` package imported
    from anywhere else (another course, the current folder)."""
    root = os.path.abspath(root)
    if not sys.path or sys.path[0] != root:
        sys.path.insert(0, root)
    loaded = sys.modules.get("solutions")
    folder = os.path.dirname(os.path.abspath(getattr(loaded, "__file__", None) or "")) if loaded else None
    if loaded is not None and folder != os.path.join(root, "solutions"):
        for name in [n for n in sys.modules if n == "solutions" or n.startswith("solutions.")]:
            del sys.modules[name]
        importlib.invalidate_caches()


def _reference_root(root):
    """The course whose solutions/ to use (see load), made this process's `solutions`."""
    root = root or find_root(os.getcwd())
    if root and os.path.isdir(os.path.join(root, "solutions")):
        use_reference_of(root)
    return root


def has_module(module, root=None):
    """Whether solutions.<module> exists for the course at root (see load)."""
    _reference_root(root)
    try:
        return importlib.util.find_spec(f"solutions.{module}") is not None
    except ImportError:
        return False


def load(module, root=None):
    """solutions.<module> (a reference or a checks module) of the course at
    root (without root: the course at or above the current folder); where
    that course has no solutions/ folder, the `solutions` package this
    Python can import (a grading worker's, installed beside the course
    package). A reference that cannot be imported is the grader's fault."""
    root = _reference_root(root)
    try:
        return importlib.import_module(f"solutions.{module}")
    except Exception as exc:
        where = f"the course at {root}" if root else "this environment"
        raise GraderFault(f"the grader could not import solutions.{module} from {where}: "
                          f"{type(exc).__name__}: {exc}") from exc
