"""Batch grading that cannot lose work: one worker process per submission, a wall-clock limit on
each, results written as each one finishes.

    subs = find_submissions(["examples/submissions"])      # [Submission to grade], UsageError
    rows = grade_batch(subs, out="build/grades", jobs=2)    # [grades.csv row], files written

A submission is one notebook; its student comes from the folder layout (FINDING: nbgrader's
submitted/<student>/<assignment>/, any <student>/<assignment>/ tree, a flat folder of notebooks),
never from inside a notebook, and a student's folder yields only that student's one notebook;
its assignment is recognised from the notebook itself (autograder.extract). Results go to
OUT/<student_folder(student)>/<assignment>/: an injective, filesystem-safe encoding of the name.

Each submission is graded by `grade_notebook` in its own `python` worker process (a fresh
interpreter: nothing a submission does survives into the next). The worker loads the notebook,
starts the student's SandboxStudent and one reference_sandbox(), passes both and the run's seed
to run_graders, and writes results.json content to a file the parent reads. The parent runs up
to `jobs` workers at a time, kills a worker that outlives the limit (its whole process group),
and turns a worker that died, timed out or wrote malformed results into an `error` result naming
the reason; the batch goes on, also when writing one submission's files fails. Results are
written atomically as each submission finishes; a rerun keeps a graded result whose notebook
bytes and grader version are unchanged (unless force=True) and regrades the rest. Ctrl-C or
SIGTERM stops the workers and removes every temporary folder. Inside a worker, a student function
that timed out is not called again (HangGuard), so one hanging function costs one call limit and
the rest of the submission is still graded.

results.json's extra_data: student (the true name), assignment, status, reason, notebook,
isolation, timed_out, timing, problems (notes on the notebook: extract's, notebooks not graded,
cells that raised), suspicious (blocked imports, writes the cage refused, array subclasses
returned), notebook_sha256, grader_version. The run's seed is written only to the staff's logs
(OUT/grading.log, OUT/<student>/<assignment>/grading.log).

The worker keeps timing records (extract, sandbox start-up, graders, student calls, reference
calls, calls made by timing tests, tear-down) in results.json's extra_data["timing"]; the
benchmark (autograder.bench_grading) reads them.
"""
import hashlib
import importlib
import json
import os
import re
import shlex
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from autograder import report
from autograder.assignments import ASSIGNMENTS
from autograder.config import CALL_TIMEOUT_S, HANG_STRIKES, PINNED_THREADS, SUBMISSION_TIMEOUT_S
from autograder.extract import MAX_NOTEBOOK_BYTES
from autograder.student import StudentError, StudentTimeout

TERMINATE_GRACE_S = 3.0          # SIGTERM first (the sandboxes shut down), then SIGKILL
POLL_S = 0.05
UNRECOGNISED = "unrecognised"    # assignment folder of a notebook no assignment matched
# Module whose names replace the real backend's (see load_backend); None for the real one.
DEFAULT_BACKEND = None


class UsageError(Exception):
    """A PATH the CLI cannot grade; the message names it."""


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


# --------------------------------------------------------------------------- output folders
_SAFE_CHARS = frozenset(string.ascii_letters + string.digits + "_-.")
# Names of the grader's own files at OUT's top level (grades.csv, grading.log, the class report's
# files): a student folder never takes one, whatever the case of its letters.
RESERVED_NAMES = frozenset({"grades.csv", "grading.log", "class_report.html",
                            "class_gradebook.csv"})
MAX_FOLDER_CHARS = 120
_CUT_CHARS = 80


def student_folder(student):
    """The name of `student`'s folder under OUT: filesystem-safe and injective (two different
    names never share a folder).

    The name's UTF-8 bytes (lone surrogates as their 3-byte forms) are kept where they are
    ASCII letters, digits, `_`, `-` or `.` and percent-encoded (`%2F`) otherwise, `%` included;
    a leading `.` or `-`, a name of the grader's own files (RESERVED_NAMES) and the empty name
    get their first character encoded too. A result longer than MAX_FOLDER_CHARS is cut and
    ends with `%%` and the SHA-256 of the name (`%%` appears in no other encoded name)."""
    data = student.encode("utf-8", "surrogatepass")
    name = "".join(chr(b) if chr(b) in _SAFE_CHARS else f"%{b:02X}" for b in data)
    if not name:
        return "%"
    if name.startswith((".", "-")) or name.lower() in RESERVED_NAMES:
        name = f"%{ord(name[0]):02X}{name[1:]}"
    if len(name) > MAX_FOLDER_CHARS:
        name = f"{name[:_CUT_CHARS]}%%{hashlib.sha256(data).hexdigest()[:32]}"
    return name


