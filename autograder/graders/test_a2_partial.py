"""Hidden graders of a2_partial: conv_single_step, conv_forward_partial.

The contract's tests of every function are generated (autograder.graders.generic); written here
is what only conv_single_step has: it returns a Python float.
"""
from autograder.contract import CONTRACT_CASE, inputs
from autograder.graders.generic import add_generic_tests
from autograder.grading import Failed, grades


@grades("conv_single_step", "contract", "returns a Python float")
def test_conv_single_step_is_float(student, seed):
    got = student.call("conv_single_step", *inputs("conv_single_step", CONTRACT_CASE, seed=seed))
    if type(got) is not float:
        raise Failed(f"conv_single_step should return a float (a number, not an array); it "
                     f"returned {got!r}. Wrap the sum in float(...).")


add_generic_tests(globals(), "a2_partial")
