"""How large a reply from the sandbox may be: what a contract function must return, from its
arguments, plus room for a wrong answer worth diagnosing.

    expected_bytes("im2col", (x, 3), {"stride": 2, "pad": 1})
        -> bytes of X_col: f*f*C x H_out*W_out*M x itemsize
    budget("im2col", (x, 3), {"stride": 2, "pad": 1})
        -> most bytes the reply may take

The shapes are the registry's (each Spec's `returns` in autograder/contract.py): conv_output_size
returns a number; zero_pad the padded x; conv_forward_* (H_out, W_out, K, M); im2col
(f*f*C, H_out*W_out*M); col2im x_shape; conv_backward_* (dx, dw, db) shaped like (x, w, (K,)).
The item size is the largest of the array arguments'. A name outside the contract, or arguments
the shapes cannot be worked out from (a stride of 0, a missing argument), are bounded by the
bytes of the array arguments instead.

The budget lets common wrong answers through so the graders can say what is wrong (a padded dx,
a transposed result, float64 or complex128 for float32 inputs: up to SLACK_FACTOR x the
expected bytes, plus SLACK_BYTES for headers and small results) and is never more than
MAX_OVER_EXPECTED above the expected output: a reply can grow the grader's memory by at most that.
"""
import math

import numpy as np

from autograder.contract import FUNCTIONS

SLACK_FACTOR = 4
SLACK_BYTES = 2**20
MAX_OVER_EXPECTED = 256 * 2**20


def _arrays(args, kwargs):
    return [a for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray)]


def expected_bytes(name, args, kwargs):
    """Bytes of the arrays `name(*args, **kwargs)` must return (0 for a number)."""
    arrays = _arrays(args, kwargs)
    shapes = FUNCTIONS[name].returns if name in FUNCTIONS else None
    if shapes is not None:
        try:
            itemsize = max((a.itemsize for a in arrays), default=8)
            return sum(math.prod(max(int(n), 0) for n in shape)
                       for shape in shapes(*args, **kwargs)) * itemsize
        except Exception:   # arguments the contract's shapes cannot come from (on purpose, in
            pass            # the graders' robustness tests): bounded like an unknown function
    return sum(a.nbytes for a in arrays)


def budget(name, args, kwargs):
    """Most bytes (header and arrays together) a reply to this call may take."""
    expected = expected_bytes(name, args, kwargs)
    return expected + min((SLACK_FACTOR - 1) * expected + SLACK_BYTES, MAX_OVER_EXPECTED)
