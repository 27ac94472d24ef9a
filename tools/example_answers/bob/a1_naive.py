"""bob, a1_naive: typical mistakes. conv_output_size rounds up instead of down; the seven loops
index the filter back to front (a true convolution, not the layer's cross-correlation)."""
import math

import numpy as np


def conv_output_size(n, f, stride=1, pad=0):
    return math.ceil((n + 2 * pad - f) / stride) + 1


def zero_pad(x, pad):
    return np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)), mode="constant")


def conv_forward_naive(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    x_pad = zero_pad(x, pad)
    out = np.zeros((H_out, W_out, K, M))
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    total = b[k]
                    for u in range(f):
                        for v in range(f):
                            for c in range(C):
                                total += (x_pad[i * stride + u, j * stride + v, c, n]
                                          * w[k, f - 1 - u, f - 1 - v, c])
                    out[i, j, k, n] = total
    return out
