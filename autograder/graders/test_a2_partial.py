"""Hidden graders of a2_partial: conv_single_step, conv_forward_partial."""
import pytest

from autograder import config
from autograder.cases import GRID, SMALL_CASES, case_id
from autograder.graders import (channel_mismatch, check_keeps_dtype, check_matches,
                                check_no_library_convolution, check_not_mutated, check_speed,
                                check_value_error, inputs, run_public_check, timed_cases_text,
                                too_large_filter)
from autograder.grading import Failed, grades


# --------------------------------------------------------------------------- conv_single_step
@grades("conv_single_step", "correctness", "the notebook's public checks", public=True,
        visibility="visible")
def test_single_step_public(student):
    run_public_check(student, "check_conv_single_step", "conv_single_step")


@grades("conv_single_step", "correctness", "one window of {case}", weight=6)
@pytest.mark.parametrize("case", SMALL_CASES, ids=case_id)
def test_single_step(student, seed, case):
    check_matches(student, "conv_single_step", case, seed=seed)


@grades("conv_single_step", "contract", "returns a Python float")
def test_single_step_is_float(student, seed):
    got = student.call("conv_single_step", *inputs("conv_single_step", GRID[1], seed=seed))
    if type(got) is not float:
        raise Failed(f"conv_single_step should return a float (a number, not an array); it "
                     f"returned {got!r}. Wrap the sum in float(...).")


@grades("conv_single_step", "contract", "does not modify x_slice, w_k or b_k")
def test_single_step_no_mutation(student, seed):
    check_not_mutated(student, "conv_single_step", GRID[1], seed=seed)


@grades("conv_single_step", "contract", "uses no library convolution")
def test_single_step_no_library(student):
    check_no_library_convolution(student, "conv_single_step")


# --------------------------------------------------------------------------- conv_forward_partial
@grades("conv_forward_partial", "correctness", "the notebook's public checks", public=True,
        visibility="visible")
def test_partial_public(student):
    run_public_check(student, "check_conv_forward", "conv_forward_partial")


@grades("conv_forward_partial", "correctness", "matches the reference on {case}", weight=8)
@pytest.mark.parametrize("case", SMALL_CASES, ids=case_id)
def test_partial(student, seed, case):
    check_matches(student, "conv_forward_partial", case, seed=seed)


@grades("conv_forward_partial", "contract", "keeps float32 as float32")
def test_partial_float32(student, seed):
    check_keeps_dtype(student, "conv_forward_partial", GRID[1], seed=seed)


@grades("conv_forward_partial", "contract", "does not modify x, w or b")
def test_partial_no_mutation(student, seed):
    check_not_mutated(student, "conv_forward_partial", GRID[1], seed=seed)


@grades("conv_forward_partial", "robustness", "ValueError when the filter does not fit")
def test_partial_too_large(student):
    check_value_error(student, "conv_forward_partial", *too_large_filter("conv_forward_partial"))


@grades("conv_forward_partial", "robustness", "ValueError on a channel mismatch")
def test_partial_channels(student):
    check_value_error(student, "conv_forward_partial", *channel_mismatch("conv_forward_partial"))


@grades("conv_forward_partial", "contract", "uses no library convolution")
def test_partial_no_library(student):
    check_no_library_convolution(student, "conv_forward_partial")


@grades("conv_forward_partial", "timing",
        f"at least {config.PARTIAL_MIN_SPEEDUP_VS_NAIVE:g}x faster than the seven loops on "
        f"{timed_cases_text('conv_forward_partial')}", weight=3)
def test_partial_speed(student, seed, reference_student):
    check_speed(student, reference_student, "conv_forward_partial",
                max_ratio=1 / config.PARTIAL_MIN_SPEEDUP_VS_NAIVE,
                reference_function="conv_forward_naive",
                reference_label="the reference seven-loop layer", seed=seed)
