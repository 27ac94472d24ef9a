"""Timing helpers for the notebooks' demonstrations.

Timings on a shared machine are noisy: compare functions measured in the same run, read the
ratios (speed-ups), not the absolute seconds.

    t = compare_timings({"7 loops": conv_forward_naive, "im2col": conv_forward_im2col},
                        args=(x, w, b), kwargs={"stride": 1, "pad": 1}, baseline="7 loops")
"""
import statistics
import time


def time_function(fn, *args, repeats=5, warmup=1, **kwargs):
    """Median wall-clock seconds of fn(*args, **kwargs).

    Inputs:
    - fn: the function to time; args, kwargs: what it is called with
    - repeats: timed calls (>= 1); warmup: untimed calls made first (caches, lazy imports)

    Returns the median of the `repeats` timings in seconds, at least 1e-9 (so a ratio of two
    timings never divides by zero).
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    for _ in range(warmup):
        fn(*args, **kwargs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return max(statistics.median(times), 1e-9)


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
