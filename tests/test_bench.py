"""Tests of `python -m autograder.bench`: the tables' shape, memory numbers, goals judged on best and
median, GFLOP/s and share of the peak, the plot. None asserts a speed."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.config import PINNED_THREADS

ROOT = Path(__file__).resolve().parents[1]
FORWARD_COLUMNS = ["naive fwd", "partial fwd", "im2col fwd", "FFT fwd", "GEMM"]
SPEED_COLUMNS = ["im2col GFLOP/s", "im2col % peak", "im2col % GEMM", "GEMM % peak"]
MEMORY_COLUMNS = ["naive/im2col", "X_col bytes", "x bytes", "X_col/x"]
TIME_COLUMNS = FORWARD_COLUMNS + ["im2col bwd"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_bench(*args):
    """Run the bench in a fresh interpreter whose environment does not pin BLAS threads."""
    env = {k: v for k, v in os.environ.items() if k not in PINNED_THREADS}
    return subprocess.run([sys.executable, "-m", "autograder.bench", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def parse_tables(stdout):
    """The Markdown tables -> (headers of all tables in order, {row name: {header: cell}})."""
    headers, rows = [], {}
    for block in re.split(r"\n\s*\n", stdout):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if not lines:
            continue
        split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
        assert re.fullmatch(r"\|(-+:\|)+", lines[1]), lines[1]
        assert split[0][0] == "case"
        headers += split[0][1:]
        for cells in split[2:]:
            rows.setdefault(cells[0], {}).update(zip(split[0], cells))
    return ["case"] + headers, rows


def nbytes(cell):
    match = re.fullmatch(r"([\d,]+) B", cell)
    assert match, cell
    return int(match[1].replace(",", ""))


def pair(cell, suffix=""):
    """'~1.18 / 2.26' or '20% / 10%' (suffix '%') -> the two numbers: a cell showing best / median."""
    s = re.escape(suffix)
    match = re.fullmatch(rf"~?([\d.,]+){s} / ([\d.,]+){s}", cell)
    assert match, (cell, suffix)
    return tuple(float(v.replace(",", "")) for v in match.groups())


@pytest.mark.parametrize("dtype, itemsize", [("float64", 8), ("float32", 4)])
def test_quick_bench_on_the_lecture_case(dtype, itemsize, tmp_path):
    plot = tmp_path / "plots" / "bench.png"
    done = run_bench("--quick", "--cases", "lecture", "--dtype", dtype, "--plot", str(plot))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    headers, rows = parse_tables(out)

    torch = bool(importlib.util.find_spec("torch"))
    assert headers == (["case"] + FORWARD_COLUMNS + ["torch fwd"] * torch + ["im2col bwd"]
                       + ["torch bwd"] * torch + SPEED_COLUMNS + MEMORY_COLUMNS)
    assert list(rows) == ["lecture"]
    row = rows["lecture"]

    # the lecture's layer: 6x6x10 input, one sample, six 3x3x10 filters, stride 1, pad 0 -> 4x4
    assert nbytes(row["x bytes"]) == 6 * 6 * 10 * 1 * itemsize
    assert nbytes(row["X_col bytes"]) == (3 * 3 * 10) * (4 * 4 * 1) * itemsize
    assert float(row["X_col/x"].rstrip("x")) == pytest.approx(90 * 16 / 360)
    assert min(pair(row["im2col GFLOP/s"])) > 0
    for column in ["im2col % peak", "im2col % GEMM", "GEMM % peak"]:
        assert min(pair(row[column], "%")) > 0, column

    # every timed cell is best / median, in one unit
    for column in TIME_COLUMNS + ["torch fwd", "torch bwd"] * torch:
        assert re.fullmatch(r"~?[\d.,]+ / [\d.,]+ (us|ms|s)", row[column]), (column, row[column])
    # --quick times the loop tiers on one filter: estimated, marked, explained in a footnote
    assert row["naive fwd"].startswith("~") and row["partial fwd"].startswith("~")
    assert row["naive/im2col"].startswith("~")
    assert re.search(r"^~ estimated: .*scaled by multiply-accumulates", out, re.M)
    assert re.search(r"lecture: naive timed with K=1, M=1 \(1,440 of 8,640 MACs\)", out)
    assert re.search(r"^naive -> im2col speed-up, best / median .*\n  lecture ~[\d.,]+x / [\d.,]+x",
                     out, re.M)
    assert re.search(rf"^single-core peak: 1024x1024 {dtype} matrix product, best of 5: [\d.]+ GFLOP/s$",
                     out, re.M)
    assert dtype in out
    assert re.search(r"^BLAS threads: \w+ 1$", out, re.M)      # the bench pinned BLAS itself

    # the plot: written where asked (its folder created), a PNG, its path printed
    assert plot.read_bytes()[:8] == PNG_SIGNATURE
    assert f"plot: {plot}" in out
    assert max(len(line) for line in out.splitlines() if line.startswith("|")) <= 120


def test_unknown_case_is_refused_with_the_choices():
    done = run_bench("--quick", "--cases", "lecture,resnet")
    assert done.returncode == 2
    assert "resnet" in done.stderr and "lecture, cifar, alexnet, mid" in done.stderr


def _row(name, peak=None, **times):
    """A hand-made row: each time is seconds (best and median alike) or a (best, median) pair;
    the derived cells are computed by the bench's own column functions."""
    from autograder import bench, cases
    from autograder.bench import Cell, Row

    r = Row(name, cases.LARGE[name] if name in cases.LARGE else times.pop("case"), float, 1, 0, 1,
            peak=peak)
    for key, t in times.items():
        best, median = t if isinstance(t, tuple) else (t, t)
        r.cells[key] = Cell(median, "seconds", best=best)
    r.cells["gemm_share"] = bench.im2col_share_of_gemm(r)
    if "naive" in r.cells:
        r.cells["speedup"] = bench.naive_speedup(r)
    return r


