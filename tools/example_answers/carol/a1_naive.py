"""carol, a1_naive: right except that conv_forward_naive never leaves its outer loop (she
forgot `i += 1`), so every call hangs until the grader stops it."""
import numpy as np


def conv_output_size(n, f, stride=1, pad=0):
    if f > n + 2 * pad:
        raise ValueError(f"filter size {f} is larger than the padded input {n + 2 * pad}")
    return (n + 2 * pad - f) // stride + 1


def zero_pad(x, pad):
    H, W, C, M = x.shape
    out = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=x.dtype)
    out[pad:H + pad, pad:W + pad, :, :] = x
    return out


def conv_forward_naive(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out = conv_output_size(H, f, stride, pad)
    W_out = conv_output_size(W, f, stride, pad)
    x_pad = zero_pad(x, pad)
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for k in range(K):
            i = 0
            while i < H_out:
                j = 0
                while j < W_out:
                    total = b[k]
                    for u in range(f):
                        for v in range(f):
                            for c in range(C):
                                total += x_pad[i * stride + u, j * stride + v, c, n] * w[k, u, v, c]
                    out[i, j, k, n] = total
                    j += 1
    return out
