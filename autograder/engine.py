"""Batch grading that cannot lose work: one worker process per submission, a wall-clock limit on
each, results written as each one finishes.

    subs = find_submissions(["examples/submissions"])      # [Submission to grade], UsageError
    rows = grade_batch(subs, out="build/grades", jobs=2)    # [grades.csv row], files written

A submission is one notebook; its student comes from the folder layout (nbgrader's
submitted/<student>/<assignment>/, or any <student>/<assignment>/*.ipynb tree), else from the
notebook's file stem; its assignment is recognised from the notebook itself (autograder.extract).

Each submission is graded by `grade_notebook` in its own `python` worker process (a fresh
interpreter: nothing a submission does survives into the next). The worker loads the notebook,
starts the student's SandboxStudent and one reference_sandbox(), passes both to run_graders, and
writes results.json content to a file the parent reads. The parent runs up to `jobs` workers at
a time, kills a worker that outlives the limit (its whole process group), and turns a worker that
died or timed out into an `error` result naming the reason; the batch goes on. Results are written
atomically as each submission finishes, and a rerun skips submissions whose results.json exists
(unless force=True), still listing them in grades.csv. Inside a worker, a student function that
timed out is not called again (HangGuard), so one hanging function costs one call limit and the
rest of the submission is still graded.

The worker keeps timing records (extract, sandbox start-up, graders, student calls, reference
calls, calls made by timing tests, tear-down) in results.json's extra_data["timing"]; the
benchmark (autograder.bench_grading) reads them.
"""
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from autograder import report
from autograder.assignments import ASSIGNMENTS
from autograder.config import CALL_TIMEOUT_S, HANG_STRIKES, PINNED_THREADS, SUBMISSION_TIMEOUT_S
from autograder.student import StudentTimeout

TERMINATE_GRACE_S = 3.0          # SIGTERM first (the sandboxes shut down), then SIGKILL
POLL_S = 0.05
UNRECOGNISED = "unrecognised"    # assignment folder of a notebook no assignment matched
# Module whose names replace the real backend's (see load_backend); None for the real one.
DEFAULT_BACKEND = None


class UsageError(Exception):
    """A PATH the CLI cannot grade; the message names it."""


@dataclass
class Submission:
    """One notebook to grade and where its results go: OUT/<student>/<assignment>/."""
    notebook: Path
    student: str
    assignment: str
    problem: str = ""      # why it cannot be graded at all (set before any worker starts)

    def folder(self, out):
        return Path(out) / self.student / self.assignment


# --------------------------------------------------------------------------- the backend
def load_backend(name=None):
    """The names grading needs: load_submission, SubmissionError (autograder.extract),
    SandboxStudent, reference_sandbox, default_hidden_paths (autograder.sandbox), run_graders
    (autograder.runner); from the module `name` instead when given (tests pass a stand-in)."""
    name = name or DEFAULT_BACKEND
    if name is not None:
        return importlib.import_module(name)
    from autograder.extract import SubmissionError, load_submission
    from autograder.runner import run_graders
    from autograder.sandbox import SandboxStudent, default_hidden_paths, reference_sandbox
    return SimpleNamespace(load_submission=load_submission, SubmissionError=SubmissionError,
                           SandboxStudent=SandboxStudent, reference_sandbox=reference_sandbox,
                           default_hidden_paths=default_hidden_paths, run_graders=run_graders)


# --------------------------------------------------------------------------- finding submissions
def _layout_student(notebook, root=None):
    """The student a notebook belongs to, from the folders around it (see the module docstring)."""
    if root is not None:
        parts = notebook.relative_to(root).parts
        if len(parts) >= 3:                                # root/.../<student>/<assignment>/nb
            return parts[-3]
    absolute = notebook.resolve()
    if len(absolute.parents) >= 3 and absolute.parents[2].name == "submitted":
        return absolute.parents[1].name                   # submitted/<student>/<assignment>/nb
    if absolute.parent.name in ASSIGNMENTS:
        return absolute.parents[1].name                   # <student>/<assignment id>/nb
    return notebook.stem if notebook.stem.strip(".") else notebook.name   # "..ipynb": no "." dir


