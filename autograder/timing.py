"""Timing and memory measurements for the graders (docs/CONTRACT.md, "Thresholds and limits").

The student's function and the reference go through the same harness: both are student-like
objects (`student.call_full(...)` -> CallResult with `.seconds`), so in the caged grader both are
child processes and both times include the same round trip. The harness

- pins BLAS to one thread in this process (threadpoolctl; caged children start pinned, with
  config.PINNED_THREADS in their environment),
- warms both up (config.TIMING_WARMUP untimed calls each),
- interleaves the timed calls (student first on even repeats, reference first on odd ones),
- builds FRESH input arrays for every call pair (`make_args(seed_offset)`), so an answer that
  memoizes its last result cannot pass,
- checks every output against the reference's output for the same inputs (a fast wrong
  answer fails),
- keeps the minimum of config.TIMING_REPEATS repeats of each,
- counts CPU time where it can: on a loaded machine a wall clock penalizes the longer call (it
  is preempted more often), so a plain answer 3x slower than the reference can look 15x
  slower. Both kinds of student measure `cpu_seconds` on the trusted side: an in-process one
  with this process's CPU clock, a caged one from the kernel's account of the child process
  (which cannot fork, so nothing escapes the count); the wall clock is the fallback,
- stops early (and fails) once the student's best time is already far past the limit, so a
  loop-based answer does not cost the grading run all its repeats.

Thresholds are ratios `student / reference`, from autograder.config.
"""
from dataclasses import dataclass

from threadpoolctl import threadpool_limits

from autograder import config
from autograder.grading import Failed, note
from autograder.student import StudentError


class GraderError(RuntimeError):
    """A measurement the grader itself could not make (not the student's fault)."""


# --------------------------------------------------------------------------- the harness
@dataclass
class TimeRatio:
    """Best (minimum) seconds of the student's and the reference's calls, and their ratio."""
    student: float
    reference: float
    runs: int

    @property
    def ratio(self):
        return self.student / max(self.reference, 1e-9)


def timed_call(obj, name, args):
    """(CallResult, seconds) of one call: its CPU time when the student object measured it,
    else the wall clock of the round trip (see the module docstring)."""
    result = obj.call_full(name, *args)
    seconds = result.cpu_seconds if result.cpu_seconds is not None else result.seconds
    return result, seconds


def _ms(seconds):
    return f"{seconds * 1e3:.3g} ms"


def time_against_reference(student, reference_student, function, make_args, *, max_ratio,
                           reference_function=None, check=None,
                           repeats=config.TIMING_REPEATS, warmup=config.TIMING_WARMUP):
    """Time student.`function` against reference_student.`reference_function` (default: the
    same name) on fresh inputs `make_args(seed_offset)` each repeat.

    `check(args, student_value, reference_value)` raises Failed when the student's output is
    wrong; it runs on every call. Returns a TimeRatio (it may stop early once the student's best
    time exceeds config.EARLY_STOP_FACTOR * max_ratio * the reference's best).
    """
    reference_function = reference_function or function
    best = {"student": float("inf"), "reference": float("inf")}
    runs = 0

    def pair(seed_offset, student_first):
        args = make_args(seed_offset)
        order = (("student", student), ("reference", reference_student))
        results, seconds = {}, {}
        for who, obj in (order if student_first else order[::-1]):
            if who == "student":
                results[who], seconds[who] = timed_call(obj, function, args)
                continue
            try:
                results[who], seconds[who] = timed_call(obj, reference_function, args)
            except StudentError as e:   # the reference's process failed: not the student's fault
                raise GraderError(f"the reference `{reference_function}` could not run: {e}") from e
        if check is not None:
            check(args, results["student"].value, results["reference"].value)
        return seconds

    with threadpool_limits(limits=1, user_api="blas"):
        for k in range(warmup):
            pair(1 + k, student_first=k % 2 == 0)
        for r in range(repeats):
            seconds = pair(1 + warmup + r, student_first=r % 2 == 0)
            for who in best:
                best[who] = min(best[who], seconds[who])
            runs = r + 1
            if runs >= config.EARLY_STOP_AFTER and runs < repeats and \
                    best["student"] > config.EARLY_STOP_FACTOR * max_ratio * best["reference"]:
                return TimeRatio(best["student"], best["reference"], runs)
    return TimeRatio(best["student"], best["reference"], runs)


def check_time_ratio(student, reference_student, function, make_args, case_text, *, max_ratio,
                     reference_function=None, reference_label="the reference", check=None,
                     hint=""):
    """Raise Failed unless student time <= max_ratio * reference time (best of the repeats).

    max_ratio < 1 states a required speed-up (e.g. 1/5: at least 5x faster than the reference).
    """
    t = time_against_reference(student, reference_student, function, make_args,
                               max_ratio=max_ratio, reference_function=reference_function,
                               check=check)
    measured = (f"On {case_text}: `{function}` took {_ms(t.student)} and {reference_label} "
                f"{_ms(t.reference)} (best of {t.runs} runs on fresh inputs each, one BLAS thread)")
    if t.ratio <= max_ratio:
        limit = (f"at least {1 / max_ratio:.3g}x faster is required" if max_ratio < 1
                 else f"at most {max_ratio:.3g}x is allowed")
        note(f"{measured}: {t.ratio:.3g}x the reference's time; {limit}.")
        return t
    if max_ratio < 1:
        verdict = (f"it must be at least {1 / max_ratio:.3g}x faster than {reference_label}; it was "
                   + (f"{1 / t.ratio:.3g}x faster" if t.ratio < 1 else f"{t.ratio:.3g}x slower"))
    else:
        verdict = f"it may take at most {max_ratio:.3g}x the time of {reference_label}; it took {t.ratio:.3g}x"
    raise Failed(f"{measured}: {verdict}." + (f" {hint}" if hint else ""))


# --------------------------------------------------------------------------- memory
def peak_memory(student, function, args):
    """(CallResult, peak extra bytes) of one call, or GraderError when it cannot be measured."""
    measure = getattr(student, "peak_memory_call", None)
    if measure is None:
        raise GraderError(f"peak memory cannot be measured: the grader's student object "
                          f"({type(student).__name__}) has no peak_memory_call")
    return measure(function, *args)
