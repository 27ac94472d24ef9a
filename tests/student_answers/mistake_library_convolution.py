"""A library correlation doing the work (numpy.correlate, imported under another name)."""
import numpy as np
from numpy import correlate as corr

from student_answers.correct_loops import conv_output_size, zero_pad


def conv_single_step(x_slice, w, b):
    window = x_slice.ravel()
    out = np.array([np.correlate(window, filt.ravel())[0] for filt in w], dtype=x_slice.dtype)
    return out + b


def _window_product(window, filt):
    return corr(window.ravel(), filt.ravel())[0]


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
                    window = xp[i * stride:i * stride + f, j * stride:j * stride + f, :, n]
                    out[i, j, k, n] = _window_product(window, w[k]) + b[k]
    return out
