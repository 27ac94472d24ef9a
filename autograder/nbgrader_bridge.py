"""Caged scoring inside the nbgrader workflow: the caged verdicts are the only ones nbgrader grades with.

    python -m autograder nbgrader a3_im2col [--student ID ...] [--out DIR] [--jobs N]

run from the course root (where nbgrader_config.py is), after `nbgrader collect` or a JupyterHub
exchange has filled submitted/<student>/a3_im2col/.

With the course's nbgrader_config.py, nbgrader's autograde never runs student code in its kernel:
the config swaps nbgrader's Execute preprocessor for `CagedVerdicts` and adds `CagedGradebook`
after SaveAutoGrades, for every way nbgrader grades (`nbgrader autograde`, formgrader's Autograde
button, `NbGraderAPI.autograde`). For each notebook nbgrader autogrades, CagedVerdicts looks up
the caged grader's results.json of exactly that submitted file (submitted/<student>/<id>/<id>.ipynb)
under the results folder (default build/nbgrader-caged/<assignment>, or CONV_CAGED_RESULTS); if
there is none, or the notebook changed since, it cages the notebook on demand
(`python -m autograder grade <that notebook>`) and reads the new verdict. It writes each grade
cell's output (the verdicts as text, the score as the cell's partial credit); CagedGradebook then
writes the exact scores into the gradebook, per function f: grade cell `test_<f>` gets the points
of f's public tests, `hidden_<f>` those of its hidden tests (autograder.contract fixes both
maxima and the bridge checks them). A submission the caged grader could not grade (a crash, a
hang, no result, a notebook of another assignment) scores 0 with `needs_manual_grade` set and the
reason as the answer cells' comment: reported, never a silent zero.

`python -m autograder nbgrader` does the same for a whole class, fast: it cages every submission
in parallel first (so nbgrader finds every verdict fresh), runs `nbgrader autograde`, and flags a
notebook nbgrader itself cannot read (an empty file, truncated JSON, broken nbgrader metadata)
as needing a manual grade, with the reason, instead of stopping: the command exits 0 whenever the
gradebook holds a row for every submission, and its summary lists each problem.

Plain in-kernel autograde (the hidden cells call autograder.incell.run_hidden_tests in the
student's kernel) runs only on purpose, for practice: CONV_PRACTICE_IN_KERNEL=1 in the
environment of nbgrader. Student code then shares the kernel with the tests.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from autograder.contract import ASSIGNMENTS, graded, hidden_test_id, visible_test_id
from autograder.config import SUBMISSION_TIMEOUT_S
from autograder.incell import PRACTICE_ENV
from autograder.report import ERROR, GRADED, grader_version
from autograder.submissions import student_folder

RESULTS_ENV = "CONV_CAGED_RESULTS"        # the results folder, instead of DEFAULT_RESULTS
DEFAULT_RESULTS = "build/nbgrader-caged/{assignment}"      # under the course root
RECEIPTS = ".nbgrader-receipts"           # RESULTS/RECEIPTS/<student>.json: what nbgrader recorded
CAGED = "autograder.nbgrader_bridge.CagedVerdicts"
CAGED_GRADEBOOK = "autograder.nbgrader_bridge.CagedGradebook"
HIDDEN_MARK = "BEGIN HIDDEN TESTS"
DIGITS = 4                                # results.json's precision for points
# results.json rounds every test's points to 4 decimals; a cell's tests may add up to its points
# give or take this much (a cell's score is capped at its points).
SPLIT_TOLERANCE = 0.01
ON_DEMAND_TIMEOUT_S = SUBMISSION_TIMEOUT_S + 60


class BridgeError(RuntimeError):
    """The caged results and the gradebook do not fit together; the message says where."""


# --------------------------------------------------------------------------- results -> cells
def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def cell_score(tests):
    """Exact points of a grade cell's tests: summed with math.fsum, rounded to results.json's
    4 decimals (35, never 34.99999999999999)."""
    return round(math.fsum(t["score"] for t in tests), DIGITS)


def split_scores(results, assignment):
    """{grade_id: (score, max_score)} of every test cell, from one graded results.json dict.

    Test cell test_<f> gets f's public tests (visibility "visible"), hidden_<f> the others.
    BridgeError when a maximum differs from autograder.contract (a grader or split changed).
    """
    scores = {}
    for g in graded(assignment):
        mine = [t for t in results["tests"] if t["name"].startswith(g.function + ":")]
        for cell, tests, points in ((visible_test_id(g.function),
                                     [t for t in mine if t["visibility"] == "visible"], g.visible_points),
                                    (hidden_test_id(g.function),
                                     [t for t in mine if t["visibility"] != "visible"], g.hidden_points)):
            top = math.fsum(t["max_score"] for t in tests)
            if abs(top - points) > SPLIT_TOLERANCE:
                raise BridgeError(f"{assignment}: the tests of cell {cell} are worth {top:g} points "
                                  f"in results.json, but autograder.contract gives {points}")
            scores[cell] = (min(cell_score(tests), points), points)
    return scores


# --------------------------------------------------------------------------- finding verdicts
def results_folder(template, assignment, root):
    """The caged results folder of `assignment`: `template` with {assignment} filled in,
    relative to the course `root` unless absolute."""
    return (Path(root) / template.format(assignment=assignment)).resolve()


def _candidates(results_dir, student):
    """results.json files that may hold `student`'s verdicts: their own folder's first
    (OUT/<student_folder(student)>/<assignment>/), then every other one."""
    base = Path(results_dir)
    own = sorted((base / student_folder(student)).glob("*/results.json"))
    rest = sorted(p for p in base.glob("*/*/results.json")
                  if p not in own and not p.parts[-3].startswith("."))
    return own + rest


def _is_fresh(results, path, notebook, same_grader):
    """True when `results` (read from `path`) graded `notebook` as the file is now (and, if
    `same_grader`, with this grader): the same grader version and sha256 when results.json
    records them, else written after the notebook last changed."""
    version = results["extra_data"].get("grader_version")
    if same_grader and version and version != grader_version():
        return False
    digest = results["extra_data"].get("notebook_sha256")
    if digest:
        return str(digest).removeprefix("sha256:") == hashlib.sha256(notebook.read_bytes()).hexdigest()
    return path.stat().st_mtime >= notebook.stat().st_mtime


def find_verdict(results_dir, student, notebook, same_grader=True):
    """The results.json dict of the caged grading of the file `notebook` as `student`'s
    submission, if one exists and neither the file nor (if `same_grader`) the grader's code
    has changed since; else None."""
    notebook = Path(notebook).resolve()
    for path in _candidates(results_dir, student):
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
            extra = results["extra_data"]
            if extra["student"] != student or Path(extra["notebook"]).resolve() != notebook:
                continue
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _is_fresh(results, path, notebook, same_grader):
            return results
    return None


def judge(results, assignment, failure=""):
    """(status, results or None, reason) the gradebook gets from a notebook's caged results
    (None: there are none; `failure` says why, if known)."""
    if results is None:
        return ERROR, None, failure or "the caged grader left no result for this notebook"
    extra = results["extra_data"]
    found = extra.get("assignment")
    if found != assignment:
        what = f"a notebook of {found}" if found in ASSIGNMENTS else "a notebook of no assignment"
        return ERROR, None, (f"the notebook submitted for {assignment} is {what} (recognised by "
                             "the caged grader from its cells)")
    return extra.get("status", ERROR), results, extra.get("reason", "")


def cage(notebook, results_dir, cwd):
    """Grade the one file `notebook` with the caged grader (`python -m autograder grade`) into
    `results_dir`, replacing the folders it writes there. Returns "" or why it failed."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".on-demand-", dir=results_dir) as tmp:
        cmd = [sys.executable, "-m", "autograder", "grade", str(notebook), "--out", tmp, "--force"]
        try:
            done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                                  timeout=ON_DEMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return f"the caged grader did not finish within {ON_DEMAND_TIMEOUT_S:g} s"
        for found in sorted(Path(tmp).glob("*/*/results.json")):
            dest = results_dir / found.parent.relative_to(tmp)
            shutil.rmtree(dest, ignore_errors=True)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(found.parent), str(dest))
    return "" if done.returncode == 0 else \
        f"the caged grader failed (exit {done.returncode}): {done.stderr.strip()[-500:]}"