def test_goal_verdicts_state_met_goals_and_gaps_with_their_measured_cause():
    from autograder import bench

    lines = bench.goals([
        _row("alexnet", im2col=1.0, torch_fwd=2.0, gemm=0.9, im2col_bwd=3.0, torch_bwd=2.0, naive=500.0),
        _row("cifar", im2col=3.0, torch_fwd=2.0, gemm=1.0, im2col_bwd=1.0, torch_bwd=1.0, naive=300.0),
        _row("mid", im2col=2.0, torch_fwd=1.0, gemm=1.5, im2col_bwd=4.0, torch_bwd=2.5, naive=900.0),
    ])
    assert "met  alexnet: forward 0.50x / 0.50x PyTorch's time (goal <= 1x)" in lines
    assert "met  alexnet: forward at 90% / 90% of the bare GEMM (goal >= 84%)" in lines
    # backward: two products of 0.9 s are 90 % of PyTorch's 2 s; the other 1.2 s are 60 %
    i = lines.index("GAP  alexnet: backward 1.50x / 1.50x PyTorch's time (goal <= 1x)")
    assert lines[i + 1] == ("       cause: the matrix products take 90% of PyTorch's time; copying "
                            "windows, col2im and transposes take the other 60%")
    i = lines.index("GAP  cifar: forward 1.50x / 1.50x PyTorch's time (goal <= 1x)")
    assert lines[i + 1].endswith("take 50% of PyTorch's time; copying windows, col2im and "
                                 "transposes take the other 100%")
    assert "met  cifar: backward 1.00x / 1.00x PyTorch's time (goal <= 1x)" in lines
    assert "GAP  cifar: naive -> im2col 100x / 100x (goal >= 200x)" in lines
    assert not any("cifar: forward at" in line for line in lines)   # the GEMM goal is for large layers
    # the bare GEMM alone (1.5 s; 3 s for the backward's two) is slower than PyTorch (1 s; 2.5 s)
    i = lines.index("GAP  mid: forward 2.00x / 2.00x PyTorch's time (goal <= 1x)")
    assert lines[i + 1] == ("       cause: the matrix products alone, at the bare GEMM's speed, take "
                            "1.50x PyTorch's whole time: PyTorch's own kernel outruns this BLAS's "
                            "GEMM, the limit of im2col + GEMM")
    i = lines.index("GAP  mid: backward 1.60x / 1.60x PyTorch's time (goal <= 1x)")
    assert "take 1.20x PyTorch's whole time" in lines[i + 1]
    i = lines.index("GAP  mid: forward at 75% / 75% of the bare GEMM (goal >= 84%)")
    assert lines[i + 1].startswith("       cause: the forward spends 33% of the bare GEMM's time outside it")
    assert not any("cause" in line for line in lines if "met" in line)


