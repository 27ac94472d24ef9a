"""Batch grading: finding submissions (autograder.submissions), one worker per submission
(autograder.scheduler, autograder.worker), results.json in Gradescope's schema, grades.csv,
feedback.html, limits, reruns.

Most tests grade through a stand-in backend (STANDIN below, written to a temporary module that
the worker processes import): it loads notebooks and runs their code in-process, and grades each
function with one visible and one hidden test, so the scheduler's and the worker's own behaviour
is what is tested. The tests at the end grade with the real cage and graders (the real backend:
autograder.extract, sandbox, runner).
"""
import csv
import html
import importlib
import json
import re
import sys
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import config, report, scheduler, submissions
from autograder.calls import HangGuard
from autograder.contract import ASSIGNMENTS
from autograder.contract import FUNCTIONS as SPECS
from autograder.student import StudentTimeout
from test_contract_doc import first_column

ROOT = Path(__file__).resolve().parents[1]

# ---- the contract, as docs/CONTRACT.md states it (not read from the code under test) -----------
TOP_KEYS = {"score", "max_score", "execution_time", "output", "tests"}
OPTIONAL_TOP_KEYS = {"extra_data", "visibility", "stdout_visibility", "output_format", "leaderboard"}
TEST_KEYS = {"name", "number", "score", "max_score", "output", "visibility", "tags"}
VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}
KINDS = {"correctness", "contract", "timing", "memory", "robustness"}
MISCONCEPTIONS = set(first_column("Known mistakes"))
# the runner's failure:<kind> tags: a StudentError's kind, HangGuard's knock-on, or a wrong value
FAILURES = {"exception", "timeout", "crash", "missing", "bad-return", "not-called-again",
            "wrong-value"}
FUNCTIONS = {
    "a1_naive": {"conv_output_size", "zero_pad", "conv_forward_naive"},
    "a2_partial": {"conv_single_step", "conv_forward_partial"},
    "a3_im2col": {"im2col", "conv_forward_im2col"},
    "a4_backward": {"conv_backward_naive", "col2im", "conv_backward_im2col"},
    "a5_fft": {"conv_forward_fft"},
    "a6_cnn": {"max_pool_forward", "max_pool_backward", "cnn_forward", "cnn_backward"},
}


FULL = config.POINTS_PER_ASSIGNMENT


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_gradescope(results, assignment):
    """Assert `results` is a valid Gradescope results.json of `assignment` per docs/CONTRACT.md."""
    assert TOP_KEYS <= set(results), f"missing top-level keys {TOP_KEYS - set(results)}"
    assert set(results) <= TOP_KEYS | OPTIONAL_TOP_KEYS, set(results) - TOP_KEYS - OPTIONAL_TOP_KEYS
    assert _number(results["score"]) and _number(results["max_score"])
    assert _number(results["execution_time"]) and results["execution_time"] >= 0
    assert isinstance(results["output"], str) and results["output"].strip()
    assert results["max_score"] == FULL
    assert 0 <= results["score"] <= results["max_score"]
    assert isinstance(results["tests"], list)
    for t in results["tests"]:
        assert set(t) == TEST_KEYS, t
        assert isinstance(t["name"], str) and isinstance(t["output"], str)
        assert isinstance(t["number"], str) and re.fullmatch(r"\d+\.\d+", t["number"])
        assert _number(t["score"]) and _number(t["max_score"]) and 0 <= t["score"] <= t["max_score"]
        assert t["visibility"] in VISIBILITIES
        assert isinstance(t["tags"], list) and all(isinstance(tag, str) for tag in t["tags"])
        functions = [tag.split(":", 1)[1] for tag in t["tags"] if tag.startswith("function:")]
        kinds = [tag.split(":", 1)[1] for tag in t["tags"] if tag.startswith("kind:")]
        mistakes = [tag.split(":", 1)[1] for tag in t["tags"] if tag.startswith("misconception:")]
        failures = [tag.split(":", 1)[1] for tag in t["tags"] if tag.startswith("failure:")]
        assert len(functions) == 1 and functions[0] in FUNCTIONS[assignment], t["tags"]
        assert len(kinds) == 1 and kinds[0] in KINDS, t["tags"]
        assert set(mistakes) <= MISCONCEPTIONS, t["tags"]
        assert len(failures) <= 1 and set(failures) <= FAILURES, t["tags"]
        assert not failures or t["score"] < t["max_score"], t
        assert len(functions) + len(kinds) + len(mistakes) + len(failures) == len(t["tags"]), t["tags"]
        assert t["name"].startswith(f"{functions[0]}: "), t["name"]
    numbers = [t["number"] for t in results["tests"]]
    assert len(set(numbers)) == len(numbers)
    if results["extra_data"]["status"] == "graded":
        assert abs(sum(t["max_score"] for t in results["tests"]) - FULL) < 1e-6
        assert abs(sum(t["score"] for t in results["tests"]) - results["score"]) < 1e-3


