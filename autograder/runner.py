"""Run an assignment's hidden graders (autograder/graders/test_<assignment>.py) on one student,
in this process, and turn pytest's results into scored outcomes.

    outcomes = run_graders("a3_im2col", student)          # student: InProcessStudent, SandboxStudent
    score_summary(outcomes)  -> {"score": 87.5, "max_score": 100.0, ...}

pytest runs quietly (nothing reaches stdout), without its cache, with plain asserts (a bare
`assert` in a grader never shows grader source to the student). Every outcome says what was
graded (`function`, `kind`, tags `function:<f>`, `kind:<k>`, `misconception:<id>`,
`failure:<kind>`), its score, and its output for the student:

- passed: full marks;
- failed: the grader's `Failed` message (with the hint of a recognised mistake), the message
  of a public check's AssertionError, or what went wrong calling the student's code (a
  StudentError: the exception the function raised, a timeout, a crash). Tagged with the kind
  of failure, `failure:<kind>`: the StudentError's kind (exception, timeout, crash, missing,
  bad-return), else wrong-value (no tag for a timing or memory test's measurement);
- error: the grader itself broke (any other exception, a fixture that failed, a test without
  @grades, a grader module that does not import). Scored 0 but marked `status="error"`, so a
  caller can tell a grader bug from a wrong answer. The output never holds a traceback or grader
  source; `detail` keeps the traceback for the course staff.

A passing test's output is what it said about itself (grading.note: a GradingNote warning that
pytest records against the test, read here in pytest_warning_recorded). Every outcome also
carries `ran`, the (start, stop) of its call phase, so a caller can tell which of its own
records fall inside which test (the worker counts the calls made inside timing tests).

Scoring (autograder.contract): a function's hidden points are shared among its non-public
tests in proportion to their weight (a parametrized test's weight split evenly among its
cases); its visible points go to its public test(s). With everything selected, every
assignment totals exactly 100. Only real answers score: a function none of whose hidden
correctness tests passed (missing, raising NotImplementedError, wrong everywhere) earns nothing
from its contract, robustness, timing or memory tests, and their output says why.

Hidden numbers: every run has a `seed` (run_graders draws a fresh one, `new_seed()`, unless
given one to replay a run) that the graders' `seed` fixture hands to every check, so an answer
cannot look its outputs up in a table built from the public source. The same seed gives the
same inputs, scores and messages. `PUBLISHED` grades on the published numbers of the case table
(what the project's own tests see).
"""
import contextlib
import io
import math
import os
import re
import secrets
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder import contract, grading
from autograder.child import REFUSED
from autograder.grading import Failed
from autograder.sandbox import LIBRARY_PACKAGES
from autograder.student import InProcessStudent, MissingFunction, StudentError
from autograder.timing import GraderError

GRADERS = Path(__file__).resolve().parent / "graders"
SESSION_KEY = pytest.StashKey()   # config.stash[SESSION_KEY] -> the _Session of this run

PUBLISHED = "published"   # run_graders(seed=PUBLISHED): the case table's published numbers
# A cell stopped by the cage on a library convolution: its refusal, or a library it hides.
BLOCKED_IMPORT = re.compile(f"{re.escape(REFUSED)}|No module named '({'|'.join(LIBRARY_PACKAGES)})\\b")

GRADER_ERROR = ("The grader could not run this test: an internal problem of the grader, not a "
                "verdict on your answer. Please tell the course staff.")


@dataclass
class TestOutcome:
    """One graded test: what it grades, its score, and what the student is told."""
    __test__ = False   # not a pytest test class

    name: str
    function: str
    kind: str
    visibility: str
    tags: list
    score: float
    max_score: float
    output: str
    status: str = "passed"          # passed | failed | error
    public: bool = False
    misconception: str | None = None
    nodeid: str = ""
    weight: float = 1.0             # the @grades weight (before splitting among cases)
    detail: str = field(default="", repr=False)   # staff-only: traceback of a grader error
    ran: tuple = ()                 # (start, stop) of its call phase, time.time() seconds


