"""alice, a4_backward: correct answers (the example of full marks). `im2col` is the notebook's
given code."""
import numpy as np


def conv_backward_naive(dout, x, w, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out, W_out = dout.shape[0], dout.shape[1]
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros(w.shape, dtype=x.dtype)
    db = np.zeros(K, dtype=x.dtype)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[i, j, k, n]
                    rows = slice(i * stride, i * stride + f)
                    cols = slice(j * stride, j * stride + f)
                    dx_pad[rows, cols, :, n] += w[k] * g
                    dw[k] += x_pad[rows, cols, :, n] * g
                    db[k] += g
    dx = dx_pad[pad:pad + H, pad:pad + W].copy()
    return dx, dw, db


def col2im(X_col, x_shape, f, stride=1, pad=0):
    H, W, C, M = x_shape
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    blocks = X_col.reshape(f, f, C, H_out, W_out, M)
    x_pad = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    for u in range(f):
        for v in range(f):
            # windows overlap: add every contribution, never overwrite
            x_pad[u:u + stride * (H_out - 1) + 1:stride,
                  v:v + stride * (W_out - 1) + 1:stride] += np.moveaxis(blocks[u, v], 0, 2)
    return x_pad[pad:pad + H, pad:pad + W].copy()


def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    K, f = w.shape[0], w.shape[1]
    X_col = im2col(x, f, stride, pad)                                  # (f*f*C, H_out*W_out*M)
    dout_mat = dout.transpose(2, 0, 1, 3).reshape(K, -1)               # (K, H_out*W_out*M)
    dw = (dout_mat @ X_col.T).reshape(w.shape).astype(x.dtype)
    db = dout_mat.sum(axis=1).astype(x.dtype)
    dX_col = w.reshape(K, -1).T @ dout_mat
    dx = col2im(dX_col, x.shape, f, stride, pad).astype(x.dtype)
    return dx, dw, db