# ---- the stand-in backend --------------------------------------------------------------------
STANDIN = '''
"""Stand-in for autograder.extract / sandbox / runner with their interfaces."""
import ast
import json
import os
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from autograder.backend import Backend
from autograder.contract import ASSIGNMENTS, recognise
from autograder.sandbox import CellError, LoadReport
from autograder.student import InProcessStudent, StudentError


class SubmissionError(Exception):
    pass


@dataclass
class NotebookCode:
    assignment: str
    cells: list
    functions: list
    source: str
    problems: list = field(default_factory=list)


def load_submission(path, data=None):
    try:
        nb = json.loads(Path(path).read_bytes() if data is None else data)
    except ValueError as e:
        raise SubmissionError(f"not a notebook (not JSON: {e})") from None
    if nb.get("nbformat") != 4:
        raise SubmissionError(f"nbformat {nb.get('nbformat')} is not supported")
    cells, problems = [], []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:
            ast.parse(source)
        except SyntaxError as e:
            problems.append(f"cell skipped: syntax error on line {e.lineno}")
            continue
        cells.append(source)
    ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
    assignment = recognise(ids)
    if assignment is None:
        raise SubmissionError("no answer cell of any assignment")
    defined = {n.name for c in cells for n in ast.parse(c).body if isinstance(n, ast.FunctionDef)}
    return NotebookCode(assignment, cells, sorted(defined), "\\n".join(cells), problems)


def default_hidden_paths(*extra):
    return list(extra)


class SandboxStudent:
    """Isolation as $STANDIN_ISOLATION says (default full); partial refused unless allowed."""

    def __init__(self, cells, name="student", hidden_paths=(), allow_partial=False, scratch_root=None):
        self.cells, self.name = cells, name
        self.isolation = os.environ.get("STANDIN_ISOLATION", "full")
        self.isolation_note = "a stand-in: no cage at all" if self.isolation == "partial" else ""
        if self.isolation == "partial" and not allow_partial:
            raise RuntimeError("full isolation is impossible here; pass --allow-partial-isolation")

    def __enter__(self):
        code = "\\n".join(self.cells)
        if "STANDIN_CRASH" in code:
            os.kill(os.getpid(), signal.SIGKILL)
        if "STANDIN_HANG" in code:
            time.sleep(3600)
        namespace, errors = {}, []
        for index, cell in enumerate(self.cells):
            try:
                exec(cell, namespace)
            except Exception as e:
                errors.append(CellError(index, None, type(e).__name__, str(e)))
        self._student = InProcessStudent(namespace, code, self.name)
        self.load_report = LoadReport(seconds=0.25, skipped=[6], errors=errors)
        return self

    def __exit__(self, *exc):
        return False

    def __getattr__(self, attr):
        return getattr(self._student, attr)


@contextmanager
def reference_sandbox(allow_partial=False, scratch_root=None):
    yield InProcessStudent({"answer": lambda: 42})


@dataclass
class TestOutcome:
    name: str
    function: str
    kind: str
    visibility: str
    tags: list
    score: float
    max_score: float
    output: str
    status: str = "passed"
    nodeid: str = ""
    detail: str = ""
    ran: tuple = ()


def run_graders(assignment, student, reference_student=None, functions=None, include_public=True,
                seed=None):
    print(f"stand-in graders drew their numbers from seed {seed}", file=__import__("sys").stderr)
    if "STANDIN_GRADER_BUG" in student.source:
        raise RuntimeError("the grader tripped over itself")
    if "STANDIN_GRADER_ERROR" in student.source:
        return [TestOutcome("broken", fn, "contract", "visible", [], 0, g.points, "grader problem",
                            "error", detail="Traceback: secret grader line")
                for g in ASSIGNMENTS[assignment] for fn in [g.function]]
    expected = reference_student.call("answer")
    outcomes = []
    for g in ASSIGNMENTS[assignment]:
        fn = g.function
        defined = student.has(fn)
        outcomes.append(TestOutcome("is defined", fn, "contract", "visible", [],
                                    g.visible_points if defined else 0, g.visible_points,
                                    "" if defined else f"the notebook defines no {fn}"))
        nodeid = f"graders/test_x.py::test_{fn}"
        start = time.time()
        try:
            got, output, tags = student.call(fn), "", []
        except StudentError as e:
            got, output, tags = None, f"{fn} failed: {e}", []
        ran = (start, time.time())
        if got == -expected:
            output, tags = "the sign is flipped: hint, look at the kernel", ["misconception:true-convolution"]
        ok = got == expected
        kind = "timing" if g is ASSIGNMENTS[assignment][-1] else "correctness"
        outcomes.append(TestOutcome(f"{fn}: returns the answer", fn, kind,
                                    "after_due_date", tags, g.hidden_points if ok else 0,
                                    g.hidden_points, output or ("" if ok else f"got {got!r}"),
                                    "passed" if ok else "failed", nodeid, ran=ran))
    return outcomes


BACKEND = Backend(load_submission, SubmissionError, SandboxStudent, reference_sandbox,
                  default_hidden_paths, run_graders)
'''


@pytest.fixture
def standin(tmp_path, monkeypatch):
    """The stand-in Backend, from a module importable here and in the worker processes."""
    folder = tmp_path / "standin"
    folder.mkdir()
    (folder / "standin_backend.py").write_text(STANDIN)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", str(folder))
    monkeypatch.delitem(sys.modules, "standin_backend", raising=False)
    return importlib.import_module("standin_backend").BACKEND


