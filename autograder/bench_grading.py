"""How long batch grading takes, and where the time goes (a benchmark, not a test).

    python -m autograder.bench_grading [--copies N] [--jobs 1,2] [--quick]

Grades N copies of every example submission (examples/submissions: alice, bob and carol on every
assignment) once per --jobs value, through the same scheduler as `python -m autograder grade`, and
prints the wall-clock seconds per submission for each, then the mean time per submission split
by the worker's timing records (results.json extra_data["timing"]): the worker process's start,
reading the notebook, starting the two sandboxes, calls of the student's functions, calls of
the reference, the part of both spent in timing and memory tests, the rest of the graders'
work, and tear-down. carol's hanging functions cost one call limit each, so her rows are shown
apart. --quick grades one copy of alice's a1_naive with one job: a smoke run.

Run it on an otherwise idle machine; on a shared one, compare the jobs rows with each other only.
"""
import argparse
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from autograder.scheduler import grade_batch
from autograder.submissions import find_submissions

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"

# (label, how to compute it from one timing record), in the order a worker spends the time.
PARTS = (
    ("worker start + imports", lambda s, w: w - s["extract"] - s["startup"] - s["graders"] - s["teardown"]),
    ("reading the notebook", lambda s, w: s["extract"]),
    ("sandbox start-up (student + reference)", lambda s, w: s["startup"]),
    ("student calls", lambda s, w: s["student_calls"]),
    ("reference calls", lambda s, w: s["reference_calls"]),
    ("  of both: in timing/memory tests", lambda s, w: s["timing_tests"]),
    ("other grader work (pytest, expected values)", lambda s, w: s["graders"] - s["student_calls"] - s["reference_calls"]),
    ("tear-down", lambda s, w: s["teardown"]),
)


def make_copies(folder, copies, quick=False):
    """`copies` copies of the example submissions under folder/<student>-<i>/<assignment>/."""
    sources = [EXAMPLES / "alice" / "a1_naive"] if quick else sorted(EXAMPLES.glob("*/*"))
    for i in range(1, copies + 1):
        for src in sources:
            shutil.copytree(src, folder / f"{src.parent.name}-{i}" / src.name)
    return folder


def run(folder, out, jobs):
    """Grade everything under `folder` with `jobs` workers: (wall seconds, [results.json])."""
    subs = find_submissions([folder])
    start = time.perf_counter()
    grade_batch(subs, out, jobs=jobs, force=True, stream=io.StringIO())
    wall = time.perf_counter() - start
    return wall, [json.loads(p.read_text()) for p in sorted(Path(out).glob("*/*/results.json"))]


def breakdown(results):
    """{label: mean seconds per submission} over graded results with timing records."""
    records = [(Counter(r["extra_data"]["timing"]["seconds"]),     # a phase never entered: 0 s
                r["extra_data"]["timing"]["worker_seconds"])
               for r in results if r["extra_data"]["status"] == "graded"]
    if not records:
        return {}
    return {label: statistics.fmean(part(s, w) for s, w in records) for label, part in PARTS}


def median_seconds(results):
    """Median wall-clock seconds of one submission (its worker, start to results), or None."""
    seconds = [r["extra_data"]["timing"].get("worker_seconds") for r in results]
    seconds = [s for s in seconds if s is not None]
    return statistics.median(seconds) if seconds else None


def report(rows, parts_by_group, medians=None):
    lines = [f"{'jobs':>4}  {'submissions':>11}  {'errors':>6}  {'wall s':>8}  {'s / submission':>14}"]
    lines += [f"{jobs:>4}  {n:>11}  {errors:>6}  {wall:>8.1f}  {wall / n:>14.2f}"
              for jobs, n, errors, wall in rows]
    if medians:
        lines += ["", f"median seconds per submission, start of its worker to its results "
                      f"(jobs={rows[0][0]}):"]
        lines += [f"  {group:<42}{seconds:>8.2f}" for group, seconds in medians.items()
                  if seconds is not None]
    for group, parts in parts_by_group.items():
        if not parts:
            continue
        lines += ["", f"where the time goes, {group} (mean seconds per submission, jobs={rows[0][0]}):"]
        lines += [f"  {label:<42}{seconds:>8.2f}" for label, seconds in parts.items()]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.bench_grading",
                                     description=__doc__.split("\n\n")[1])
    parser.add_argument("--copies", type=int, default=1, help="copies of each example (default 1)")
    parser.add_argument("--jobs", default="1,2", help="comma-separated worker counts (default 1,2)")
    parser.add_argument("--quick", action="store_true",
                        help="one copy of alice's a1_naive, one job: a smoke run")
    args = parser.parse_args(argv)
    jobs_values = [1] if args.quick else [int(j) for j in args.jobs.split(",")]
    copies = 1 if args.quick else args.copies
    rows, first = [], None
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        folder = make_copies(Path(tmp) / "submissions", copies, args.quick)
        for jobs in jobs_values:
            wall, results = run(folder, Path(tmp) / f"out-{jobs}", jobs)
            errors = sum(r["extra_data"]["status"] == "error" for r in results)
            rows.append((jobs, len(results), errors, wall))
            first = first or results
    by_student = {}
    for r in first:
        by_student.setdefault(r["extra_data"]["student"].rsplit("-", 1)[0], []).append(r)
    groups = {"all submissions": breakdown(first)}
    groups.update({f"{student}'s": breakdown(rs) for student, rs in sorted(by_student.items())})
    hanging = [r for r in first if r["extra_data"]["timed_out"]]
    medians = {"honest (no function timed out)":
               median_seconds([r for r in first if not r["extra_data"]["timed_out"]]),
               "hanging (a function timed out)": median_seconds(hanging)}
    print(report(rows, groups, medians))
    return 0


if __name__ == "__main__":
    sys.exit(main())