def receipt_path(results_dir, student):
    """Where CagedGradebook records what it wrote for `student` (any id is one file name)."""
    return Path(results_dir) / RECEIPTS / f"{quote(student, safe='')}.json"


# --------------------------------------------------------------------------- nbgrader preprocessors
def verdict_text(results, function):
    """What a student reads under the visible test cell of `function`: the public checks, the
    hidden tests in one line, then each failed test with its explanation (tests whose visibility
    is "hidden" are counted, never described)."""
    mine = [t for t in results["tests"] if t["name"].startswith(function + ":")]
    public = [t for t in mine if t["visibility"] == "visible"]
    hidden = [t for t in mine if t["visibility"] != "visible"]

    def line(tests, what):
        passed = sum(t["score"] >= t["max_score"] for t in tests)
        points = cell_score(tests), math.fsum(t["max_score"] for t in tests)
        return f"{what}: {passed} of {len(tests)} passed, {points[0]:.4g}/{points[1]:.4g} points"

    lines = [f"Caged grader, {function}", line(public, "public checks"), line(hidden, "hidden tests")]
    for t in mine:
        if t["score"] < t["max_score"] and t["visibility"] != "hidden":
            lines.append(f"[FAILED] {t['name']}")
            lines += ["    " + ln for ln in t["output"].strip().splitlines()]
    return "\n".join(lines) + "\n"


