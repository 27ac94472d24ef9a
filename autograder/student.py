"""What a hidden grader sees of a submission: a `student` it can call, wherever the code runs.

Two kinds of student share this interface:

- `sandbox.SandboxStudent`: the submission runs in a caged child process; only `.npy` arrays
  (allow_pickle=False) and JSON come back. The grading path for graded work.
- `InProcessStudent` (below): the functions live in this very interpreter, e.g. the nbgrader
  kernel running a hidden test cell. For practice only: student code can tamper with anything.

    student.call(name, *args, **kwargs)       -> value
    student.call_full(name, *args, **kwargs)  -> CallResult(value, args_after, seconds, output)
    student.has(name)                         -> bool
    student.source                            -> str: every line of code the submission ran

Values that come back are ndarrays, Python ints/floats/bools, or tuples of those; anything else
raises BadReturn. Arguments are copied before the call, so a function that mutates its input is
seen in `args_after` and never changes the grader's arrays (in the sandbox, `args_after` is read
by the grader from the memory the arguments were in, None for an array that could not be read
back: either way, a changed argument).
"""
import time
import traceback
from dataclasses import dataclass, field

import numpy as np


class StudentError(Exception):
    """The student's code could not produce a value. `str()` is a message for the student;
    each subclass's `kind` is the kind of failure results.json tags (`failure:<kind>`)."""


class StudentException(StudentError):
    """The student's function raised. `exc_type` is the exception's class name."""
    kind = "exception"

    def __init__(self, exc_type, message, student_traceback=""):
        super().__init__(f"{exc_type}: {message}")
        self.exc_type = exc_type
        self.message = message
        self.student_traceback = student_traceback


class StudentTimeout(StudentError):
    kind = "timeout"


class StudentCrash(StudentError):
    """The process running the student's code died (killed, out of memory, exited)."""
    kind = "crash"


class MissingFunction(StudentError):
    kind = "missing"


class BadReturn(StudentError):
    """The function returned something that is not an array, a number or a tuple of them."""
    kind = "bad-return"


@dataclass
class CallResult:
    """What one call gave: the value, the arguments after the call (an array argument the
    grader could not read back is None), the wall-clock `seconds` and the `cpu_seconds` of the
    call, both measured by the trusted side."""
    value: object
    args_after: tuple = ()
    seconds: float = 0.0
    output: str = ""
    kwargs_after: dict = field(default_factory=dict)
    cpu_seconds: float | None = None


def clean_value(value, what="the function"):
    """Reduce a returned value to plain ndarrays/numbers/tuples, or raise BadReturn.

    Subclasses of ndarray and object arrays are refused: their comparisons can lie.
    """
    if isinstance(value, (tuple, list)):
        return tuple(clean_value(v, what) for v in value)
    if isinstance(value, (bool, int, float)) and type(value) in (bool, int, float):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if type(value) is np.ndarray and value.dtype.kind in "biufc":
        return value
    raise BadReturn(f"{what} returned a {type(value).__module__}.{type(value).__name__}"
                    f"{' of dtype ' + str(value.dtype) if isinstance(value, np.ndarray) else ''}; "
                    "expected a numpy array, a number, or a tuple of them")


def _copy_arg(a):
    return a.copy() if isinstance(a, np.ndarray) else a


class InProcessStudent:
    """A submission whose functions live in `namespace` (a dict such as a kernel's globals())."""

    def __init__(self, namespace, source="", name="in-process"):
        self.namespace = namespace
        self.source = source
        self.name = name

    def has(self, name):
        return callable(self.namespace.get(name))

    def call_full(self, name, *args, **kwargs):
        fn = self.namespace.get(name)
        if not callable(fn):
            raise MissingFunction(f"the submission defines no function `{name}`")
        args = tuple(_copy_arg(a) for a in args)
        kwargs = {k: _copy_arg(v) for k, v in kwargs.items()}
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            value = fn(*args, **kwargs)
        except Exception as e:  # the student's error becomes a verdict, not a grader crash
            tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-3:])
            raise StudentException(type(e).__name__, str(e), tb) from None
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        return CallResult(clean_value(value, f"`{name}`"), args, seconds, "", kwargs, cpu)

    def call(self, name, *args, **kwargs):
        return self.call_full(name, *args, **kwargs).value

    def peak_memory_call(self, name, *args, **kwargs):
        """(CallResult, peak extra bytes): how far above what the process held before the call
        its memory rose at the peak, not counting the copies of the arguments.

        On Linux this is the resident-set high-water mark, reset before the call through
        /proc/self/clear_refs (no cost per allocation, so a loop-based answer is not slowed
        down); elsewhere tracemalloc, which also sees numpy's allocations.
        """
        copies = sum(a.nbytes for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray))
        try:
            _release_free_memory()
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")                      # VmHWM := VmRSS
            before = _status_bytes("VmRSS")
        except OSError:
            return self._peak_by_tracemalloc(name, copies, *args, **kwargs)
        result = self.call_full(name, *args, **kwargs)
        return result, max(0, _status_bytes("VmHWM") - before - copies)

    def _peak_by_tracemalloc(self, name, copies, *args, **kwargs):
        import tracemalloc
        tracing = tracemalloc.is_tracing()
        if not tracing:
            tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            result = self.call_full(name, *args, **kwargs)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            if not tracing:
                tracemalloc.stop()
        return result, max(0, peak - before - copies)


def _release_free_memory():
    """Hand memory freed earlier back to the system (glibc keeps it resident otherwise), so the
    call's own allocations show in the resident set."""
    import ctypes
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _status_bytes(field_name):
    """A memory figure of this process from /proc/self/status (reported in kB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"{field_name} not in /proc/self/status")
