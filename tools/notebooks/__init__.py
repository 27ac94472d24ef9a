"""The assignment notebooks, one module each; every module defines `CELLS`.

`common` holds what several notebooks share: the setup cell, the note on how a notebook works,
and given code (the functions earlier assignments graded, in plainly written versions).
The notebooks' order is the course's (autograder.contract).
"""
from autograder.contract import ASSIGNMENTS

ORDER = tuple(ASSIGNMENTS)
