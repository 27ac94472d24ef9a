"""Timing helpers for the notebooks' demonstrations.

Timings on a shared machine are noisy: compare functions measured in the same run, read the
ratios (speed-ups), not the absolute seconds.

    t = compare_timings({"7 loops": conv_forward_naive, "im2col": conv_forward_im2col},
                        args=(x, w, b), kwargs={"stride": 1, "pad": 1}, baseline="7 loops")
    report_speedup(conv_forward_im2col, conv_forward_naive)   # yours against what to expect
"""
import statistics
import time

import numpy as np

from helpers.rules import rules


def _timings(fn, args, kwargs, repeats, warmup):
    """Wall-clock seconds of `repeats` calls fn(*args, **kwargs), after `warmup` untimed ones."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    for _ in range(warmup):
        fn(*args, **kwargs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return times


def time_function(fn, *args, repeats=5, warmup=1, **kwargs):
    """Median wall-clock seconds of fn(*args, **kwargs).

    Inputs:
    - fn: the function to time; args, kwargs: what it is called with
    - repeats: timed calls (>= 1); warmup: untimed calls made first (caches, lazy imports)

    Returns the median of the `repeats` timings in seconds, at least 1e-9 (so a ratio of two
    timings never divides by zero).
    """
    return max(statistics.median(_timings(fn, args, kwargs, repeats, warmup)), 1e-9)


def best_time(fn, *args, repeats=5, warmup=1, **kwargs):
    """Least wall-clock seconds of fn(*args, **kwargs) over `repeats` calls (after `warmup`
    untimed ones), at least 1e-9: the run least disturbed by the rest of the machine, the
    statistic that reproduces best from run to run. Inputs as in time_function."""
    return max(min(_timings(fn, args, kwargs, repeats, warmup)), 1e-9)


def format_speedup_table(timings, baseline):
    """A text table of timings: name, median milliseconds, speed-up over the baseline.

    Inputs:
    - timings: dict name -> seconds
    - baseline: one of the names; its speed-up is 1.0x, a function twice as fast shows 2.0x

    Returns the table as a string (one header line, one line per name, in the dict's order).
    """
    if baseline not in timings:
        raise ValueError(f"baseline {baseline!r} is not one of the timed names {list(timings)}")
    width = max(len("function"), *(len(name) for name in timings))
    lines = [f"{'function':<{width}}  {'median ms':>12}  {'speed-up':>10}"]
    for name, seconds in timings.items():
        speedup = timings[baseline] / seconds
        lines.append(f"{name:<{width}}  {seconds * 1e3:>12.3f}  {speedup:>9.1f}x")
    return "\n".join(lines)


def compare_timings(functions, args, kwargs=None, baseline=None, repeats=5, warmup=1):
    """Time several functions on the same arguments and print a speed-up table.

    Inputs:
    - functions: dict name -> callable, all called as fn(*args, **kwargs)
    - args: tuple of positional arguments, e.g. (x, w, b); kwargs: dict or None
    - baseline: the name the speed-ups are relative to (default: the first name)
    - repeats, warmup: as in time_function

    Prints format_speedup_table(...) and returns dict name -> median seconds.
    """
    if not functions:
        raise ValueError("compare_timings needs at least one function")
    baseline = next(iter(functions)) if baseline is None else baseline
    if baseline not in functions:
        raise ValueError(f"baseline {baseline!r} is not one of {list(functions)}")
    kwargs = kwargs or {}
    timings = {name: time_function(fn, *args, repeats=repeats, warmup=warmup, **kwargs)
               for name, fn in functions.items()}
    print(format_speedup_table(timings, baseline))
    return timings


def estimate_by_scaling(fn, small_args, small_macs, full_macs, **kw):
    """Estimate fn's time on a big case from a run on a small one.

    The loop implementations take time proportional to their multiply-accumulates (MACs), so
    time(full) ~= time(small) * full_macs / small_macs. Say it is an estimate when you show it.

    Inputs:
    - fn: the function; small_args: tuple of arguments of the small case
    - small_macs, full_macs: multiply-accumulates of the small and the full case
      (K * f*f*C * H_out*W_out*M for a convolutional layer's forward pass)
    - kw: passed on to time_function: repeats= and warmup= set the measurement, any other
      keyword goes to fn (e.g. stride=2, pad=1)

    Returns the estimated seconds for the full case.
    """
    if small_macs <= 0 or full_macs <= 0:
        raise ValueError(f"MAC counts must be positive, got small_macs={small_macs}, full_macs={full_macs}")
    return time_function(fn, *small_args, **kw) * (full_macs / small_macs)


# --------------------------------------------------------------------------- what to expect
def _about(x):
    """x to two significant digits, as a person says it: 800, 30, 3.1, 0.31."""
    rounded = float(f"{x:.2g}")
    return f"{rounded:.0f}" if rounded >= 10 else f"{rounded:g}"


def _demo_arguments(expected):
    """The demo layer's arguments, from its case in course_rules.json: (x, w, b, stride, pad)
    for a forward pass, (dout, x, w, stride, pad) for a backward pass."""
    c = expected["case"]
    rng = np.random.default_rng(c["seed"])
    x = rng.standard_normal((c["H"], c["W"], c["C"], c["M"]))
    w = rng.standard_normal((c["K"], c["f"], c["f"], c["C"]))
    if expected["family"] == "forward":
        return (x, w, rng.standard_normal(c["K"]), c["stride"], c["pad"])
    H_out, W_out = ((n + 2 * c["pad"] - c["f"]) // c["stride"] + 1 for n in (c["H"], c["W"]))
    return (rng.standard_normal((H_out, W_out, c["K"], c["M"])), x, w, c["stride"], c["pad"])


def _verdict(speedup, expected):
    """What a measured speed-up means against `expected` (course_rules.json "speedups" entry):
    about as fast as the course's version (at least half its speed-up), fast enough for the
    hidden timing test, or too slow for it, with where to look."""
    if speedup >= expected["measured"] / 2:
        return "as expected."
    if speedup >= expected["at_least"]:
        return ("slower than the course's version, but fast enough for the hidden timing test "
                f"(about {_about(expected['at_least'])}x here). To close the gap: {expected['look_for']}")
    return ("too slow for the hidden timing test, which asks for about "
            f"{_about(expected['at_least'])}x here. Look for: {expected['look_for']}")


def report_speedup(function, baseline, name=None, repeats=5, warmup=1):
    """Time your `function` against `baseline` on the course's demo layer for it, and print
    what to expect and what yours does.

    Inputs:
    - function: your function, e.g. conv_forward_im2col
    - baseline: the slower function it is compared with, e.g. conv_forward_naive (the seven
      loops); both take the same arguments
    - name: which course function `function` is (default: its __name__); one of the keys of
      course_rules.json's "speedups": conv_forward_partial, conv_forward_im2col,
      conv_backward_im2col, conv_forward_fft
    - repeats, warmup: timed and untimed calls of each; the best (least) time counts

    Prints one line, e.g. "conv_forward_im2col on x 32x32x3x4, 8 filters 3x3, stride 1, pad 1:
    expect about 800x faster than the seven loops; yours is 23x: too slow for the hidden timing
    test, which asks for about 100x here. Look for: ...". Returns a dict: speedup (yours),
    expected (the course's, measured on the course machine), at_least (what the hidden timing
    test accepts), seconds and baseline_seconds (best times); None when `function` is not
    written yet (it raises NotImplementedError).
    """
    name = name or getattr(function, "__name__", "")
    known = rules()["speedups"]
    if name not in known:
        raise ValueError(f"no demo layer for {name!r}; pass name= one of {', '.join(known)}")
    expected = known[name]
    args = _demo_arguments(expected)
    try:
        seconds = best_time(function, *args, repeats=repeats, warmup=warmup)
    except NotImplementedError:
        print(f"{name}: not written yet, nothing to time")
        return None
    baseline_seconds = best_time(baseline, *args, repeats=repeats, warmup=warmup)
    speedup = baseline_seconds / seconds
    print(f"{name} on {expected['describe']}: expect about {_about(expected['measured'])}x faster than "
          f"{expected['baseline_words']}; yours is {_about(speedup)}x ({baseline_seconds * 1e3:.3g} ms -> "
          f"{seconds * 1e3:.3g} ms): {_verdict(speedup, expected)}")
    return {"speedup": speedup, "expected": expected["measured"], "at_least": expected["at_least"],
            "seconds": seconds, "baseline_seconds": baseline_seconds}

