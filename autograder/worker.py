"""The worker: grades one notebook, in a fresh `python` process the scheduler started for it.

    python -c "from autograder.worker import main; main()" RESULTS.json   < the pickled Job

`grade_notebook(job)` is four steps, each recording what it learns in the Run:

1. load:   read the notebook's bytes and find the code to run (backend.load_submission);
2. cage:   start the student's sandbox (the output folder and every submitted notebook hidden
           from it) and the reference's, and wrap the student's calls (calls.Watch, HangGuard,
           CallTimer);
3. grade:  run the assignment's graders on both, with the run's seed;
4. report: results.json content, `graded`, or `error` when a grader test broke.

A failure of the grading machinery at any step (a notebook that cannot be read, a cage that
cannot start, a grader that raised) makes an `error` result naming it, never a score; tracebacks
go to stderr, which the scheduler keeps in the staff's grading.log. extra_data["timing"] holds
the seconds of each step and of the student's and the reference's calls (bench_grading reads
them).
"""
import hashlib
import json
import pickle
import signal
import sys
import time
import traceback
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from threadpoolctl import threadpool_limits

from autograder import report
from autograder.backend import Backend
from autograder.calls import CallTimer, HangGuard, TimeSpent, Watch, seconds_within, suspicion
from autograder.config import CALL_TIMEOUT_S
from autograder.contract import ASSIGNMENTS
from autograder.extract import MAX_NOTEBOOK_BYTES
from autograder.submissions import UNRECOGNISED, student_folder

MEASUREMENTS = ("timing", "memory")   # kinds of test whose calls count as "timing_tests"


@dataclass
class Job:
    """What the scheduler tells a worker (pickled, down its stdin): the notebook, its student (the
    true name), the output folder, the backend, the run's seed, whether partial isolation is
    allowed, the scheduler's notes about notebooks that were not graded, the folder for the
    sandboxes' own folders (removed by the scheduler, whatever happens to the worker) and the
    folders that hide every submitted notebook from the cage."""
    notebook: str
    student: str
    out: str
    backend: Backend
    seed: int = None
    allow_partial: bool = False
    problems: list = field(default_factory=list)
    scratch: str = None
    hide: list = field(default_factory=list)


@dataclass
class Run:
    """What grading one Job has learnt so far: time spent, the assignment, notes on the notebook
    (problems for the student, suspicious for the staff), the lines of results.json's `output`,
    the isolation its code ran in."""
    job: Job
    spent: TimeSpent = field(default_factory=TimeSpent)
    started: float = field(default_factory=time.perf_counter)
    assignment: str = UNRECOGNISED
    problems: list = field(default_factory=list)
    suspicious: list = field(default_factory=list)
    sha256: str = ""
    lines: list = field(default_factory=list)
    isolation: str = None

    def __post_init__(self):
        self.problems = list(self.job.problems)

    def elapsed(self):
        return time.perf_counter() - self.started

    def info(self, timed_out=()):
        return report.extra_data(self.job.notebook, self.job.student, self.assignment,
                                 isolation=self.isolation, timing=self.spent.record(),
                                 timed_out=timed_out, problems=self.problems,
                                 suspicious=self.suspicious, sha256=self.sha256)


@dataclass
class Caged:
    """The two sandboxes of a Run, as the graders get them, and the wrappers that watched."""
    student: object
    reference: object
    watch: Watch
    guard: HangGuard
    timers: tuple


def grade_notebook(job):
    """results.json content for one Job: load, cage, grade, report (see the module docstring)."""
    run = Run(job)
    try:
        code = load(run)
    except Exception as e:    # SubmissionError, OSError, anything a notebook's JSON provokes
        reason = str(e) if isinstance(e, job.backend.SubmissionError) else f"{type(e).__name__}: {e}"
        return report.error_results(f"the notebook could not be read: {reason}",
                                    execution_time=run.elapsed(), info=run.info())
    try:
        with cage(run, code) as caged:
            outcomes = grade(run, code, caged)
    except Exception as e:    # the machinery failed: an error result, never a silent zero
        traceback.print_exc()
        return report.error_results(f"grading stopped: {type(e).__name__}: {e}", info=run.info(),
                                    lines=run.lines, execution_time=run.elapsed())
    return results(run, outcomes, caged.guard.timeouts)


# --------------------------------------------------------------------------- 1. load
def _read(notebook):
    """(bytes, sha256) of the notebook, at most MAX_NOTEBOOK_BYTES + 1 bytes read."""
    with open(notebook, "rb") as fh:
        data = fh.read(MAX_NOTEBOOK_BYTES + 1)
    return data, hashlib.sha256(data).hexdigest()


