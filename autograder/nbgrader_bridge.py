"""Caged scoring inside the nbgrader workflow: the CLI's verdicts in nbgrader's gradebook.

    python -m autograder nbgrader a3_im2col [--student ID ...] [--out DIR] [--jobs N]

run from the course root (where nbgrader_config.py is), after `nbgrader collect` or a JupyterHub
exchange has filled submitted/<student>/a3_im2col/. Three steps:

1. the caged grader (`python -m autograder grade submitted/<student>/a3_im2col ...`) grades every
   submission in its sandbox and writes DIR/<student>/<assignment>/results.json;
2. `nbgrader autograde a3_im2col --force` runs with CONV_CAGED_RESULTS=DIR, which makes
   nbgrader_config.py swap nbgrader's Execute preprocessor for `CagedVerdicts`: no student code
   runs in an nbgrader kernel. nbgrader still restores the locked cells, records the submission
   and its timestamp, and builds autograded/; CagedVerdicts writes each grade cell's output from
   results.json (the verdicts as text, the score as the cell's partial credit);
3. the scores are written into the gradebook (nbgrader.api.Gradebook), per function f:
   grade cell `test_<f>` gets the points of f's public tests, `hidden_<f>` those of its hidden
   tests (autograder.assignments fixes both maxima and the bridge checks them). A submission the
   caged grader could not grade (a crash, a hang, no result) scores 0 with `needs_manual_grade`
   set and the reason as the answer cells' comment, so formgrader lists it for a look: reported,
   never a silent zero. What the cage reports about an answer cell of a graded submission (its
   code crashed the process, or hung and was skipped) becomes that cell's comment.

formgrader, `nbgrader export` and `nbgrader generate_feedback` then show the caged scores; the
feedback carries no hidden-test source (nbgrader_config.py: ClearHiddenTests and
`ClearHiddenTestOutputs`, below).

Plain `nbgrader autograde` (the hidden cells call autograder.incell.run_hidden_tests in the
student's kernel) is for practice only: student code shares that kernel with the tests.
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from autograder.assignments import graded, hidden_test_id, visible_test_id
from autograder.report import ERROR, GRADED

RESULTS_ENV = "CONV_CAGED_RESULTS"    # nbgrader_config.py swaps Execute for CagedVerdicts when set
RECEIPT = "nbgrader-receipt.json"     # CagedVerdicts leaves one per notebook it scored
CAGED = "autograder.nbgrader_bridge.CagedVerdicts"
HIDDEN_MARK = "BEGIN HIDDEN TESTS"
# results.json rounds every test's points to 4 decimals; a cell's tests may add up to its points
# give or take this much (a cell's score is capped at its points).
SPLIT_TOLERANCE = 0.01


class BridgeError(RuntimeError):
    """The caged results and the gradebook do not fit together; the message says where."""


# --------------------------------------------------------------------------- results -> cells
def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def split_scores(results, assignment):
    """{grade_id: (score, max_score)} of every test cell, from one graded results.json dict.

    Test cell test_<f> gets f's public tests (visibility "visible"), hidden_<f> the others.
    BridgeError when a maximum differs from autograder.assignments (a grader or split changed).
    """
    scores = {}
    for g in graded(assignment):
        mine = [t for t in results["tests"] if t["name"].startswith(g.function + ":")]
        for cell, tests, points in ((visible_test_id(g.function),
                                     [t for t in mine if t["visibility"] == "visible"], g.visible_points),
                                    (hidden_test_id(g.function),
                                     [t for t in mine if t["visibility"] != "visible"], g.hidden_points)):
            top = sum(t["max_score"] for t in tests)
            if abs(top - points) > SPLIT_TOLERANCE:
                raise BridgeError(f"{assignment}: the tests of cell {cell} are worth {top:g} points "
                                  f"in results.json, but autograder.assignments gives {points}")
            scores[cell] = (min(sum(t["score"] for t in tests), points), points)
    return scores


def load_results(results_dir, student, assignment):
    """(status, results dict or None, reason) of one student's caged grading of `assignment`."""
    path = Path(results_dir) / student / assignment / "results.json"
    if path.exists():
        results = json.loads(path.read_text())
        extra = results.get("extra_data", {})
        return extra.get("status", ERROR), results, extra.get("reason", "")
    others = sorted(p.parent.name for p in (Path(results_dir) / student).glob("*/results.json"))
    reason = (f"the submitted notebook was graded as {', '.join(others)}, not {assignment}" if others
              else "the caged grader left no result for this submission")
    return ERROR, None, reason


