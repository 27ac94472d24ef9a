"""Hidden graders of a5_fft: conv_forward_fft."""
import pytest

from autograder import config
from autograder.cases import ALEXNET_CONV1, GRID, SMALL_CASES, case_id
from autograder.graders import (channel_mismatch, check_keeps_dtype, check_matches,
                                check_no_library_convolution, check_not_mutated, check_speed,
                                check_value_error, run_public_check, timed_cases_text,
                                too_large_filter)
from autograder.grading import grades


@grades("conv_forward_fft", "correctness", "the notebook's public checks", public=True,
        visibility="visible")
def test_fft_public(student):
    run_public_check(student, "check_conv_forward", "conv_forward_fft")


@grades("conv_forward_fft", "correctness", "matches the reference on {case}", weight=8)
@pytest.mark.parametrize("case", SMALL_CASES + (ALEXNET_CONV1,), ids=case_id)
def test_fft(student, seed, case):
    check_matches(student, "conv_forward_fft", case, seed=seed)


@grades("conv_forward_fft", "contract", "keeps float32 as float32")
def test_fft_float32(student, seed):
    check_keeps_dtype(student, "conv_forward_fft", GRID[1], seed=seed)


@grades("conv_forward_fft", "contract", "does not modify x, w or b")
def test_fft_no_mutation(student, seed):
    check_not_mutated(student, "conv_forward_fft", GRID[1], seed=seed)


@grades("conv_forward_fft", "robustness", "ValueError when the filter does not fit")
def test_fft_too_large(student):
    check_value_error(student, "conv_forward_fft", *too_large_filter("conv_forward_fft"))


@grades("conv_forward_fft", "robustness", "ValueError on a channel mismatch")
def test_fft_channels(student):
    check_value_error(student, "conv_forward_fft", *channel_mismatch("conv_forward_fft"))


@grades("conv_forward_fft", "contract", "uses no library convolution")
def test_fft_no_library(student):
    check_no_library_convolution(student, "conv_forward_fft")


@grades("conv_forward_fft", "timing", f"at most {config.FFT_MAX_RATIO:g}x the reference FFT's "
        f"time on {timed_cases_text('conv_forward_fft')}", weight=3)
def test_fft_speed(student, seed, reference_student):
    check_speed(student, reference_student, "conv_forward_fft", max_ratio=config.FFT_MAX_RATIO, seed=seed)
