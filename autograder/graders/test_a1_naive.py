"""Hidden graders of a1_naive: conv_output_size, zero_pad, conv_forward_naive."""
import pytest

from autograder.cases import GRID, SEED_CASES, SMALL_CASES, case_id
from autograder.graders import (channel_mismatch, check_call_matches, check_keeps_dtype,
                                check_matches, check_no_library_convolution, check_not_mutated,
                                check_value_error, run_public_check, too_large_filter)
from autograder.grading import Failed, grades

# (n, f, stride, pad): every axis of the grid, sizes that do not tile, a pad of 6 (catches a
# hard-coded pad), and AlexNet conv1 (227, 11, stride 4 -> 55).
SIZES = sorted({(n, c.f, c.stride, c.pad) for c in GRID for n in (c.H, c.W)}
               | {(5, 3, 1, 6), (7, 2, 2, 0), (8, 3, 3, 1), (227, 11, 4, 0), (1, 1, 1, 0)})

PAD_CASES = GRID[:6] + (SEED_CASES[0].with_(pad=3), GRID[3].with_(pad=6))


# --------------------------------------------------------------------------- conv_output_size
@grades("conv_output_size", "correctness", "the notebook's public checks", public=True,
        visibility="visible")
def test_output_size_public(student):
    run_public_check(student, "check_conv_output_size", "conv_output_size")


@grades("conv_output_size", "correctness", "n={n}, f={f}, stride {stride}, pad {pad}", weight=6)
@pytest.mark.parametrize("n, f, stride, pad", SIZES)
def test_output_size(student, n, f, stride, pad):
    check_call_matches(student, "conv_output_size", (n, f, stride, pad),
                       f"n={n}, f={f}, stride={stride}, pad={pad}")


@grades("conv_output_size", "contract", "returns a Python int")
def test_output_size_is_int(student):
    got = student.call("conv_output_size", 7, 3, 2, 1)
    if type(got) is not int:
        raise Failed(f"conv_output_size(7, 3, stride=2, pad=1) should return the int 4; it "
                     f"returned {got!r} ({type(got).__name__}). Use integer division //.")


@grades("conv_output_size", "robustness", "ValueError when the filter does not fit")
def test_output_size_too_large(student):
    check_value_error(student, "conv_output_size", *too_large_filter("conv_output_size"))


# --------------------------------------------------------------------------- zero_pad
@grades("zero_pad", "correctness", "the notebook's public checks", public=True, visibility="visible")
def test_zero_pad_public(student):
    run_public_check(student, "check_zero_pad", "zero_pad")


@grades("zero_pad", "correctness", "pads x of shape {case.x_shape} by {case.pad}", weight=6)
@pytest.mark.parametrize("case", PAD_CASES, ids=case_id)
def test_zero_pad(student, seed, case):
    check_matches(student, "zero_pad", case, seed=seed)


@grades("zero_pad", "contract", "keeps float32 as float32")
def test_zero_pad_float32(student, seed):
    check_keeps_dtype(student, "zero_pad", GRID[1], seed=seed)


@grades("zero_pad", "contract", "does not modify x")
def test_zero_pad_no_mutation(student, seed):
    check_not_mutated(student, "zero_pad", GRID[1], seed=seed)


# --------------------------------------------------------------------------- conv_forward_naive
@grades("conv_forward_naive", "correctness", "the notebook's public checks", public=True,
        visibility="visible")
def test_naive_public(student):
    run_public_check(student, "check_conv_forward", "conv_forward_naive")


@grades("conv_forward_naive", "correctness", "matches the reference on {case}", weight=8)
@pytest.mark.parametrize("case", SMALL_CASES, ids=case_id)
def test_naive(student, seed, case):
    check_matches(student, "conv_forward_naive", case, seed=seed)


@grades("conv_forward_naive", "contract", "keeps float32 as float32")
def test_naive_float32(student, seed):
    check_keeps_dtype(student, "conv_forward_naive", GRID[1], seed=seed)


@grades("conv_forward_naive", "contract", "does not modify x, w or b")
def test_naive_no_mutation(student, seed):
    check_not_mutated(student, "conv_forward_naive", GRID[1], seed=seed)


@grades("conv_forward_naive", "robustness", "ValueError when the filter does not fit")
def test_naive_too_large(student):
    check_value_error(student, "conv_forward_naive", *too_large_filter("conv_forward_naive"))


@grades("conv_forward_naive", "robustness", "ValueError on a channel mismatch")
def test_naive_channels(student):
    check_value_error(student, "conv_forward_naive", *channel_mismatch("conv_forward_naive"))


@grades("conv_forward_naive", "contract", "uses no library convolution")
def test_naive_no_library(student):
    check_no_library_convolution(student, "conv_forward_naive")
