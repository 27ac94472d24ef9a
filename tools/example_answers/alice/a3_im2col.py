"""alice, a3_im2col: correct answers (the example of full marks)."""
import numpy as np


def im2col(x, f, stride=1, pad=0):
    H, W, C, M = x.shape
    if f > H + 2 * pad or f > W + 2 * pad:
        raise ValueError(f"a {f}x{f} filter does not fit a {H}x{W} input with pad {pad}")
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    cols = np.empty((f, f, C, H_out, W_out, M), dtype=x.dtype)
    # one slice per position (u, v) inside the window: every window's pixel (u, v) at once
    for u in range(f):
        for v in range(f):
            rows = x_pad[u:u + stride * (H_out - 1) + 1:stride,
                         v:v + stride * (W_out - 1) + 1:stride]          # (H_out, W_out, C, M)
            cols[u, v] = np.moveaxis(rows, 2, 0)
    return cols.reshape(f * f * C, H_out * W_out * M)


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f, _, C_w = w.shape
    if C_w != C:
        raise ValueError(f"x has {C} channels (shape {x.shape}) but w has {C_w} (shape {w.shape})")
    X_col = im2col(x, f, stride, pad)
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    out_mat = w.reshape(K, -1).astype(x.dtype) @ X_col                  # (K, H_out*W_out*M)
    out = out_mat.reshape(K, H_out, W_out, M).transpose(1, 2, 0, 3)
    return out + b.astype(x.dtype).reshape(1, 1, K, 1)
