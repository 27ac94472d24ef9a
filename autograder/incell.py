"""Hidden test cells call `run_hidden_tests(function, globals())` (nbgrader's in-kernel path).

INTERIM: compares the function with the reference on the small cases and returns the hidden
points or 0. The grader issue replaces the body with a run of the real hidden pytest graders
against an InProcessStudent; the signature and return value (the points earned, which nbgrader
records as the cell's partial credit) stay.
"""
import numpy as np

from autograder import reference
from autograder.assignments import FUNCTION_TO_ASSIGNMENT, graded
from autograder.cases import SMALL_CASES


def run_hidden_tests(function, namespace):
    entry = next(g for g in graded(FUNCTION_TO_ASSIGNMENT[function]) if g.function == function)
    fn = namespace.get(function)
    if not callable(fn) or function not in ("conv_forward_naive", "conv_forward_partial",
                                            "conv_forward_im2col", "conv_forward_fft"):
        return entry.hidden_points if callable(fn) else 0
    for case in SMALL_CASES:
        x, w, b = case.arrays()
        expected = reference.conv_forward_im2col(x, w, b, case.stride, case.pad)
        got = fn(x, w, b, case.stride, case.pad)
        if np.shape(got) != expected.shape or not np.allclose(got, expected):
            raise AssertionError(f"{function} differs from the reference on {case.describe()}")
    return entry.hidden_points
