"""How well the grading tells wrong answers from right ones (a script, not a test).

Grades the whole catalogue of tests/catalogue.py through the real path
(grade_notebook with the sandbox, one submission per entry, as
tests/test_catalogue.py does) and prints per assignment:

  wrong entries, caught (they lose points in the cells of their function), catch rate;
  right entries, spared (full marks in every cell), spare rate;

then every wrong answer that keeps full marks and every right answer that
loses points (with the known gap's reason, or NEW when the catalogue did not
expect it), caught mistakes whose failed checks do not name the function or
say what is off, and any grading that raised an exception.

    .venv/bin/python benchmarks/catch_rates.py [--workers N] [--assignment 03] [--verbose]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, REPO)

from catalogue import (ASSIGNMENTS, ENTRIES, caught, entry_job, grade_all, right_verdict, spared,  # noqa: E402
                       wrong_verdict)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=None, help="grading processes at a time (default: CPUs + 1)")
    parser.add_argument("--assignment", action="append", default=[],
                        help="only this assignment (a prefix such as 03; may be repeated)")
    parser.add_argument("--verbose", action="store_true", help="print each entry as it is graded")
    args = parser.parse_args()

    assignments = [a for a in ASSIGNMENTS if not args.assignment or any(a.startswith(p) for p in args.assignment)]
    entries = [e for e in ENTRIES if e.assignment in assignments]
    if not entries:
        sys.exit("no catalogue entry for the assignments chosen")

    def progress(key, result, done, total):
        if args.verbose:
            print(f"  [{done}/{total}] {key}", flush=True)
        elif done % 20 == 0 or done == total:
            print(f"  {done}/{total} graded ({time.perf_counter() - started:.0f} s)", flush=True)

    print(f"grading {len(entries)} catalogue entries of {len(assignments)} assignment(s) through grade_notebook "
          f"(sandbox), {args.workers or (os.cpu_count() or 2) + 1} at a time", flush=True)
    started = time.perf_counter()
    results = grade_all({e.id: entry_job(e) for e in entries}, workers=args.workers, progress=progress)
    elapsed = time.perf_counter() - started

    errors = {e.id: results[e.id]["error"] for e in entries if "error" in results[e.id]}
    rows, uncaught, punished, unclear = [], [], [], []
    for assignment in assignments:
        mine = [e for e in entries if e.assignment == assignment]
        wrongs = [e for e in mine if e.kind == "wrong"]
        rights = [e for e in mine if e.kind == "right"]
        n_caught = sum(caught(e, results[e.id]) for e in wrongs)
        n_spared = sum(spared(e, results[e.id]) for e in rights)
        rows.append((assignment, len(wrongs), n_caught, len(rights), n_spared))
        for e in wrongs:
            if e.id in errors:
                continue
            if not caught(e, results[e.id]):
                uncaught.append(e)
            else:
                problems = wrong_verdict(e, results[e.id])
                if problems:
                    unclear.append((e, problems))
        punished += [(e, right_verdict(e, results[e.id])) for e in rights
                     if e.id not in errors and not spared(e, results[e.id])]

    rate = lambda k, n: f"{100 * k / n:5.1f}%" if n else "    -"
    print(f"\n{'assignment':26s} {'wrong':>6s} {'caught':>7s} {'catch':>7s}   {'right':>6s} {'spared':>7s} {'spare':>7s}")
    for assignment, n_wrong, n_caught, n_right, n_spared in rows:
        print(f"{assignment:26s} {n_wrong:6d} {n_caught:7d} {rate(n_caught, n_wrong):>7s}   "
              f"{n_right:6d} {n_spared:7d} {rate(n_spared, n_right):>7s}")
    total = [sum(r[i] for r in rows) for i in range(1, 5)]
    print(f"{'all':26s} {total[0]:6d} {total[1]:7d} {rate(total[1], total[0]):>7s}   "
          f"{total[2]:6d} {total[3]:7d} {rate(total[3], total[2]):>7s}")
    print(f"\n{len(entries)} submissions graded in {elapsed:.0f} s")

    def status(entry):
        return f"known gap: {entry.gap}" if entry.gap else "NEW: the catalogue expected otherwise"

    print(f"\nwrong answers that keep full marks ({len(uncaught)}):")
    for e in uncaught:
        print(f"  {e.id}\n      {status(e)}")
    print(f"\nright answers that lose points ({len(punished)}):")
    for e, problems in punished:
        print(f"  {e.id}\n      {status(e)}")
        for p in problems:
            print(f"      {p}")
    print(f"\ncaught, but a failed check does not name the function or say what is off ({len(unclear)}):")
    for e, problems in unclear:
        print(f"  {e.id}")
        for p in problems:
            print(f"      {p}")
    print(f"\nexceptions while grading ({len(errors)}):")
    for key, error in errors.items():
        print(f"  {key}\n" + "\n".join("      " + line for line in error.strip().splitlines()[-6:]))
    expected_gaps = {e.id for e in entries if e.gap}
    surprises = ({e.id for e in uncaught} | {e.id for e, _ in punished}) ^ expected_gaps
    surprises |= set(errors) | {e.id for e, _ in unclear}
    return 1 if surprises else 0


if __name__ == "__main__":
    sys.exit(main())
