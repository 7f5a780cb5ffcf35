"""The summary a student reads first at the top of a feedback file.

Runs in nbgrader's generate_feedback after GetGrades (see course_config.py),
so its points are the gradebook's, manual grades and late penalties included.
The lines under each function come from the per-check results the grader
stored in the autograded notebook. Student-controlled text (exception
messages, lines of their code) is HTML-escaped.
"""
import functools
import os
import re
from collections import defaultdict

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor


def _function_of(cell_result):
    """The graded function a test cell is about: the function most of its checks name."""
    names = [r["function"] for r in cell_result.get("results", []) if r.get("function") != "notebook"]
    return max(set(names), key=names.count) if names else cell_result["grade_id"]


def summary_lines(nb, resources):
    """(headline, [(function, lost, possible, [failed check lines])], [problems], [manual answers])."""
    stored = nb.metadata.get("nn_course", {})
    by_cell = {c["grade_id"]: c for c in stored.get("cells", [])}
    lost = defaultdict(float)
    possible = defaultdict(float)
    failures = defaultdict(list)
    manual = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        score, points = meta.get("score"), float(meta.get("points") or 0)
        if meta.get("solution"):  # a written answer, graded by hand
            manual.append((meta["grade_id"], score, points, meta.get("comment")))
            continue
        graded = by_cell.get(meta["grade_id"], {"grade_id": meta["grade_id"], "results": []})
        function = _function_of(graded)
        possible[function] += points
        lost[function] += points - float(score or 0)
        failures[function] += [r for r in graded.get("results", []) if not r.get("passed")]
    ranked = sorted(((f, lost[f], possible[f], failures[f]) for f in possible if lost[f] > 1e-9),
                    key=lambda row: (-row[1], row[0]))
    score, max_score = resources["nbgrader"]["score"], resources["nbgrader"]["max_score"]
    headline = f"Total: {score:g} of {max_score:g} points"
    if resources["nbgrader"].get("late_penalty"):
        headline += f" (after a late penalty of {resources['nbgrader']['late_penalty']:g})"
    return headline, ranked, stored.get("problems", []), manual


def _plain(text):
    """Student-controlled text as one inert line of markdown: no new lines, and
    every character markdown or HTML would act on backslash-escaped."""
    return re.sub(r"([\\`*_\[\]#|<>!~&])", r"\\\1", " ".join(str(text).split()))


def summary_markdown(nb, resources):
    e = _plain
    headline, ranked, problems, manual = summary_lines(nb, resources)
    out = ["## Summary", "", f"**{e(headline)}**", ""]
    for problem in problems:
        out.append(f"- **Problem with the notebook:** {e(problem)}")
    if ranked:
        out += ["", "Functions that lost points, worst first:", ""]
        for function, lost, possible, failed in ranked:
            out.append(f"- **{e(function)}**: lost {lost:g} of {possible:g}")
            for result in failed[:4]:
                kind = "hidden check" if result.get("hidden") else "visible check"
                out.append(f"    - {kind} *{e(result['title'])}*: {e(result.get('message') or 'failed')}")
                if result.get("hint"):
                    out.append(f"      (usual cause: {e(result['hint'])})")
            if len(failed) > 4:
                out.append(f"    - and {len(failed) - 4} more failed checks, shown under the test cells below")
    else:
        out += ["", "Every autograded check passed."]
    for grade_id, score, points, comment in manual:
        shown = "not graded yet" if score is None else f"{score:g} of {points:g}"
        out.append(f"- written answer **{e(grade_id)}**: {shown}" + (f"; grader's comment: {e(comment)}" if comment else ""))
    out += ["", "Each test cell below lists every check that ran, visible and hidden, with what was off and the usual cause."]
    return "\n".join(out)


class AddSummary(NbGraderPreprocessor):
    """Puts the summary in a markdown cell at the top of the feedback."""

    def preprocess(self, nb, resources):
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(nb, resources)))
        return nb, resources