@dataclass
class Submission:
    """One notebook to grade and where its results go: OUT/<student folder>/<assignment>/.

    `problem`: why it cannot be graded at all (set before any worker starts); `problems`: notes
    for the student about notebooks that were not graded (nested deeper, or beside the one
    chosen); `sha256`: of the notebook's bytes as the parent read them."""
    notebook: Path
    student: str
    assignment: str
    problem: str = ""
    problems: list = field(default_factory=list)
    sha256: str = ""

    def folder(self, out):
        return Path(out) / student_folder(self.student) / self.assignment


# --------------------------------------------------------------------------- finding submissions
FINDING = """\
How PATHs become submissions (student names come from folder and file names, never from a
notebook; each student folder speaks only for its own student):

  submitted/ or any other folder (a class folder): each notebook directly in it is one
    submission, its student the file name without .ipynb; each subfolder <student>/ belongs to
    that student: each <student>/<assignment>/ is a submission folder, and so is <student>/
    itself when notebooks lie directly in it.
  submitted/<student>/ (or a folder holding only assignment-id folders): one student's folder.
  submitted/<student>/<assignment>/ (or a folder named by an assignment id): a submission folder.
  a notebook: one submission; student from submitted/<student>/<assignment>/ or
    <student>/<assignment id>/ around it, else the file name.

From a submission folder exactly one notebook is graded: the one named <folder>.ipynb, else the
only one there; several others make that student's submission an error. Notebooks in its
subfolders and symbolic links to notebooks are never graded nor given to anyone: they are
listed in that submission's problems. Names starting with "." are skipped. Results go to OUT/<student>/<assignment>/ with the student
name percent-encoded wherever it is not plain ASCII letters, digits, "_", "-", "." (and at a
leading "." or "-", or a name of the grader's own files such as grades.csv): "Zoë" -> "Zo%C3%AB",
"grades.csv" -> "%67rades.csv". The true name stays in results.json and grades.csv."""


@dataclass
class Place:
    """A folder (or a single notebook file) that speaks for one student: `notebooks` directly in
    it are the candidates, `nested` ones deeper down are ignored and reported."""
    student: str
    folder: Path = None              # None for a notebook given or found on its own
    notebooks: list = field(default_factory=list)
    nested: list = field(default_factory=list)
    links: list = field(default_factory=list)    # symbolic links to notebooks: never graded


def _file_student(notebook):
    """The student of a notebook given as a PATH, from the folders around it."""
    absolute = notebook.resolve()
    if len(absolute.parents) >= 3 and absolute.parents[2].name == "submitted":
        return absolute.parents[1].name                   # submitted/<student>/<assignment>/nb
    if absolute.parent.name in ASSIGNMENTS:
        return absolute.parents[1].name                   # <student>/<assignment id>/nb
    return notebook.stem if notebook.stem.strip(".") else notebook.name   # "..ipynb": no "." dir


def _notebooks_under(folder):
    """Relative paths of the notebooks under `folder`, sorted; no part starting with "."."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*.ipynb")
                  if p.is_file() and not any(part.startswith(".")
                                             for part in p.relative_to(folder).parts))


def _folder_kind(folder, notebooks):
    """"submission", "student" or "class": what a folder PATH is (see FINDING)."""
    absolute = folder.resolve()
    if absolute.name == "submitted":
        return "class"
    if absolute.name in ASSIGNMENTS or (len(absolute.parents) >= 2
                                        and absolute.parents[1].name == "submitted"):
        return "submission"
    if absolute.parent.name == "submitted":
        return "student"
    if notebooks and all(len(n.parts) > 1 and n.parts[0] in ASSIGNMENTS for n in notebooks):
        return "student"
    return "class"


def _where(kind, folder, parts):
    """(student, folder of the Place, is a candidate) of a notebook at folder/parts, or
    (student, None, True) for a notebook that is a Place of its own."""
    if kind == "submission":
        return folder.resolve().parent.name, folder, len(parts) == 1
    if kind == "student":
        return folder.resolve().name, folder.joinpath(*parts[:1 if len(parts) > 1 else 0]), \
            len(parts) <= 2
    if len(parts) == 1:
        return _file_student(folder / parts[0]), None, True
    return parts[0], folder.joinpath(*parts[:2 if len(parts) > 2 else 1]), len(parts) <= 3


def _folder_places(folder):
    notebooks = _notebooks_under(folder)
    if not notebooks:
        raise UsageError(f"{folder}: folder holds no notebook (*.ipynb)")
    kind = _folder_kind(folder, notebooks)
    places, singles = {}, []
    for parts in (n.parts for n in notebooks):
        student, home, candidate = _where(kind, folder, parts)
        if home is None:
            singles.append(Place(student, None, [folder.joinpath(*parts)]))
            continue
        place = places.setdefault(home, Place(student, home))
        path = folder.joinpath(*parts)
        (place.links if path.is_symlink() else place.notebooks if candidate else place.nested).append(path)
    return singles + list(places.values())


def find_places(paths):
    """The Places under the CLI's PATHs, in order (see FINDING); UsageError naming a bad PATH."""
    found = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise UsageError(f"{given}: no such file or folder")
        if path.is_file():
            if path.suffix != ".ipynb":
                raise UsageError(f"{given}: not a notebook (.ipynb) nor a folder of notebooks")
            found.append(Place(_file_student(path), None, [path]))
        else:
            found += _folder_places(path)
    return found


