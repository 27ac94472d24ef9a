"""nbgrader for real, with the repository's nbgrader_config.py, in a temporary copy of the course.

The plain round trip (generate_assignment, autograde, generate_feedback, export) works for every
assignment; the caged path (`python -m autograder nbgrader`) puts the sandbox's scores in the
gradebook, where no trick that fools an in-kernel test earns a point.
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

from autograder.assignments import ASSIGNMENTS

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


def _env():
    bin_dir = str(Path(sys.executable).parent)     # nbgrader runs `alembic` from PATH
    return dict(os.environ, PATH=os.pathsep.join([bin_dir, os.environ.get("PATH", "")]))


def _run(course, *args, timeout=1500):
    done = subprocess.run([sys.executable, "-m", *args], cwd=course, env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course's source tree, copied, with every assignment generated from solutions/."""
    root = tmp_path_factory.mktemp("course")
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for folder in ("autograder", "helpers", "solutions"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for assignment in ASSIGNMENTS:
        _run(root, "nbgrader", "generate_assignment", assignment, "--force")
    return root


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
    """Practice path: in-kernel hidden tests; full marks for the solutions, even when numpy warns."""
    for assignment in ASSIGNMENTS:
        _submit(course, "ref", assignment)
    _submit(course, "warn", "a1_naive", {"conv_output_size": WARN})
    for assignment in ASSIGNMENTS:
        _run(course, "nbgrader", "autograde", assignment, "--force")
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
            assert scores[(student, "a1_naive")] == pytest.approx(min(res["score"], 100), abs=0.01)
        else:                                  # never a silent zero: flagged, reason in the table
            assert flagged[student] and res["extra_data"]["reason"] in done.stdout, student
    assert scores[("ref", "a1_naive")] == pytest.approx(100)
    assert scores[("warn", "a1_naive")] == pytest.approx(100)
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
        notes[student] = [ln.strip() for ln in res["output"].splitlines() if "(conv_forward_naive)" in ln]
        assert notes[student] and notes[student][0] in done.stdout, (student, res["output"])
    _run(course, "nbgrader", "generate_feedback", "a1_naive", "--force")
    for student in students:
        page = _feedback(course, student, "a1_naive")
        assert not [m for m in HIDDEN_SOURCE if m in page], student
    assert "Caged grader, conv_forward_naive" in _feedback(course, "wrong", "a1_naive")
    for student, lines in notes.items():       # the answer cell's comment in the feedback
        assert html.escape(lines[0], quote=False) in _feedback(course, student, "a1_naive"), student
