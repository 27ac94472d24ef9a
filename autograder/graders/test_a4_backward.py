"""Hidden graders of a4_backward: conv_backward_naive, col2im, conv_backward_im2col.

The contract's tests of every function are generated (autograder.graders.generic); written here
is what only the backward pass has: both backward functions against numerical gradients of the
layer, and col2im as the adjoint of im2col.
"""
import pytest

from autograder.cases import GRID, LARGE, case_id
from autograder.graders import check_adjoint, check_numerical_gradient
from autograder.graders.generic import add_generic_tests
from autograder.grading import grades

# small enough for central differences over every entry of x, w and b
GRADIENT_CASES = (GRID[1].with_(H=5, W=6), GRID[3])


@grades("conv_backward_naive", "correctness", "dx, dw, db match numerical gradients on {case}",
        weight=2)
@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_id)
def test_conv_backward_naive_numerical(student, seed, case):
    check_numerical_gradient(student, "conv_backward_naive", case, seed=seed)


@grades("col2im", "correctness", "is the adjoint of im2col on x of shape {case.x_shape}, f={case.f}, "
        "stride {case.stride}, pad {case.pad}", weight=2)
@pytest.mark.parametrize("case", (GRID[2], GRID[6], LARGE["lecture"]), ids=case_id)
def test_col2im_adjoint(student, seed, case):
    check_adjoint(student, case, seed=seed)


@grades("conv_backward_im2col", "correctness", "dx, dw, db match numerical gradients on {case}",
        weight=2)
@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_id)
def test_conv_backward_im2col_numerical(student, seed, case):
    check_numerical_gradient(student, "conv_backward_im2col", case, seed=seed)


add_generic_tests(globals(), "a4_backward")
