"""The window offsets u and v swapped in the filter's index: w[k, v, u, c]."""
import numpy as np

from student_answers.correct_loops import conv_output_size, zero_pad


def conv_single_step(x_slice, w, b):
    return np.einsum("uvc,kvuc->k", x_slice, w) + b


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
                    s = b[k]
                    for u in range(f):
                        for v in range(f):
                            for c in range(C):
                                s += xp[i * stride + u, j * stride + v, c, n] * w[k, v, u, c]
                    out[i, j, k, n] = s
    return out