def test_a_goal_is_met_only_when_it_holds_on_the_best_and_on_the_median():
    from autograder import bench

    # the case: PyTorch's best is fast, its median slow; the verdict must not hang on one
    lines = bench.goals([
        # best: 1.0 / 1.18 ms meets; median: 2.4 / 2.26 ms misses -> GAP
        _row("cifar", im2col=(1.0e-3, 2.4e-3), torch_fwd=(1.18e-3, 2.26e-3), gemm=0.5e-3,
             im2col_bwd=(1.0, 1.5), torch_bwd=(1.0, 1.0), naive=(0.3, 0.6)),
        # forward at 70 % of the GEMM on the best times, 55 % on the medians -> GAP
        _row("alexnet", im2col=(1.0, 2.0), torch_fwd=(2.0, 3.0), gemm=(0.7, 1.1),
             im2col_bwd=(0.9, 1.0), torch_bwd=(1.0, 1.0), naive=(300.0, 500.0)),
        # both statistics meet every goal -> met
        _row("mid", im2col=(1.0, 1.2), torch_fwd=(1.1, 1.5), gemm=(0.9, 1.08),
             im2col_bwd=(0.95, 1.0), torch_bwd=(1.0, 1.0), naive=(300.0, 360.0)),
    ])
    assert "GAP  cifar: forward 0.85x / 1.06x PyTorch's time (goal <= 1x)" in lines
    assert "GAP  cifar: backward 1.00x / 1.50x PyTorch's time (goal <= 1x)" in lines
    assert "GAP  cifar: naive -> im2col 300x / 250x (goal >= 200x)" not in lines
    assert "met  cifar: naive -> im2col 300x / 250x (goal >= 200x)" in lines
    assert "GAP  alexnet: forward at 70% / 55% of the bare GEMM (goal >= 84%)" in lines
    assert "met  alexnet: forward 0.50x / 0.67x PyTorch's time (goal <= 1x)" in lines
    assert "met  alexnet: backward 0.90x / 1.00x PyTorch's time (goal <= 1x)" in lines
    assert "met  mid: forward 0.91x / 0.80x PyTorch's time (goal <= 1x)" in lines
    assert "met  mid: forward at 90% / 90% of the bare GEMM (goal >= 84%)" in lines
    assert "met  mid: backward 0.95x / 1.00x PyTorch's time (goal <= 1x)" in lines
    assert "met  mid: naive -> im2col 300x / 300x (goal >= 200x)" in lines
    # and the other way round: median meets, best misses -> GAP
    lines = bench.goals([_row("mid", im2col=(1.0, 1.0), gemm=(0.5, 0.9))])
    assert lines[0] == "GAP  mid: forward at 50% / 90% of the bare GEMM (goal >= 84%)"
    assert len(lines) == 2 and "100% of the bare GEMM's time outside it" in lines[1]


def test_gflops_and_share_of_the_peak_from_a_hand_worked_case():
    from autograder import bench, cases

    # 10,000,000 MACs = 2e7 floating-point operations; in 2 ms that is 1e10 per second
    assert bench.gflops(10_000_000, 2e-3) == pytest.approx(10.0)
    assert bench.gflops(10_000_000, 4e-3) == pytest.approx(5.0)
    assert bench.peak_share(10.0, 50.0) == pytest.approx(20.0)

    # through the columns: x 100x100x10x1, 100 filters 1x1 -> 100 * 10 * 100*100 = 1e7 MACs
    case = cases.Case("hand", 100, 100, 10, 1, 100, 1)
    assert case.macs == 10_000_000
    r = _row("hand", case=case, peak=50.0, im2col=(2e-3, 4e-3), gemm=(1.5e-3, 2e-3))
    r.cells["gflops"] = bench.im2col_gflops(r)
    assert r.cells["gflops"].both == pytest.approx((10.0, 5.0))
    assert str(r.cells["gflops"]) == "10 / 5"
    r.cells["peak_share"] = bench.im2col_share_of_peak(r)
    assert r.cells["peak_share"].both == pytest.approx((20.0, 10.0))
    assert str(r.cells["peak_share"]) == "20% / 10%"
    gemm_peak = bench.gemm_share_of_peak(r)          # 1e7 MACs in 1.5 ms: 13.3 GFLOP/s, 26.7 %
    assert gemm_peak.both == pytest.approx((100 * 2e7 / 1.5e-3 / 1e9 / 50, 20.0))
    assert str(r.cells["gemm_share"]) == "75% / 50%"


def test_a_timed_cell_shows_best_and_median_in_one_unit():
    from autograder.bench import Cell

    assert str(Cell(2.26e-3, "seconds", best=1.18e-3)) == "1.18 / 2.26 ms"
    assert str(Cell(1.02e-3, "seconds", best=0.98e-3)) == "0.98 / 1.02 ms"
    assert str(Cell(42.0, "seconds", estimated=True, best=41.9)) == "~41.9 / 42 s"
    assert str(Cell(2.26e-3, "seconds")) == "2.26 ms"                 # one value: as before


def test_the_plot_is_a_png_of_the_measured_rows(tmp_path):
    from autograder import bench

    rows = [_row("lecture", im2col=(1e-4, 2e-4), gemm=(1e-5, 2e-5), torch_fwd=(1e-3, 2e-3)),
            _row("mid", im2col=(3e-2, 4e-2), gemm=(2e-2, 3e-2))]       # PyTorch on one row only
    path = bench.write_plot(rows, tmp_path / "a" / "b.png", peak=40.0)
    assert path == tmp_path / "a" / "b.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
