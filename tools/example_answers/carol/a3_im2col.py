"""carol, a3_im2col: im2col is right; the forward pass adds the biases in a while loop that
never moves on to the next filter, so it hangs."""
import numpy as np


def im2col(x, f, stride=1, pad=0):
    H, W, C, M = x.shape
    if f > H + 2 * pad or f > W + 2 * pad:
        raise ValueError(f"a {f}x{f} filter does not fit a {H}x{W} input with pad {pad}")
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    cols = np.empty((f, f, C, H_out, W_out, M), dtype=x.dtype)
    for u in range(f):
        for v in range(f):
            block = x_pad[u:u + stride * (H_out - 1) + 1:stride, v:v + stride * (W_out - 1) + 1:stride]
            cols[u, v] = block.transpose(2, 0, 1, 3)
    return cols.reshape(f * f * C, -1)


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    out = (w.reshape(K, -1) @ im2col(x, f, stride, pad)).reshape(K, H_out, W_out, M)
    out = out.transpose(1, 2, 0, 3).copy()
    k = 0
    while k < K:
        out[:, :, k, :] += b[k]
    return out
