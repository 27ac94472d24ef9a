"""nbgrader for real, with the repository's nbgrader_config.py, in a temporary copy of the course.

The in-kernel practice round trip (CONV_PRACTICE_IN_KERNEL=1: generate_assignment, autograde,
generate_feedback, export) works for every assignment; every other way nbgrader grades is caged:
`python -m autograder nbgrader`, plain `nbgrader autograde` and formgrader's Autograde button
(NbGraderAPI.autograde) put the sandbox's exact scores in the gradebook, where no trick that fools
an in-kernel test earns a point, and a notebook nobody can grade is flagged, never a crash.
"""
import csv
import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.contract import ASSIGNMENTS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
HIDDEN_SOURCE = ("BEGIN HIDDEN TESTS", "run_hidden_tests", "autograder.incell")

# conv_forward_naive with the kernel flipped (a true convolution): wrong on every case with f > 1.
WRONG = '''
def conv_forward_naive(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = xp[i * stride:i * stride + f, j * stride:j * stride + f]
            out[i, j] = np.tensordot(w[:, ::-1, ::-1, :], window, axes=([1, 2, 3], [0, 1, 2])) + b[:, None]
    return out
'''

# Each trick rides on the same wrong answer; in a shared kernel each can fake a pass.
TRICKS = {
    "allclose": WRONG + '''
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
''',
    "liar": WRONG + '''
_wrong = conv_forward_naive
class _Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)
    def __ne__(self, other):
        return np.zeros(self.shape, dtype=bool)
def conv_forward_naive(x, w, b, stride=1, pad=0):
    return _wrong(x, w, b, stride, pad).view(_Liar)
''',
    "hook": WRONG + '''
try:
    get_ipython().events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
except NameError:
    pass
''',
    "transformer": WRONG + '''
try:
    get_ipython().input_transformers_post.append(lambda lines: [])
except NameError:
    pass
''',
    "peek": WRONG + '''
_wrong = conv_forward_naive
def conv_forward_naive(x, w, b, stride=1, pad=0):
    try:
        from autograder.reference import conv_forward_naive as answer
        return answer(x, w, b, stride, pad)
    except Exception:
        pass
    import pathlib, sqlite3
    for folder in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents]:
        if (folder / "gradebook.db").exists():
            row = sqlite3.connect(str(folder / "gradebook.db")).execute(
                "select source from source_cell where name = 'conv_forward_naive'").fetchone()
            space = {"np": np, "zero_pad": zero_pad, "conv_output_size": conv_output_size}
            exec(row[0], space)
            return space["conv_forward_naive"](x, w, b, stride, pad)
    return _wrong(x, w, b, stride, pad)
''',
}
# The process running the student's code dies, or will not stop when interrupted.
CRASH = WRONG + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
HANG = WRONG + '''
import time
while True:
    try:
        time.sleep(0.2)
    except KeyboardInterrupt:
        pass
'''
# A correct conv_output_size that makes numpy warn on every call.
WARN = '''
_quiet_size = conv_output_size
def conv_output_size(n, f, stride=1, pad=0):
    np.log(np.zeros(1))              # RuntimeWarning: divide by zero
    return _quiet_size(n, f, stride, pad)
'''


PRACTICE = {"CONV_PRACTICE_IN_KERNEL": "1"}


def _env(**extra):
    bin_dir = str(Path(sys.executable).parent)     # nbgrader runs `alembic` from PATH
    env = {k: v for k, v in os.environ.items() if k not in ("CONV_PRACTICE_IN_KERNEL", "CONV_CAGED_RESULTS")}
    return dict(env, PATH=os.pathsep.join([bin_dir, os.environ.get("PATH", "")]), **extra)


