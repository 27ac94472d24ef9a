"""Windows stepped by 1: the stride is used for the output size but not for window starts."""
import numpy as np

from student_answers.correct_loops import conv_output_size, zero_pad


def conv_forward_naive(x, w, b, stride=1, pad=0):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    xp = zero_pad(x, pad)
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    out[i, j, k, n] = np.sum(xp[i:i + f, j:j + f, :, n] * w[k]) + b[k]
    return out


def col2im(X_col, x_shape, f, stride=1, pad=0):
    H, W, C, M = x_shape
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    cols = X_col.reshape(f, f, C, H_out, W_out, M)
    xp = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    for i in range(H_out):
        for j in range(W_out):
            xp[i:i + f, j:j + f] += cols[:, :, :, i, j]
    return xp[pad:pad + H, pad:pad + W]


def conv_backward_naive(dout, x, w, stride=1, pad=0):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    xp = zero_pad(x, pad)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    dxp[i:i + f, j:j + f, :, n] += w[k] * dout[i, j, k, n]
                    dw[k] += xp[i:i + f, j:j + f, :, n] * dout[i, j, k, n]
    return dxp[pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 1, 3))
