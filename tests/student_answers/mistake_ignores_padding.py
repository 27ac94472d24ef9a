"""No zero padding: neither in the output size nor in the windows."""
import numpy as np

from student_answers.correct_loops import conv_single_step


def conv_output_size(n, f, stride=1, pad=0):
    if f > n + 2 * pad:
        raise ValueError("filter too large")
    return (n - f) // stride + 1


def conv_forward_partial(x, w, b, stride=1, pad=0):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3] or f > H + 2 * pad or f > W + 2 * pad:
        raise ValueError("bad sizes")
    H_out, W_out = (H - f) // stride + 1, (W - f) // stride + 1
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for i in range(H_out):
            for j in range(W_out):
                window = x[i * stride:i * stride + f, j * stride:j * stride + f, :, n]
                out[i, j, :, n] = conv_single_step(window, w, b)
    return out
