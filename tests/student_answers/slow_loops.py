"""Right answers built from loops over every element: correct, but far too slow for the
vectorized tiers (they must fail the timing tests and keep every other point)."""
import numpy as np

from student_answers.correct_loops import (conv_backward_naive, conv_forward_naive,  # noqa: F401
                                           conv_output_size, conv_single_step, zero_pad)


def _sizes(x, w, stride, pad):
    if x.shape[2] != w.shape[3]:
        raise ValueError("channel mismatch")
    f = w.shape[1]
    return conv_output_size(x.shape[0], f, stride, pad), conv_output_size(x.shape[1], f, stride, pad)


def conv_forward_partial(x, w, b, stride=1, pad=0):
    """The seven loops again, under the partial tier's name."""
    return conv_forward_naive(x, w, b, stride, pad)


def im2col(x, f, stride=1, pad=0):
    H, W, C, M = x.shape
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    xp = zero_pad(x, pad)
    X_col = np.zeros((f * f * C, H_out * W_out * M), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            for n in range(M):
                for u in range(f):
                    for v in range(f):
                        for c in range(C):
                            X_col[(u * f + v) * C + c, (i * W_out + j) * M + n] = \
                                xp[i * stride + u, j * stride + v, c, n]
    return X_col


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    H_out, W_out = _sizes(x, w, stride, pad)
    K = w.shape[0]
    out = (w.reshape(K, -1) @ im2col(x, w.shape[1], stride, pad)).reshape(K, H_out, W_out, -1)
    return out.transpose(1, 2, 0, 3) + b[:, None]


def col2im(X_col, x_shape, f, stride=1, pad=0):
    H, W, C, M = x_shape
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    xp = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    for i in range(H_out):
        for j in range(W_out):
            for n in range(M):
                for u in range(f):
                    for v in range(f):
                        for c in range(C):
                            xp[i * stride + u, j * stride + v, c, n] += \
                                X_col[(u * f + v) * C + c, (i * W_out + j) * M + n]
    return xp[pad:pad + H, pad:pad + W]


def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    _sizes(x, w, stride, pad)
    K, f = w.shape[:2]
    d = dout.transpose(2, 0, 1, 3).reshape(K, -1)
    dw = (d @ im2col(x, f, stride, pad).T).reshape(w.shape)
    return col2im(w.reshape(K, -1).T @ d, x.shape, f, stride, pad), dw, d.sum(axis=1)


def conv_forward_fft(x, w, b, stride=1, pad=0):
    """No transform at all: windows times filters, one output at a time."""
    H_out, W_out = _sizes(x, w, stride, pad)
    f, (K, M) = w.shape[1], (w.shape[0], x.shape[3])
    xp = zero_pad(x, pad)
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    out[i, j, k, n] = np.sum(xp[i * stride:i * stride + f, j * stride:j * stride + f, :, n] * w[k]) + b[k]
    return out
