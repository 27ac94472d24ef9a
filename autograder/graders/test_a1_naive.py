"""Hidden graders of a1_naive: conv_output_size, zero_pad, conv_forward_naive.

The contract's tests of every function are generated (autograder.graders.generic); written here
is what only conv_output_size has: integer results on a table of sizes, and a Python int.
"""
import pytest

from autograder.cases import GRID
from autograder.graders import check_call_matches
from autograder.graders.generic import add_generic_tests
from autograder.grading import Failed, grades

# (n, f, stride, pad): every axis of the grid, sizes that do not tile, a pad of 6 (catches a
# hard-coded pad), and AlexNet conv1 (227, 11, stride 4 -> 55).
SIZES = sorted({(n, c.f, c.stride, c.pad) for c in GRID for n in (c.H, c.W)}
               | {(5, 3, 1, 6), (7, 2, 2, 0), (8, 3, 3, 1), (227, 11, 4, 0), (1, 1, 1, 0)})


@grades("conv_output_size", "correctness", "n={n}, f={f}, stride {stride}, pad {pad}", weight=6)
@pytest.mark.parametrize("n, f, stride, pad", SIZES)
def test_conv_output_size(student, n, f, stride, pad):
    check_call_matches(student, "conv_output_size", (n, f, stride, pad),
                       f"n={n}, f={f}, stride={stride}, pad={pad}")


@grades("conv_output_size", "contract", "returns a Python int")
def test_conv_output_size_is_int(student):
    got = student.call("conv_output_size", 7, 3, 2, 1)
    if type(got) is not int:
        raise Failed(f"conv_output_size(7, 3, stride=2, pad=1) should return the int 4; it "
                     f"returned {got!r} ({type(got).__name__}). Use integer division //.")


add_generic_tests(globals(), "a1_naive")
