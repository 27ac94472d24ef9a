"""Gradient checking: compare an analytic gradient with central differences.

    dx_num = numerical_gradient(lambda x: layer(x, w, b), x, dout)   # shape of x
    print(rel_error(dx, dx_num) < GRADIENT_TOLERANCE)                # True when dx is right

How accurate the check is: the convolutional layer is linear in each of its arguments (fix two,
and the output is a linear function of the third), so the central difference has no truncation
error at all; what remains is roundoff, about machine epsilon times |loss| / h. In float64 with
h = 1e-5 a correct gradient of the course's layers gives a relative error of 1e-10 to 1e-7;
a wrong one typically gives something near 1. In float32 roundoff alone is about 1e-2 to 1:
check gradients in float64.
"""
import numpy as np

GRADIENT_TOLERANCE = 1e-6
"""A relative error (rel_error) below this means the analytic gradient is right, in float64."""


def rel_error(x, y):
    """Largest relative difference between two arrays of the same shape (CS231n's measure).

    Inputs:
    - x, y: arrays (or numbers) of the same shape

    Returns max |x - y| / max(1e-8, |x| + |y|) over all elements, a float. Values below
    GRADIENT_TOLERANCE mean the two agree to rounding error in float64.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs arrays of the same shape, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f, x, dout, h=1e-5):
    """Central-difference gradient of sum(f(x) * dout) with respect to every element of x.

    Inputs:
    - f: function of one array returning an array with the shape of dout
    - x: float array of any shape, e.g. (H, W, C, M); changed in place during the computation
      one element at a time and restored afterwards
    - dout: upstream gradient, same shape as f(x)
    - h: step size

    Returns an array of the shape of x: entry e is
    (sum(f(x + h e) * dout) - sum(f(x - h e) * dout)) / (2 h).
    Costs two calls of f per element of x: use it on small inputs only.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError("numerical_gradient needs x as a float numpy array "
                         f"(it nudges x in place), got {type(x).__name__}"
                         f"{' of dtype ' + str(x.dtype) if isinstance(x, np.ndarray) else ''}")
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        try:
            x[idx] = old + h
            plus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
            x[idx] = old - h
            minus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
        finally:
            x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad
