"""The course's command line.

    python -m autograder grade PATH... [--out DIR] [--jobs N] [--force] [--timeout S]
    python -m autograder report OUT_DIR
    python -m autograder bundle --out DIR
    python -m autograder gradescope ASSIGNMENT --out DIR
    python -m autograder nbgrader ASSIGNMENT [--student ID ...] [--jobs N]

`grade` grades every notebook under the PATHs (a notebook, a folder of notebooks, nbgrader's
submitted/<student>/<assignment>/ tree or any <student>/<assignment>/*.ipynb tree), writes
DIR/<student>/<assignment>/results.json and feedback.html and DIR/grades.csv, and prints a score
table. It exits 0 whenever grading completed, whatever the scores (a submission that could not
be graded is an `error` row, not a failure of the command); 2 for a bad PATH or option.
"""
import argparse
import importlib
import sys
from pathlib import Path

from autograder import bundle, class_report, config, engine, gradescope, report


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def register(subparsers):
    p = subparsers.add_parser("grade", help="grade notebooks in caged worker processes",
                              description=__doc__.split("\n\n")[2])
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a notebook, a folder of notebooks, or a submitted/<student>/<assignment>/ tree")
    p.add_argument("--out", type=Path, default=Path("build/grades"),
                   help="folder for <student>/<assignment>/results.json and grades.csv "
                        "(default: build/grades)")
    p.add_argument("--jobs", type=_positive, default=1,
                   help="submissions graded in parallel, one worker process each (default: 1)")
    p.add_argument("--force", action="store_true",
                   help="regrade submissions that already have a results.json")
    p.add_argument("--timeout", type=_seconds, default=config.SUBMISSION_TIMEOUT_S,
                   help="wall-clock limit per submission in seconds "
                        f"(default: {config.SUBMISSION_TIMEOUT_S:g})")
    p.set_defaults(func=run_grade)
    return p


def run_grade(args):
    try:
        subs = engine.find_submissions(args.paths)
    except engine.UsageError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 2
    rows = engine.grade_batch(subs, args.out, jobs=args.jobs, force=args.force,
                              timeout=args.timeout)
    print(report.score_table(rows))
    errors = sum(r["status"] == report.ERROR for r in rows)
    print(f"\n{len(rows)} submission(s): {len(rows) - errors} graded, {errors} error(s). "
          f"Results in {args.out}/<student>/<assignment>/, gradebook {args.out / 'grades.csv'}.")
    return 0


# Subcommands whose module imports slowly (nbgrader takes seconds): imported only when asked for.
LAZY = {"nbgrader": ("autograder.nbgrader_bridge", "caged scores into nbgrader's gradebook")}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    subparsers = parser.add_subparsers(required=True, metavar="COMMAND")
    register(subparsers)
    bundle.register(subparsers)
    class_report.register(subparsers)
    gradescope.register(subparsers)
    for name, (module, summary) in LAZY.items():
        if argv[:1] == [name]:
            importlib.import_module(module).register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