def _coursedir(preprocessor):
    """The CourseDirectory of the nbgrader converter running `preprocessor` (exporter's parent)."""
    from nbgrader.coursedir import CourseDirectory
    owner = preprocessor
    while owner is not None:
        if getattr(owner, "coursedir", None) is not None:
            return owner.coursedir
        owner = getattr(owner, "parent", None)
    return CourseDirectory(config=preprocessor.config)


class CagedVerdicts(NbGraderPreprocessor):
    """nbgrader autograde's stand-in for Execute: grade cell outputs from caged results.json.

    No student code runs in nbgrader. The verdict is the caged grader's results.json of the
    submitted file (submitted/<student>/<assignment>/<notebook>.ipynb); without one (or if the
    file changed since), the notebook is caged now. A graded submission's test cells get the
    verdicts (visible cells) and the score as an execute_result, which nbgrader's SaveAutoGrades
    records as partial credit. A submission that could not be graded gets an `error` output
    naming the reason (0 points); CagedGradebook then flags it for manual grading.
    """
    results_dir = Unicode(DEFAULT_RESULTS, help="the caged results folder ({assignment} is "
                          "replaced by the assignment id; relative to the course root)").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = _coursedir(self)
        student, assignment = info["student"], info["assignment"]
        notebook = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment),
                        f"{info['notebook']}.ipynb")
        results_dir = results_folder(self.results_dir, assignment, coursedir.root)
        results, failure = find_verdict(results_dir, student, notebook), ""
        if results is None:
            self.log.info("No caged verdict for %s yet: grading it in the cage now", notebook)
            failure = cage(notebook, results_dir, coursedir.root)
            results = find_verdict(results_dir, student, notebook, same_grader=False)  # just made
        self.status, self.results, self.reason = judge(results, assignment, failure)
        self.scores = split_scores(self.results, assignment) if self.status == GRADED else {}
        info["caged"] = {"status": self.status, "results": self.results, "reason": self.reason,
                         "scores": self.scores, "results_dir": str(results_dir)}
        return super().preprocess(nb, resources)

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
                "execute_result", data={"text/plain": repr(score)}, execution_count=None))
        return cell, resources


