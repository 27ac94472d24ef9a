"""What the worker wraps around the student's (and the reference's) calls while the graders run.

    watch = Watch(student)           # remembers calls that failed the way the cage provokes
    guard = HangGuard(watch)         # a function that timed out is not called again
    timer = CallTimer(guard, "student", spent)     # each call timed into a TimeSpent
    run_graders(assignment, timer, ...)

Each wrapper passes `call`, `call_full` and `peak_memory_call` through its own step and
everything else (has, source, load_report, ...) straight to the student it wraps.
"""
import re
import time
from contextlib import contextmanager

from autograder import report
from autograder.child import REFUSED
from autograder.config import CALL_TIMEOUT_S, HANG_STRIKES
from autograder.student import StudentError, StudentTimeout


class TimeSpent:
    """Seconds spent per phase of the worker and per kind of call, for extra_data["timing"]."""

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


class CallTimer(_Wrapper):
    """Calls timed into `spent` under "<side>_calls"; `calls` keeps (start, seconds) of each,
    start in time.time() seconds, so the time spent inside given tests can be told afterwards
    (seconds_within)."""

    def __init__(self, inner, side, spent):
        super().__init__(inner)
        self._side, self._spent = side, spent
        self.calls = []

    def _around(self, target, name, args, kwargs):
        start, clock = time.time(), time.perf_counter()
        try:
            return target(name, *args, **kwargs)
        finally:
            seconds = time.perf_counter() - clock
            self._spent.add(f"{self._side}_calls", seconds)
            self.calls.append((start, seconds))


def seconds_within(timers, windows):
    """Seconds of the calls of `timers` (CallTimers) that started inside one of `windows`
    ((start, stop) pairs, time.time() seconds)."""
    return sum(seconds for timer in timers for start, seconds in timer.calls
               if any(low <= start <= high for low, high in windows))


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


# Failures the cage provokes, by the words of the error ("<Type>: <message>"): blocked imports
# (the child's ImportBlocker and refusals), writes refused, array subclasses refused.
SUSPICIOUS = (
    (re.compile(f"cannot be imported while grading|{re.escape(REFUSED)}"),
     "blocked library import"),
    (re.compile(r"^(PermissionError|OSError)\b.*(Read-only file system|Errno 30|Permission denied"
                r"|Errno 13|Operation not permitted|Errno 1\b|No space left|Errno 28|File too large"
                r"|Errno 27)"), "write refused by the cage"),
    (re.compile(r"returned a numpy\.ndarray subclass|ndarray subclass"),
     "returned an array subclass"),
)


def suspicion(text):
    """The SUSPICIOUS label of an error text ("<Type>: <message>"), or None."""
    return next((label for pattern, label in SUSPICIOUS if pattern.search(str(text))), None)


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
                self.suspicious.append(f"{label}: `{name}`: {report.short(e)}")
            raise

