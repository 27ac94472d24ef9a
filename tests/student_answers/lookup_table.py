"""A notebook cell that looks its answers up instead of computing them (issue 9, item 3).

It runs after cells holding copies of the public source, autograder/cases.py, the timed cases
of autograder/contract.py (TIMING) and autograder/reference.py, exactly as a student who read
the repository could paste them. It
builds every input the graders of a3_im2col drew from the published seeds (the correctness
cases, the memory case, and the fresh inputs of every timed repeat), stores the reference's output
for each under a hash of the input's bytes, and replaces im2col and conv_forward_im2col with a
lookup. On the published numbers it passes every hidden correctness, timing and memory test;
on a run's fresh seed it has nothing to return. Not importable on its own: it is cell text.
"""
import hashlib

import numpy as np

LOOKED_UP = ("im2col", "conv_forward_im2col")
_computed = {name: globals()[name] for name in LOOKED_UP}   # the pasted reference's functions
_table = {}


def _key(name, args):
    digest = hashlib.sha256(name.encode())
    for a in args:
        digest.update(np.ascontiguousarray(a).tobytes() + str(a.shape).encode()
                      if isinstance(a, np.ndarray) else repr(a).encode())
    return digest.hexdigest()


def _published_args(name, case, dtype, seed_offset):
    """The graders' arguments for `case` (autograder.graders.inputs, copied)."""
    x, w, b = case.arrays(dtype, seed_offset)
    if name == "im2col":
        return (x, case.f, case.stride, case.pad)
    return (x, w, b, case.stride, case.pad)


def _tabulate():
    cases = SMALL_CASES + (ALEXNET_CONV1, MEMORY_CASE)          # noqa: F821 (pasted cases.py)
    for name in LOOKED_UP:
        draws = [(c, np.float64, 0) for c in cases] + [(GRID[1], np.float32, 0)]   # noqa: F821
        draws += [(c, np.float64, k) for c in TIMING.get(name, ()) for k in range(12)]  # noqa: F821
        for case, dtype, seed_offset in draws:
            args = _published_args(name, case, dtype, seed_offset)
            _table[_key(name, args)] = _computed[name](*args)


def _looked_up(name):
    def answer(*args):
        found = _table.get(_key(name, args))
        if found is None:
            raise NotImplementedError("this input is not in my table")
        return found
    answer.__name__ = name
    return answer


_tabulate()
im2col = _looked_up("im2col")
conv_forward_im2col = _looked_up("conv_forward_im2col")