def _relative(path, folder):
    return str(path.relative_to(folder)) if folder is not None else path.name


def _choose(place):
    """(the notebook to grade or None, notes about the ones not graded, problem or "")."""
    folder, candidates = place.folder, place.notebooks
    notes = [f"not graded: {_relative(n, folder)} is in a subfolder of the submission folder"
             for n in place.nested]
    notes += [f"not graded: {_relative(n, folder)} is a symbolic link" for n in place.links]
    if len(candidates) == 1:
        return candidates[0], notes, ""
    named = folder / f"{folder.name}.ipynb" if folder is not None else None
    if named in candidates:
        notes += [f"not graded: {_relative(n, folder)} (only {named.name} is)"
                  for n in candidates if n != named]
        return named, notes, ""
    if not candidates:
        return None, notes, (f"no notebook directly in the submission folder {folder.name}; "
                             "notebooks in its subfolders and symbolic links are not graded")
    names = ", ".join(_relative(n, folder) for n in candidates)
    return None, notes, (f"{len(candidates)} notebooks in the submission folder {folder.name} "
                         f"({names}); keep exactly one, or name the one to grade "
                         f"{folder.name}.ipynb")


def _recognise(notebook, backend):
    """(assignment, problem, sha256) of a notebook, read by the parent (no student code runs)."""
    folder = notebook.parent.name
    fallback = folder if folder in ASSIGNMENTS else UNRECOGNISED
    try:
        with open(notebook, "rb") as fh:
            data = fh.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as e:
        return fallback, f"{notebook.name} cannot be read: {e}", ""
    digest = hashlib.sha256(data).hexdigest()
    try:
        return backend.load_submission(notebook, data=data).assignment, "", digest
    except backend.SubmissionError as e:
        return fallback, str(e), digest
    except Exception as e:      # whatever a notebook's JSON does, it is that notebook's problem
        return fallback, f"{notebook.name} could not be read ({type(e).__name__}: {e})", digest


def _submission(place, backend):
    notebook, notes, problem = _choose(place)
    if notebook is None:
        assignment = place.folder.name if place.folder.name in ASSIGNMENTS else UNRECOGNISED
        return Submission(place.folder, place.student, assignment, problem, notes)
    assignment, problem, digest = _recognise(notebook, backend)
    return Submission(notebook, place.student, assignment, problem, notes, digest)


def find_submissions(paths, backend=None):
    """The Submissions under the CLI's PATHs (find_places, then one notebook chosen per Place),
    each with its recognised assignment and the SHA-256 of its bytes.

    The parent only parses the notebooks (extract.load_submission, no student code runs). A
    notebook that cannot be loaded, or a Place with no notebook to choose, keeps the assignment
    its folder names (or UNRECOGNISED) and a `problem`; two submissions of one student for one
    assignment become one submission marked with a problem naming both, since neither can be
    preferred silently.
    """
    places = find_places(paths)
    backend = load_backend(backend)
    by_key = {}
    for place in places:
        sub = _submission(place, backend)
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


class NotCalledAgain(StudentTimeout):
    """HangGuard's refusal: the function timed out earlier in this grading (a knock-on of that
    timeout, tagged `failure:not-called-again` by the runner)."""
    kind = "not-called-again"


