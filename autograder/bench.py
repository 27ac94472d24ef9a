"""Timing table of every tier of the layer against the bare matrix product (`make bench`).

    python -m autograder.bench [--cases NAME[,NAME]] [--repeats N] [--quick] [--dtype float64|float32]

One row per case of `autograder.cases.LARGE` (lecture, cifar, alexnet, mid), one column per entry of
`COLUMNS`: the seven loops, the four loops, im2col forward, FFT forward, im2col backward, the bare
GEMM of the same size, (K, f*f*C) @ (f*f*C, H_out*W_out*M) on random data, then im2col's GFLOP/s
and share of the GEMM's speed, the naive -> im2col speed-up, and the bytes of X_col against the
bytes of the input. When PyTorch can be imported, its conv2d forward and autograd backward (one
thread) are added. Times are medians of several repeats after a warm-up, with BLAS pinned to one
thread (`config.PINNED_THREADS`, set before numpy loads). The loop tiers are timed on a reduced
case (fewer filters, then fewer samples) and scaled by multiply-accumulates; those cells start
with '~'. This prints numbers; it asserts nothing about speed.

To add a column, write a function `(Row) -> Cell` and append a `Column` to `COLUMNS` (a function
may read the cells measured before it from `row.cells`). To add a row, add a case to `cases.LARGE`.
"""
import argparse
import os
import sys

from autograder.config import PINNED_THREADS

# The benchmark's own repeats: more than a grading run can afford. Three warm-up calls, because
# libraries that build a kernel for each new shape (PyTorch's oneDNN) are slow on the first ones.
BENCH_REPEATS = 7
BENCH_WARMUP = 3


def pin_blas_threads(argv):
    """Set PINNED_THREADS in the environment before numpy (and its BLAS) loads.

    BLAS reads its thread count once, when numpy is first imported: if numpy is already loaded with
    other settings, re-execute this command in a fresh interpreter with the pinned environment.
    """
    if all(os.environ.get(var) == value for var, value in PINNED_THREADS.items()):
        return
    os.environ.update(PINNED_THREADS)
    if "numpy" in sys.modules:
        os.execv(sys.executable, [sys.executable, "-m", "autograder.bench", *argv])


if __name__ == "__main__":
    pin_blas_threads(sys.argv[1:])

# numpy and everything that imports it come after the pin (see pin_blas_threads).
import functools  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

from autograder import cases, reference  # noqa: E402
from helpers.timing import estimate_by_scaling, time_function  # noqa: E402

LOOP_MACS = 200_000        # the loop tiers are timed on a reduced case of at most this many MACs
QUICK_LOOP_MACS = 2_000    # --quick: one filter, one sample on every case
COURSE_CLAIM = "200x or more"


# --------------------------------------------------------------------------- cells and rows
def _format_seconds(s):
    if s < 1e-3:
        return f"{s * 1e6:.3g} us"
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{_three_digits(s)} s"


def _three_digits(v):
    """Three significant digits without an exponent: 0.117, 29.5, 1,520."""
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


FORMATS = {
    "seconds": _format_seconds,
    "bytes": lambda v: f"{int(v):,} B",
    "ratio": lambda v: f"{_three_digits(v)}x",
    "percent": lambda v: f"{v:.0f}%",
    "gflops": _three_digits,
}


@dataclass(frozen=True)
class Cell:
    """One number of the table: its value, its kind (a key of FORMATS), whether it is an estimate."""
    value: float
    kind: str
    estimated: bool = False

    def __str__(self):
        return ("~" if self.estimated else "") + FORMATS[self.kind](self.value)


@dataclass
class Row:
    """One case being measured: the options, and the cells measured so far (column key -> Cell)."""
    name: str
    case: cases.Case
    dtype: type
    repeats: int
    warmup: int
    loop_macs: int
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
        """Median seconds of fn(*args) over the row's repeats, after its warm-up."""
        return Cell(time_function(fn, *args, repeats=self.repeats, warmup=self.warmup), "seconds")


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
    small = reduced_case(row.case, row.loop_macs)
    x, w, b = small.arrays(row.dtype)
    seconds = estimate_by_scaling(fn, (x, w, b, small.stride, small.pad), small.macs, row.case.macs,
                                  repeats=row.repeats, warmup=row.warmup)
    if small != row.case:
        row.notes.append(f"{label} timed with K={small.K}, M={small.M} "
                         f"({small.macs:,} of {row.case.macs:,} MACs) and scaled")
    return Cell(seconds, "seconds", estimated=small != row.case)


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
    return Cell(2 * row.case.macs / row.cells["im2col"].value / 1e9, "gflops")


def im2col_share_of_gemm(row):
    return Cell(100 * row.cells["gemm"].value / row.cells["im2col"].value, "percent")


def naive_speedup(row):
    naive = row.cells["naive"]
    return Cell(naive.value / row.cells["im2col"].value, "ratio", estimated=naive.estimated)


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
    """A column of the table: its key in Row.cells, its header and the function measuring it."""
    key: str
    header: str
    measure: Callable[[Row], Cell]
    available: Callable[[], bool] = lambda: True