def default_reference_student():
    """A student-like object running autograder.reference in this process."""
    import inspect
    from autograder import reference
    return InProcessStudent(vars(reference), source=inspect.getsource(reference), name="reference")


@dataclass
class _Item:
    nodeid: str
    function: str
    kind: str
    visibility: str
    public: bool
    name: str
    weight: float
    error: str = ""


class _Param:
    """A test parameter as a test's name shows it: "{case}" is case.describe(), and fields
    stay reachable ("{case.x_shape}")."""

    def __init__(self, value):
        self._value = value

    def __getattr__(self, name):
        return getattr(self._value, name)

    def __str__(self):
        describe = getattr(self._value, "describe", None)
        return describe() if callable(describe) else str(self._value)

    def __format__(self, spec):
        return format(str(self), spec)


def _item_info(item):
    marker = item.get_closest_marker("grades")
    if marker is None:
        return _Item(item.nodeid, "", "correctness", "hidden", False, item.name, 0.0,
                     error="this test has no @grades(...) marker, so it grades nothing")
    kw = marker.kwargs
    params = getattr(getattr(item, "callspec", None), "params", {})
    try:
        name = kw["name"].format(**{k: _Param(v) for k, v in params.items()})
    except (KeyError, IndexError, ValueError, AttributeError):
        name = kw["name"]
    visibility = "visible" if kw.get("public") else kw["visibility"]
    return _Item(item.nodeid, kw["function"], kw["kind"], visibility, bool(kw.get("public")),
                 f"{kw['function']}: {name}", kw["weight"])


class _Session:
    """The pytest plugin of one run: hands out the students, collects results."""

    def __init__(self, student, reference_student, functions, include_public, seed):
        self.student = student
        self.seed = seed         # int, or None for the published numbers
        self.reference_student = reference_student
        self.functions = functions
        self.include_public = include_public
        self.items = {}          # nodeid -> _Item, in collection order
        self.excinfo = {}        # nodeid -> (phase, ExceptionInfo) of the first problem
        self.notes = {}          # nodeid -> what a test said about itself (grading.note)
        self.ran = {}            # nodeid -> (start, stop) of its call phase
        self.collect_errors = []

    @pytest.hookimpl
    def pytest_configure(self, config):
        config.stash[SESSION_KEY] = self

    @pytest.hookimpl
    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(str(report.longrepr))

    @pytest.hookimpl
    def pytest_collection_modifyitems(self, session, config, items):
        keep, drop = [], []
        for item in items:
            info = _item_info(item)
            wanted = (info.error or ((self.functions is None or info.function in self.functions)
                                     and (self.include_public or not info.public)))
            (keep if wanted else drop).append(item)
            if wanted:
                self.items[item.nodeid] = info
        items[:] = keep
        if drop:
            config.hook.pytest_deselected(items=drop)

    @pytest.hookimpl
    def pytest_warning_recorded(self, warning_message, when, nodeid, location):
        if when == "runtest" and issubclass(warning_message.category, grading.GradingNote):
            self.notes.setdefault(nodeid, []).append(str(warning_message.message))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if call.when == "call":
            self.ran[item.nodeid] = (call.start, call.stop)
        if call.excinfo is not None and item.nodeid not in self.excinfo:
            self.excinfo[item.nodeid] = (call.when, call.excinfo)
        return outcome


def _verdict(phase, excinfo):
    """(status, output, misconception, detail) of a test that raised."""
    e = excinfo.value
    if phase == "call" and isinstance(e, Failed):
        return "failed", e.message, e.misconception, ""
    if phase == "call" and isinstance(e, StudentError):
        return "failed", f"Calling your code failed: {e}", None, ""
    if phase == "call" and isinstance(e, AssertionError):
        return "failed", str(e) or "A check of this test failed.", None, ""
    detail = "".join(traceback.format_exception(excinfo.type, e, excinfo.tb))
    if isinstance(e, GraderError):
        return "error", f"{GRADER_ERROR} ({e})", None, detail
    if isinstance(e, pytest.skip.Exception):
        return "error", f"The grader skipped this test ({e.msg}). Please tell the course staff.", None, detail
    return "error", f"{GRADER_ERROR} ({type(e).__name__} during {phase})", None, detail