class CagedGradebook(NbGraderPreprocessor):
    """Runs after nbgrader's SaveAutoGrades: the gradebook gets CagedVerdicts' exact scores, a
    submission that could not be graded gets 0 with needs_manual_grade and the reason as its
    answer cells' comment, and a receipt (RESULTS/.nbgrader-receipts/<student>.json) records it."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook
        info = resources["nbgrader"]
        verdict = info.get("caged")
        if verdict is None:
            raise BridgeError("CagedGradebook runs after CagedVerdicts; the configuration lost it")
        with Gradebook(info["db_url"]) as gb:
            record = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            apply_verdict(record, verdict["status"], verdict["results"], verdict["reason"],
                          verdict["scores"])
            gb.db.commit()
        receipt = receipt_path(verdict["results_dir"], info["student"])
        receipt.parent.mkdir(parents=True, exist_ok=True)
        receipt.write_text(json.dumps({"student": info["student"], "notebook": info["notebook"],
                                       "status": verdict["status"], "reason": verdict["reason"],
                                       "note": summary_note(verdict["results"], info["assignment"])}))
        return nb, resources


def caged_autograde_preprocessors():
    """nbgrader's autograde preprocessors, Execute replaced by CagedVerdicts and CagedGradebook
    right after SaveAutoGrades."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute, SaveAutoGrades
    chain = []
    for p in Autograde.class_traits()["autograde_preprocessors"].default():
        chain.append(CagedVerdicts if p is Execute else p)
        if p is SaveAutoGrades:
            chain.append(CagedGradebook)
    return chain


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
def apply_verdict(record, status, results, reason, scores):
    """Write one caged verdict into an nbgrader SubmittedNotebook `record` (not committed):
    graded: each test cell its exact score; not graded: 0 on every grade cell, needs manual
    grade, and the reason as every answer cell's comment."""
    cells = {grade.name: grade for grade in record.grades}
    missing = sorted(set(scores) - set(cells))
    if missing:
        raise BridgeError(f"{record.assignment.name} in the gradebook has no grade cells "
                          f"{', '.join(missing)}: was it generated from this solutions/ notebook?")
    for name, grade in cells.items():
        if status == GRADED and name in scores:
            grade.auto_score = scores[name][0]
            grade.needs_manual_grade = grade.manual_score is not None
        elif status != GRADED:
            grade.auto_score = 0.0
            grade.needs_manual_grade = True
    for comment in record.comments:
        if status != GRADED:
            comment.auto_comment = f"Not graded by the caged grader: {reason}"
        elif cell_notes(results, comment.name):
            comment.auto_comment = "Caged grader: " + " ".join(cell_notes(results, comment.name))


def summary_note(results, assignment):
    """What the cage reported about the answer cells of a graded submission, in one line."""
    return " ".join(n for g in graded(assignment) for n in cell_notes(results, g.function)) \
        if results else ""


def cell_notes(results, grade_id):
    """What a graded results.json says about the answer cell `grade_id` (the cage's report of a
    cell that crashed its process, hung or raised): its extra_data problems and output lines
    naming "(<grade_id>)", stripped, each once."""
    lines = [*map(str, results["extra_data"].get("problems") or []), *results["output"].splitlines()]
    return list(dict.fromkeys(ln.strip() for ln in lines if f"({grade_id})" in ln))


