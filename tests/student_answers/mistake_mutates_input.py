"""The window multiplied in place, "to save memory": the last filter needs no copy of the
window, so the caller's x_slice is overwritten (the values returned are right)."""
import numpy as np


def conv_single_step(x_slice, w, b):
    K = w.shape[0]
    out = np.empty(K, dtype=x_slice.dtype)
    for k in range(K - 1):
        out[k] = np.sum(x_slice * w[k]) + b[k]
    x_slice *= w[K - 1]
    out[K - 1] = np.sum(x_slice) + b[K - 1]
    return out