COLUMNS = [
    Column("naive", "naive fwd", naive_forward),
    Column("partial", "partial fwd", partial_forward),
    Column("im2col", "im2col fwd", im2col_forward),
    Column("fft", "FFT fwd", fft_forward),
    Column("im2col_bwd", "im2col bwd", im2col_backward),
    Column("gemm", "GEMM", bare_gemm),
    Column("gflops", "im2col GFLOP/s", im2col_gflops),
    Column("gemm_share", "im2col % of GEMM", im2col_share_of_gemm),
    Column("speedup", "naive/im2col", naive_speedup),
    Column("xcol_bytes", "X_col bytes", xcol_bytes),
    Column("x_bytes", "x bytes", input_bytes),
    Column("xcol_ratio", "X_col/x", xcol_over_input),
    Column("torch_fwd", "torch fwd", torch_forward, available=lambda: _torch() is not None),
    Column("torch_bwd", "torch bwd", torch_backward, available=lambda: _torch() is not None),
]


# --------------------------------------------------------------------------- the table
def measure(row, columns):
    for column in columns:
        row.cells[column.key] = column.measure(row)
    return row


def format_table(rows, columns):
    """A Markdown table, one line per row, then the footnotes."""
    table = [["case"] + [c.header for c in columns]]
    table += [[row.name] + [str(row.cells[c.key]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["| " + " | ".join(cell.rjust(width) for cell, width in zip(line, widths)) + " |"
             for line in table]
    lines.insert(1, "|" + "|".join("-" * (width + 1) + ":" for width in widths) + "|")
    lines.append("")
    lines += [f"{row.name}: {row.case.describe()}, {row.case.macs:,} MACs" for row in rows]
    notes = [f"  {row.name}: {note}" for row in rows for note in row.notes]
    if notes:
        lines.append("~ estimated: the loop tiers timed on a reduced case (fewer filters/samples), "
                     "scaled by multiply-accumulates:")
        lines += notes
    if all("speedup" in row.cells for row in rows):
        speedups = ", ".join(f"{row.name} {row.cells['speedup']}" for row in rows)
        lines.append(f"naive -> im2col speed-up: {speedups} (the course claims {COURSE_CLAIM})")
    verdicts = goals(rows)
    if verdicts:
        lines += ["", "where the reference stands against its goals:"] + [f"  {v}" for v in verdicts]
    return "\n".join(lines)


# The reference's goals (performance issue): on the real layers, forward no slower than PyTorch's
# conv2d, >= 60 % of the bare GEMM on the two large ones, backward <= 1.2x PyTorch's; and the
# naive -> im2col speed-up of the course's claim.
GOAL_CASES = ("cifar", "alexnet", "mid")
LARGE_CASES = ("alexnet", "mid")
GOAL_GEMM_SHARE = 0.60
GOAL_BACKWARD_RATIO = 1.2
GOAL_SPEEDUP = 200


def goals(rows):
    """One line per goal and case: the measured value, the goal, met or the gap."""
    out = []

    def verdict(ok, text):
        out.append(f"{'met ' if ok else 'GAP '} {text}")

    for row in rows:
        c = row.cells
        real = row.name in GOAL_CASES
        if real and "torch_fwd" in c:
            r = c["im2col"].value / c["torch_fwd"].value
            verdict(r <= 1.0, f"{row.name}: forward {r:.2f}x PyTorch's time (goal <= 1x)")
        if row.name in LARGE_CASES and "gemm_share" in c:
            share = c["gemm_share"].value / 100
            verdict(share >= GOAL_GEMM_SHARE,
                    f"{row.name}: forward at {share:.0%} of the bare GEMM (goal >= {GOAL_GEMM_SHARE:.0%})")
        if real and "torch_bwd" in c:
            r = c["im2col_bwd"].value / c["torch_bwd"].value
            verdict(r <= GOAL_BACKWARD_RATIO,
                    f"{row.name}: backward {r:.2f}x PyTorch's time (goal <= {GOAL_BACKWARD_RATIO}x)")
        if real and "speedup" in c:
            verdict(c["speedup"].value >= GOAL_SPEEDUP,
                    f"{row.name}: naive -> im2col {c['speedup']} (goal >= {GOAL_SPEEDUP}x)")
    return out


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
                   help=f"timed calls per cell, median kept (default {BENCH_REPEATS}, 1 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: one repeat, no warm-up, loop tiers on one filter and one sample")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    repeats = args.repeats or (1 if args.quick else BENCH_REPEATS)
    warmup = 0 if args.quick else BENCH_WARMUP
    columns = [c for c in COLUMNS if c.available()]
    threads = ", ".join(f"{var}={os.environ.get(var, 'unset')}" for var in PINNED_THREADS)
    print(f"{args.dtype}, median of {repeats} repeat(s) after {warmup} warm-up call(s); {threads}\n")
    rows = [measure(Row(name, cases.LARGE[name], np.dtype(args.dtype).type, repeats, warmup,
                        QUICK_LOOP_MACS if args.quick else LOOP_MACS), columns)
            for name in args.cases]
    print(format_table(rows, columns))


if __name__ == "__main__":
    main()
