"""alice, a2_partial: correct answers (the example of full marks)."""
import numpy as np


def conv_single_step(x_slice, w, b):
    return np.tensordot(w, x_slice, axes=3) + b


def conv_forward_partial(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f, _, C_w = w.shape
    if C_w != C:
        raise ValueError(f"x has {C} channels (shape {x.shape}) but w has {C_w} (shape {w.shape})")
    if f > H + 2 * pad or f > W + 2 * pad:
        raise ValueError(f"a {f}x{f} filter does not fit a {H}x{W} input with pad {pad}")
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for i in range(H_out):
            top = i * stride
            for j in range(W_out):
                left = j * stride
                out[i, j, :, n] = conv_single_step(x_pad[top:top + f, left:left + f, :, n], w, b)
    return out
