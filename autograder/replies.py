"""How large a reply from the sandbox may be: what a contract function must return, from its
arguments, plus room for a wrong answer worth diagnosing.

    expected_bytes("im2col", (x, 3), {"stride": 2, "pad": 1})
        -> bytes of X_col: f*f*C x H_out*W_out*M x itemsize
    budget("im2col", (x, 3), {"stride": 2, "pad": 1})
        -> most bytes the reply may take

The shapes are the course contract's (docs/CONTRACT.md): conv_output_size and conv_single_step
return a number; zero_pad the padded x; conv_forward_* (H_out, W_out, K, M); im2col
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

SLACK_FACTOR = 4
SLACK_BYTES = 2**20
MAX_OVER_EXPECTED = 256 * 2**20


def _size(n, f, stride, pad):
    """Output positions along one axis (0 when the filter does not fit)."""
    return max((n + 2 * pad - f) // stride + 1, 0)


def _padded(x, pad):
    H, W, C, M = x.shape
    return [(H + 2 * pad, W + 2 * pad, C, M)]


def _forward(x, w, b, stride=1, pad=0):
    H, W, _, M = x.shape
    return [(_size(H, w.shape[1], stride, pad), _size(W, w.shape[2], stride, pad), w.shape[0], M)]


def _im2col(x, f, stride=1, pad=0):
    H, W, C, M = x.shape
    return [(f * f * C, _size(H, f, stride, pad) * _size(W, f, stride, pad) * M)]


def _col2im(X_col, x_shape, f, stride=1, pad=0):
    return [tuple(x_shape)]


def _backward(dout, x, w, stride=1, pad=0):
    return [x.shape, w.shape, (w.shape[0],)]


def _number(*args, **kwargs):
    return []


# Contract name (or name prefix ending in "_") -> the shapes of the arrays it returns, from the
# call's arguments (bound by Python, so keywords and defaults work as in the contract).
SHAPES = {"conv_output_size": _number, "conv_single_step": _number, "zero_pad": _padded,
          "conv_forward_": _forward, "im2col": _im2col, "col2im": _col2im,
          "conv_backward_": _backward}


def _shapes_of(name):
    return SHAPES.get(name) or next((fn for prefix, fn in SHAPES.items()
                                     if prefix.endswith("_") and name.startswith(prefix)), None)


def _arrays(args, kwargs):
    return [a for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray)]


def expected_bytes(name, args, kwargs):
    """Bytes of the arrays `name(*args, **kwargs)` must return (0 for a number)."""
    arrays = _arrays(args, kwargs)
    shapes = _shapes_of(name)
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
