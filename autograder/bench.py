"""Timing table of every tier of the layer against the bare matrix product (`make bench`).

    python -m autograder.bench [--cases NAME[,NAME]] [--repeats N] [--quick] [--dtype float64|float32]
                               [--plot PATH]

One row per case of `autograder.cases.LARGE` (lecture, cifar, alexnet, mid), one column per entry of
`COLUMNS`, in three tables: forward times (the seven loops, the three loops, im2col, FFT, the bare
GEMM of the same size, (K, f*f*C) @ (f*f*C, H_out*W_out*M) on random data); backward times and
speed (im2col backward, im2col's GFLOP/s, its share of the machine's peak and of the bare GEMM, the
GEMM's own share of the peak); the naive -> im2col speed-up and memory (bytes of X_col against the
bytes of the input). When PyTorch can be imported, its conv2d forward and autograd backward (one
thread) are added. Every timed cell is "best / median" of several repeats after a warm-up, and so
is every cell derived from times (from the best times / from the medians); a goal is met only when
it holds on both. The peak is measured in the same run: a 1024x1024 matrix product of the run's
dtype, best of 5, on the one BLAS thread the whole run is held to (threadpoolctl)
-- the physical limit of computing a layer as one matrix product. The loop tiers are timed on a
reduced case (fewer filters, then fewer samples) and scaled by multiply-accumulates; those cells
start with '~'. A log-log plot of time against layer size (MACs) for im2col forward, the bare GEMM,
PyTorch and the peak is written to build/bench/bench.png (--plot). This prints numbers; it asserts
nothing about speed.

To add a column, write a function `(Row) -> Cell` and append a `Column` to `COLUMNS` (a function
may read the cells measured before it from `row.cells`). To add a row, add a case to `cases.LARGE`.
"""
import argparse
import functools
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from autograder import cases, reference

# The benchmark's own repeats: more than a grading run can afford. Three warm-up calls, because
# libraries that build a kernel for each new shape (PyTorch's oneDNN) are slow on the first ones.
BENCH_REPEATS = 7
BENCH_WARMUP = 3

LOOP_MACS = 200_000        # the loop tiers are timed on a reduced case of at most this many MACs
QUICK_LOOP_MACS = 2_000    # --quick: one filter, one sample on every case
COURSE_CLAIM = "200x or more"
PEAK_SIZE = 1024           # the peak: an n x n matrix product of the run's dtype, best of PEAK_REPEATS
PEAK_REPEATS = 5
PLOT_PATH = Path(__file__).resolve().parents[1] / "build" / "bench" / "bench.png"


# --------------------------------------------------------------------------- timing
def time_calls(fn, *args, repeats, warmup):
    """(best, median) wall-clock seconds of fn(*args) over `repeats` calls after `warmup` untimed
    ones, each at least 1e-9 (so a ratio never divides by zero)."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    for _ in range(warmup):
        fn(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return max(min(times), 1e-9), max(statistics.median(times), 1e-9)


def gflops(macs, seconds):
    """Achieved GFLOP/s of a layer of `macs` multiply-accumulates (2 floating-point operations
    each) computed in `seconds`."""
    return 2 * macs / seconds / 1e9


def peak_share(achieved_gflops, peak_gflops):
    """Percent of the peak that `achieved_gflops` is."""
    return 100 * achieved_gflops / peak_gflops


def measure_peak(dtype, n=PEAK_SIZE, repeats=PEAK_REPEATS):
    """GFLOP/s of an n x n by n x n matrix product of `dtype` on random data, best of `repeats`
    after one warm-up call: the single-core limit of any layer computed as a matrix product (BLAS
    is pinned to one thread)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
    best, _ = time_calls(np.matmul, a, b, repeats=repeats, warmup=1)
    return gflops(n ** 3, best)


# --------------------------------------------------------------------------- cells and rows
def _format_seconds(s):
    if s < 1e-3:
        return f"{s * 1e6:.3g} us"
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{_three_digits(s)} s"