def verdict_text(results, function):
    """What a student reads under the visible test cell of `function`: the public checks, the
    hidden tests in one line, then each failed test with its explanation (tests whose visibility
    is "hidden" are counted, never described)."""
    mine = [t for t in results["tests"] if t["name"].startswith(function + ":")]
    public = [t for t in mine if t["visibility"] == "visible"]
    hidden = [t for t in mine if t["visibility"] != "visible"]

    def line(tests, what):
        passed = sum(t["score"] >= t["max_score"] for t in tests)
        points = sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)
        return f"{what}: {passed} of {len(tests)} passed, {points[0]:.4g}/{points[1]:.4g} points"

    lines = [f"Caged grader, {function}", line(public, "public checks"), line(hidden, "hidden tests")]
    for t in mine:
        if t["score"] < t["max_score"] and t["visibility"] != "hidden":
            lines.append(f"[FAILED] {t['name']}")
            lines += ["    " + ln for ln in t["output"].strip().splitlines()]
    return "\n".join(lines) + "\n"


class CagedVerdicts(NbGraderPreprocessor):
    """nbgrader autograde's stand-in for Execute: grade cell outputs from caged results.json.

    No code runs. A graded submission's test cells get the verdicts (visible cells) and the score
    as an execute_result, which nbgrader's SaveAutoGrades records as partial credit. A submission
    that could not be graded gets an `error` output naming the reason (0 points), which the
    bridge then flags for manual grading.
    """
    results_dir = Unicode("", help="the --out folder of the caged grader").tag(config=True)

    def preprocess(self, nb, resources):
        if not self.results_dir:
            raise BridgeError(f"CagedVerdicts needs results_dir (set {RESULTS_ENV})")
        info = resources["nbgrader"]
        self.assignment = info["assignment"]
        self.status, self.results, self.reason = load_results(self.results_dir, info["student"],
                                                              self.assignment)
        self.scores = split_scores(self.results, self.assignment) if self.status == GRADED else {}
        nb, resources = super().preprocess(nb, resources)
        receipt = Path(self.results_dir) / info["student"] / self.assignment / RECEIPT
        receipt.parent.mkdir(parents=True, exist_ok=True)
        receipt.write_text(json.dumps({"notebook": info["notebook"], "status": self.status,
                                       "scores": self.scores}))
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        meta = _nbgrader(cell)
        if cell.cell_type != "code":
            return cell, resources
        cell.outputs = []
        if not (meta.get("grade") and not meta.get("solution")):
            return cell, resources
        grade_id = meta["grade_id"]
        if self.status != GRADED:
            cell.outputs = [nbformat.v4.new_output(
                "error", ename="NotGraded", evalue=f"the caged grader could not grade this "
                f"submission: {self.reason}", traceback=[])]
        elif grade_id in self.scores:
            score, _ = self.scores[grade_id]
            prefix = visible_test_id("")
            if grade_id.startswith(prefix):
                cell.outputs.append(nbformat.v4.new_output(
                    "stream", name="stdout", text=verdict_text(self.results, grade_id[len(prefix):])))
            cell.outputs.append(nbformat.v4.new_output(
                "execute_result", data={"text/plain": f"{score:g}"}, execution_count=None))
        return cell, resources


