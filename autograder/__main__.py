"""The course's command line.

    python -m autograder grade PATH... [--out DIR] [--jobs N] [--force] [--timeout S] [--seed N]
                                       [--allow-partial-isolation]
    python -m autograder report OUT_DIR
    python -m autograder bundle --out DIR
    python -m autograder gradescope ASSIGNMENT --out DIR
    python -m autograder nbgrader ASSIGNMENT [--student ID ...] [--jobs N]
    python -m autograder self-check NOTEBOOK [--out DIR] [--no-open]

`grade` grades every notebook under the PATHs (a notebook, a folder of notebooks, nbgrader's
submitted/<student>/<assignment>/ tree or any <student>/<assignment>/*.ipynb tree), writes
DIR/<student>/<assignment>/results.json and feedback.html and DIR/grades.csv, and prints a score
table. It exits 0 whenever grading completed, whatever the scores (a submission that could not
be graded is an `error` row, not a failure of the command); 2 for a bad PATH or option, or when
the cage cannot fully isolate student code here (unless --allow-partial-isolation); 130/143 when
stopped by Ctrl-C/SIGTERM (the finished results stay; the same command without --force resumes).
"""
import argparse
import importlib
import shlex
import signal
import sys
from pathlib import Path

from autograder import bundle, class_report, config, gradescope, report, sandbox, self_check
from autograder.scheduler import grade_batch
from autograder.submissions import FINDING, UsageError, find_submissions


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


def _seed(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {value}")
    return value


def register(subparsers):
    p = subparsers.add_parser("grade", help="grade notebooks in caged worker processes",
                              description=__doc__.split("\n\n")[2], epilog=FINDING,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
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
    p.add_argument("--seed", type=_seed, default=None,
                   help="the seed of the hidden inputs, to replay a run (default: a fresh one, "
                        "kept in the staff-only DIR/grading.log)")
    p.add_argument("--allow-partial-isolation", action="store_true",
                   help="grade even where the cage cannot fully isolate student code (not root "
                        "and no unprivileged user namespaces); every result then says so")
    p.set_defaults(func=run_grade)
    return p


def _refuse_partial(isolation):
    print(f"grade: student code cannot be fully isolated on this machine: {isolation.why}\n"
          "Run the grader as root, or enable unprivileged user namespaces (e.g. sysctl "
          "kernel.unprivileged_userns_clone=1), or pass --allow-partial-isolation to grade "
          "anyway with every result marked as partially isolated.", file=sys.stderr)
    return 2


def _command(argv):
    return shlex.join(["python", "-m", "autograder", *argv])


def _interrupted(e, args):
    """Say how to resume a stopped run; the exit status of a process killed by its signal."""
    signum = getattr(e, "signum", signal.SIGINT)
    again = _command([a for a in args.argv if a != "--force"])
    print(f"\ngrade: stopped by {signal.Signals(signum).name}; the finished results are kept "
          f"in {args.out}. To resume, run the same command without --force:\n  "
          f"{report.printable(again)}", file=sys.stderr)
    return 128 + signum


def run_grade(args):
    try:
        subs = find_submissions(args.paths, backend=args.backend)
    except UsageError as e:
        print(f"grade: {report.printable(e)}", file=sys.stderr)
        return 2
    isolation = sandbox.probe_isolation()
    if isolation.level != "full" and not args.allow_partial_isolation:
        return _refuse_partial(isolation)
    try:
        rows = grade_batch(subs, args.out, jobs=args.jobs, force=args.force,
                           timeout=args.timeout, seed=args.seed, backend=args.backend,
                           allow_partial=args.allow_partial_isolation, command=_command(args.argv))
    except KeyboardInterrupt as e:
        return _interrupted(e, args)
    print(report.score_table(rows))
    _summary(rows, args.out, isolation)
    return 0


def _summary(rows, out, isolation):
    errors = sum(r["status"] == report.ERROR for r in rows)
    kept = sum(bool(r.get("kept")) for r in rows)
    print(f"\n{len(rows)} submission(s): {len(rows) - errors} graded, {errors} error(s)"
          + (f"; kept from an earlier run: {kept} (--force regrades them)" if kept else "")
          + f". Results in {out}/<student>/<assignment>/, gradebook {out / 'grades.csv'}.")
    if any(r.get("isolation") == "partial" for r in rows):
        print(f"WARNING: graded with PARTIAL isolation ({isolation.why}): student code could "
              "reach the grader's files and processes; these results are not safe for graded work.")


# Subcommands whose module imports slowly (nbgrader takes seconds): imported only when asked for.
LAZY = {"nbgrader": ("autograder.nbgrader_bridge", "caged scores into nbgrader's gradebook")}


def main(argv=None, backend=None):
    """Run the command `argv` (default: sys.argv[1:]); `grade` grades with `backend` (default:
    the real one, autograder.backend.caged())."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    subparsers = parser.add_subparsers(required=True, metavar="COMMAND")
    register(subparsers)
    bundle.register(subparsers)
    class_report.register(subparsers)
    gradescope.register(subparsers)
    self_check.register(subparsers)
    for name, (module, summary) in LAZY.items():
        if argv[:1] == [name]:
            importlib.import_module(module).register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    args = parser.parse_args(argv)
    args.argv, args.backend = argv, backend
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
