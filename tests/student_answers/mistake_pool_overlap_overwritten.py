"""The gradient assigned at each window's maximum: where overlapping windows pick the same
input, the later window's gradient replaces the earlier one's."""
import numpy as np


def max_pool_backward(dout, x, pool=2, stride=2):
    H_out, W_out, C, M = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            for c in range(C):
                for n in range(M):
                    window = x[i * stride:i * stride + pool, j * stride:j * stride + pool, c, n]
                    u, v = np.unravel_index(np.argmax(window), window.shape)
                    dx[i * stride + u, j * stride + v, c, n] = dout[i, j, c, n]
    return dx
