"""Hidden graders of a2_partial: conv_single_step, conv_forward_partial.

Both are checked by the contract's generated tests alone (autograder.graders.generic): values on
the small cases, shape (K,) and dtype kept for conv_single_step, inputs left unchanged, and the
partial layer's speed against the seven loops.
"""
from autograder.graders.generic import add_generic_tests

add_generic_tests(globals(), "a2_partial")
