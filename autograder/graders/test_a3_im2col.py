"""Hidden graders of a3_im2col: im2col, conv_forward_im2col.

Every test of this assignment is one the contract generates (autograder.graders.generic).
"""
from autograder.graders.generic import add_generic_tests

add_generic_tests(globals(), "a3_im2col")
