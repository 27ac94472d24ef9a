"""bob, a3_im2col: im2col flattens each patch channel-first, (c, u, v) instead of the contract's
(u, v, c); his forward pass reorders the filters to match, so only im2col is wrong."""
import numpy as np


def im2col(x, f, stride=1, pad=0):
    H, W, C, M = x.shape
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    X_col = np.zeros((f * f * C, H_out * W_out * M), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            patch = x_pad[i * stride:i * stride + f, j * stride:j * stride + f]   # (f, f, C, M)
            q = (i * W_out + j) * M
            X_col[:, q:q + M] = patch.transpose(2, 0, 1, 3).reshape(f * f * C, M)
    return X_col


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    X_col = im2col(x, f, stride, pad)
    w_row = w.transpose(0, 3, 1, 2).reshape(K, -1)          # (c, u, v) like his columns
    out = (w_row @ X_col).reshape(K, H_out, W_out, M).transpose(1, 2, 0, 3)
    return out + b[None, None, :, None]