# --------------------------------------------------------------------------- the whole class
def course_config(root, results_dir):
    """The course's nbgrader configuration as `nbgrader autograde` will load it for caged scoring.

    BridgeError unless it swaps Execute for CagedVerdicts (and adds CagedGradebook) with
    `results_dir` as the results folder: an nbgrader that ignored the file (a config error only
    logs) would run the student's code in its kernel.
    """
    from nbgrader.preprocessors import Execute
    from traitlets.config.loader import PyFileConfigLoader
    if os.environ.get(PRACTICE_ENV) == "1":
        raise BridgeError(f"{PRACTICE_ENV}=1 is set (in-kernel practice grading): unset it to score "
                          "with the caged grader")
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
    if f"{Execute.__module__}.Execute" in chain or not {CAGED, CAGED_GRADEBOOK} <= set(chain) or \
            config.CagedVerdicts.get("results_dir") != str(results_dir):
        raise BridgeError(f"{path} does not replace Execute by CagedVerdicts (results in "
                          f"{RESULTS_ENV}); refusing to run nbgrader autograde, which would run "
                          "student code")
    return config


def assignment_notebook(db_url, assignment):
    """The name of the one notebook of `assignment` in the gradebook (BridgeError otherwise)."""
    from nbgrader.api import Gradebook, MissingEntry
    with Gradebook(db_url) as gb:
        try:
            names = [nb.name for nb in gb.find_assignment(assignment).notebooks]
        except MissingEntry:
            raise BridgeError(f"the gradebook ({db_url}) has no assignment {assignment}: run "
                              f"`nbgrader generate_assignment {assignment}` first") from None
    if len(names) != 1:
        raise BridgeError(f"{assignment} has notebooks {names} in the gradebook; the caged "
                          "grader scores exactly one notebook per assignment")
    return names[0]


def submitted(root, config, assignment, students=()):
    """[(student, submitted/<student>/<assignment>/)] of every student folder present (names
    starting with "." are not students), or of `students`; never a deeper folder."""
    base = Path(root) / config.CourseDirectory.get("submitted_directory", "submitted")
    found = sorted(p.name for p in base.iterdir() if not p.name.startswith(".")
                   and (p / assignment).is_dir()) if base.is_dir() else []
    missing = sorted(set(students) - set(found))
    if missing:
        raise BridgeError(f"no submission of {assignment} in {base} for: {', '.join(missing)}")
    found = [s for s in found if not students or s in students]
    if not found:
        raise BridgeError(f"no submissions of {assignment} under {base}/<student>/{assignment}/")
    return [(s, base / s / assignment) for s in found]


def nbgrader_failures(log_text):
    """{student: the exception line} of each submission nbgrader autograde reported failing."""
    failures, student, last = {}, None, ""
    for line in log_text.splitlines():
        if "There was an error processing assignment:" in line:
            student, last = Path(line.split("assignment:", 1)[1].strip()).parent.name, ""
        elif student and line.startswith("[") and "Traceback" not in line:
            failures[student], student = last or "see nbgrader's log", None
        elif student and line.strip() and not line.strip().startswith("^"):
            last = line.strip()
    if student:
        failures[student] = last or "see nbgrader's log"
    return failures


def flag_unscored(db_url, assignment, student, reason):
    """0 and needs manual grade, with `reason`, for a submission nbgrader could not autograde."""
    from nbgrader.api import Gradebook
    with Gradebook(db_url) as gb:
        submission = gb.update_or_create_submission(assignment, student)
        for record in submission.notebooks:
            apply_verdict(record, ERROR, None, reason, {})
        gb.db.commit()


def gradebook_total(db_url, assignment, student):
    from nbgrader.api import Gradebook
    with Gradebook(db_url) as gb:
        return gb.find_submission(assignment, student).score


def _unscored_reason(out, student, notebook, failure):
    """Why nbgrader left `student`'s notebook unscored: the caged grader's reason if it could not
    grade it either, else nbgrader's own failure (with the caged score, for the staff)."""
    if not notebook.is_file():
        others = sorted(p.name for p in notebook.parent.glob("*.ipynb"))
        return (f"no {notebook.name} in {notebook.parent}" +
                (f" (found {', '.join(others)}; nbgrader grades {notebook.name} only)" if others else ""))
    status, results, reason = judge(find_verdict(out, student, notebook), notebook.parent.name)
    if status != GRADED:
        return reason
    return (f"nbgrader autograde could not process {notebook.name} ({failure}); the caged grader "
            f"scored it {results['score']:g}/{results['max_score']:g}")


