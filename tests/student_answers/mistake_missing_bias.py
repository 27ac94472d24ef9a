"""The bias left out."""
import numpy as np

from student_answers.correct_loops import im2col


def conv_single_step(x_slice, w, b):
    return np.einsum("kuvc,uvc->k", w, x_slice)


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = (H + 2 * pad - f) // stride + 1, (W + 2 * pad - f) // stride + 1
    out = w.reshape(K, -1) @ im2col(x, f, stride, pad)
    return out.reshape(K, H_out, W_out, M).transpose(1, 2, 0, 3)