def _format_seconds_pair(best, median):
    """Both in the median's unit: '2.17 / 2.26 ms'."""
    scale, unit = (1e6, "us") if median < 1e-3 else (1e3, "ms") if median < 1 else (1, "s")
    return f"{_three_digits(best * scale)} / {_three_digits(median * scale)} {unit}"


def _three_digits(v):
    """Three significant digits without an exponent: 0.117, 29.5, 1,520."""
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


FORMATS = {
    "seconds": _format_seconds,
    "bytes": lambda v: f"{int(v):,} B",
    "ratio": lambda v: f"{_three_digits(v)}x",
    "percent": lambda v: f"{v:.0f}%" if v >= 9.5 else f"{v:.2g}%",
    "gflops": _three_digits,
}


@dataclass(frozen=True)
class Cell:
    """One number of the table: its value, its kind (a key of FORMATS), whether it is an estimate.

    A timed cell, and a cell derived from times, holds two values: `value` from the median times
    and `best` from the best times; it shows as "best / median". Other cells have best None."""
    value: float
    kind: str
    estimated: bool = False
    best: Optional[float] = None

    @property
    def both(self):
        """(from the best times, from the medians); (value, value) for a cell of one value."""
        return (self.value if self.best is None else self.best), self.value

    def __str__(self):
        mark = "~" if self.estimated else ""
        if self.best is None:
            return mark + FORMATS[self.kind](self.value)
        if self.kind == "seconds":
            return mark + _format_seconds_pair(self.best, self.value)
        return mark + " / ".join(FORMATS[self.kind](v) for v in self.both)


def derived(kind, fn, *cells):
    """A cell computed by fn from the values of `cells`: once from their best times, once from
    their medians; estimated when any of them is."""
    best = fn(*(c.both[0] for c in cells))
    median = fn(*(c.both[1] for c in cells))
    return Cell(median, kind, estimated=any(c.estimated for c in cells), best=best)


@dataclass
class Row:
    """One case being measured: the options, the run's measured peak (GFLOP/s), and the cells
    measured so far (column key -> Cell)."""
    name: str
    case: cases.Case
    dtype: type
    repeats: int
    warmup: int
    loop_macs: int
    peak: Optional[float] = None
    cells: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @functools.cached_property
    def arrays(self):
        """x (H, W, C, M), w (K, f, f, C), b (K,) of the case, in the row's dtype."""
        return self.case.arrays(self.dtype)

    @property
    def layer(self):
        """(stride, pad)."""
        return self.case.stride, self.case.pad

    def seconds(self, fn, *args):
        """Best and median seconds of fn(*args) over the row's repeats, after its warm-up."""
        best, median = time_calls(fn, *args, repeats=self.repeats, warmup=self.warmup)
        return Cell(median, "seconds", best=best)