def score(assignment, root=".", out=None, jobs=1, students=(), log=sys.stdout):
    """Caged grading of every submitted/<student>/<assignment>/<notebook>.ipynb, then nbgrader
    autograde (caged verdicts) and the gradebook; a notebook nbgrader cannot read is flagged.

    Returns [(student, score, status, note)]: the reason of an error, else what the cage
    reported about the answer cells (a crash, a hang), else "".
    """
    graded(assignment)
    root = Path(root).resolve()
    out = results_folder(str(out) if out else DEFAULT_RESULTS, assignment, root)
    config = course_config(root, out)
    db_url = config.CourseDirectory.db_url
    notebook = assignment_notebook(db_url, assignment)
    subs = [(s, folder / f"{notebook}.ipynb") for s, folder in submitted(root, config, assignment, students)]
    # nbgrader runs `alembic` from PATH to migrate the gradebook: put this venv's bin first
    env = dict(os.environ, **{RESULTS_ENV: str(out),
                              "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                                       os.environ.get("PATH", "")])})
    files = [str(path) for _, path in subs if path.is_file()]
    if files:
        cmd = [sys.executable, "-m", "autograder", "grade", *files, "--out", str(out), "--force",
               "--jobs", str(jobs)]
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        log.write(done.stdout)
        if done.returncode != 0:
            raise BridgeError(f"`autograder grade` failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    for student, _ in subs:                   # the receipts tell what this run scored
        receipt_path(out, student).unlink(missing_ok=True)
    failures = {}

    def autograde(who):
        done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--force",
                               *who], cwd=root, env=env, capture_output=True, text=True)
        failures.update(nbgrader_failures(done.stderr))

    for who in ([[f"--student={s}"] for s, _ in subs] if students else [[]]):
        autograde(who)
    if not students:     # some notebooks (a newer nbgrader schema) stop the whole class's run:
        for student, path in subs:                # the others are autograded one by one
            if not receipt_path(out, student).exists() and student not in failures and path.is_file():
                autograde([f"--student={student}"])
    rows = []
    for student, path in subs:
        receipt = receipt_path(out, student)
        if receipt.exists():
            status, reason, note = (json.loads(receipt.read_text())[k] for k in ("status", "reason", "note"))
        else:
            status = ERROR
            reason = _unscored_reason(out, student, path, failures.get(student, "see its log"))
            flag_unscored(db_url, assignment, student, reason)
        rows.append((student, gradebook_total(db_url, assignment, student), status,
                     reason if status != GRADED else note))
    return rows


def register(subparsers):
    """Add the `nbgrader` subcommand to the CLI's subparsers."""
    p = subparsers.add_parser("nbgrader", help="caged scores into nbgrader's gradebook",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("assignment", help="assignment id, e.g. a3_im2col")
    p.add_argument("--student", action="append", default=[], metavar="ID",
                   help="only this student (repeatable); default: every submission")
    p.add_argument("--out", type=Path, default=None,
                   help=f"folder for the caged results (default: {DEFAULT_RESULTS})")
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
        print(f"{student.ljust(width)}  {round(total, DIGITS):5g}  {status}{'  ' + note if note else ''}")
    problems = [r for r in rows if r[2] != GRADED]
    print(f"\n{len(rows)} submission(s) of {args.assignment} scored into the gradebook; "
          f"{len(problems)} could not be graded and are flagged `needs manual grade` in formgrader"
          + (":" if problems else "."))
    for student, _, _, note in problems:
        print(f"  {student}: {note}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder")
    register(parser.add_subparsers(required=True))
    args = parser.parse_args(["nbgrader", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
