"""carol, a4_backward: col2im and the im2col backward are right; the loop backward walks the
output rows with a while loop that forgets `i += 1`, so it hangs. `im2col` is the notebook's
given code."""
import numpy as np


def conv_backward_naive(dout, x, w, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out, W_out = dout.shape[0], dout.shape[1]
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(M):
        for k in range(K):
            i = 0
            while i < H_out:
                for j in range(W_out):
                    g = dout[i, j, k, n]
                    dx_pad[i * stride:i * stride + f, j * stride:j * stride + f, :, n] += w[k] * g
                    dw[k] += x_pad[i * stride:i * stride + f, j * stride:j * stride + f, :, n] * g
    db = dout.sum(axis=(0, 1, 3))
    return dx_pad[pad:pad + H, pad:pad + W], dw, db


def col2im(X_col, x_shape, f, stride=1, pad=0):
    H, W, C, M = x_shape
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    pieces = X_col.reshape(f, f, C, H_out, W_out, M).transpose(0, 1, 3, 4, 2, 5)
    x_pad = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    for u in range(f):
        for v in range(f):
            x_pad[u:u + stride * H_out:stride, v:v + stride * W_out:stride] += pieces[u, v]
    return x_pad[pad:pad + H, pad:pad + W].copy()


def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    K, f = w.shape[0], w.shape[1]
    dout_mat = dout.transpose(2, 0, 1, 3).reshape(K, -1)
    dw = (dout_mat @ im2col(x, f, stride, pad).T).reshape(w.shape)
    db = dout_mat.sum(axis=1)
    dx = col2im(w.reshape(K, -1).T @ dout_mat, x.shape, f, stride, pad)
    return dx, dw, db
