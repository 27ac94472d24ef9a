"""Hidden graders of a3_im2col: im2col, conv_forward_im2col."""
import pytest

from autograder import config
from autograder.cases import ALEXNET_CONV1, GRID, SMALL_CASES, case_id
from autograder.graders import (MEMORY_CASE, channel_mismatch, check_keeps_dtype,
                                check_matches, check_memory, check_no_library_convolution,
                                check_not_mutated, check_speed, check_value_error,
                                run_public_check, timed_cases_text, too_large_filter)
from autograder.grading import grades

CASES = SMALL_CASES + (ALEXNET_CONV1,)


# --------------------------------------------------------------------------- im2col
@grades("im2col", "correctness", "the notebook's public checks", public=True, visibility="visible")
def test_im2col_public(student):
    run_public_check(student, "check_im2col", "im2col")


@grades("im2col", "correctness", "matches the index contract on x of shape {case.x_shape}, "
        "f={case.f}, stride {case.stride}, pad {case.pad}", weight=8)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_im2col(student, seed, case):
    check_matches(student, "im2col", case, seed=seed)


@grades("im2col", "contract", "keeps float32 as float32")
def test_im2col_float32(student, seed):
    check_keeps_dtype(student, "im2col", GRID[1], seed=seed)


@grades("im2col", "contract", "does not modify x")
def test_im2col_no_mutation(student, seed):
    check_not_mutated(student, "im2col", GRID[1], seed=seed)


@grades("im2col", "robustness", "ValueError when the filter does not fit")
def test_im2col_too_large(student):
    check_value_error(student, "im2col", *too_large_filter("im2col"))


@grades("im2col", "contract", "uses no library convolution")
def test_im2col_no_library(student):
    check_no_library_convolution(student, "im2col")


# --------------------------------------------------------------------------- conv_forward_im2col
@grades("conv_forward_im2col", "correctness", "the notebook's public checks", public=True,
        visibility="visible")
def test_forward_public(student):
    run_public_check(student, "check_conv_forward", "conv_forward_im2col")


@grades("conv_forward_im2col", "correctness", "matches the reference on {case}", weight=8)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_forward(student, seed, case):
    check_matches(student, "conv_forward_im2col", case, seed=seed)


@grades("conv_forward_im2col", "contract", "keeps float32 as float32")
def test_forward_float32(student, seed):
    check_keeps_dtype(student, "conv_forward_im2col", GRID[1], seed=seed)


@grades("conv_forward_im2col", "contract", "does not modify x, w or b")
def test_forward_no_mutation(student, seed):
    check_not_mutated(student, "conv_forward_im2col", GRID[1], seed=seed)


@grades("conv_forward_im2col", "robustness", "ValueError when the filter does not fit")
def test_forward_too_large(student):
    check_value_error(student, "conv_forward_im2col", *too_large_filter("conv_forward_im2col"))


@grades("conv_forward_im2col", "robustness", "ValueError on a channel mismatch")
def test_forward_channels(student):
    check_value_error(student, "conv_forward_im2col", *channel_mismatch("conv_forward_im2col"))


@grades("conv_forward_im2col", "contract", "uses no library convolution")
def test_forward_no_library(student):
    check_no_library_convolution(student, "conv_forward_im2col")


@grades("conv_forward_im2col", "timing",
        f"at most {config.IM2COL_MAX_RATIO:g}x the reference's time on "
        f"{timed_cases_text('conv_forward_im2col')}", weight=3)
def test_forward_speed(student, seed, reference_student):
    check_speed(student, reference_student, "conv_forward_im2col", max_ratio=config.IM2COL_MAX_RATIO, seed=seed)


@grades("conv_forward_im2col", "memory",
        f"peak extra memory at most {config.IM2COL_MAX_MEMORY_FACTOR:g}x its X_col on "
        f"{MEMORY_CASE.describe()}", weight=2)
def test_forward_memory(student, seed):
    check_memory(student, "conv_forward_im2col", config.IM2COL_MAX_MEMORY_FACTOR, seed=seed)
