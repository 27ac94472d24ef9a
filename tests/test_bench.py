"""Smoke test of `python -m autograder.bench`: the table's shape and its memory numbers, not speed."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.config import PINNED_THREADS

ROOT = Path(__file__).resolve().parents[1]
TIME_COLUMNS = ["naive fwd", "partial fwd", "im2col fwd", "FFT fwd", "im2col bwd", "GEMM"]
OTHER_COLUMNS = ["im2col GFLOP/s", "im2col % of GEMM", "naive/im2col", "X_col bytes", "x bytes", "X_col/x"]
TORCH_COLUMNS = ["torch fwd", "torch bwd"]


def run_bench(*args):
    """Run the bench in a fresh interpreter whose environment does not pin BLAS threads."""
    env = {k: v for k, v in os.environ.items() if k not in PINNED_THREADS}
    return subprocess.run([sys.executable, "-m", "autograder.bench", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def parse_table(stdout):
    """Markdown table -> (headers, {row name: {header: cell}})."""
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    headers, body = split[0], split[2:]
    assert re.fullmatch(r"\|(-+:\|)+", lines[1]), lines[1]
    return headers, {cells[0]: dict(zip(headers, cells)) for cells in body}


def nbytes(cell):
    match = re.fullmatch(r"([\d,]+) B", cell)
    assert match, cell
    return int(match[1].replace(",", ""))


@pytest.mark.parametrize("dtype, itemsize", [("float64", 8), ("float32", 4)])
def test_quick_bench_on_the_lecture_case(dtype, itemsize):
    done = run_bench("--quick", "--cases", "lecture", "--dtype", dtype)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    headers, rows = parse_table(out)

    torch_columns = TORCH_COLUMNS if importlib.util.find_spec("torch") else []
    assert headers == ["case"] + TIME_COLUMNS + OTHER_COLUMNS + torch_columns
    assert list(rows) == ["lecture"]
    row = rows["lecture"]

    # the lecture's layer: 6x6x10 input, one sample, six 3x3x10 filters, stride 1, pad 0 -> 4x4
    assert nbytes(row["x bytes"]) == 6 * 6 * 10 * 1 * itemsize
    assert nbytes(row["X_col bytes"]) == (3 * 3 * 10) * (4 * 4 * 1) * itemsize
    assert float(row["X_col/x"].rstrip("x")) == pytest.approx(90 * 16 / 360)
    assert float(row["im2col GFLOP/s"].replace(",", "")) > 0

    for column in TIME_COLUMNS + torch_columns:
        assert re.fullmatch(r"~?[\d.,]+ (us|ms|s)", row[column]), (column, row[column])
    # --quick times the loop tiers on one filter: estimated, marked, explained in a footnote
    assert row["naive fwd"].startswith("~") and row["partial fwd"].startswith("~")
    assert row["naive/im2col"].startswith("~")
    assert re.search(r"^~ estimated: .*scaled by multiply-accumulates", out, re.M)
    assert re.search(r"lecture: naive timed with K=1, M=1 \(1,440 of 8,640 MACs\)", out)
    assert re.search(r"^naive -> im2col speed-up: lecture ~[\d.,]+x", out, re.M)
    assert dtype in out
    for var, value in PINNED_THREADS.items():      # the bench pinned BLAS itself
        assert f"{var}={value}" in out


def test_unknown_case_is_refused_with_the_choices():
    done = run_bench("--quick", "--cases", "lecture,resnet")
    assert done.returncode == 2
    assert "resnet" in done.stderr and "lecture, cifar, alexnet, mid" in done.stderr


def test_goal_verdicts_state_met_goals_and_gaps():
    from autograder import bench, cases
    from autograder.bench import Cell, Row

    def row(name, **seconds):
        r = Row(name, cases.LARGE[name], float, 1, 0, 1)
        r.cells = {k: Cell(v, "seconds") for k, v in seconds.items()}
        r.cells["gemm_share"] = Cell(100 * seconds["gemm"] / seconds["im2col"], "percent")
        r.cells["speedup"] = Cell(seconds["naive"] / seconds["im2col"], "ratio")
        return r

    lines = bench.goals([
        row("alexnet", im2col=1.0, torch_fwd=2.0, gemm=0.9, im2col_bwd=3.0, torch_bwd=2.0, naive=500.0),
        row("cifar", im2col=3.0, torch_fwd=2.0, gemm=1.0, im2col_bwd=1.0, torch_bwd=1.0, naive=300.0),
    ])
    assert "met  alexnet: forward 0.50x PyTorch's time (goal <= 1x)" in lines
    assert "met  alexnet: forward at 90% of the bare GEMM (goal >= 60%)" in lines
    assert "GAP  alexnet: backward 1.50x PyTorch's time (goal <= 1.2x)" in lines
    assert "GAP  cifar: forward 1.50x PyTorch's time (goal <= 1x)" in lines
    assert "met  cifar: backward 1.00x PyTorch's time (goal <= 1.2x)" in lines
    assert "met  cifar: naive -> im2col 100x (goal >= 200x)" not in lines
    assert "GAP  cifar: naive -> im2col 100x (goal >= 200x)" in lines
    assert not any("cifar: forward at" in line for line in lines)   # the GEMM goal is for large layers