def _run_pytest(path, session):
    # --disable-plugin-autoload: no third-party plugin (e.g. pytest-playwright, installed for the
    # browser tests) hooks into the graders' run.
    args = [str(path), "-q", "--no-header", "--disable-plugin-autoload",
            "-p", "no:cacheprovider", "-p", "no:faulthandler",
            "--assert=plain", "--capture=sys", "--tb=no", "--import-mode=importlib",
            "-c", os.devnull, "--rootdir", str(path.parent),
            "-W", "ignore::pytest.PytestUnraisableExceptionWarning"]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main(args, plugins=[session])
    return code, sink.getvalue()


def new_seed():
    """A fresh seed for one grading run: 64 random bits nobody can guess."""
    return secrets.randbits(64)


def _run_seed(seed):
    """The seed the graders get: an int >= 0 as given, a fresh one for None, None for PUBLISHED."""
    if seed is None:
        return new_seed()
    if seed == PUBLISHED:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer (or None for a fresh one); got {seed!r}")
    return seed


def run_graders(assignment, student, reference_student=None, functions=None, include_public=True,
                seed=None):
    """Run the graders of `assignment` on `student`; a TestOutcome per test, scored.

    reference_student: a student-like object running the reference, timed through the same
    harness as `student` (default: the reference in this process). functions: only the tests of
    these contract functions (default: all). include_public: also the public-check tests.
    seed: decides every hidden number (see the module docstring); None draws a fresh one.
    """
    run_seed = _run_seed(seed)
    entries = contract.graded(assignment)
    known = {g.function for g in entries}
    if functions is not None:
        unknown = set(functions) - known
        if unknown:
            raise ValueError(f"{', '.join(sorted(unknown))} not graded in {assignment}; "
                             f"its functions: {', '.join(sorted(known))}")
        functions = set(functions)
    session = _Session(student, reference_student or default_reference_student(),
                       functions, include_public, run_seed)
    path = GRADERS / f"test_{assignment}.py"
    code, log = _run_pytest(path, session)
    outcomes = [_outcome(info, session.excinfo.get(nid), session.notes.get(nid, ()), student,
                         session.ran.get(nid, ()))
                for nid, info in session.items.items()]
    problem = "\n".join(session.collect_errors) or (log if code not in (0, 1) else "")
    selected = [g for g in entries if functions is None or g.function in functions]
    outcomes += _missing(selected, outcomes, include_public, problem)
    _only_real_answers(outcomes)
    _score(selected, outcomes)
    return outcomes


def _blocked_import(student, function):
    """The load error of the cell meant to define `function` when that cell stopped on a blocked
    library-convolution import (the cage's ImportError), else None."""
    report = getattr(student, "load_report", None)
    blocked = [e for e in getattr(report, "errors", ()) if BLOCKED_IMPORT.search(str(e.message))]
    cells = {c.index: c.source for c in getattr(student, "cells", ())}
    defines = re.compile(rf"^\s*def\s+{re.escape(function)}\s*\(", re.MULTILINE)
    return next((e for e in blocked if e.index not in cells or defines.search(cells[e.index])), None)


def _missing_verdict(student, function):
    """(output, misconception) for a test of `function` that the submission does not define."""
    error = _blocked_import(student, function)
    if error is None:
        return None
    from autograder.graders import diagnosis_text    # the graders import this module
    return (f"`{function}` is missing because the cell defining it stopped on an import: "
            f"{error.type}: {error.message}. A library convolution is not allowed; write the "
            f"layer with numpy's arrays." + diagnosis_text("library-convolution"),
            "library-convolution")