def load(run):
    """The notebook's NotebookCode (backend.load_submission on the bytes read once); its
    assignment, problems and the first lines of `output` go to `run`."""
    with run.spent.phase("extract"):
        data, run.sha256 = _read(run.job.notebook)
        code = run.job.backend.load_submission(Path(run.job.notebook), data=data)
    run.assignment = code.assignment
    run.problems = [*map(report.short, code.problems), *run.problems]
    functions = [g.function for g in ASSIGNMENTS[code.assignment]]
    found = [f for f in functions if f in code.functions]
    run.lines = [
        f"Notebook {Path(run.job.notebook).name}: assignment {code.assignment}, recognised from "
        "its graded cells.",
        f"Functions found: {', '.join(found) or 'none'}; missing: "
        f"{', '.join(f for f in functions if f not in found) or 'none'}.",
        "Problems reading the notebook: " + ("none." if not run.problems else
                                             "".join(f"\n  {p}" for p in run.problems))]
    return code


# --------------------------------------------------------------------------- 2. cage
def _load_lines(load_report):
    """What happened while the submission's cells ran (a sandbox.LoadReport), in words."""
    lines = [f"The notebook's code ran in {load_report.seconds:.1f} s."]
    lines += [f"  {error}" for error in load_report.errors]
    if load_report.skipped:
        lines.append("  left out after hanging: "
                     + ", ".join(f"cell {i + 1}" for i in load_report.skipped))
    if load_report.failed:
        lines.append(f"  no function could be called: {load_report.failed}")
    return lines


def _cell_notes(load_report):
    """(problems, suspicious) from the cells that raised while the notebook's code ran."""
    problems, suspicious = [], []
    for error in load_report.errors:
        problems.append(f"cell raised at load: {report.short(error)}")
        label = suspicion(f"{error.type}: {error.message}")
        if label:
            suspicious.append(f"{label}: {report.short(error)}")
    return problems, suspicious


@contextmanager
def cage(run, code):
    """The student's and the reference's sandboxes, started (timed as "startup"), as a Caged;
    closed when the block ends (timed as "teardown" when it ends normally). The isolation and
    what happened while the cells ran go to `run`."""
    job = run.job
    options = {"scratch_root": job.scratch, "allow_partial": job.allow_partial}
    with ExitStack() as stack:
        with run.spent.phase("startup"):
            student = stack.enter_context(job.backend.student_sandbox(
                code.cells, name=student_folder(job.student)[:40],
                hidden_paths=job.backend.hidden_paths(job.out, *job.hide), **options))
            reference = stack.enter_context(job.backend.reference_sandbox(**options))
        run.isolation = student.isolation
        note = student.isolation_note
        run.lines.append(f"Sandbox isolation: {run.isolation}" + (f" ({note})." if note else "."))
        run.lines += _load_lines(student.load_report)
        problems, suspicious = _cell_notes(student.load_report)
        run.problems += problems
        run.suspicious += suspicious
        watch = Watch(student)
        guard = HangGuard(watch)
        timers = (CallTimer(guard, "student", run.spent),
                  CallTimer(reference, "reference", run.spent))
        yield Caged(timers[0], timers[1], watch, guard, timers)
        teardown = time.perf_counter()
    run.spent.add("teardown", time.perf_counter() - teardown)


# --------------------------------------------------------------------------- 3. grade
def grade(run, code, caged):
    """The graders' outcomes (timed as "graders"; the calls made inside timing and memory tests
    as "timing_tests"); what the wrappers saw goes to `run`. The graders' own numpy work runs on
    one BLAS thread: other workers' cages are timed beside it."""
    with run.spent.phase("graders"), threadpool_limits(limits=1, user_api="blas"):
        outcomes = run.job.backend.run_graders(code.assignment, caged.student,
                                               reference_student=caged.reference,
                                               seed=run.job.seed)
    run.suspicious += caged.watch.suspicious
    windows = [o.ran for o in outcomes if o.kind in MEASUREMENTS and o.ran]
    run.spent.add("timing_tests", seconds_within(caged.timers, windows))
    if caged.guard.timeouts:
        run.lines.append(f"Timed out (no return within {CALL_TIMEOUT_S:g} s, then not called "
                         f"again): {', '.join(sorted(caged.guard.timeouts))}.")
    return outcomes


# --------------------------------------------------------------------------- 4. report
def results(run, outcomes, timed_out):
    """results.json content of the graded run: `error` if a grader test broke (each named on
    stderr with its traceback), else `graded`."""
    tests = report.numbered_tests(outcomes, run.assignment)
    broken = [o for o in outcomes if o.status == "error"]
    if broken:
        for o in broken:
            print(f"grader error in {o.nodeid or o.name}:\n{o.detail}", file=sys.stderr)
        return report.error_results(
            f"{len(broken)} grader test(s) could not run ({broken[0].name}, ...): a problem of "
            "the grader, details in the grading log", info=run.info(timed_out),
            lines=run.lines, execution_time=run.elapsed(), tests=tests)
    return report.graded_results(tests, info=run.info(timed_out), lines=run.lines,
                                 execution_time=run.elapsed())


def main(argv=None):
    """Worker entry point: `<results.json>`, the pickled Job on stdin; grades one notebook,
    writes its results."""
    out_path = (sys.argv[1:] if argv is None else argv)[0]
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    job = pickle.loads(sys.stdin.buffer.read())
    report.write_atomic(out_path, json.dumps(grade_notebook(job)))