def _run(course, *args, timeout=1500, env=None):
    done = subprocess.run([sys.executable, "-m", *args], cwd=course, env=_env(**(env or {})),
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _course(root, assignments):
    """The course's source tree copied to `root`, `assignments` generated from solutions/."""
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for folder in ("autograder", "helpers", "solutions"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for assignment in assignments:
        _run(root, "nbgrader", "generate_assignment", assignment, "--force")
    return root


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course with every assignment generated."""
    return _course(tmp_path_factory.mktemp("course"), ASSIGNMENTS)


def _submit(course, student, assignment, extra=None):
    """The release notebook with the solutions' answers typed in; `extra` {function: code}
    replaces (WRONG...) or extends (WARN) an answer, as a student edits an answer cell."""
    release = nbformat.read(str(course / "notebooks" / assignment / f"{assignment}.ipynb"), 4)
    solution = nbformat.read(str(course / "solutions" / assignment / f"{assignment}.ipynb"), 4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[grade_id]
            code = (extra or {}).get(grade_id)
            if code is not None:
                cell.source = cell.source + "\n" + code if code is WARN else code
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(release, str(folder / f"{assignment}.ipynb"))


def _export(course):
    """{(student, assignment): score} from `nbgrader export`."""
    _run(course, "nbgrader", "export", "--to", "export.csv")
    with (course / "export.csv").open(newline="") as fh:
        return {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(fh)}


def _feedback(course, student, assignment):
    return (course / "feedback" / student / assignment / f"{assignment}.html").read_text()


def test_release_notebooks_hold_no_solutions_or_hidden_tests(course):
    for assignment in ASSIGNMENTS:
        text = (course / "notebooks" / assignment / f"{assignment}.ipynb").read_text()
        for marker in ("BEGIN SOLUTION", *HIDDEN_SOURCE):
            assert marker not in text, (assignment, marker)


def test_plain_round_trip_for_every_assignment(course):
    """Practice path, on purpose only: in-kernel hidden tests; full marks for the solutions, even
    when numpy warns."""
    for assignment in ASSIGNMENTS:
        _submit(course, "ref", assignment)
    _submit(course, "warn", "a1_naive", {"conv_output_size": WARN})
    for assignment in ASSIGNMENTS:
        _run(course, "nbgrader", "autograde", assignment, "--force", env=PRACTICE)
        _run(course, "nbgrader", "generate_feedback", assignment, "--force")
    scores = _export(course)
    for assignment in ASSIGNMENTS:
        assert scores[("ref", assignment)] == pytest.approx(100), assignment
        page = _feedback(course, "ref", assignment)
        assert not [m for m in HIDDEN_SOURCE if m in page], assignment
    assert scores[("warn", "a1_naive")] == pytest.approx(100)   # a RuntimeWarning costs nothing


def test_caged_scores_in_the_gradebook_resist_every_trick(course):
    from nbgrader.api import Gradebook

    students = {"ref": None, "warn": {"conv_output_size": WARN},
                "wrong": {"conv_forward_naive": WRONG}, "crash": {"conv_forward_naive": CRASH},
                "hang": {"conv_forward_naive": HANG},
                **{name: {"conv_forward_naive": code} for name, code in TRICKS.items()}}
    for student, extra in students.items():
        _submit(course, student, "a1_naive", extra)
    done = _run(course, "autograder", "nbgrader", "a1_naive", "--jobs", "2")
    assert "scored into the gradebook" in done.stdout

    caged = course / "build" / "nbgrader-caged" / "a1_naive"
    results = {s: json.loads((caged / s / "a1_naive" / "results.json").read_text()) for s in students}
    scores = _export(course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        flagged = {s: gb.find_submission("a1_naive", s).needs_manual_grade for s in students}

    for student, res in results.items():
        if res["extra_data"]["status"] == "graded":
            # the gradebook holds exactly the sandbox's score (each cell capped at its points)
            assert scores[(student, "a1_naive")] == min(res["score"], 100)     # exact
        else:                                  # never a silent zero: flagged, reason in the table
            assert flagged[student] and res["extra_data"]["reason"] in done.stdout, student
    assert scores[("ref", "a1_naive")] == 100
    assert scores[("warn", "a1_naive")] == 100
    wrong = scores[("wrong", "a1_naive")]
    assert wrong < 90
    for trick in TRICKS:
        assert scores[(trick, "a1_naive")] <= wrong + 1e-6, trick
    notes = {}
    for student in ("crash", "hang"):          # reported, never a silent zero: either an error
        res = results[student]                 # flagged for a look, or what the cage said about
        if res["extra_data"]["status"] == "error":              # the answer cell, shown with it
            assert flagged[student], student
            continue
        assert scores[(student, "a1_naive")] <= wrong + 1e-6, student
        said = [*res["extra_data"].get("problems", []), *res["output"].splitlines()]
        notes[student] = [ln.strip() for ln in said if "(conv_forward_naive)" in ln]
        if not notes[student]:                 # the trick did not stop the cell (in its own PID
            assert scores[(student, "a1_naive")] == wrong, student      # namespace the child
            del notes[student]                  # cannot SIGKILL itself): graded like `wrong`
            continue
        assert notes[student][0] in done.stdout, (student, res["output"])
    _run(course, "nbgrader", "generate_feedback", "a1_naive", "--force")
    for student in students:
        page = _feedback(course, student, "a1_naive")
        assert not [m for m in HIDDEN_SOURCE if m in page], student
    assert "Caged grader, conv_forward_naive" in _feedback(course, "wrong", "a1_naive")
    for student, lines in notes.items():       # the answer cell's comment in the feedback
        assert html.escape(lines[0], quote=False) in _feedback(course, student, "a1_naive"), student


def _results_of(course, student):
    """The caged results.json nbgrader scored `student`'s a1_naive from (build/nbgrader-caged)."""
    caged = course / "build" / "nbgrader-caged" / "a1_naive"
    notebook = (course / "submitted" / student / "a1_naive" / "a1_naive.ipynb").resolve()
    found = [json.loads(p.read_text()) for p in caged.glob("*/*/results.json")]
    (mine,) = [r for r in found if r["extra_data"]["student"] == student
               and Path(r["extra_data"]["notebook"]).resolve() == notebook]
    return mine


def _gradebook(course, students):
    """{student: (score, needs_manual_grade, [answer-cell comments])} of a1_naive."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        rows = {}
        for s in students:
            sub = gb.find_submission("a1_naive", s)
            rows[s] = (sub.score, sub.needs_manual_grade,
                       [c.auto_comment or "" for nb in sub.notebooks for c in nb.comments])
        return rows


CHEATS = {"wrong": {"conv_forward_naive": WRONG}, "ref": None,
          **{name: {"conv_forward_naive": code} for name, code in TRICKS.items()}}


def test_plain_nbgrader_autograde_is_caged_even_without_a_caged_run(course):
    """`nbgrader autograde` with the course config and no verdict yet: each notebook is caged on
    demand, every trick scores no more than the wrong answer it rides on, scores are exact."""
    students = {f"plain_{name}": extra for name, extra in CHEATS.items()}
    for student, extra in students.items():
        _submit(course, student, "a1_naive", extra)
    shutil.rmtree(course / "build" / "nbgrader-caged", ignore_errors=True)
    for student in students:
        _run(course, "nbgrader", "autograde", "a1_naive", "--force", f"--student={student}")
    book = _gradebook(course, students)
    for student in students:
        res = _results_of(course, student)       # made on demand by CagedVerdicts
        assert res["extra_data"]["status"] == "graded", (student, res["extra_data"])
        assert book[student][0] == res["score"], student             # exact, not approx
    assert book["plain_ref"][0] == 100
    wrong = book["plain_wrong"][0]
    assert wrong < 90
    for trick in TRICKS:
        assert book[f"plain_{trick}"][0] <= wrong, trick


def test_formgrader_autograde_button_is_caged(course, monkeypatch):
    """formgrader's Autograde button calls NbGraderAPI.autograde in the server process with the
    course config: the same caged verdicts, caged on demand."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    for student, extra in (("api_wrong", {"conv_forward_naive": WRONG}),
                           ("api_liar", {"conv_forward_naive": TRICKS["liar"]}),
                           ("api_peek", {"conv_forward_naive": TRICKS["peek"]})):
        _submit(course, student, "a1_naive", extra)
    for var, value in _env().items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("CONV_PRACTICE_IN_KERNEL", raising=False)
    monkeypatch.chdir(course)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for student in ("api_wrong", "api_liar", "api_peek"):
        result = api.autograde("a1_naive", student)
        assert result["success"], result.get("error") or result.get("log")
    book = _gradebook(course, ["api_wrong", "api_liar", "api_peek"])
    for student, (total, _, _) in book.items():
        assert total == _results_of(course, student)["score"], student
    assert book["api_liar"][0] <= book["api_wrong"][0] < 90
    assert book["api_peek"][0] <= book["api_wrong"][0]


def test_broken_notebooks_are_flagged_and_honest_ones_scored(tmp_path):
    """The class's command among an empty file, a truncated notebook, another assignment's
    notebook and one whose nbgrader metadata stops nbgrader's whole run (a newer schema): those
    get 0 with needs manual grade and the reason as comment, a summary line each; the honest
    ones their scores; exit 0. A notebook nested in an honest student's folder is graded for
    nobody."""
    course = _course(tmp_path / "course", ["a1_naive", "a2_partial"])
    _submit(course, "b_honest", "a1_naive")
    _submit(course, "b_wrong", "a1_naive", {"conv_forward_naive": WRONG})
    honest = (course / "submitted" / "b_honest" / "a1_naive" / "a1_naive.ipynb").read_text()
    for student, text in (("b_empty", ""), ("b_truncated", honest[:len(honest) // 2])):
        folder = course / "submitted" / student / "a1_naive"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "a1_naive.ipynb").write_text(text)
    _submit(course, "b_other", "a2_partial")
    other = course / "submitted" / "b_other"
    (other / "a1_naive").mkdir(exist_ok=True)
    (other / "a2_partial" / "a2_partial.ipynb").rename(other / "a1_naive" / "a1_naive.ipynb")
    (other / "a2_partial").rmdir()
    _submit(course, "b_schema", "a1_naive")
    schema = course / "submitted" / "b_schema" / "a1_naive" / "a1_naive.ipynb"
    nb = nbformat.read(str(schema), 4)
    next(c for c in nb.cells if "nbgrader" in c.metadata).metadata["nbgrader"]["schema_version"] = 99
    nbformat.write(nb, str(schema))
    nested = course / "submitted" / "b_honest" / "a1_naive" / "mallory" / "a1_naive"
    nested.mkdir(parents=True)
    shutil.copy(course / "submitted" / "b_wrong" / "a1_naive" / "a1_naive.ipynb", nested)

    broken = ("b_empty", "b_truncated", "b_other", "b_schema")
    done = _run(course, "autograder", "nbgrader", "a1_naive", "--jobs", "2")    # asserts exit 0
    assert "Traceback" not in done.stdout + done.stderr
    book = _gradebook(course, ["b_honest", "b_wrong", *broken])
    assert book["b_honest"][:2] == (100, False), done.stdout[-3000:]
    assert book["b_wrong"][0] == _results_of(course, "b_wrong")["score"] < 90
    why = {"b_empty": ("empty", "not valid JSON"), "b_truncated": ("not valid JSON", "truncated"),
           "b_other": ("a2_partial",), "b_schema": ("nbgrader autograde could not process",)}
    summary = done.stdout.split("could not be graded", 1)[1]
    for student in broken:
        score, flagged, comments = book[student]
        assert score == 0 and flagged, student
        assert comments and all(any(w in c for w in why[student]) for c in comments), (student, comments)
        line = next(ln for ln in summary.splitlines() if ln.strip().startswith(student + ":"))
        assert any(w in line for w in why[student]), line
    caged = course / "build" / "nbgrader-caged" / "a1_naive"
    graded_for = {json.loads(p.read_text())["extra_data"]["student"] for p in caged.glob("*/*/results.json")}
    assert "mallory" not in graded_for
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert "mallory" not in {s.id for s in gb.students}


def test_in_kernel_hidden_tests_refuse_to_score_an_uncaged_autograde(monkeypatch):
    """An nbgrader that lost the course config would run the hidden cells in the student's
    kernel: there they refuse to score unless the practice flag says it is on purpose."""
    from autograder.incell import NotCaged, run_hidden_tests
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.delenv("CONV_PRACTICE_IN_KERNEL", raising=False)
    with pytest.raises(NotCaged, match="CONV_PRACTICE_IN_KERNEL=1"):
        run_hidden_tests("zero_pad", {"zero_pad": lambda x, pad: x})
