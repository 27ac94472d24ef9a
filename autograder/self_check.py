"""`python -m autograder self-check NOTEBOOK`: a self-learner grades their own notebook.

The same hidden graders as an instructor's `grade`, on one notebook, always regraded, into
build/self-check/; then the feedback page opens in the browser (--no-open: only its path is
printed) and the command names the assignment's solution notebook to compare with once done.
The cage's full isolation protects an instructor from other people's code; for one's own code it
is not needed, so where it is unavailable (no root and no user namespaces) the notebook is graded
with partial isolation and the command says so instead of refusing.
"""
import webbrowser
from pathlib import Path

from autograder import report, sandbox
from autograder.scheduler import grade_batch
from autograder.submissions import UsageError, find_submissions, student_folder

ROOT = Path(__file__).resolve().parents[1]
NOT_NEEDED = ("this machine cannot fully isolate student code ({why}). That isolation protects "
              "an instructor from other people's code and is not needed for your own work: "
              "grading yours with partial isolation.")


def register(subparsers):
    p = subparsers.add_parser("self-check", help="grade your own notebook with the full hidden "
                              "grader and open its feedback page", description=__doc__)
    p.add_argument("notebook", type=Path, help="your notebook (.ipynb)")
    p.add_argument("--out", type=Path, default=Path("build/self-check"),
                   help="folder for the results and feedback page (default: build/self-check)")
    p.add_argument("--no-open", action="store_true", help="print the feedback page's path only")
    p.set_defaults(func=run)


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
    isolation = sandbox.probe_isolation()
    if isolation.level != "full":
        print("self-check: " + NOT_NEEDED.format(why=isolation.why))
    rows = grade_batch(subs, args.out, jobs=1, force=True, backend=args.backend,
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
