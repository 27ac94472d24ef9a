"""The filter matrix taken as w.reshape(f*f*C, K): w's first axis is the filter, so that
reshape cuts w into rows of K consecutive numbers, and each column (each row of its transpose)
mixes several filters instead of holding one."""
import numpy as np

from student_answers.correct_vectorized import conv_output_size, im2col, zero_pad


def conv_single_step(x_slice, w, b):
    K, f, _, C = w.shape
    return w.reshape(f * f * C, K).T @ x_slice.ravel() + b


def _sizes(x, w, stride, pad):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3]:
        raise ValueError(f"x has {C} channels, the filters {w.shape[3]}")
    return conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad), K, f, M


def conv_forward_partial(x, w, b, stride=1, pad=0):
    H_out, W_out, K, f, M = _sizes(x, w, stride, pad)
    xp = zero_pad(x, pad)
    filters = w.reshape(-1, K)                  # meant as one column per filter
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for i in range(H_out):
            for j in range(W_out):
                window = xp[i * stride:i * stride + f, j * stride:j * stride + f, :, n]
                out[i, j, :, n] = window.ravel() @ filters + b
    return out


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    H_out, W_out, K, f, M = _sizes(x, w, stride, pad)
    out_mat = w.reshape(-1, K).T @ im2col(x, f, stride, pad)
    return out_mat.reshape(K, H_out, W_out, M).transpose(1, 2, 0, 3) + b[:, None]
