"""bob, a2_partial: conv_single_step is right, but the 3-loop layer forgets the bias."""
import numpy as np


def conv_single_step(x_slice, w, b):
    return np.sum(w * x_slice, axis=(1, 2, 3)) + b


def conv_forward_partial(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for i in range(H_out):
            for j in range(W_out):
                window = x_pad[i * stride:i * stride + f, j * stride:j * stride + f, :, n]
                out[i, j, :, n] = np.sum(window * w, axis=(1, 2, 3))
    return out
