"""Cells several notebooks share: the setup cell, how a notebook works, and given code."""
from autograder.config import PINNED_THREADS
from tools import nbbuild
from tools.notebooks import functions


def setup(imports):
    """The first code cell: pin BLAS to one thread before numpy loads, then `imports`."""
    names = ", ".join(f'"{var}"' for var in PINNED_THREADS)
    return nbbuild.given("setup", f'''
# Run this cell first. Timings in this notebook are only meaningful when the matrix library
# uses one thread, and that must be decided before numpy is imported.
import os
for _var in ({names}):
    os.environ[_var] = "1"

import numpy as np
import matplotlib.pyplot as plt
from IPython.display import display

{nbbuild.dedent(imports)}

np.set_printoptions(precision=4, suppress=True)
''')


HOW_TO = nbbuild.markdown('''
**How this notebook works.** Read from the top and run every cell in order. Four kinds of
cell appear:

- *answer cells* hold one function each, with its signature and docstring already written;
  replace `raise NotImplementedError()` with your code and keep the name and arguments;
- *check cells* (locked) run the public checks on your function. A failure tells you which
  case was tried, what was expected, what your function returned, and the most likely mistake;
- *hidden test cells* look empty to you: the grader fills them with more cases (other sizes,
  strides, paddings, timing) when it grades your work;
- *demonstration cells* measure and plot. The grader skips them, so they are free to be slow
  and to print, but they need your functions to work.

Everything uses the lecture's layout: an input `x` has shape `(H, W, C, M)` (height, width,
channels, samples: the batch is the **last** axis), filters `w` have shape `(K, f, f, C)`,
biases `b` have shape `(K,)`, and the output has shape `(H_out, W_out, K, M)`.
''')


def given_functions(*fns, grade_id):
    """One locked cell holding the course's versions of functions graded earlier."""
    return nbbuild.given(grade_id, "\n\n\n".join(fn.source for fn in fns))


# Earlier assignments' work, in the form later notebooks hand it over.
GIVEN_A1 = (functions.CONV_OUTPUT_SIZE, functions.ZERO_PAD)