def caged_autograde_preprocessors():
    """nbgrader's autograde preprocessors with Execute replaced by CagedVerdicts."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [CagedVerdicts if p is Execute else p for p in default]


class ClearHiddenTestOutputs(NbGraderPreprocessor):
    """Feedback: empty the outputs of hidden test cells (a traceback there may quote a grader).

    Runs before nbgrader's ClearHiddenTests, which then removes the cells' hidden source.
    """

    def preprocess_cell(self, cell, resources, index):
        meta = _nbgrader(cell)
        if cell.cell_type == "code" and (str(meta.get("grade_id", "")).startswith(hidden_test_id(""))
                                         or HIDDEN_MARK in cell.source):
            cell.outputs = []
        return cell, resources


# --------------------------------------------------------------------------- the gradebook
def course_config(root, results_dir):
    """The course's nbgrader configuration as `nbgrader autograde` will load it for caged scoring.

    BridgeError unless it swaps Execute for CagedVerdicts: an nbgrader that ignored the file (a
    config error only logs) would run the student's code in its kernel.
    """
    from nbgrader.preprocessors import Execute
    from traitlets.config.loader import PyFileConfigLoader
    path = Path(root) / "nbgrader_config.py"
    if not path.exists():
        raise BridgeError(f"no nbgrader_config.py in {root}: run from the course root")
    saved = os.environ.get(RESULTS_ENV)
    os.environ[RESULTS_ENV] = str(results_dir)
    try:
        config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    except Exception as e:
        raise BridgeError(f"{path} does not load: {type(e).__name__}: {e}") from None
    finally:
        os.environ.pop(RESULTS_ENV) if saved is None else os.environ.update({RESULTS_ENV: saved})
    chain = [p if isinstance(p, str) else f"{p.__module__}.{p.__qualname__}"
             for p in config.Autograde.get("autograde_preprocessors", [])]
    if f"{Execute.__module__}.Execute" in chain or CAGED not in chain or \
            config.CagedVerdicts.get("results_dir") != str(results_dir):
        raise BridgeError(f"{path} does not replace Execute by CagedVerdicts when {RESULTS_ENV} is "
                          "set; refusing to run nbgrader autograde, which would run student code")
    return config


def write_gradebook(db_url, assignment, student, status, results, reason):
    """Write one student's caged scores into the gradebook; returns the total score."""
    from nbgrader.api import Gradebook, MissingEntry
    with Gradebook(db_url) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            raise BridgeError(f"the gradebook has no submission of {assignment} by {student}; "
                              "did `nbgrader autograde` skip it? (see its log above)") from None
        scores = split_scores(results, assignment) if status == GRADED else {}
        cells = {grade.name: grade for nb in submission.notebooks for grade in nb.grades}
        missing = sorted(set(scores) - set(cells))
        if missing:
            raise BridgeError(f"{assignment} in the gradebook has no grade cells {', '.join(missing)}: "
                              "was it generated from this solutions/ notebook?")
        for name, grade in cells.items():
            if status == GRADED and name in scores:
                grade.auto_score = scores[name][0]
                grade.needs_manual_grade = grade.manual_score is not None
            elif status != GRADED:
                grade.auto_score = 0.0
                grade.needs_manual_grade = True
        for comment in (c for nb in submission.notebooks for c in nb.comments):
            if status != GRADED:
                comment.auto_comment = f"Not graded by the caged grader: {reason}"
            elif cell_notes(results, comment.name):
                comment.auto_comment = "Caged grader: " + " ".join(cell_notes(results, comment.name))
        gb.db.commit()
        return gb.find_submission(assignment, student).score


def cell_notes(results, grade_id):
    """Lines of a graded results.json's output about the answer cell `grade_id` (the cage's
    report of a cell that crashed its process, hung or raised), stripped."""
    return [ln.strip() for ln in results["output"].splitlines() if f"({grade_id})" in ln]


