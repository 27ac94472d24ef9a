"""Hidden graders of a4_backward: conv_backward_naive, col2im, conv_backward_im2col."""
import pytest

from autograder import config
from autograder.cases import GRID, LARGE, SMALL_CASES, case_id
from autograder.graders import (channel_mismatch, check_adjoint, check_keeps_dtype,
                                check_matches, check_no_library_convolution, check_not_mutated,
                                check_numerical_gradient, check_speed, check_value_error,
                                run_public_check, timed_cases_text, too_large_filter)
from autograder.grading import grades

# small enough for central differences over every entry of x, w and b
GRADIENT_CASES = (GRID[1].with_(H=5, W=6), GRID[3])


# --------------------------------------------------------------------------- conv_backward_naive
@grades("conv_backward_naive", "correctness", "the notebook's public checks", public=True,
        visibility="visible")
def test_naive_public(student):
    run_public_check(student, "check_conv_backward", "conv_backward_naive")


@grades("conv_backward_naive", "correctness", "dx, dw, db match the reference on {case}", weight=8)
@pytest.mark.parametrize("case", SMALL_CASES, ids=case_id)
def test_naive(student, seed, case):
    check_matches(student, "conv_backward_naive", case, seed=seed)


@grades("conv_backward_naive", "correctness", "dx, dw, db match numerical gradients on {case}",
        weight=2)
@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_id)
def test_naive_numerical(student, seed, case):
    check_numerical_gradient(student, "conv_backward_naive", case, seed=seed)


@grades("conv_backward_naive", "contract", "keeps float32 as float32")
def test_naive_float32(student, seed):
    check_keeps_dtype(student, "conv_backward_naive", GRID[1], seed=seed)


@grades("conv_backward_naive", "contract", "does not modify dout, x or w")
def test_naive_no_mutation(student, seed):
    check_not_mutated(student, "conv_backward_naive", GRID[1], seed=seed)


@grades("conv_backward_naive", "robustness", "ValueError when the filter does not fit")
def test_naive_too_large(student):
    check_value_error(student, "conv_backward_naive", *too_large_filter("conv_backward_naive"))


@grades("conv_backward_naive", "robustness", "ValueError on a channel mismatch")
def test_naive_channels(student):
    check_value_error(student, "conv_backward_naive", *channel_mismatch("conv_backward_naive"))


@grades("conv_backward_naive", "contract", "uses no library convolution")
def test_naive_no_library(student):
    check_no_library_convolution(student, "conv_backward_naive")


# --------------------------------------------------------------------------- col2im
@grades("col2im", "correctness", "the notebook's public checks", public=True, visibility="visible")
def test_col2im_public(student):
    run_public_check(student, "check_col2im", "col2im", "reference.im2col")


@grades("col2im", "correctness", "matches the reference on x of shape {case.x_shape}, "
        "f={case.f}, stride {case.stride}, pad {case.pad}", weight=6)
@pytest.mark.parametrize("case", SMALL_CASES + (LARGE["cifar"],), ids=case_id)
def test_col2im(student, seed, case):
    check_matches(student, "col2im", case, seed=seed)


@grades("col2im", "correctness", "is the adjoint of im2col on x of shape {case.x_shape}, f={case.f}, "
        "stride {case.stride}, pad {case.pad}", weight=2)
@pytest.mark.parametrize("case", (GRID[2], GRID[6], LARGE["lecture"]), ids=case_id)
def test_col2im_adjoint(student, seed, case):
    check_adjoint(student, case, seed=seed)


@grades("col2im", "contract", "keeps float32 as float32")
def test_col2im_float32(student, seed):
    check_keeps_dtype(student, "col2im", GRID[1], seed=seed)


@grades("col2im", "contract", "does not modify X_col")
def test_col2im_no_mutation(student, seed):
    check_not_mutated(student, "col2im", GRID[1], seed=seed)


@grades("col2im", "robustness", "ValueError when the filter does not fit")
def test_col2im_too_large(student):
    check_value_error(student, "col2im", *too_large_filter("col2im"))


@grades("col2im", "contract", "uses no library convolution")
def test_col2im_no_library(student):
    check_no_library_convolution(student, "col2im")


@grades("col2im", "timing", f"at most {config.IM2COL_MAX_RATIO:g}x the reference's time on "
        f"{timed_cases_text('col2im')}", weight=3)
def test_col2im_speed(student, seed, reference_student):
    check_speed(student, reference_student, "col2im", max_ratio=config.IM2COL_MAX_RATIO, seed=seed)


# --------------------------------------------------------------------------- conv_backward_im2col
@grades("conv_backward_im2col", "correctness", "the notebook's public checks", public=True,
        visibility="visible")
def test_im2col_public(student):
    run_public_check(student, "check_conv_backward", "conv_backward_im2col")


@grades("conv_backward_im2col", "correctness", "dx, dw, db match the reference on {case}", weight=8)
@pytest.mark.parametrize("case", SMALL_CASES + (LARGE["cifar"],), ids=case_id)
def test_im2col(student, seed, case):
    check_matches(student, "conv_backward_im2col", case, seed=seed)


@grades("conv_backward_im2col", "correctness", "dx, dw, db match numerical gradients on {case}",
        weight=2)
@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_id)
def test_im2col_numerical(student, seed, case):
    check_numerical_gradient(student, "conv_backward_im2col", case, seed=seed)


@grades("conv_backward_im2col", "contract", "keeps float32 as float32")
def test_im2col_float32(student, seed):
    check_keeps_dtype(student, "conv_backward_im2col", GRID[1], seed=seed)


@grades("conv_backward_im2col", "contract", "does not modify dout, x or w")
def test_im2col_no_mutation(student, seed):
    check_not_mutated(student, "conv_backward_im2col", GRID[1], seed=seed)


@grades("conv_backward_im2col", "robustness", "ValueError when the filter does not fit")
def test_im2col_too_large(student):
    check_value_error(student, "conv_backward_im2col", *too_large_filter("conv_backward_im2col"))


@grades("conv_backward_im2col", "robustness", "ValueError on a channel mismatch")
def test_im2col_channels(student):
    check_value_error(student, "conv_backward_im2col", *channel_mismatch("conv_backward_im2col"))


@grades("conv_backward_im2col", "contract", "uses no library convolution")
def test_im2col_no_library(student):
    check_no_library_convolution(student, "conv_backward_im2col")


@grades("conv_backward_im2col", "timing", f"at most {config.IM2COL_MAX_RATIO:g}x the reference's "
        f"time on {timed_cases_text('conv_backward_im2col')}", weight=3)
def test_im2col_speed(student, seed, reference_student):
    check_speed(student, reference_student, "conv_backward_im2col", max_ratio=config.IM2COL_MAX_RATIO, seed=seed)
