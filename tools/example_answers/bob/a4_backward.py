"""bob, a4_backward: the loop backward returns dx with the padding still on; col2im assigns
overlapping windows (`=`) instead of summing them, which the im2col backward inherits.
`im2col` is the notebook's given code."""
import numpy as np


def conv_backward_naive(dout, x, w, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out, W_out = dout.shape[0], dout.shape[1]
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    dx = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = np.zeros(K)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[i, j, k, n]
                    dx[i * stride:i * stride + f, j * stride:j * stride + f, :, n] += w[k] * g
                    dw[k] += x_pad[i * stride:i * stride + f, j * stride:j * stride + f, :, n] * g
                    db[k] += g
    return dx, dw, db


def col2im(X_col, x_shape, f, stride=1, pad=0):
    H, W, C, M = x_shape
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    x_pad = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    for i in range(H_out):
        for j in range(W_out):
            q = (i * W_out + j) * M
            patch = X_col[:, q:q + M].reshape(f, f, C, M)
            x_pad[i * stride:i * stride + f, j * stride:j * stride + f] = patch
    return x_pad[pad:pad + H, pad:pad + W]


def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    K, f = w.shape[0], w.shape[1]
    X_col = im2col(x, f, stride, pad)
    dout_mat = dout.transpose(2, 0, 1, 3).reshape(K, -1)
    dw = (dout_mat @ X_col.T).reshape(w.shape)
    db = dout_mat.sum(axis=1)
    dx = col2im(w.reshape(K, -1).T @ dout_mat, x.shape, f, stride, pad)
    return dx, dw, db