# ---- mathematics without internet access ----------------------------------------------------

_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?</script>\s*<!-- MathJax configuration -->\s*<script "
                      r"type=\"text/x-mathjax-config\">.*?</script>", re.S)
_SKIPPED = re.compile(r"(<(pre|code|script|style)\b.*?</\2>|<[^>]*>)", re.S | re.I)  # left as they are
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?![\s$])([^$\n]+?)(?<![\s\\])\$")


# MathML that latex2mathml writes: its elements and attributes, and nothing else (it copies \text{...} verbatim)
_MATHML_TAGS = {"math", "mrow", "mi", "mo", "mn", "ms", "msup", "msub", "msubsup", "mfrac", "msqrt", "mroot", "mtext",
                "mspace", "mstyle", "mtable", "mtr", "mtd", "munder", "mover", "munderover", "mpadded", "mphantom",
                "menclose", "merror", "semantics", "annotation"}
_MATHML_ATTRIBUTES = ["xmlns", "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "accent",
                      "accentunder", "columnalign", "rowspacing", "columnspacing", "width", "height", "depth",
                      "linethickness", "movablelimits", "form", "symmetric", "minsize", "maxsize", "largeop",
                      "notation", "displaystyle", "scriptlevel", "mathsize", "mathcolor", "rowalign", "columnlines",
                      "rowlines", "frame", "framespacing", "equalrows", "equalcolumns"]


def _mathml(match, display):
    return _latex_as_mathml(match.group(1), display) or match.group(0)


@functools.lru_cache(maxsize=4096)  # a worker's feedback pages share the course's formulas: convert each once
def _latex_as_mathml(latex, display):
    """The MathML of one formula, cleaned to MathML's own elements; None if latex2mathml cannot read it
    (then it stays as the LaTeX it is)."""
    import html
    from latex2mathml.converter import convert
    try:
        # nbconvert escapes the LaTeX of markdown once, its sanitizer again: "z < 0" arrives as "z &amp;lt; 0"
        mathml = convert(html.unescape(html.unescape(latex)).strip(), display="block" if display else "inline")
    except Exception:
        return None
    return _mathml_cleaner().clean(mathml)


@functools.lru_cache(maxsize=None)
def _mathml_cleaner():
    import bleach
    return bleach.Cleaner(tags=_MATHML_TAGS, attributes={"*": _MATHML_ATTRIBUTES})


def math_as_mathml(page):
    """The page with its $...$ and $$...$$ as MathML (which browsers draw
    themselves), and no MathJax script from the internet. Text inside tags,
    code and scripts is left alone; LaTeX that cannot be converted stays as is.
    Runs on the HTML nbconvert made, after its sanitizing; the MathML it adds
    is cleaned to MathML's own elements (a student's LaTeX stays text)."""
    page = _MATHJAX.sub("", page)
    parts, last = [], 0
    for skipped in _SKIPPED.finditer(page):
        parts.append(_convert_text(page[last:skipped.start()]))
        parts.append(skipped.group(0))
        last = skipped.end()
    parts.append(_convert_text(page[last:]))
    return "".join(parts)


def _convert_text(text):
    if "$" not in text:
        return text
    text = _DISPLAY.sub(lambda m: _mathml(m, True), text)
    return _INLINE.sub(lambda m: _mathml(m, False), text)


def render_math_offline(assignment, student, notebooks):
    """nbgrader's post-convert hook of generate_feedback (course_config.py):
    the feedback pages just written get their mathematics as MathML."""
    for notebook in notebooks:
        *_, student_id, assignment_id, name = os.path.normpath(notebook).split(os.sep)
        path = os.path.join("feedback", student_id, assignment_id, os.path.splitext(name)[0] + ".html")
        if os.path.isfile(path):  # nbgrader runs the hook in the course folder
            with open(path, encoding="utf-8") as f:
                page = f.read()
            with open(path, "w", encoding="utf-8") as f:
                f.write(math_as_mathml(page))