def find_notebooks(paths):
    """[(notebook, student)] for the CLI's PATHs, in order; UsageError naming a bad PATH."""
    found = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise UsageError(f"{given}: no such file or folder")
        if path.is_file():
            if path.suffix != ".ipynb":
                raise UsageError(f"{given}: not a notebook (.ipynb) nor a folder of notebooks")
            found.append((path, _layout_student(path)))
            continue
        notebooks = sorted(p for p in path.rglob("*.ipynb")
                           if not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not notebooks:
            raise UsageError(f"{given}: folder holds no notebook (*.ipynb)")
        found += [(nb, _layout_student(nb, path)) for nb in notebooks]
    return found


def find_submissions(paths, backend=None):
    """The Submissions under the CLI's PATHs, each with its recognised assignment.

    The parent only parses the notebooks (extract.load_submission, no student code runs). A
    notebook that cannot be loaded keeps the assignment its folder names (or UNRECOGNISED) and a
    `problem`; two notebooks of one student for one assignment become one submission marked
    with a problem naming both, since neither can be preferred silently.
    """
    notebooks = find_notebooks(paths)
    backend = load_backend(backend)
    subs = []
    for notebook, student in notebooks:
        try:
            assignment, problem = backend.load_submission(notebook).assignment, ""
        except backend.SubmissionError as e:
            folder = notebook.resolve().parent.name
            assignment = folder if folder in ASSIGNMENTS else UNRECOGNISED
            problem = str(e)
        subs.append(Submission(notebook, student, assignment, problem))
    by_key = {}
    for sub in subs:
        by_key.setdefault((sub.student, sub.assignment), []).append(sub)
    for (student, assignment), group in by_key.items():
        if len(group) > 1:
            names = ", ".join(str(s.notebook) for s in group)
            group[0].problem = (f"{len(group)} notebooks for student {student}, assignment "
                                f"{assignment}: {names}; keep exactly one")
    return [group[0] for group in by_key.values()]


# --------------------------------------------------------------------------- timing records
class Timing:
    """Seconds spent per phase and per kind of call, for extra_data["timing"]."""

    def __init__(self):
        self.seconds = {}
        self.counts = {}

    def add(self, key, seconds, count=1):
        self.seconds[key] = self.seconds.get(key, 0.0) + seconds
        self.counts[key] = self.counts.get(key, 0) + count

    @contextmanager
    def phase(self, key):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(key, time.perf_counter() - start)

    def record(self):
        return {"seconds": {k: round(v, 6) for k, v in self.seconds.items()},
                "calls": dict(self.counts)}


def _current_test():
    """The pytest node id running now (pytest sets PYTEST_CURRENT_TEST as "<nodeid> (<stage>)")."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]


class _Wrapper:
    """A student whose calls (call, call_full, peak_memory_call) go through `_around`;
    everything else passes through to the wrapped student."""
    CALLS = ("call", "call_full", "peak_memory_call")

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, attr):
        target = getattr(self._inner, attr)
        if attr not in self.CALLS:
            return target
        return lambda name, *args, **kwargs: self._around(target, name, args, kwargs)


class TimedStudent(_Wrapper):
    """Calls timed into `timing` under "<side>_calls", and per pytest test in `per_test`, so
    the time of timing tests can be told apart afterwards."""

    def __init__(self, inner, side, timing):
        super().__init__(inner)
        self._side, self._timing = side, timing
        self.per_test = {}

    def _around(self, target, name, args, kwargs):
        start = time.perf_counter()
        try:
            return target(name, *args, **kwargs)
        finally:
            seconds = time.perf_counter() - start
            self._timing.add(f"{self._side}_calls", seconds)
            test = _current_test()
            self.per_test[test] = self.per_test.get(test, 0.0) + seconds


class HangGuard(_Wrapper):
    """A function that timed out HANG_STRIKES times is not called again: later calls fail at
    once with StudentTimeout, so one hanging function costs one call limit
    (config.CALL_TIMEOUT_S), not one per test, and the other functions are still graded."""

    def __init__(self, inner):
        super().__init__(inner)
        self.timeouts = {}

    def _around(self, target, name, args, kwargs):
        if self.timeouts.get(name, 0) >= HANG_STRIKES:
            raise StudentTimeout(f"`{name}` was not called again: it already timed out "
                                 f"(no return within {CALL_TIMEOUT_S:g} s) earlier in this grading")
        try:
            return target(name, *args, **kwargs)
        except StudentTimeout:
            self.timeouts[name] = self.timeouts.get(name, 0) + 1
            raise


def _timing_test_seconds(outcomes, wrapped):
    """Seconds of student and reference calls made inside timing and memory tests."""
    timed = {o.nodeid for o in outcomes if o.kind in ("timing", "memory")}
    return sum(seconds for w in wrapped for test, seconds in w.per_test.items() if test in timed)


# --------------------------------------------------------------------------- one submission
def _load_lines(report):
    """What happened while the submission's cells ran (a sandbox.LoadReport), in words."""
    lines = [f"The notebook's code ran in {report.seconds:.1f} s."]
    lines += [f"  {error}" for error in report.errors]
    if report.skipped:
        lines.append("  left out after hanging: " + ", ".join(f"cell {i + 1}" for i in report.skipped))
    if report.failed:
        lines.append(f"  no function could be called: {report.failed}")
    return lines


def _info(notebook, student, assignment, isolation=None, timing=None, timed_out=()):
    return {"student": student, "assignment": assignment, "notebook": str(notebook),
            "isolation": isolation, "timed_out": sorted(timed_out), "timing": timing or {}}


def grade_notebook(notebook, student, out, backend=None):
    """results.json content for one notebook (runs in the worker process).

    Loads the notebook, starts SandboxStudent(cells) (with the output folder `out` hidden from
    it) and reference_sandbox(), runs the graders with both, and reports what ran. Every
    failure of the grading machinery, including a grader test that broke, makes an error
    result with its reason (tracebacks go to stderr, the worker's log, never to the student);
    only the student's own failures become scores.
    """
    backend = load_backend(backend)
    timing = Timing()
    started = time.perf_counter()
    elapsed = lambda: time.perf_counter() - started  # noqa: E731
    try:
        with timing.phase("extract"):
            sub = backend.load_submission(Path(notebook))
    except backend.SubmissionError as e:
        return report.error_results(f"the notebook could not be read: {e}",
                                    info=_info(notebook, student, UNRECOGNISED, timing=timing.record()),
                                    execution_time=elapsed())
    assignment = sub.assignment
    functions = [g.function for g in ASSIGNMENTS[assignment]]
    found = [f for f in functions if f in sub.functions]
    lines = [f"Notebook {Path(notebook).name}: assignment {assignment}, recognised from its graded cells.",
             f"Functions found: {', '.join(found) or 'none'}; missing: "
             f"{', '.join(f for f in functions if f not in found) or 'none'}."]
    lines.append("Problems reading the notebook: " + ("none." if not sub.problems else
                                                       "".join(f"\n  {p}" for p in sub.problems)))
    isolation = None
    try:
        with ExitStack() as stack:
            with timing.phase("startup"):
                student_box = stack.enter_context(backend.SandboxStudent(
                    sub.cells, name=student, hidden_paths=backend.default_hidden_paths(out)))
                reference_box = stack.enter_context(backend.reference_sandbox())
            isolation = student_box.isolation
            note = student_box.isolation_note
            lines.append(f"Sandbox isolation: {isolation}" + (f" ({note})." if note else "."))
            lines += _load_lines(student_box.load_report)
            guard = HangGuard(student_box)
            wrapped = (TimedStudent(guard, "student", timing),
                       TimedStudent(reference_box, "reference", timing))
            with timing.phase("graders"):
                outcomes = backend.run_graders(assignment, wrapped[0], reference_student=wrapped[1])
            timing.add("timing_tests", _timing_test_seconds(outcomes, wrapped))
            if guard.timeouts:
                lines.append(f"Timed out (no return within {CALL_TIMEOUT_S:g} s, then not called "
                             f"again): {', '.join(sorted(guard.timeouts))}.")
            teardown = time.perf_counter()
        timing.add("teardown", time.perf_counter() - teardown)
    except Exception as e:  # the machinery failed: an error result, never a silent zero
        return report.error_results(
            f"grading stopped: {type(e).__name__}: {e}",
            info=_info(notebook, student, assignment, isolation, timing.record()),
            lines=lines, execution_time=elapsed())
    tests = report.numbered_tests(outcomes, assignment)
    info = _info(notebook, student, assignment, isolation, timing.record(), guard.timeouts)
    broken = [o for o in outcomes if o.status == "error"]
    if broken:
        for o in broken:
            print(f"grader error in {o.nodeid or o.name}:\n{o.detail}", file=sys.stderr)
        return report.error_results(
            f"{len(broken)} grader test(s) could not run ({broken[0].name}, ...): a problem of "
            "the grader, details in the grading log", info=info, lines=lines,
            execution_time=elapsed(), tests=tests)
    return report.graded_results(tests, info=info, lines=lines, execution_time=elapsed())


def worker_main(argv=None):
    """Worker entry point: `<job.json> <out.json>`; grades one notebook, writes its results."""
    job_path, out_path = (sys.argv[1:] if argv is None else argv)[:2]
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    results = grade_notebook(job["notebook"], job["student"], job["out"], job["backend"])
    report.write_atomic(out_path, json.dumps(results))


# --------------------------------------------------------------------------- the batch
class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, else one line per
    finished submission."""

    def __init__(self, total, stream=None, width=30):
        self.total, self.done, self.errors = total, 0, 0
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.tty = self.stream.isatty()

    def finished(self, row):
        self.done += 1
        self.errors += row["status"] == report.ERROR
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        text = (f"[{bar}] {self.done}/{self.total} graded, {self.errors} error(s), "
                f"{time.monotonic() - self.started:.0f}s  {row['student']}/{row['assignment']}")
        if self.tty:
            self.stream.write("\r" + text.ljust(100) + ("\n" if self.done == self.total else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _start_worker(sub, workdir, out, backend):
    job = {"notebook": str(sub.notebook.resolve()), "student": sub.student,
           "out": str(Path(out).resolve()), "backend": backend}
    (workdir / "job.json").write_text(json.dumps(job), encoding="utf-8")
    log = open(workdir / "worker.log", "wb")
    code = "from autograder.engine import worker_main; worker_main()"
    proc = subprocess.Popen([sys.executable, "-c", code, str(workdir / "job.json"),
                             str(workdir / "results.json")],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            cwd=workdir, env={**os.environ, **PINNED_THREADS},
                            start_new_session=True)
    log.close()
    return proc


def _stop_worker(proc):
    """SIGTERM the worker's process group (its sandboxes shut down), SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, TERMINATE_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            if sig == signal.SIGTERM:
                os.killpg(proc.pid, signal.SIGKILL)   # the group's stragglers
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def _log_tail(workdir, lines=3):
    log = (workdir / "worker.log").read_text(encoding="utf-8", errors="replace").strip()
    return " | ".join(log.splitlines()[-lines:])


def _keep_log(workdir, folder):
    """The worker's log (grader tracebacks, warnings) as folder/grading.log, for the staff only;
    an empty log removes the previous run's."""
    log = (workdir / "worker.log").read_text(encoding="utf-8", errors="replace")
    if log.strip():
        report.write_atomic(folder / "grading.log", log)
    else:
        (folder / "grading.log").unlink(missing_ok=True)


def _collect(sub, proc, workdir, seconds, timed_out, timeout):
    """results.json content of a finished (or killed) worker."""
    info = _info(sub.notebook, sub.student, sub.assignment)
    if timed_out:
        return report.error_results(
            f"grading took longer than the limit of {timeout:g} s per submission and was stopped",
            info=info, execution_time=seconds)
    try:
        results = json.loads((workdir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        code = proc.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        tail = _log_tail(workdir)
        return report.error_results(
            f"the grading process {how} before writing results" + (f" ({tail})" if tail else ""),
            info=info, execution_time=seconds)
    results["extra_data"]["timing"]["worker_seconds"] = round(seconds, 4)
    return results


def _note(results, kept=False):
    extra = results["extra_data"]
    if extra["status"] == report.ERROR:
        note = extra["reason"]
    else:
        failed = sum(t["score"] < t["max_score"] for t in results["tests"])
        mistakes = report.misconceptions(results["tests"])
        note = f"{failed} check(s) failed" if failed else "all checks passed"
        note += f"; mistakes: {', '.join(mistakes)}" if mistakes else ""
        hung = extra.get("timed_out")
        note += f"; timed out: {', '.join(hung)}" if hung else ""
    return note + ("; kept from an earlier run (--force regrades)" if kept else "")


def _row(results, kept=False):
    return {**report.csv_row(results), "note": _note(results, kept)}


def _previous(folder):
    """The results.json a previous run left in `folder`, or None (missing or unreadable)."""
    try:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        return results if results["extra_data"]["status"] in (report.GRADED, report.ERROR) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def grade_batch(subs, out, jobs=1, force=False, timeout=SUBMISSION_TIMEOUT_S, backend=None,
                stream=None):
    """Grade `subs` (from find_submissions) into `out`; returns the grades.csv rows (+ "note").

    Up to `jobs` workers run at once; each submission's results.json and feedback.html are
    written as soon as it finishes, and grades.csv after every submission. Submissions with a
    results.json from an earlier run are kept as they are unless `force`. The progress bar goes
    to `stream` (default stderr).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    backend = backend or DEFAULT_BACKEND       # the workers import it by name
    progress = Progress(len(subs), stream)
    rows = []

    def done(sub, results, kept=False):
        if not kept:
            report.write_results(sub.folder(out), results)
        rows.append(_row(results, kept))
        report.write_grades_csv(out / "grades.csv", rows)
        progress.finished(rows[-1])

    queue = []
    for sub in subs:
        previous = None if force else _previous(sub.folder(out))
        if previous is not None:
            done(sub, previous, kept=True)
        elif sub.problem:
            done(sub, report.error_results(sub.problem, info=_info(sub.notebook, sub.student,
                                                                   sub.assignment)))
        else:
            queue.append(sub)
    with tempfile.TemporaryDirectory(prefix="autograder-batch-") as scratch:
        running = []      # (sub, proc, workdir, start)
        try:
            while queue or running:
                while queue and len(running) < jobs:
                    sub = queue.pop(0)
                    workdir = Path(tempfile.mkdtemp(dir=scratch))
                    running.append((sub, _start_worker(sub, workdir, out, backend), workdir,
                                    time.monotonic()))
                for entry in list(running):
                    sub, proc, workdir, start = entry
                    seconds = time.monotonic() - start
                    timed_out = proc.poll() is None and seconds > timeout
                    if proc.poll() is None and not timed_out:
                        continue
                    if timed_out:
                        _stop_worker(proc)
                    running.remove(entry)
                    results = _collect(sub, proc, workdir, seconds, timed_out, timeout)
                    _keep_log(workdir, sub.folder(out))
                    done(sub, results)
                time.sleep(POLL_S)
        finally:
            for _, proc, _, _ in running:     # interrupted (Ctrl-C): leave no worker behind
                _stop_worker(proc)
    if not subs:
        report.write_grades_csv(out / "grades.csv", rows)
    return rows
