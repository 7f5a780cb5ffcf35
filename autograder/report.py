"""What an instructor reads after grading: the grade table, a histogram of
each assignment's grades (PNG), and which test cells and checks the class
failed most, with every submission's problems (unreadable notebook, time
limit, kernel died) listed.

Scores come from the gradebook; the per-check results from the autograded
notebooks (nbgrader autograde stores them in the notebook's metadata).
"""
import glob
import os
from collections import Counter, defaultdict

import nbformat
from nbgrader.api import Gradebook

from .pipeline import FAILED, MARKER


def grade_table(db_url):
    """{(student, assignment): (score, max_score)} for every submission in the gradebook."""
    table = {}
    with Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                table[(submission.student.id, assignment.name)] = (submission.score, submission.max_score)
    return table


def cell_scores(db_url):
    """{(student, assignment, notebook, grade_id): (score, max_score)} of every autograded test cell."""
    found = {}
    with Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.cell_type == "code":
                            found[(submission.student.id, assignment.name, notebook.name, grade.name)] = (
                                grade.score, grade.max_score)
    return found


def check_results(root, autograded="autograded"):
    """{(student, assignment, notebook): stored result dict} from the autograded notebooks."""
    found = {}
    for path in sorted(glob.glob(os.path.join(root, autograded, "*", "*", "*.ipynb"))):
        student, assignment, name = path.split(os.sep)[-3:]
        try:
            stored = nbformat.read(path, as_version=4).metadata.get("nn_course")
        except Exception:
            continue
        if stored:
            found[(student, assignment, name[:-6])] = stored
    return found


def problems(root, autograded="autograded", submitted="submitted"):
    """Every submission's problems, as (student, assignment, text): from the grader, and
    submissions nbgrader could not grade at all."""
    rows = []
    for (student, assignment, notebook), stored in check_results(root, autograded).items():
        rows += [(student, assignment, f"{notebook}: {p}") for p in stored.get("problems", [])]
    for folder in sorted(glob.glob(os.path.join(root, submitted, "*", "*"))):
        student, assignment = folder.split(os.sep)[-2:]
        marker = os.path.join(root, autograded, student, assignment, MARKER)
        failed = os.path.join(root, autograded, student, assignment, FAILED)
        if not os.path.exists(marker) and os.path.exists(failed):
            with open(failed) as f:
                rows.append((student, assignment, f.read().strip()))
    return rows


def failure_table(db_url, root, autograded="autograded"):
    """[(assignment, grade_id, failed, graded)] and the most failed checks
    [(assignment, function, check title, count)], most failed first."""
    by_cell = defaultdict(lambda: [0, 0])
    for (student, assignment, notebook, grade_id), (score, max_score) in cell_scores(db_url).items():
        if not max_score:
            continue
        by_cell[(assignment, grade_id)][1] += 1
        if (score or 0) < max_score - 1e-9:
            by_cell[(assignment, grade_id)][0] += 1
    cells = sorted(((a, g, failed, graded) for (a, g), (failed, graded) in by_cell.items()),
                   key=lambda row: (-row[2], row[0], row[1]))
    counts = Counter()
    for (student, assignment, notebook), stored in check_results(root, autograded).items():
        seen = set()
        for cell in stored.get("cells", []):
            for result in cell.get("results", []):
                key = (assignment, result.get("function"), result.get("title"))
                if not result.get("passed") and key not in seen:
                    seen.add(key)
                    counts[key] += 1
    checks = [(a, f, t, n) for (a, f, t), n in counts.most_common()]
    return cells, checks


def histograms(db_url, folder):
    """One PNG per assignment: the class's grades. Returns the paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    by_assignment = defaultdict(list)
    maxima = {}
    for (student, assignment), (score, max_score) in grade_table(db_url).items():
        by_assignment[assignment].append(score)
        maxima[assignment] = max_score
    os.makedirs(folder, exist_ok=True)
    paths = []
    for assignment, scores in sorted(by_assignment.items()):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        top = maxima[assignment] or 1
        ax.hist(scores, bins=min(20, max(5, len(scores))), range=(0, top), color="#4a7ab5", edgecolor="white")
        ax.set_xlabel(f"points (of {top:g})")
        ax.set_ylabel("submissions")
        ax.set_title(f"{assignment}: {len(scores)} submissions, mean {sum(scores) / len(scores):.1f}")
        fig.tight_layout()
        path = os.path.join(folder, f"{assignment}_grades.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def write_report(db_url, root, folder):
    """Histograms and reports/report.md (failures and problems). Returns the markdown text."""
    pngs = histograms(db_url, folder)
    cells, checks = failure_table(db_url, root)
    lines = ["# Grading report", "", "## Grades", ""]
    table = grade_table(db_url)
    students = sorted({s for s, _ in table})
    assignments = sorted({a for _, a in table})
    lines.append("| student | " + " | ".join(assignments) + " |")
    lines.append("| --- |" + " --- |" * len(assignments))
    for student in students:
        row = [f"{table[(student, a)][0]:g} / {table[(student, a)][1]:g}" if (student, a) in table else "-"
               for a in assignments]
        lines.append(f"| {student} | " + " | ".join(row) + " |")
    lines += ["", "## Test cells that lost points, most often first", "",
              "| assignment | test cell | submissions that lost points | graded |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {g} | {failed} | {graded} |" for a, g, failed, graded in cells if failed]
    lines += ["", "## Checks failed most often", "", "| assignment | function | check | submissions |",
              "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {f} | {t} | {n} |" for a, f, t, n in checks[:40]]
    lines += ["", "## Problems with submissions", ""]
    lines += [f"- {s}/{a}: {text}" for s, a, text in problems(root)] or ["- none"]
    lines += ["", "## Histograms", ""] + [f"![{os.path.basename(p)}]({os.path.basename(p)})" for p in pngs]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(folder, "report.md"), "w") as f:
        f.write(text)
    return text
