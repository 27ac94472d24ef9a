"""alice, a1_naive: correct answers (the example of full marks)."""
import numpy as np


def conv_output_size(n, f, stride=1, pad=0):
    if f > n + 2 * pad:
        raise ValueError(f"a filter of size {f} does not fit an input of size {n} with pad {pad}")
    return (n + 2 * pad - f) // stride + 1


def zero_pad(x, pad):
    H, W, C, M = x.shape
    x_pad = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=x.dtype)
    x_pad[pad:pad + H, pad:pad + W] = x
    return x_pad


def conv_forward_naive(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f, _, C_w = w.shape
    if C_w != C:
        raise ValueError(f"x has {C} channels (shape {x.shape}) but w has {C_w} (shape {w.shape})")
    H_out = conv_output_size(H, f, stride, pad)
    W_out = conv_output_size(W, f, stride, pad)
    x_pad = zero_pad(x, pad)
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    total = b[k]
                    for u in range(f):
                        for v in range(f):
                            for c in range(C):
                                total += x_pad[i * stride + u, j * stride + v, c, n] * w[k, u, v, c]
                    out[i, j, k, n] = total
    return out
