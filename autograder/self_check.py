"""`python -m autograder self-check NOTEBOOK`: a self-learner grades their own notebook.

The same hidden graders as an instructor's `grade`, on one notebook, always regraded, into
build/self-check/; then the feedback page opens in the browser (--no-open: only its path is
printed) and the command names the assignment's solution notebook to compare with once done.
The cage's full isolation protects an instructor from other people's code; for one's own code it
is not needed, so where it is unavailable (no root and no user namespaces) the notebook is graded
with partial isolation and the command says so instead of refusing. Where the cage cannot run at
all (it needs Linux: on macOS, say), or with --no-cage, the notebook runs in the grading process
itself (autograder/own_code.py), with the same graders and time limits.
"""
import sys
import webbrowser
from pathlib import Path

from autograder import report, sandbox
from autograder.own_code import own_code
from autograder.scheduler import grade_batch
from autograder.submissions import UsageError, find_submissions, student_folder

ROOT = Path(__file__).resolve().parents[1]
NOT_NEEDED = ("this machine cannot fully isolate student code ({why}). That isolation protects "
              "an instructor from other people's code and is not needed for your own work: "
              "grading yours with partial isolation.")
NO_CAGE = ("running your notebook without the cage ({why}): the cage protects an instructor from "
           "other people's code and is not needed for your own work. Same graders, same limits.")


def register(subparsers):
    p = subparsers.add_parser("self-check", help="grade your own notebook with the full hidden "
                              "grader and open its feedback page", description=__doc__)
    p.add_argument("notebook", type=Path, help="your notebook (.ipynb)")
    p.add_argument("--out", type=Path, default=Path("build/self-check"),
                   help="folder for the results and feedback page (default: build/self-check)")
    p.add_argument("--no-open", action="store_true", help="print the feedback page's path only")
    p.add_argument("--no-cage", action="store_true",
                   help="run the notebook in the grading process, without the cage (the default "
                        "where the cage cannot run, i.e. anywhere but Linux)")
    p.set_defaults(func=run)


def cage_can_run():
    """The cage needs Linux (memfd, /proc, namespaces)."""
    return sys.platform.startswith("linux")


def solution_notebook(assignment):
    """The assignment's solution notebook (built by `make notebooks`)."""
    return ROOT / "solutions" / assignment / f"{assignment}.ipynb"


def run(args):
    if not (args.notebook.is_file() and args.notebook.suffix == ".ipynb"):
        print(f"self-check: {report.printable(args.notebook)} is not a notebook file (.ipynb)")
        return 2
    try:
        subs = find_submissions([args.notebook], backend=args.backend)
    except UsageError as e:
        print(f"self-check: {report.printable(e)}")
        return 2
    backend = args.backend
    if args.no_cage or not cage_can_run():
        backend = own_code()
        print("self-check: " + NO_CAGE.format(why="asked for with --no-cage" if args.no_cage else
                                              f"the cage needs Linux, this is {sys.platform}"))
    else:
        isolation = sandbox.probe_isolation()
        if isolation.level != "full":
            print("self-check: " + NOT_NEEDED.format(why=isolation.why))
    rows = grade_batch(subs, args.out, jobs=1, force=True, backend=backend,
                       allow_partial=True, command="self-check")
    print(report.score_table(rows))
    for row in rows:
        page = args.out / student_folder(row["student"]) / row["assignment"] / "feedback.html"
        print(f"\nFeedback: {page}")
        if not args.no_open and page.is_file():
            webbrowser.open(page.resolve().as_uri())
        solution = solution_notebook(row["assignment"])
        print(f"Done with it? Compare with the solution: {solution}" if solution.is_file() else
              f"Done with it? `make notebooks` builds the solution to compare with: {solution}")
    return 0