def _outcome(info, raised, notes, student, ran):
    status, output, mistake, detail = "passed", " ".join(notes), None, ""
    if info.error:
        status, output, detail = "error", GRADER_ERROR, info.error
    elif raised is not None:
        status, output, mistake, detail = _verdict(*raised)
        if status == "failed" and isinstance(raised[1].value, MissingFunction):
            output, mistake = _missing_verdict(student, info.function) or (output, mistake)
    tags = [f"function:{info.function}", f"kind:{info.kind}"]
    if mistake:
        tags.append(f"misconception:{mistake}")
    failure = _failure(info.kind, raised[1].value) if status == "failed" else None
    if failure:
        tags.append(f"failure:{failure}")
    return TestOutcome(info.name, info.function, info.kind, info.visibility, tags, 0.0, 0.0,
                       output, status, info.public, mistake, info.nodeid, info.weight or 1.0, detail,
                       ran)


def _failure(kind, error):
    """The kind of failure of a test of `kind` that failed raising `error`: the `kind` of the
    StudentError behind it (exception, timeout, crash, missing, bad-return, or whatever the
    error instance says, e.g. a wrapper's "not-called-again"), also when a public check turned
    it into an AssertionError; else "wrong-value", except for a timing or memory test, whose
    verdict is a measurement (None)."""
    cause = error
    while cause is not None and not isinstance(cause, StudentError):
        cause = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)
    if cause is not None:
        return cause.kind
    return None if kind in ("timing", "memory") else "wrong-value"


def _missing(entries, outcomes, include_public, problem):
    """Error outcomes for functions whose graders did not run (so their points still count)."""
    extra = []
    for g in entries:
        for public in ((False, True) if include_public else (False,)):
            if not any(o.function == g.function and o.public == public for o in outcomes):
                what = "public checks" if public else "hidden tests"
                extra.append(TestOutcome(
                    f"{g.function}: {what}", g.function, "correctness",
                    "visible" if public else "after_due_date",
                    [f"function:{g.function}", "kind:correctness"], 0.0, 0.0, GRADER_ERROR,
                    "error", public, detail=problem or f"no {what} found for {g.function}"))
    return extra


def _only_real_answers(outcomes):
    """Fail the passing contract/robustness/timing/memory tests of every function whose hidden
    correctness tests all failed: a missing or wrong function earns none of their points."""
    correctness = {}
    for o in outcomes:
        if o.kind == "correctness" and not o.public:
            correctness.setdefault(o.function, []).append(o.status)
    unreal = {f for f, statuses in correctness.items() if all(s == "failed" for s in statuses)}
    for o in outcomes:
        if o.function in unreal and o.kind != "correctness" and o.status == "passed":
            o.status = "failed"
            o.output = (f"This check passed, but it earns no points until `{o.function}` returns "
                        "a correct result on at least one case." + (f" ({o.output})" if o.output else ""))


def _score(entries, outcomes):
    """Set every outcome's max_score and score (see the module docstring)."""
    cases = {}
    for o in outcomes:
        base = o.nodeid.split("[", 1)[0]
        cases[base, o.function] = cases.get((base, o.function), 0) + 1
    weight = {id(o): _weight(o, cases) for o in outcomes}
    for g in entries:
        for public, points in ((False, g.hidden_points), (True, g.visible_points)):
            group = [o for o in outcomes if o.function == g.function and o.public == public]
            total = math.fsum(weight[id(o)] for o in group)
            for o in group:
                o.max_score = points * weight[id(o)] / total if total else 0.0
                o.score = o.max_score if o.status == "passed" else 0.0


def _weight(outcome, cases):
    """The outcome's share of its test's weight (a parametrized test's weight split evenly)."""
    return outcome.weight / cases[outcome.nodeid.split("[", 1)[0], outcome.function]


def score_summary(outcomes):
    """Totals of a run: score, max_score, per function, and counts by status."""
    by_function = {}
    for o in outcomes:
        s, m = by_function.get(o.function, (0.0, 0.0))
        by_function[o.function] = (s + o.score, m + o.max_score)
    return {
        "score": round(math.fsum(o.score for o in outcomes), 6),
        "max_score": round(math.fsum(o.max_score for o in outcomes), 6),
        "by_function": {f: (round(s, 6), round(m, 6)) for f, (s, m) in by_function.items()},
        "passed": sum(o.status == "passed" for o in outcomes),
        "failed": sum(o.status == "failed" for o in outcomes),
        "errors": sum(o.status == "error" for o in outcomes),
    }
