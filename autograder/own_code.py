"""One's own notebook graded without the cage: the self-learner's backend where the cage cannot
run (it needs Linux: memfd, /proc, namespaces), e.g. on macOS, or when asked for with
`self-check --no-cage`.

    backend = own_code()                       # a backend.Backend, as backend.caged()
    with OwnCode(cells) as student: ...        # the student side: run in this process
    with own_reference() as ref: ...           # the reference, the same way

The notebook's code runs in the worker process itself, in a namespace of its own, with the
cage's time limits (config.NOTEBOOK_TIMEOUT_S for the cells together, config.CALL_TIMEOUT_S per
call, through SIGALRM: a loop in Python stops on time, a single numpy call that overruns stops
when it returns). Nothing is hidden and no resource limit applies: the cage protects an
instructor from other people's code, which one's own notebook is not. The graders are the same,
and so are the timing ratios (both sides run in the same process) and the memory measurement
(student.InProcessStudent.peak_memory_call). `isolation` is "none" and the results say so.
"""
import contextlib
import io
import os
import signal
import time
from pathlib import Path

from autograder import config, reference
from autograder.backend import Backend
from autograder.child import cell_filename, error_record
from autograder.extract import Cell, as_cells
from autograder.sandbox import CellError, LoadReport
from autograder.student import InProcessStudent, StudentCrash, StudentException, StudentTimeout

NOTE = ("your own code, run in the grading process: the cage protects an instructor from other "
        "people's code and is not needed for one's own")


class _Overtime(BaseException):
    """Raised into the running code by SIGALRM when its time is up (a BaseException, so the
    student's `except Exception` does not swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds):
    """Raise _Overtime in this (main) thread after `seconds` of wall clock."""
    def ring(signum, frame):
        raise _Overtime()
    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class OwnCode:
    """A submission run in this process (see the module docstring); the same interface as
    sandbox.SandboxStudent: load_report, has, call, call_full, peak_memory_call, source,
    isolation, isolation_note. The keyword arguments the cage takes (name, scratch_root,
    hidden_paths, allow_partial) are accepted and have nothing to do here."""

    def __init__(self, cells, name="student", *, scratch_root=None, hidden_paths=None,
                 allow_partial=True, call_timeout=config.CALL_TIMEOUT_S,
                 notebook_timeout=config.NOTEBOOK_TIMEOUT_S):
        self.name = name
        self.cells = as_cells(cells)
        self.source = "\n\n".join(c.source for c in self.cells)
        self.call_timeout, self.notebook_timeout = call_timeout, notebook_timeout
        self.isolation, self.isolation_note = "none", NOTE
        self._namespace = {"__name__": "__main__"}
        self._student = InProcessStudent(self._namespace, self.source, name)
        self._report = None

    def __enter__(self):
        self.load_report
        return self

    def __exit__(self, *exc):
        self._namespace.clear()

    @property
    def load_report(self):
        """The LoadReport of running the cells (runs them the first time it is read)."""
        if self._report is None:
            self._report = self._run_cells()
        return self._report

    def _run_cells(self):
        os.environ.setdefault("MPLBACKEND", "Agg")
        errors, skipped = [], []
        out, err = io.StringIO(), io.StringIO()
        start = time.monotonic()
        for cell in self.cells:
            left = self.notebook_timeout - (time.monotonic() - start)
            record = {"index": cell.index, "grade_id": cell.grade_id}
            try:
                if left <= 0:
                    raise _Overtime()
                code = compile(cell.source, cell_filename(record), "exec")
                with _time_limit(left), contextlib.redirect_stdout(out), \
                        contextlib.redirect_stderr(err):
                    exec(code, self._namespace)
            except _Overtime:
                skipped.append(cell.index)
                errors.append(CellError(cell.index, cell.grade_id, "CellStopped",
                                        f"the cell did not finish within "
                                        f"{self.notebook_timeout:g} s; it was skipped"))
            except BaseException as e:   # SystemExit and KeyboardInterrupt too: the next cell runs
                errors.append(CellError(cell.index, cell.grade_id, **error_record(e)))
        limit = config.OUTPUT_LIMIT_CHARS
        return LoadReport(errors=errors, stdout=out.getvalue()[:limit],
                          stderr=err.getvalue()[:limit], skipped=skipped,
                          functions=tuple(sorted(k for k, v in self._namespace.items()
                                                 if callable(v) and not k.startswith("__"))),
                          seconds=time.monotonic() - start)

    def has(self, name):
        return name in self.load_report.functions

    def _limited(self, method, name, args, kwargs):
        self.load_report
        kwargs.pop("_timeout", None)
        prints = io.StringIO()      # the function's prints stay out of the worker's own output
        try:
            with _time_limit(self.call_timeout), contextlib.redirect_stdout(prints):
                return method(name, *args, **kwargs)
        except _Overtime:
            raise StudentTimeout(f"`{name}` did not return within {self.call_timeout:g} s") from None
        except (SystemExit, KeyboardInterrupt) as e:
            raise StudentException(type(e).__name__, str(e)) from None
        except MemoryError:
            raise StudentCrash(f"`{name}` ran out of memory") from None

    def call(self, name, /, *args, **kwargs):
        return self._limited(self._student.call, name, args, kwargs)

    def call_full(self, name, /, *args, **kwargs):
        return self._limited(self._student.call_full, name, args, kwargs)

    def peak_memory_call(self, name, /, *args, **kwargs):
        return self._limited(self._student.peak_memory_call, name, args, kwargs)


def own_reference(allow_partial=True, **kwargs):
    """autograder/reference.py run the same way as the student's notebook."""
    return OwnCode([Cell(Path(reference.__file__).read_text(), None, 0)], name="reference")


def no_hidden_paths(*extra):
    return []


def own_code():
    """The Backend that grades without the cage (the rest is backend.caged()'s)."""
    from autograder.backend import caged
    real = caged()
    return Backend(load_submission=real.load_submission, SubmissionError=real.SubmissionError,
                   student_sandbox=OwnCode, reference_sandbox=own_reference,
                   hidden_paths=no_hidden_paths, run_graders=real.run_graders)
