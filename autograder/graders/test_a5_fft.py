"""Hidden graders of a5_fft: conv_forward_fft.

Every test of this assignment is one the contract generates (autograder.graders.generic).
"""
from autograder.graders.generic import add_generic_tests

add_generic_tests(globals(), "a5_fft")