def reduced_case(case, max_macs):
    """The case with fewer filters, then fewer samples (at least one of each), so that its
    forward multiply-accumulates are at most max_macs; the case itself if it already is."""
    if case.macs <= max_macs:
        return case
    per_filter_sample = case.macs // (case.K * case.M)
    K = max(1, min(case.K, max_macs // per_filter_sample))
    M = max(1, min(case.M, max_macs // (per_filter_sample * K)))
    return case.with_(K=K, M=M)


# --------------------------------------------------------------------------- measurements
def _loop_tier(row, fn, label):
    """The loops take time proportional to their MACs: time a reduced case and scale both the
    best and the median by full MACs / reduced MACs."""
    small = reduced_case(row.case, row.loop_macs)
    x, w, b = small.arrays(row.dtype)
    best, median = time_calls(fn, x, w, b, small.stride, small.pad,
                              repeats=row.repeats, warmup=row.warmup)
    scale = row.case.macs / small.macs
    if small != row.case:
        row.notes.append(f"{label} timed with K={small.K}, M={small.M} "
                         f"({small.macs:,} of {row.case.macs:,} MACs) and scaled")
    return Cell(median * scale, "seconds", estimated=small != row.case, best=best * scale)


def naive_forward(row):
    return _loop_tier(row, reference.conv_forward_naive, "naive")


def partial_forward(row):
    return _loop_tier(row, reference.conv_forward_partial, "partial")


def im2col_forward(row):
    x, w, b = row.arrays
    return row.seconds(reference.conv_forward_im2col, x, w, b, *row.layer)


def fft_forward(row):
    x, w, b = row.arrays
    return row.seconds(reference.conv_forward_fft, x, w, b, *row.layer)


def im2col_backward(row):
    x, w, _ = row.arrays
    return row.seconds(reference.conv_backward_im2col, row.case.dout(row.dtype), x, w, *row.layer)


def bare_gemm(row):
    """(K, f*f*C) @ (f*f*C, H_out*W_out*M) on random data: the product im2col forward reduces to."""
    rows, inner = row.case.col_shape
    rng = np.random.default_rng(0)
    w_row = rng.standard_normal((row.case.K, rows)).astype(row.dtype)
    X_col = rng.standard_normal((rows, inner)).astype(row.dtype)
    return row.seconds(np.matmul, w_row, X_col)


def im2col_gflops(row):
    return derived("gflops", lambda t: gflops(row.case.macs, t), row.cells["im2col"])


def im2col_share_of_peak(row):
    return derived("percent", lambda g: peak_share(g, row.peak), row.cells["gflops"])


def gemm_share_of_peak(row):
    return derived("percent", lambda t: peak_share(gflops(row.case.macs, t), row.peak),
                   row.cells["gemm"])


def im2col_share_of_gemm(row):
    return derived("percent", lambda gemm, im2col: 100 * gemm / im2col,
                   row.cells["gemm"], row.cells["im2col"])


def naive_speedup(row):
    return derived("ratio", lambda naive, im2col: naive / im2col,
                   row.cells["naive"], row.cells["im2col"])


def xcol_bytes(row):
    x, _, _ = row.arrays
    return Cell(reference.im2col(x, row.case.f, *row.layer).nbytes, "bytes")


def input_bytes(row):
    return Cell(row.arrays[0].nbytes, "bytes")


def xcol_over_input(row):
    return Cell(row.cells["xcol_bytes"].value / row.cells["x_bytes"].value, "ratio")


@functools.cache
def _torch():
    """PyTorch on one thread, or None when it cannot be imported (it is optional)."""
    try:
        import torch
    except Exception:      # not installed, or a broken install: the columns are left out
        return None
    torch.set_num_threads(1)
    return torch


def _to_torch(row, requires_grad):
    """x (H,W,C,M) -> (M,C,H,W), w (K,f,f,C) -> (K,C,f,f), b as is."""
    torch = _torch()
    x, w, b = row.arrays
    return [torch.from_numpy(np.ascontiguousarray(a)).requires_grad_(requires_grad)
            for a in (x.transpose(3, 2, 0, 1), w.transpose(0, 3, 1, 2), b)]


def torch_forward(row):
    torch = _torch()
    with torch.no_grad():
        return row.seconds(torch.nn.functional.conv2d, *_to_torch(row, False), *row.layer)


def torch_backward(row):
    torch = _torch()
    inputs = _to_torch(row, True)
    out = torch.nn.functional.conv2d(*inputs, *row.layer)
    dout = torch.from_numpy(np.ascontiguousarray(row.case.dout(row.dtype).transpose(3, 2, 0, 1)))
    return row.seconds(torch.autograd.grad, out, inputs, dout, True)     # retain_graph=True


@dataclass(frozen=True)
class Column:
    """A column of the table: its key in Row.cells, its header, the function measuring it, and
    the table it is shown in (one of TABLES)."""
    key: str
    header: str
    measure: Callable[[Row], Cell]
    available: Callable[[], bool] = lambda: True
    table: str = "forward"


def _has_torch():
    return _torch() is not None


# The tables, in order, and their titles. Columns are measured in COLUMNS' order (a derived
# column after the cells it reads) and shown in their table.
TABLES = {
    "forward": "forward, seconds (best / median)",
    "speed": "backward, seconds (best / median); speed, from the best times / from the medians",
    "memory": "speed-up (from the best times / from the medians) and memory",
}

COLUMNS = [
    Column("naive", "naive fwd", naive_forward),
    Column("partial", "partial fwd", partial_forward),
    Column("im2col", "im2col fwd", im2col_forward),
    Column("fft", "FFT fwd", fft_forward),
    Column("gemm", "GEMM", bare_gemm),
    Column("torch_fwd", "torch fwd", torch_forward, available=_has_torch),
    Column("im2col_bwd", "im2col bwd", im2col_backward, table="speed"),
    Column("torch_bwd", "torch bwd", torch_backward, available=_has_torch, table="speed"),
    Column("gflops", "im2col GFLOP/s", im2col_gflops, table="speed"),
    Column("peak_share", "im2col % peak", im2col_share_of_peak, table="speed"),
    Column("gemm_share", "im2col % GEMM", im2col_share_of_gemm, table="speed"),
    Column("gemm_peak", "GEMM % peak", gemm_share_of_peak, table="speed"),
    Column("speedup", "naive/im2col", naive_speedup, table="memory"),
    Column("xcol_bytes", "X_col bytes", xcol_bytes, table="memory"),
    Column("x_bytes", "x bytes", input_bytes, table="memory"),
    Column("xcol_ratio", "X_col/x", xcol_over_input, table="memory"),
]


# --------------------------------------------------------------------------- the table
def measure(row, columns):
    for column in columns:
        row.cells[column.key] = column.measure(row)
    return row


def _markdown(rows, columns):
    table = [["case"] + [c.header for c in columns]]
    table += [[row.name] + [str(row.cells[c.key]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["| " + " | ".join(cell.rjust(width) for cell, width in zip(line, widths)) + " |"
             for line in table]
    lines.insert(1, "|" + "|".join("-" * (width + 1) + ":" for width in widths) + "|")
    return lines


def format_table(rows, columns):
    """One Markdown table per entry of TABLES that has columns, then the footnotes."""
    lines = []
    for table, title in TABLES.items():
        shown = [c for c in columns if c.table == table]
        if shown:
            lines += [f"{title}:"] + _markdown(rows, shown) + [""]
    lines += [f"{row.name}: {row.case.describe()}, {row.case.macs:,} MACs" for row in rows]
    notes = [f"  {row.name}: {note}" for row in rows for note in row.notes]
    if notes:
        lines.append("~ estimated: the loop tiers timed on a reduced case (fewer filters/samples), "
                     "scaled by multiply-accumulates:")
        lines += notes
    if all("speedup" in row.cells for row in rows):
        speedups = ", ".join(f"{row.name} {row.cells['speedup']}" for row in rows)
        lines += [f"naive -> im2col speed-up, best / median (the course claims {COURSE_CLAIM}):",
                  f"  {speedups}"]
    verdicts = goals(rows)
    if verdicts:
        lines += ["", "where the reference stands against its goals (best / median; met only when "
                      "both hold):"] + [f"  {v}" for v in verdicts]
    return "\n".join(lines)


# The reference's goals (performance issue), in float64 and in float32 alike: on the real layers,
# forward and backward no slower than PyTorch's conv2d (one thread, same run), the forward at
# >= 84 % of the bare GEMM on the two large layers; and the naive -> im2col speed-up of the
# course's claim. Each is judged on the best times and on the medians, and met only when it holds
# on both. A gap is followed by its measured cause: how the matrix products the reference cannot
# avoid (the bare GEMM of the layer's size: once forward, twice backward) compare with PyTorch.
GOAL_CASES = ("cifar", "alexnet", "mid")
LARGE_CASES = ("alexnet", "mid")
GOAL_GEMM_SHARE = 0.84
GOAL_TORCH_RATIO = 1.0
GOAL_SPEEDUP = 200


def gap_cause(products, torch_time, total):
    """Why the reference (`total` seconds) is slower than PyTorch (`torch_time`), from the time of
    the matrix products it cannot avoid (`products`, at the bare GEMM's speed)."""
    if products >= torch_time:
        return (f"the matrix products alone, at the bare GEMM's speed, take "
                f"{products / torch_time:.2f}x PyTorch's whole time: PyTorch's own kernel "
                f"outruns this BLAS's GEMM, the limit of im2col + GEMM")
    return (f"the matrix products take {products / torch_time:.0%} of PyTorch's time; copying "
            f"windows, col2im and transposes take the other {(total - products) / torch_time:.0%}")


def outside_the_product(total, gemm):
    """Why the forward (`total` seconds) falls short of the bare GEMM's share (`gemm` seconds)."""
    return (f"the forward spends {(total - gemm) / gemm:.0%} of the bare GEMM's time outside it "
            f"(copying windows into X_col, the bias, its product on copied rather than fresh "
            f"operands)")


def goals(rows):
    """One line per goal and case: the measured values (best / median), the goal, met or GAP
    (with its cause, measured on the best times)."""
    out = []

    def verdict(values, ok, text, cause=None):
        """values: (from the best times, from the medians); ok(value) -> bool."""
        met = all(ok(v) for v in values)
        out.append(f"{'met ' if met else 'GAP '} {text(*values)}")
        if not met and cause:
            out.append(f"       cause: {cause()}")

    def ratio(a, b):
        return derived("ratio", lambda x, y: x / y, a, b).both

    for row in rows:
        c = row.cells
        real = row.name in GOAL_CASES
        if real and "torch_fwd" in c:
            verdict(ratio(c["im2col"], c["torch_fwd"]), lambda r: r <= GOAL_TORCH_RATIO,
                    lambda b, m: f"{row.name}: forward {b:.2f}x / {m:.2f}x PyTorch's time "
                                 f"(goal <= {GOAL_TORCH_RATIO:g}x)",
                    lambda: gap_cause(c["gemm"].both[0], c["torch_fwd"].both[0], c["im2col"].both[0]))
        if row.name in LARGE_CASES and "gemm_share" in c:
            verdict([v / 100 for v in c["gemm_share"].both], lambda s: s >= GOAL_GEMM_SHARE,
                    lambda b, m: f"{row.name}: forward at {b:.0%} / {m:.0%} of the bare GEMM "
                                 f"(goal >= {GOAL_GEMM_SHARE:.0%})",
                    lambda: outside_the_product(c["im2col"].both[0], c["gemm"].both[0]))
        if real and "torch_bwd" in c:
            verdict(ratio(c["im2col_bwd"], c["torch_bwd"]), lambda r: r <= GOAL_TORCH_RATIO,
                    lambda b, m: f"{row.name}: backward {b:.2f}x / {m:.2f}x PyTorch's time "
                                 f"(goal <= {GOAL_TORCH_RATIO:g}x)",
                    lambda: gap_cause(2 * c["gemm"].both[0], c["torch_bwd"].both[0],
                                      c["im2col_bwd"].both[0]))
        if real and "speedup" in c:
            mark = "~" if c["speedup"].estimated else ""
            verdict(c["speedup"].both, lambda s: s >= GOAL_SPEEDUP,
                    lambda b, m: f"{row.name}: naive -> im2col {mark}{FORMATS['ratio'](b)} / "
                                 f"{FORMATS['ratio'](m)} (goal >= {GOAL_SPEEDUP}x)")
    return out


# --------------------------------------------------------------------------- the plot
PLOT_SERIES = [("im2col", "reference im2col forward", "C0", "o"),
               ("torch_fwd", "PyTorch conv2d forward", "C1", "s"),
               ("gemm", "bare GEMM of the same size", "C2", "^")]


def write_plot(rows, path, peak=None, dtype="float64"):
    """Log-log plot of time against layer size (MACs): im2col forward, PyTorch (when measured) and
    the bare GEMM, the median as a filled marker and the best as a hollow one; with the time the
    measured peak would take (2 * MACs / peak) as a dashed line. Returns the path."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(rows, key=lambda r: r.case.macs)
    macs = [r.case.macs for r in rows]
    fig, ax = plt.subplots(figsize=(7, 5))
    for key, label, color, marker in PLOT_SERIES:
        have = [r for r in rows if key in r.cells]
        if not have:
            continue
        x = [r.case.macs for r in have]
        best, median = zip(*(r.cells[key].both for r in have))
        ax.plot(x, median, marker=marker, color=color, label=label)
        ax.plot(x, best, marker=marker, color=color, linestyle="none", fillstyle="none")
    if peak:
        span = np.geomspace(min(macs) / 2, max(macs) * 2, 50)
        ax.plot(span, 2 * span / (peak * 1e9), "k--",
                label=f"time at the single-core peak, {peak:.1f} GFLOP/s "
                      f"({PEAK_SIZE}x{PEAK_SIZE} GEMM): the limit")
    for r in rows:
        ax.annotate(r.name, (r.case.macs, r.cells["im2col"].value), textcoords="offset points",
                    xytext=(5, -12), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("layer size (forward multiply-accumulates)")
    ax.set_ylabel("seconds")
    ax.set_title(f"convolution forward, {dtype}, one BLAS thread\n"
                 "filled: median, hollow: best (often hidden under the median)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- the command
def _case_names(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in cases.LARGE]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown case(s) {', '.join(unknown) or repr(text)}; choose from {', '.join(cases.LARGE)}")
    return names


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m autograder.bench", description=__doc__.split("\n\n")[2])
    p.add_argument("--cases", type=_case_names, default=list(cases.LARGE),
                   help=f"comma-separated names from: {', '.join(cases.LARGE)} (default: all)")
    p.add_argument("--repeats", type=_positive, default=None,
                   help=f"timed calls per cell, best and median kept (default {BENCH_REPEATS}, "
                        "1 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: one repeat, no warm-up, loop tiers on one filter and one sample")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--plot", type=Path, default=PLOT_PATH,
                   help=f"where the PNG plot goes (default {PLOT_PATH})")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    repeats = args.repeats or (1 if args.quick else BENCH_REPEATS)
    warmup = 0 if args.quick else BENCH_WARMUP
    with threadpool_limits(limits=1):    # BLAS and OpenMP pools, numpy's and any other loaded
        print_tables(args, repeats, warmup)


def blas_threads():
    """'BLAS threads: openblas 1' for each BLAS library loaded (threadpoolctl's view)."""
    pools = [f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info()
             if p["user_api"] == "blas"]
    return "BLAS threads: " + (", ".join(pools) or "no BLAS library found")


def print_tables(args, repeats, warmup):
    columns = [c for c in COLUMNS if c.available()]
    print(f"{args.dtype}, best / median of {repeats} repeat(s) after {warmup} warm-up call(s)\n"
          f"{blas_threads()}")
    dtype = np.dtype(args.dtype).type
    peak = measure_peak(dtype)
    print(f"single-core peak: {PEAK_SIZE}x{PEAK_SIZE} {args.dtype} matrix product, best of "
          f"{PEAK_REPEATS}: {peak:.2f} GFLOP/s\n")
    rows = [measure(Row(name, cases.LARGE[name], dtype, repeats, warmup,
                        QUICK_LOOP_MACS if args.quick else LOOP_MACS, peak=peak), columns)
            for name in args.cases]
    print(format_table(rows, columns))
    print(f"\nplot: {write_plot(rows, args.plot, peak, args.dtype)}")


if __name__ == "__main__":
    main()
