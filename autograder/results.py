"""What a check found, shared by the vocabulary students use (checks) and the
grader (hidden, grading): the result of one check, the score of a cell, and
the fault that is the grader's own, never the student's.
"""
from dataclasses import asdict, dataclass


@dataclass
class CheckResult:
    function: str  # the student's function the check is about ("notebook" for the notebook itself)
    title: str
    passed: bool
    message: str = ""  # what is off
    hint: str = ""  # the usual cause
    weight: float = 1.0
    hidden: bool = False

    def __post_init__(self):
        self.passed = bool(self.passed)
        self.weight = float(self.weight)

    def line(self):
        mark = "PASS" if self.passed else "FAIL"
        text = f"[{mark}] {self.function}: {self.title}"
        if not self.passed:
            text += f"\n       what is off: {self.message}"
            if self.hint:
                text += f"\n       usual cause: {self.hint}"
        return text

    def as_dict(self):
        return asdict(self)


class GraderFault(Exception):
    """A fault of the grader, the reference or the sandbox, not of the
    student's code: the submission is reported as not graded, never scored."""


def score(results):
    """Fraction of the weight that passed (1.0 for no results)."""
    total = sum(r.weight for r in results)
    return 1.0 if total == 0 else sum(r.weight for r in results if r.passed) / total


ERROR_HINTS = {
    "NotImplementedError": "the function is still the stub: write your solution where it says YOUR CODE HERE",
    "NameError": "a name is used before it is defined: run the cells above, or check the spelling",
    "ValueError": "often a shape mismatch in a product: print the shapes of both factors",
    "IndexError": "an index runs past the end: check which axis holds the samples (columns) and which the features (rows)",
    "TimeoutError": "the call did not finish in time: an endless loop, or far more work than needed",
    "KernelDied": "the kernel stopped (os._exit, a crash, or out of memory): run the notebook top to bottom yourself",
}
# numpy 2 refuses float() of an array with more than zero dimensions, a 1 x 1 array too
_ONE_ELEMENT = ("only 0-dimensional arrays can be converted", "only length-1 arrays can be converted",
                "only size-1 arrays can be converted")


def error_hint(error):
    """The usual cause of an exception the student's function raised."""
    message = str(error.get("message") or "")
    if error.get("type") == "TypeError" and any(text in message for text in _ONE_ELEMENT):
        return ("float() takes a number, not an array: of a 1 x 1 array take its one number with .item() "
                "(numpy 2 refuses float() of an array with dimensions)")
    return ERROR_HINTS.get(error.get("type"), "")


def error_message(name, error):
    """One line: what the student's function raised, and where in their code."""
    message = str(error.get("message") or "").strip()
    text = f"{name} raised {error.get('type')}" + (f": {message}" if message else "")
    where = error.get("where") or []
    if where:
        last = where[-1]
        text += f" (in {last['function']}, line {last['line']}"
        text += f": {last['text'].strip()})" if last.get("text") else ")"
    return text


def error_result(name, title, error, hidden=False):
    return CheckResult(name, title, False, error_message(name, error), error_hint(error), hidden=hidden)