class HangGuard(_Wrapper):
    """A function that timed out HANG_STRIKES times is not called again: later calls fail at
    once with NotCalledAgain (a StudentTimeout), so one hanging function costs one call limit
    (config.CALL_TIMEOUT_S), not one per test, and the other functions are still graded."""

    def __init__(self, inner):
        super().__init__(inner)
        self.timeouts = {}

    def _around(self, target, name, args, kwargs):
        if self.timeouts.get(name, 0) >= HANG_STRIKES:
            raise NotCalledAgain(f"`{name}` was not called again: it already timed out "
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


# --------------------------------------------------------------------------- what the run knows
@lru_cache(maxsize=1)
def grader_version():
    """SHA-256 of the autograder package's source files (paths and contents), computed once per
    process (grade_batch recomputes it per run): a result graded by other grader code is not
    kept by a rerun."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


MAX_NOTES = 50           # problems / suspicious entries kept per submission
NOTE_CHARS = 300         # characters kept of each
SUSPICIOUS = (
    (re.compile(r"cannot be imported while grading|library convolution is not allowed"),
     "blocked library import"),
    (re.compile(r"^(PermissionError|OSError)\b.*(Read-only file system|Errno 30|Permission denied"
                r"|Errno 13|Operation not permitted|Errno 1\b|No space left|Errno 28|File too large"
                r"|Errno 27)"), "write refused by the cage"),
    (re.compile(r"returned a numpy\.ndarray subclass|ndarray subclass"),
     "returned an array subclass"),
)


def _short(text):
    text = report.printable(text)
    return text if len(text) <= NOTE_CHARS else text[:NOTE_CHARS] + " [cut]"


def suspicion(text):
    """The SUSPICIOUS label of an error text ("<Type>: <message>"), or None."""
    return next((label for pattern, label in SUSPICIOUS if pattern.search(str(text))), None)


def _capped(notes):
    """`notes` without repeats, at most MAX_NOTES (then how many more)."""
    unique = list(dict.fromkeys(notes))
    more = len(unique) - MAX_NOTES
    return unique[:MAX_NOTES] + ([f"... and {more} more"] if more > 0 else [])


class Watch(_Wrapper):
    """Remembers, in `suspicious`, calls that failed in a way the cage provoked (SUSPICIOUS)."""

    def __init__(self, inner):
        super().__init__(inner)
        self.suspicious = []

    def _around(self, target, name, args, kwargs):
        try:
            return target(name, *args, **kwargs)
        except StudentError as e:
            label = suspicion(e)
            if label:
                self.suspicious.append(f"{label}: `{name}`: {_short(e)}")
            raise


def _cell_notes(load_report):
    """(problems, suspicious) from the cells that raised while the notebook's code ran."""
    problems, suspicious = [], []
    for error in load_report.errors:
        text = f"{getattr(error, 'type', '')}: {getattr(error, 'message', error)}"
        problems.append(f"cell raised at load: {_short(error)}")
        label = suspicion(text)
        if label:
            suspicious.append(f"{label}: {_short(error)}")
    return problems, suspicious


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


def _info(notebook, student, assignment, *, isolation=None, timing=None, timed_out=(),
          problems=(), suspicious=(), sha256=""):
    """extra_data of results.json (report.graded_results / error_results add status, reason)."""
    return {"student": student, "assignment": assignment, "notebook": str(notebook),
            "isolation": isolation, "timed_out": sorted(timed_out), "timing": timing or {},
            "problems": _capped(problems), "suspicious": _capped(suspicious),
            "notebook_sha256": sha256, "grader_version": grader_version()}


@dataclass
class Job:
    """What the parent tells a worker (job.json): the notebook, its student (the true name),
    the output folder, the backend module, the run's seed, whether partial isolation is allowed,
    the parent's notes about notebooks that were not graded, and the folder for the sandboxes'
    own folders (removed by the parent, whatever happens to the worker)."""
    notebook: str
    student: str
    out: str
    backend: str = None
    seed: int = None
    allow_partial: bool = False
    problems: list = field(default_factory=list)
    scratch: str = None
    hide: list = field(default_factory=list)


def _sandbox_options(job):
    """Keyword arguments for SandboxStudent and reference_sandbox."""
    return {"scratch_root": job.scratch, "allow_partial": job.allow_partial}


def _read(notebook):
    """(bytes, sha256) of the notebook, at most MAX_NOTEBOOK_BYTES + 1 bytes read."""
    with open(notebook, "rb") as fh:
        data = fh.read(MAX_NOTEBOOK_BYTES + 1)
    return data, hashlib.sha256(data).hexdigest()


def grade_notebook(job):
    """results.json content for one Job (runs in the worker process).

    Loads the notebook, starts SandboxStudent(cells) (with the output folder hidden from it) and
    reference_sandbox(), runs the graders with both and the run's seed, and reports what ran.
    Every failure of the grading machinery, including a grader test that broke, makes an error
    result with its reason (tracebacks go to stderr, the worker's log, never to the student);
    only the student's own failures become scores.
    """
    backend = load_backend(job.backend)
    timing = Timing()
    started = time.perf_counter()
    elapsed = lambda: time.perf_counter() - started  # noqa: E731
    notes = {"problems": list(job.problems), "suspicious": [], "sha256": ""}
    try:
        with timing.phase("extract"):
            data, notes["sha256"] = _read(job.notebook)
            sub = backend.load_submission(Path(job.notebook), data=data)
    except Exception as e:    # SubmissionError, OSError, anything a notebook's JSON provokes
        reason = str(e) if isinstance(e, backend.SubmissionError) else f"{type(e).__name__}: {e}"
        return report.error_results(
            f"the notebook could not be read: {reason}", execution_time=elapsed(),
            info=_info(job.notebook, job.student, UNRECOGNISED, timing=timing.record(), **notes))
    notes["problems"] = [*map(_short, sub.problems), *notes["problems"]]
    return _grade_loaded(job, backend, sub, timing, notes, elapsed)


def _found_lines(notebook, sub, problems):
    assignment = sub.assignment
    functions = [g.function for g in ASSIGNMENTS[assignment]]
    found = [f for f in functions if f in sub.functions]
    return [f"Notebook {Path(notebook).name}: assignment {assignment}, recognised from its graded cells.",
            f"Functions found: {', '.join(found) or 'none'}; missing: "
            f"{', '.join(f for f in functions if f not in found) or 'none'}.",
            "Problems reading the notebook: " + ("none." if not problems else
                                                 "".join(f"\n  {p}" for p in problems))]


def _grade_loaded(job, backend, sub, timing, notes, elapsed):
    """grade_notebook's part once the notebook is loaded: the sandboxes and the graders."""
    assignment = sub.assignment
    lines = _found_lines(job.notebook, sub, notes["problems"])
    isolation, box = None, _sandbox_options(job)
    info = lambda **more: _info(job.notebook, job.student, assignment, isolation=isolation,  # noqa: E731
                                timing=timing.record(), **notes, **more)
    try:
        with ExitStack() as stack:
            with timing.phase("startup"):
                student_box = stack.enter_context(backend.SandboxStudent(
                    sub.cells, name=student_folder(job.student)[:40],
                    hidden_paths=backend.default_hidden_paths(job.out, *job.hide), **box))
                reference_box = stack.enter_context(backend.reference_sandbox(**box))
            isolation = student_box.isolation
            note = student_box.isolation_note
            lines.append(f"Sandbox isolation: {isolation}" + (f" ({note})." if note else "."))
            lines += _load_lines(student_box.load_report)
            problems, suspicious = _cell_notes(student_box.load_report)
            notes["problems"] += problems
            notes["suspicious"] += suspicious
            watch = Watch(student_box)
            guard = HangGuard(watch)
            wrapped = (TimedStudent(guard, "student", timing),
                       TimedStudent(reference_box, "reference", timing))
            with timing.phase("graders"):
                outcomes = backend.run_graders(assignment, wrapped[0], reference_student=wrapped[1],
                                               seed=job.seed)
            notes["suspicious"] += watch.suspicious
            timing.add("timing_tests", _timing_test_seconds(outcomes, wrapped))
            if guard.timeouts:
                lines.append(f"Timed out (no return within {CALL_TIMEOUT_S:g} s, then not called "
                             f"again): {', '.join(sorted(guard.timeouts))}.")
            teardown = time.perf_counter()
        timing.add("teardown", time.perf_counter() - teardown)
    except Exception as e:  # the machinery failed: an error result, never a silent zero
        traceback.print_exc()
        return report.error_results(f"grading stopped: {type(e).__name__}: {e}", info=info(),
                                    lines=lines, execution_time=elapsed())
    tests = report.numbered_tests(outcomes, assignment)
    broken = [o for o in outcomes if o.status == "error"]
    if broken:
        for o in broken:
            print(f"grader error in {o.nodeid or o.name}:\n{o.detail}", file=sys.stderr)
        return report.error_results(
            f"{len(broken)} grader test(s) could not run ({broken[0].name}, ...): a problem of "
            "the grader, details in the grading log", info=info(timed_out=guard.timeouts),
            lines=lines, execution_time=elapsed(), tests=tests)
    return report.graded_results(tests, info=info(timed_out=guard.timeouts), lines=lines,
                                 execution_time=elapsed())


def worker_main(argv=None):
    """Worker entry point: `<job.json> <out.json>`; grades one notebook, writes its results."""
    job_path, out_path = (sys.argv[1:] if argv is None else argv)[:2]
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    job = Job(**json.loads(Path(job_path).read_text(encoding="utf-8")))
    results = grade_notebook(job)
    report.write_atomic(out_path, json.dumps(results))


# --------------------------------------------------------------------------- the batch
class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, else one line per
    finished submission."""

    def __init__(self, total, stream=None, width=30):
        self.total, self.done, self.errors, self.kept = total, 0, 0, 0
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.tty = self.stream.isatty()

    def finished(self, row):
        self.done += 1
        self.errors += row["status"] == report.ERROR
        self.kept += bool(row.get("kept"))
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        kept = f", kept from an earlier run: {self.kept}" if self.kept else ""
        who = report.printable(f"{row['student']}/{row['assignment']}")[:60]
        text = (f"[{bar}] {self.done}/{self.total} graded, {self.errors} error(s){kept}, "
                f"{time.monotonic() - self.started:.0f}s  {who}")
        if self.tty:
            self.stream.write("\r" + text.ljust(100) + ("\n" if self.done == self.total else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


class Interrupted(KeyboardInterrupt):
    """The batch was stopped by SIGINT (Ctrl-C) or SIGTERM; `signum` says which."""

    def __init__(self, signum):
        self.signum = signal.Signals(signum)
        super().__init__(self.signum.name)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def _signals(handler):
    """SIGINT and SIGTERM handled by `handler` inside the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def _start_worker(job, workdir):
    """A worker process grading `job`, in its own session, in `workdir` (where its sandboxes
    keep their folders too: the batch removes it whatever happens to the worker)."""
    job.scratch = str(workdir)
    (workdir / "job.json").write_text(json.dumps(asdict(job)), encoding="utf-8")
    log = open(workdir / "worker.log", "wb")
    code = "from autograder.engine import worker_main; worker_main()"
    proc = subprocess.Popen([sys.executable, "-c", code, str(workdir / "job.json"),
                             str(workdir / "results.json")],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            cwd=workdir, env={**os.environ, **PINNED_THREADS},
                            start_new_session=True)
    log.close()
    return proc


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_workers(procs):
    """SIGTERM each worker's process group (its sandboxes shut down), wait up to
    TERMINATE_GRACE_S for all, then SIGKILL the groups (stragglers included)."""
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + TERMINATE_GRACE_S
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in procs:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()


def _worker_log(workdir):
    return (workdir / "worker.log").read_text(encoding="utf-8", errors="replace")


def _log_tail(workdir, lines=3):
    tail = " | ".join(_worker_log(workdir).strip().splitlines()[-lines:])
    return report.printable(tail)[:500]


def _keep_log(workdir, folder, seed):
    """folder/grading.log, for the staff only: the run's seed and the worker's log (grader
    tracebacks, warnings), control characters escaped."""
    text = f"grading seed: {seed} (replay with --seed {seed})\n"
    text += report.printable(_worker_log(workdir), keep_newlines=True)
    report.write_atomic(folder / "grading.log", text)


def _well_formed(results):
    """Whether `results` has what grades.csv and a rerun read from a results.json."""
    try:
        extra = results["extra_data"]
        return (all(isinstance(results[k], (int, float)) for k in ("score", "max_score"))
                and isinstance(results["output"], str) and isinstance(results["tests"], list)
                and all(isinstance(t, dict) and isinstance(t.get("tags"), list)
                        and isinstance(t.get("score"), (int, float))
                        and isinstance(t.get("max_score"), (int, float)) for t in results["tests"])
                and extra["status"] in (report.GRADED, report.ERROR)
                and isinstance(extra["reason"], str) and isinstance(extra["student"], str))
    except (KeyError, TypeError):
        return False


def _info_of(sub, **more):
    return _info(sub.notebook, sub.student, sub.assignment, problems=sub.problems,
                 sha256=sub.sha256, **more)


def _collect(sub, proc, workdir, seconds, timed_out, timeout):
    """results.json content of a finished (or killed) worker, speaking for `sub`'s student."""
    if timed_out:
        return report.error_results(
            f"grading took longer than the limit of {timeout:g} s per submission and was stopped",
            info=_info_of(sub), execution_time=seconds)
    try:
        results = json.loads((workdir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        code = proc.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        tail = _log_tail(workdir)
        return report.error_results(
            f"the grading process {how} before writing results" + (f" ({tail})" if tail else ""),
            info=_info_of(sub), execution_time=seconds)
    if not _well_formed(results):
        return report.error_results("the grading process wrote malformed results",
                                    info=_info_of(sub), execution_time=seconds)
    results["extra_data"]["student"] = sub.student
    if results["extra_data"].get("assignment") not in (sub.assignment, UNRECOGNISED):
        return report.error_results("the notebook changed while it was being graded; grade again",
                                    info=_info_of(sub), execution_time=seconds)
    results["extra_data"]["assignment"] = sub.assignment
    timing = results["extra_data"].setdefault("timing", {})
    if isinstance(timing, dict):
        timing["worker_seconds"] = round(seconds, 4)
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
        note += f"; timed out: {', '.join(map(str, hung))}" if hung else ""
    if extra.get("isolation") == "partial":
        note = "PARTIAL isolation; " + note
    return note + ("; kept from an earlier run (--force regrades)" if kept else "")


def _row(results, kept=False):
    return {**report.csv_row(results), "note": _note(results, kept), "kept": kept}


def _previous(sub, out, allow_partial):
    """The graded results.json an earlier run left for `sub`, if it can stand: same notebook
    bytes (SHA-256), same grader version, same student, full isolation unless partial is
    allowed now; else None (errors are always retried)."""
    try:
        results = json.loads((sub.folder(out) / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not _well_formed(results):
        return None
    extra = results["extra_data"]
    same = (extra["status"] == report.GRADED and extra["student"] == report.safe_text(sub.student)
            and extra.get("notebook_sha256") == sub.sha256 != ""
            and extra.get("grader_version") == grader_version()
            and (extra.get("isolation") != "partial" or allow_partial))
    return results if same else None


class _Batch:
    """The output side of one grade_batch run: rows, files, the staff log, the progress bar.
    Nothing here raises because of one submission: a failure to write its files becomes its
    error row (the traceback in OUT/grading.log)."""

    def __init__(self, out, total, stream):
        self.out, self.rows = out, []
        self.progress = Progress(total, stream)

    def staff_log(self, text):
        """Append `text` (escaped, time-stamped) to OUT/grading.log; never raises."""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            with open(self.out / "grading.log", "a", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(f"{stamp} {report.printable(text, keep_newlines=True)}\n")
        except OSError as e:
            print(f"grade: cannot write {self.out / 'grading.log'}: {e}", file=sys.stderr)

    def done(self, sub, results, kept=False):
        if not kept:
            results = self._write(sub, results)
        try:
            row = _row(results, kept)
        except Exception:
            self.staff_log(f"no row for {sub.student}/{sub.assignment}:\n{traceback.format_exc()}")
            row = {"student": sub.student, "assignment": sub.assignment, "score": "0",
                   "max_score": "100", "status": report.ERROR, "isolation": "",
                   "reason": "the grader could not read its own results", "note": "", "kept": False}
            row["note"] = row["reason"]
        self.rows.append(row)
        self.write_csv()
        self.progress.finished(row)

    def _write(self, sub, results):
        try:
            report.write_results(sub.folder(self.out), results)
            return results
        except Exception as e:
            self.staff_log(f"writing the results of {sub.student}/{sub.assignment} failed:\n"
                           f"{traceback.format_exc()}")
            failed = report.error_results(
                f"the grader could not write the results ({type(e).__name__}); details in the "
                "staff's grading log", info=_info_of(sub))
            try:
                report.write_atomic(sub.folder(self.out) / "results.json",
                                    json.dumps(report.safe_data(failed)))
            except Exception:
                pass
            return failed

    def write_csv(self):
        try:
            report.write_grades_csv(self.out / "grades.csv", self.rows)
        except Exception:
            self.staff_log(f"writing grades.csv failed:\n{traceback.format_exc()}")

    def keep_log(self, workdir, sub, seed):
        try:
            _keep_log(workdir, sub.folder(self.out), seed)
        except Exception:
            self.staff_log(f"keeping the log of {sub.student}/{sub.assignment} failed:\n"
                           f"{traceback.format_exc()}")


def _needed_by_cages():
    """Folders a cage must still see: the interpreter and venv, helpers/, the temporary folder
    (the sandboxes' own folders live there)."""
    from autograder.sandbox import REPO
    return {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                         REPO / "helpers", tempfile.gettempdir())}


def input_cover(notebooks, needed):
    """The folders (or files) that hide every graded notebook from every cage, so no submission
    can read a classmate's notebook while it runs: each notebook's folder, raised to its parent
    while that parent holds nothing in `needed` and is not a top-level folder; a notebook whose
    own folder holds something needed is hidden alone. Nested entries are dropped.

        input_cover(["/home/ta/course/submitted/bob/a1/a1.ipynb"], {"/opt/venv"}) -> ["/home/ta"]
    """
    def holds(folder):
        return any(os.path.commonpath([folder, n]) == folder for n in needed)

    cover = set()
    for notebook in notebooks:
        path = os.path.realpath(notebook)
        folder = os.path.dirname(path)
        if holds(folder):
            cover.add(path)
            continue
        while os.path.dirname(os.path.dirname(folder)) not in (os.sep, os.path.dirname(folder)) \
                and not holds(os.path.dirname(folder)):
            folder = os.path.dirname(folder)
        cover.add(folder)
    return sorted(c for c in cover
                  if not any(o != c and os.path.commonpath([c, o]) == o for o in cover))


def _run_workers(queue, batch, jobs, timeout, seed):
    """Grade the (Submission, Job) pairs of `queue`, up to `jobs` workers at once, each result
    to `batch` as it comes; on any exit (Ctrl-C, SIGTERM) the running workers are stopped and
    the temporary folders removed, with further signals ignored meanwhile."""
    with tempfile.TemporaryDirectory(prefix="autograder-batch-", ignore_cleanup_errors=True) as scratch:
        running = []      # (sub, proc, workdir, start)
        try:
            while queue or running:
                while queue and len(running) < jobs:
                    sub, job = queue.pop(0)
                    workdir = Path(tempfile.mkdtemp(dir=scratch))
                    running.append((sub, _start_worker(job, workdir), workdir, time.monotonic()))
                for entry in list(running):
                    sub, proc, workdir, start = entry
                    seconds = time.monotonic() - start
                    timed_out = proc.poll() is None and seconds > timeout
                    if proc.poll() is None and not timed_out:
                        continue
                    if timed_out:
                        _stop_workers([proc])
                    running.remove(entry)
                    results = _collect(sub, proc, workdir, seconds, timed_out, timeout)
                    batch.keep_log(workdir, sub, seed)
                    batch.done(sub, results)
                time.sleep(POLL_S)
        finally:
            with _signals(signal.SIG_IGN):
                _stop_workers([proc for _, proc, _, _ in running])
                shutil.rmtree(scratch, ignore_errors=True)


def new_seed():
    """A fresh seed for a grading run (runner.new_seed, imported only when needed)."""
    from autograder import runner
    return runner.new_seed()


def grade_batch(subs, out, jobs=1, force=False, timeout=SUBMISSION_TIMEOUT_S, backend=None,
                stream=None, seed=None, allow_partial=False, command=None):
    """Grade `subs` (from find_submissions) into `out`; returns the grades.csv rows (+ "note",
    "kept").

    Up to `jobs` workers run at once; each submission's results.json and feedback.html are
    written as soon as it finishes, and grades.csv after every submission. A graded result of
    an earlier run is kept when its notebook and the grader are unchanged, unless `force`
    (_previous). One `seed` (new_seed() if None) decides the hidden numbers of every
    submission; it goes to OUT/grading.log with `command` and to each submission's
    grading.log, never to what students see. SIGINT and SIGTERM stop the workers, remove the
    temporary folders and raise Interrupted. The progress bar goes to `stream` (default stderr).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    backend = backend or DEFAULT_BACKEND       # the workers import it by name
    seed = new_seed() if seed is None else seed
    grader_version.cache_clear()               # once per run: the code as this run finds it
    batch = _Batch(out, len(subs), stream)
    batch.staff_log(f"run started: seed {seed}; command: "
                    f"{command if command is not None else shlex.join(sys.argv)}")
    queue = []
    hide = input_cover([sub.notebook for sub in subs], _needed_by_cages())
    for sub in subs:
        previous = None if force else _previous(sub, out, allow_partial)
        if previous is not None:
            batch.done(sub, previous, kept=True)
        elif sub.problem:
            batch.done(sub, report.error_results(sub.problem, info=_info_of(sub)))
        else:
            queue.append((sub, Job(str(sub.notebook.resolve()), sub.student, str(out.resolve()),
                                   backend, seed, allow_partial, sub.problems, hide=hide)))
    try:
        with _signals(_raise_interrupted):
            _run_workers(queue, batch, jobs, timeout, seed)
    except KeyboardInterrupt as e:       # Interrupted, or Ctrl-C before the handler was set
        batch.staff_log(f"run interrupted ({getattr(e, 'signum', signal.SIGINT).name}) after "
                        f"{len(batch.rows)} of {len(subs)} submissions")
        raise
    if not subs:
        batch.write_csv()
    batch.staff_log(f"run finished: {len(batch.rows)} submissions")
    return batch.rows