# ---- notebooks --------------------------------------------------------------------------------
def notebook(assignment, bodies, extra=()):
    """An nbgrader-style notebook of `assignment`: a given cell, then one answer cell per function
    with the code in `bodies[function]` (default: return 42), then the `extra` code cells."""
    cells = [nbformat.v4.new_code_cell("import numpy as np")]
    for g in ASSIGNMENTS[assignment]:
        cell = nbformat.v4.new_code_cell(bodies.get(g.function, f"def {g.function}():\n    return 42"))
        cell.metadata["nbgrader"] = {"grade_id": g.function, "solution": True, "grade": False,
                                     "locked": False, "schema_version": 3}
        cells.append(cell)
    cells += [nbformat.v4.new_code_cell(code) for code in extra]
    return nbformat.v4.new_notebook(cells=cells)


def write_nb(path, nb):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))
    return path


def read_results(out, student, assignment):
    return json.loads((out / student / assignment / "results.json").read_text())


def read_csv(out):
    with (out / "grades.csv").open(newline="") as fh:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(fh)}


def grade(paths, out, standin, **kwargs):
    subs = submissions.find_submissions(paths, backend=standin)
    return scheduler.grade_batch(subs, out, backend=standin, **kwargs)


class Quiet:
    """A progress stream that is not a terminal and keeps what was written."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return False

    def write(self, text):
        self.text += text

    def flush(self):
        pass


# ---- finding submissions ----------------------------------------------------------------------
def found(paths):
    """[(candidate notebook, student)] of the Places under `paths`."""
    return [(n, place.student) for place in submissions.find_places(paths) for n in place.notebooks]


def test_student_comes_from_the_layout_else_the_file_stem(tmp_path):
    tree = tmp_path / "course" / "submitted"
    a = write_nb(tree / "ann" / "a1_naive" / "a1_naive.ipynb", notebook("a1_naive", {}))
    b = write_nb(tmp_path / "examples" / "bob" / "ps3" / "mine.ipynb", notebook("a3_im2col", {}))
    c = write_nb(tmp_path / "inbox" / "carla.ipynb", notebook("a2_partial", {}))
    d = write_nb(tmp_path / "dan" / "a5_fft" / "x.ipynb", notebook("a5_fft", {}))
    assert found([tree]) == [(a, "ann")]
    assert found([tree / "ann"]) == [(a, "ann")]
    assert found([tree / "ann" / "a1_naive"]) == [(a, "ann")]
    assert found([a]) == [(a, "ann")]
    assert found([tmp_path / "examples"]) == [(b, "bob")]
    assert found([tmp_path / "inbox"]) == [(c, "carla")]
    assert found([d]) == [(d, "dan")]
    dots = write_nb(tmp_path / "inbox" / "..ipynb", notebook("a1_naive", {}))
    assert found([dots]) == [(dots, "..ipynb")]     # never the folder "."


def test_checkpoints_are_not_submissions(tmp_path):
    nb = write_nb(tmp_path / "s" / "a1.ipynb", notebook("a1_naive", {}))
    write_nb(tmp_path / "s" / ".ipynb_checkpoints" / "a1-checkpoint.ipynb", notebook("a1_naive", {}))
    assert found([tmp_path / "s"]) == [(nb, "a1")]


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "no such file or folder"),
    (lambda p: (p / "notes.txt").write_text("hi") and p / "notes.txt", "not a notebook"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "holds no notebook"),
])
def test_bad_paths_are_usage_errors_naming_the_path(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(submissions.UsageError, match=message) as e:
        found([path])
    assert str(path) in str(e.value)


def test_assignment_is_recognised_from_the_notebook_not_the_folder(tmp_path, standin):
    write_nb(tmp_path / "sub" / "eve" / "a1_naive" / "a1_naive.ipynb", notebook("a4_backward", {}))
    [sub] = submissions.find_submissions([tmp_path / "sub"], backend=standin)
    assert (sub.student, sub.assignment, sub.problem) == ("eve", "a4_backward", "")


def test_two_notebooks_in_one_submission_folder_are_one_error(tmp_path, standin):
    write_nb(tmp_path / "eve" / "a1_naive" / "mine.ipynb", notebook("a1_naive", {}))
    write_nb(tmp_path / "eve" / "a1_naive" / "mine-Copy1.ipynb", notebook("a1_naive", {}))
    out = tmp_path / "out"
    rows = grade([tmp_path / "eve"], out, standin, stream=Quiet())
    assert [r["status"] for r in rows] == ["error"]
    results = read_results(out, "eve", "a1_naive")
    assert "2 notebooks" in results["output"] and "mine-Copy1.ipynb" in results["output"]
    assert "name the one to grade a1_naive.ipynb" in results["output"]


def test_the_notebook_named_after_its_folder_is_the_one_graded(tmp_path, standin):
    write_nb(tmp_path / "eve" / "a1_naive" / "a1_naive.ipynb", notebook("a1_naive", {}))
    write_nb(tmp_path / "eve" / "a1_naive" / "a1_naive-Copy1.ipynb",
             notebook("a1_naive", {"zero_pad": "def zero_pad():\n    return 0"}))
    out = tmp_path / "out"
    [row] = grade([tmp_path / "eve"], out, standin, stream=Quiet())
    assert (row["status"], row["score"]) == ("graded", f"{FULL}")
    problems = read_results(out, "eve", "a1_naive")["extra_data"]["problems"]
    assert problems == ["not graded: a1_naive-Copy1.ipynb (only a1_naive.ipynb is)"]


# ---- grading through workers ------------------------------------------------------------------
def test_results_json_follows_gradescope_schema(tmp_path, standin):
    src = tmp_path / "sub"
    write_nb(src / "ann" / "a3_im2col" / "a3_im2col.ipynb", notebook("a3_im2col", {}))
    write_nb(src / "bob" / "a3_im2col" / "a3_im2col.ipynb",
             notebook("a3_im2col", {"im2col": "def im2col():\n    return -42"}))
    out = tmp_path / "out"
    grade([src], out, standin, stream=Quiet())
    ann, bob = read_results(out, "ann", "a3_im2col"), read_results(out, "bob", "a3_im2col")
    for results in (ann, bob):
        check_gradescope(results, "a3_im2col")
        assert results["extra_data"]["status"] == "graded"
        assert "Sandbox isolation: full." in results["output"]
        assert "ran in 0.2 s" in results["output"]
        assert "left out after hanging: cell 7" in results["output"]
    assert ann["score"] == FULL
    assert bob["score"] == FULL - SPECS["im2col"].hidden_points       # its hidden test failed
    [flipped] = [t for t in bob["tests"] if t["score"] < t["max_score"]]
    assert flipped["name"] == "im2col: returns the answer"
    assert "misconception:true-convolution" in flipped["tags"]
    assert "true-convolution" in bob["output"]
    assert [t["number"] for t in ann["tests"]] == ["1.1", "1.2", "2.1", "2.2"]


def test_grades_csv_lists_every_submission_with_its_status(tmp_path, standin):
    src = tmp_path / "sub"
    write_nb(src / "ann" / "a5_fft" / "a5_fft.ipynb", notebook("a5_fft", {}))
    (src / "zed" / "a5_fft").mkdir(parents=True)
    (src / "zed" / "a5_fft" / "a5_fft.ipynb").write_text("{ this is not json")
    out = tmp_path / "out"
    rows = grade([src], out, standin, stream=Quiet())
    table = read_csv(out)
    assert list(csv.reader((out / "grades.csv").open()))[0] == [
        "student", "assignment", "score", "max_score", "status", "reason", "isolation"]
    assert table["ann", "a5_fft"]["status"] == "graded" and table["ann", "a5_fft"]["score"] == f"{FULL}"
    zed = table["zed", "a5_fft"]
    assert (zed["status"], zed["score"], zed["max_score"]) == ("error", "0", f"{FULL}")
    assert "not JSON" in zed["reason"]
    assert {(r["student"], r["status"]) for r in rows} == {("ann", "graded"), ("zed", "error")}


def test_broken_submissions_finish_and_each_is_marked(tmp_path, standin):
    src = tmp_path / "sub"

    def put(student, nb):
        return write_nb(src / student / "a2_partial" / "a2_partial.ipynb", nb)

    put("good", notebook("a2_partial", {}))
    (src / "notjson" / "a2_partial").mkdir(parents=True)
    (src / "notjson" / "a2_partial" / "a2_partial.ipynb").write_text("PK\x03\x04 zip bytes")
    old = notebook("a2_partial", {})
    old["nbformat"] = 3
    put("oldformat", old)
    put("syntax", notebook("a2_partial", {"conv_single_step": "def conv_single_step(:\n    pass"}))
    put("renamed", notebook("a2_partial", {"conv_forward_partial": "def conv_fwd():\n    return 42"}))
    put("duplicated", notebook("a2_partial", {}, extra=["def conv_single_step():\n    return 41"]))
    put("raises", notebook("a2_partial", {
        "conv_forward_partial": "def conv_forward_partial():\n    raise ValueError('<b>bad</b>')"}))
    put("hang", notebook("a2_partial", {}, extra=["STANDIN_HANG = 1"]))
    put("crash", notebook("a2_partial", {}, extra=["STANDIN_CRASH = 1"]))
    put("graderbug", notebook("a2_partial", {}, extra=["STANDIN_GRADER_BUG = 1"]))
    put("gradererror", notebook("a2_partial", {}, extra=["STANDIN_GRADER_ERROR = 1"]))
    out = tmp_path / "out"
    progress = Quiet()
    rows = grade([src], out, standin, jobs=2, timeout=4, stream=progress)
    table = read_csv(out)
    assert len(rows) == len(table) == 11
    status = {s: table[s, "a2_partial"]["status"] for s, _ in table}
    score = {s: float(table[s, "a2_partial"]["score"]) for s, _ in table}
    reason = {s: table[s, "a2_partial"]["reason"] for s, _ in table}
    # graded as far as possible: the broken function loses its points, the rest is graded
    step, partial = SPECS["conv_single_step"], SPECS["conv_forward_partial"]
    assert status["good"] == "graded" and score["good"] == FULL
    assert status["syntax"] == "graded" and score["syntax"] == FULL - step.points
    assert status["renamed"] == "graded" and score["renamed"] == FULL - partial.points
    assert status["duplicated"] == "graded" and score["duplicated"] == FULL - step.hidden_points
    assert status["raises"] == "graded" and score["raises"] == FULL - partial.hidden_points
    assert "syntax error" in read_results(out, "syntax", "a2_partial")["output"]
    # not gradable: an error with the reason, never a silent zero
    assert "not JSON" in reason["notjson"]
    assert "nbformat 3" in reason["oldformat"]
    assert "longer than the limit of 4 s" in reason["hang"]
    assert "killed by signal 9" in reason["crash"]
    assert "RuntimeError: the grader tripped over itself" in reason["graderbug"]
    assert "2 grader test(s) could not run" in reason["gradererror"]
    staff_log = (out / "gradererror" / "a2_partial" / "grading.log").read_text()
    assert "secret grader line" in staff_log
    assert "secret grader line" not in (out / "gradererror" / "a2_partial" / "results.json").read_text()
    for student in ("notjson", "oldformat", "hang", "crash", "graderbug", "gradererror"):
        assert status[student] == "error" and score[student] == 0, student
        results = read_results(out, student, "a2_partial")
        check_gradescope(results, "a2_partial")
        assert results["output"].startswith("Not graded: ")
    assert "11/11 graded" in progress.text and "6 error(s)" in progress.text


def test_rerun_keeps_only_what_is_unchanged_and_graded(tmp_path, standin):
    nb = write_nb(tmp_path / "sub" / "ann" / "a1_naive" / "a1_naive.ipynb", notebook("a1_naive", {}))
    crash = write_nb(tmp_path / "sub" / "cy" / "a1_naive" / "a1_naive.ipynb",
                     notebook("a1_naive", {}, extra=["STANDIN_CRASH = 1"]))
    out = tmp_path / "out"
    grade([tmp_path / "sub"], out, standin, stream=Quiet())
    first = read_results(out, "ann", "a1_naive")
    assert first["score"] == FULL and len(first["extra_data"]["notebook_sha256"]) == 64
    assert first["extra_data"]["grader_version"] == report.grader_version()
    # unchanged: kept, and said so; the error is retried (and errs again)
    progress = Quiet()
    rows = {r["student"]: r for r in grade([tmp_path / "sub"], out, standin, stream=progress)}
    assert read_results(out, "ann", "a1_naive") == first
    assert rows["ann"]["kept"] and "kept from an earlier run" in rows["ann"]["note"]
    assert not rows["cy"]["kept"] and rows["cy"]["status"] == "error"
    assert "kept from an earlier run: 1" in progress.text
    # the notebook changes (its bytes): regraded
    write_nb(nb, notebook("a1_naive", {"zero_pad": "def zero_pad():\n    return 0"}))
    write_nb(crash, notebook("a1_naive", {}))           # fixed: the retry now grades it
    rows = {r["student"]: r for r in grade([tmp_path / "sub"], out, standin, stream=Quiet())}
    regraded = FULL - SPECS["zero_pad"].hidden_points
    assert read_results(out, "ann", "a1_naive")["score"] == regraded
    assert read_csv(out)["ann", "a1_naive"]["score"] == f"{regraded}" and not rows["ann"]["kept"]
    assert rows["cy"]["status"] == "graded" and rows["cy"]["score"] == f"{FULL}"
    # another grader version: regraded
    results = read_results(out, "ann", "a1_naive")
    results["extra_data"]["grader_version"] = "an older grader"
    results["score"] = 7.0
    (out / "ann" / "a1_naive" / "results.json").write_text(json.dumps(results))
    [row] = [r for r in grade([tmp_path / "sub"], out, standin, stream=Quiet()) if r["student"] == "ann"]
    assert not row["kept"] and read_results(out, "ann", "a1_naive")["score"] == regraded
    # --force regrades what would be kept
    rows = grade([tmp_path / "sub"], out, standin, force=True, stream=Quiet())
    assert not any(r["kept"] for r in rows)


def test_results_are_written_atomically(tmp_path, standin):
    write_nb(tmp_path / "sub" / "ann" / "a1_naive" / "a1_naive.ipynb", notebook("a1_naive", {}))
    out = tmp_path / "out"
    grade([tmp_path / "sub"], out, standin, stream=Quiet())
    leftovers = [p.name for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    assert sorted(p.name for p in (out / "ann" / "a1_naive").iterdir()) == [
        "feedback.html", "grading.log", "results.json"]


def test_timing_records_say_where_the_time_went(tmp_path, standin):
    write_nb(tmp_path / "sub" / "ann" / "a4_backward" / "a.ipynb", notebook("a4_backward", {}))
    out = tmp_path / "out"
    grade([tmp_path / "sub"], out, standin, stream=Quiet())
    timing = read_results(out, "ann", "a4_backward")["extra_data"]["timing"]
    assert set(timing["seconds"]) >= {"extract", "startup", "graders", "student_calls",
                                      "reference_calls", "timing_tests", "teardown"}
    assert timing["calls"]["student_calls"] == 3 and timing["calls"]["reference_calls"] == 1
    # the stand-in's last function is graded by a timing test: its one student call counts
    assert 0 < timing["seconds"]["timing_tests"] < timing["seconds"]["student_calls"]
    assert timing["worker_seconds"] >= timing["seconds"]["graders"]


# ---- feedback.html ----------------------------------------------------------------------------
def test_feedback_escapes_student_strings_and_explains_mistakes(tmp_path, standin):
    bodies = {"conv_forward_naive": "def conv_forward_naive():\n"
                                    "    raise ValueError('<script>alert(1)</script>')",
              "zero_pad": "def zero_pad():\n    return -42"}
    write_nb(tmp_path / "sub" / "<ann>" / "a1_naive" / "a1_naive.ipynb", notebook("a1_naive", bodies))
    out = tmp_path / "out"
    grade([tmp_path / "sub"], out, standin, stream=Quiet())
    page = (out / submissions.student_folder("<ann>") / "a1_naive" / "feedback.html").read_text()
    assert submissions.student_folder("<ann>") == "%3Cann%3E"
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;ann&gt;" in page and "<ann>" not in page
    assert "Diagnosed mistake: <strong>true-convolution</strong>" in page
    assert "hint, look at the kernel" in page
    pad, naive = SPECS["zero_pad"], SPECS["conv_forward_naive"]     # hidden tests failed
    assert f"zero_pad: {pad.visible_points} / {pad.points}" in page
    assert f"conv_forward_naive: {naive.visible_points} / {naive.points}" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)   # opens offline


def _results(tests, status="graded"):
    return {"score": sum(t["score"] for t in tests), "max_score": 100, "execution_time": 1.0,
            "output": "ran", "tests": tests,
            "extra_data": {"student": "s", "assignment": "a3_im2col", "status": status,
                           "reason": "", "notebook": "n", "isolation": "full", "timing": {}}}


def _test(name, score, max_score, output="", tags=(), visibility="after_due_date"):
    function = name.split(":")[0]
    return {"name": name, "number": "1.1", "score": score, "max_score": max_score,
            "output": output, "visibility": visibility,
            "tags": [f"function:{function}", *tags]}


def test_feedback_shows_timings_and_hides_hidden_tests():
    tests = [_test("im2col: is fast", 0, 5, "took 31.0x the reference's time; the limit is 10x",
                   ["kind:timing"]),
             _test("im2col: secret case", 0, 5, "SECRET DETAIL", ["kind:correctness"], "hidden"),
             _test("im2col: shapes", 5, 5, "", ["kind:contract"])]
    page = report.feedback_html(_results(tests))
    assert "took 31.0x the reference&#x27;s time; the limit is 10x" in page
    assert "SECRET DETAIL" not in page and "secret case" not in page
    assert "0 of 1 further hidden checks passed" in page
    assert "shapes" in page


def test_grader_source_never_reaches_the_student():
    graders = sorted((ROOT / "autograder" / "graders").glob("*.py"))
    line = next((ln.strip() for p in graders for ln in p.read_text().splitlines()
                 if len(ln.strip()) > 30 and not ln.strip().startswith("#")),
                "assert np.allclose(got, expected), 'secret grader assertion'")
    leaked = ("Traceback (most recent call last):\n"
              f'  File "{ROOT}/autograder/graders/test_a3_im2col.py", line 12, in test_x\n'
              f"    {line}\n"
              "def test_secret_case(student):\n"
              "AssertionError: X_col has the wrong shape (9, 4)")
    tests = [_test("im2col: shapes", 0, 5, leaked, ["kind:contract"])]
    page = report.feedback_html(_results(tests))
    assert "def test_" not in page and "graders/test_a3_im2col.py" not in page
    assert "X_col has the wrong shape (9, 4)" in page
    if graders:     # the real graders' lines are hidden too (the fallback line only when absent)
        assert line not in page and html.escape(line) not in page


def test_error_feedback_says_not_graded():
    page = report.feedback_html(_results([], status="error") | {
        "extra_data": {**_results([])["extra_data"], "status": "error",
                       "reason": "the grading process was killed by signal 9"}})
    assert "Not graded:" in page and "killed by signal 9" in page and "Score" not in page


def test_score_table_lists_every_row():
    rows = [{"student": "bob", "assignment": "a1_naive", "score": "55", "max_score": "100",
             "status": "graded", "note": "mistakes: true-convolution"},
            {"student": "al", "assignment": "a1_naive", "score": "0", "max_score": "100",
             "status": "error", "note": "not JSON"}]
    lines = report.score_table(rows).splitlines()
    assert lines[0].split() == ["student", "assignment", "score", "status", "note"]
    assert lines[2].split()[:4] == ["al", "a1_naive", "0/100", "error"]
    assert lines[3].split()[:4] == ["bob", "a1_naive", "55/100", "graded"]
    assert lines[3].endswith("mistakes: true-convolution")


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    report.write_atomic(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(report.os, "replace", broken_replace)
    with pytest.raises(OSError):
        report.write_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


# ---- a hanging function costs one call limit ---------------------------------------------------
def test_a_function_that_timed_out_is_not_called_again():
    calls = []

    class Hangs:
        def call(self, name, *args):
            calls.append(name)
            if name == "slow":
                raise StudentTimeout("`slow` did not return within 20 s")
            return 1

    guard = HangGuard(Hangs())
    for _ in range(config.HANG_STRIKES):
        with pytest.raises(StudentTimeout, match="did not return"):
            guard.call("slow")
    with pytest.raises(StudentTimeout, match="not called again: it already timed out") as e:
        guard.call("slow")
    assert e.value.kind == "not-called-again"
    assert guard.call("fast") == 1
    assert calls == ["slow"] * config.HANG_STRIKES + ["fast"]
    assert guard.timeouts == {"slow": config.HANG_STRIKES}


# ---- the example submissions ------------------------------------------------------------------
# What each example student's answers are meant to show, function by function: "ok" (equals the
# reference), "hang", the misconception id autograder.misconceptions diagnoses, or, for mistakes
# no id names (a6's: its public checks name them), "raises" or "wrong" (differs, undiagnosed).
EXAMPLE_INTENT = {
    "alice": {f: "ok" for fs in FUNCTIONS.values() for f in fs},
    "bob": {"conv_output_size": "output-size-rounding", "zero_pad": "ok",
            "conv_forward_naive": "true-convolution", "conv_single_step": "ok",
            "conv_forward_partial": "missing-bias", "im2col": "im2col-row-order",
            "conv_forward_im2col": "ok", "conv_backward_naive": "dx-keeps-padding",
            "col2im": "col2im-overwrites-overlap",
            "conv_backward_im2col": "col2im-overwrites-overlap",
            "conv_forward_fft": "true-convolution",
            # pooling by a reshape into blocks (stride == pool only), every tied maximum gets the
            # gradient, no ReLU mask in the network's backward pass
            "max_pool_forward": "raises", "max_pool_backward": "wrong", "cnn_forward": "ok",
            "cnn_backward": "wrong"},
    "carol": {"conv_output_size": "ok", "zero_pad": "ok", "conv_forward_naive": "hang",
              "conv_single_step": "ok", "conv_forward_partial": "hang", "im2col": "ok",
              "conv_forward_im2col": "hang", "conv_backward_naive": "hang", "col2im": "ok",
              "conv_backward_im2col": "ok", "conv_forward_fft": "hang", "max_pool_forward": "ok",
              "max_pool_backward": "ok", "cnn_forward": "ok", "cnn_backward": "hang"},
}
ANSWERS = ROOT / "tools" / "example_answers"


def _example_call(function):
    """Arguments for `function`: a case with stride 2, pad 1, H != W (windows overlap)."""
    from autograder.cases import GRID
    case = GRID[1]
    x, w, b = case.arrays()
    rng, a6 = np.random.default_rng(7), np.random.default_rng(8)
    ties = a6.integers(0, 3, (8, 8, 2, 2)).astype(float)        # a6: tied maxima everywhere
    digits = (a6.random((8, 8, 1, 3)), a6.standard_normal((4, 5, 5, 1)), a6.standard_normal(4),
              a6.standard_normal((10, 4, 4, 4)))                # 8x8 images, pad 2, pool 2
    return {"max_pool_forward": (x, 3, 2),                       # overlapping 3x3 windows
            "max_pool_backward": (a6.standard_normal((4, 4, 2, 2)), ties, 2, 2),
            "cnn_forward": (*digits, a6.standard_normal(10), 2, 2),
            "cnn_backward": (a6.standard_normal((10, 3)), *digits, 2, 2),
            "conv_output_size": (8, 3, 2, 0),        # (8 - 3) / 2 does not divide: rounding shows
            "zero_pad": (x, case.pad),
            "conv_single_step": (x[:3, :3, :, 0], w, b),
            "im2col": (x, case.f, case.stride, case.pad),
            "col2im": (rng.standard_normal(case.col_shape), x.shape, case.f, case.stride, case.pad),
            }.get(function, (case.dout(), x, w, case.stride, case.pad) if "backward" in function
                  else (x, w, b, case.stride, case.pad))


@pytest.mark.parametrize("student", sorted(EXAMPLE_INTENT))
def test_example_answers_do_what_they_are_meant_to(student):
    from autograder import misconceptions, reference
    for assignment, functions in FUNCTIONS.items():
        namespace = {"np": np, **{f: getattr(reference, f) for f in      # the given functions
                                  ("conv_output_size", "im2col", "col2im", "conv_forward_im2col",
                                   "conv_backward_im2col")}}
        exec(compile((ANSWERS / student / f"{assignment}.py").read_text(), assignment, "exec"),
             namespace)
        for function in sorted(functions):
            intent = EXAMPLE_INTENT[student][function]
            if intent == "hang":
                continue              # graded (and stopped) in the slow tests below
            args = _example_call(function)
            if intent == "raises":
                with pytest.raises(Exception):
                    namespace[function](*args)
                continue
            got = namespace[function](*args)
            if intent == "ok":
                want = getattr(reference, function)(*args)
                for g, e in zip(got if isinstance(got, tuple) else (got,),
                                want if isinstance(want, tuple) else (want,)):
                    assert np.shape(g) == np.shape(e) and np.allclose(g, e), (student, function)
            elif intent == "wrong":
                want = getattr(reference, function)(*args)
                assert not misconceptions.values_match(got, want), (student, function)
                assert misconceptions.diagnose(function, args, {}, got) is None, (student, function)
            else:
                assert misconceptions.diagnose(function, args, {}, got) == intent, (student, function)


def test_answer_code_places_helpers_and_new_imports(tmp_path):
    from tools.make_examples import answer_code
    path = tmp_path / "answers.py"
    path.write_text(textwrap.dedent('''
        """module docstring"""
        import math
        import numpy as np


        def _half(n):
            return n // 2


        def zero_pad(x, pad):
            """docstring, left out"""
            # a comment kept with the body
            return np.pad(x, _half(2 * pad))


        def conv_output_size(n, f, stride=1, pad=0):
            return math.floor((n + 2 * pad - f) / stride) + 1
        '''))
    parts = answer_code(path, ["conv_output_size", "zero_pad"], {"import numpy as np"})
    assert parts["zero_pad"] == ("import math\n\n\ndef _half(n):\n    return n // 2",
                                 "# a comment kept with the body\nreturn np.pad(x, _half(2 * pad))")
    assert parts["conv_output_size"] == ("", "return math.floor((n + 2 * pad - f) / stride) + 1")
    with pytest.raises(ValueError, match="no function im2col"):
        answer_code(path, ["im2col"])


def test_examples_are_in_sync_with_the_release_notebooks():
    from tools.make_examples import build
    built, missing = build()
    assert missing == [], f"release notebooks missing: {missing}"
    stale = [str(p.relative_to(ROOT)) for p, text in built.items()
             if not p.exists() or p.read_text() != text]
    assert stale == [], "run `python -m tools.make_examples`: out of date " + ", ".join(stale)
    assert len(built) == len(EXAMPLE_INTENT) * len(FUNCTIONS)


# ---- broken submissions through the real cage and graders -------------------------------------
@pytest.mark.slow
def test_broken_real_notebooks_are_graded_as_far_as_possible(tmp_path):
    from tools.make_examples import RELEASE, answer_code, fill
    release = nbformat.read(RELEASE / "a1_naive" / "a1_naive.ipynb", as_version=4)
    functions = [g.function for g in ASSIGNMENTS["a1_naive"]]
    good = fill(release, answer_code(ANSWERS / "alice" / "a1_naive.py", functions,
                                     {"import numpy as np"}))
    src = tmp_path / "submitted"

    def variant(student, change=None):
        nb = json.loads(json.dumps(good))
        if change:
            change(nb)
        return write_nb(src / student / "a1_naive" / "a1_naive.ipynb", nb)

    def answer(nb, function):
        return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == function)

    def syntax(nb):
        answer(nb, "conv_output_size")["source"] += "\n    return (n +"

    def rename(nb):
        cell = answer(nb, "zero_pad")
        cell["source"] = cell["source"].replace("def zero_pad(", "def zero_padding(")

    def duplicate(nb):
        cell = json.loads(json.dumps(answer(nb, "conv_forward_naive")))
        cell["source"] = "def conv_forward_naive(x, w, b, stride=1, pad=0):\n    return x"
        cell["id"] = "duplicate-cell"
        nb["cells"].insert(nb["cells"].index(answer(nb, "conv_forward_naive")) + 1, cell)

    def old_format(nb):
        nb["nbformat"] = 3

    variant("good")
    variant("syntax", syntax)
    variant("renamed", rename)
    variant("duplicated", duplicate)
    variant("oldformat", old_format)
    (src / "notjson" / "a1_naive").mkdir(parents=True)
    (src / "notjson" / "a1_naive" / "a1_naive.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n")
    out = tmp_path / "out"
    subs = submissions.find_submissions([src])
    scheduler.grade_batch(subs, out, jobs=2, stream=Quiet())
    table = read_csv(out)
    results = {s: read_results(out, s, "a1_naive") for s, _ in table}
    for r in results.values():
        check_gradescope(r, "a1_naive")
    status = {s: table[s, "a1_naive"]["status"] for s, _ in table}
    assert status == {"good": "graded", "syntax": "graded", "renamed": "graded",
                      "duplicated": "graded", "oldformat": "error", "notjson": "error"}
    assert results["good"]["score"] == FULL
    by_function = {s: report.function_scores(r["tests"]) for s, r in results.items()}
    # the broken function loses its points, the others keep theirs
    whole = {f: SPECS[f].points for f in ("conv_output_size", "zero_pad", "conv_forward_naive")}
    assert by_function["syntax"]["conv_output_size"][0] == 0
    assert by_function["syntax"]["zero_pad"][0] == whole["zero_pad"]
    assert "SyntaxError" in results["syntax"]["output"]
    assert by_function["renamed"]["zero_pad"][0] == 0
    assert by_function["renamed"]["conv_output_size"][0] == whole["conv_output_size"]
    assert "missing: zero_pad" in results["renamed"]["output"]
    assert "2 cells define `conv_forward_naive`" in results["duplicated"]["output"]
    assert by_function["duplicated"]["conv_forward_naive"][0] < whole["conv_forward_naive"]
    for student in ("oldformat", "notjson"):
        assert results[student]["output"].startswith("Not graded: ") and results[student]["score"] == 0