def submitted(root, config, assignment, students=()):
    """Sorted [student] whose submitted/<student>/<assignment>/ folder exists."""
    base = Path(root) / config.CourseDirectory.get("submitted_directory", "submitted")
    found = sorted(p.parent.name for p in base.glob(f"*/{assignment}") if p.is_dir())
    missing = sorted(set(students) - set(found))
    if missing:
        raise BridgeError(f"no submission of {assignment} in {base} for: {', '.join(missing)}")
    found = [s for s in found if not students or s in students]
    if not found:
        raise BridgeError(f"no submissions of {assignment} under {base}/<student>/{assignment}/")
    return [(s, base / s / assignment) for s in found]


def score(assignment, root=".", out=None, jobs=1, students=(), log=sys.stdout):
    """Caged grading of submitted/*/<assignment>, then nbgrader autograde and the gradebook.

    Returns [(student, score, status, note)]: the reason of an error, else what the cage
    reported about the answer cells (a crash, a hang), else "".
    """
    graded(assignment)
    root = Path(root).resolve()
    out = (Path(out) if out else root / "build" / "nbgrader-caged" / assignment).resolve()
    config = course_config(root, out)
    subs = submitted(root, config, assignment, students)
    # nbgrader runs `alembic` from PATH to migrate the gradebook: put this venv's bin first
    env = dict(os.environ, **{RESULTS_ENV: str(out),
                              "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                                       os.environ.get("PATH", "")])})
    steps = [[sys.executable, "-m", "autograder", "grade", *(str(p) for _, p in subs),
              "--out", str(out), "--force", "--jobs", str(jobs)]]
    steps += [[sys.executable, "-m", "nbgrader", "autograde", assignment, "--force", *who]
              for who in ([[f"--student={s}"] for s, _ in subs] if students else [[]])]
    for cmd in steps:
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        log.write(done.stdout)
        if done.returncode != 0:
            raise BridgeError(f"`{' '.join(cmd[2:4])}` failed (exit {done.returncode}):\n"
                              f"{done.stderr[-3000:]}")
        if cmd[2] == "autograder":            # the caged results are in: no stale receipts
            for receipt in out.glob(f"*/*/{RECEIPT}"):
                receipt.unlink()
    unscored = [s for s, _ in subs if not (out / s / assignment / RECEIPT).exists()]
    if unscored:
        raise BridgeError(f"nbgrader autograde did not score {', '.join(unscored)} from the caged "
                          f"results:\n{done.stderr[-3000:]}")
    db_url = config.CourseDirectory.db_url
    rows = []
    for student, _ in subs:
        status, results, reason = load_results(out, student, assignment)
        total = write_gradebook(db_url, assignment, student, status, results, reason)
        notes = reason if status != GRADED else " ".join(
            n for g in graded(assignment) for n in cell_notes(results, g.function))
        rows.append((student, total, status, notes))
    return rows


def register(subparsers):
    """Add the `nbgrader` subcommand to the CLI's subparsers."""
    p = subparsers.add_parser("nbgrader", help="caged scores into nbgrader's gradebook",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("assignment", help="assignment id, e.g. a3_im2col")
    p.add_argument("--student", action="append", default=[], metavar="ID",
                   help="only this student (repeatable); default: every submission")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the caged results (default: build/nbgrader-caged/<assignment>)")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    p.set_defaults(func=run)
    return p


def run(args):
    try:
        rows = score(args.assignment, out=args.out, jobs=args.jobs, students=args.student)
    except (BridgeError, ValueError) as e:
        print(f"nbgrader: {e}", file=sys.stderr)
        return 1
    width = max(len(r[0]) for r in rows)
    print(f"\n{'student'.ljust(width)}  score  status")
    for student, total, status, note in rows:
        print(f"{student.ljust(width)}  {total:5.1f}  {status}{'  ' + note if note else ''}")
    problems = [r for r in rows if r[2] != GRADED]
    print(f"\n{len(rows)} submission(s) of {args.assignment} scored into the gradebook; "
          f"{len(problems)} could not be graded and are flagged `needs manual grade` in formgrader.")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder")
    register(parser.add_subparsers(required=True))
    args = parser.parse_args(["nbgrader", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
