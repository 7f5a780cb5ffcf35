"""What a student can see before grading (a script, not a test).

Grades the catalogue of tests/catalogue.py through the real path (as
benchmarks/catch_rates.py does) and prints per assignment, for the wrong
implementations:

  caught by the visible tests alone: a visible check in the cells of the
      function (test_<fn> / hidden_<fn>, CheckResult.hidden False) fails, so
      the student sees a [FAIL] in the notebook before handing it in;
  caught at grading: the function loses points in its cells (visible or hidden);

and, for the right implementations, how many keep full marks. Then the wrong
implementations that only the hidden tests catch, each with the hidden checks
it fails: the kinds of mistake no visible example reveals yet.

    .venv/bin/python benchmarks/visible_catch.py [--workers N] [--assignment 03] [--json out.json]
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, REPO)

from catalogue import ASSIGNMENTS, ENTRIES, caught, cells_of, entry_job, grade_all, spared  # noqa: E402


def visible_failures(entry, graded):
    """The visible checks of the entry's function that fail (empty: the student sees only [PASS])."""
    if "error" in graded:
        return []
    return [r for c in cells_of(entry.function, graded) for r in c["results"] if not r["hidden"] and not r["passed"]]


def hidden_failures(entry, graded):
    if "error" in graded:
        return []
    return [r for c in cells_of(entry.function, graded) for r in c["results"] if r["hidden"] and not r["passed"]]


def summarise(entries, results):
    """{assignment: counts} and the wrong entries caught only at grading."""
    rows, hidden_only = {}, []
    for assignment in sorted({e.assignment for e in entries}):
        wrongs = [e for e in entries if e.assignment == assignment and e.kind == "wrong"]
        rights = [e for e in entries if e.assignment == assignment and e.kind == "right"]
        visible = [e for e in wrongs if visible_failures(e, results[e.id])]
        graded = [e for e in wrongs if caught(e, results[e.id])]
        rows[assignment] = {"wrong": len(wrongs), "visible": len(visible), "graded": len(graded),
                            "right": len(rights), "spared": sum(spared(e, results[e.id]) for e in rights)}
        hidden_only += [e for e in graded if e not in visible]
    return rows, hidden_only


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=None, help="grading processes at a time (default: CPUs + 1)")
    parser.add_argument("--assignment", action="append", default=[],
                        help="only this assignment (a prefix such as 03; may be repeated)")
    parser.add_argument("--json", help="also write the per-assignment counts to this file")
    args = parser.parse_args()

    assignments = [a for a in ASSIGNMENTS if not args.assignment or any(a.startswith(p) for p in args.assignment)]
    entries = [e for e in ENTRIES if e.assignment in assignments]
    if not entries:
        sys.exit("no catalogue entry for the assignments chosen")
    print(f"grading {len(entries)} catalogue entries through grade_notebook (sandbox)", flush=True)
    started = time.perf_counter()
    results = grade_all({e.id: entry_job(e) for e in entries}, workers=args.workers,
                        progress=lambda key, result, done, total: done % 25 == 0 and print(f"  {done}/{total}", flush=True))
    errors = sorted(e.id for e in entries if "error" in results[e.id])
    rows, hidden_only = summarise(entries, results)

    rate = lambda k, n: f"{100 * k / n:5.1f}%" if n else "    -"
    print(f"\n{'assignment':24s} {'wrong':>5s} {'visible':>8s} {'share':>7s} {'graded':>7s} {'share':>7s}   "
          f"{'right':>5s} {'spared':>7s}")
    for assignment, r in rows.items():
        print(f"{assignment:24s} {r['wrong']:5d} {r['visible']:8d} {rate(r['visible'], r['wrong']):>7s} "
              f"{r['graded']:7d} {rate(r['graded'], r['wrong']):>7s}   {r['right']:5d} {r['spared']:7d}")
    total = {k: sum(r[k] for r in rows.values()) for k in ("wrong", "visible", "graded", "right", "spared")}
    print(f"{'all':24s} {total['wrong']:5d} {total['visible']:8d} {rate(total['visible'], total['wrong']):>7s} "
          f"{total['graded']:7d} {rate(total['graded'], total['wrong']):>7s}   {total['right']:5d} {total['spared']:7d}")
    print(f"\n{len(entries)} submissions graded in {time.perf_counter() - started:.0f} s")

    print(f"\nwrong implementations that only the hidden tests catch ({len(hidden_only)}):")
    for e in hidden_only:
        titles = "; ".join(dict.fromkeys(r["title"] for r in hidden_failures(e, results[e.id])))
        print(f"  {e.id}\n      hidden: {titles}")
    missed = [e for e in entries if e.kind == "wrong" and not caught(e, results[e.id])]
    print(f"\nwrong implementations that keep full marks ({len(missed)}):")
    for e in missed:
        print(f"  {e.id}" + (f"  (known gap: {e.gap})" if e.gap else ""))
    if errors:
        print(f"\nexceptions while grading: {errors}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "total": total, "hidden_only": [e.id for e in hidden_only]}, f, indent=1)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
