"""carol, a5_fft: looks for a power-of-two transform size with `size * 2` instead of
`size *= 2`, so the search never ends and every call hangs."""
import numpy as np


def conv_forward_fft(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    size = 1
    while size < max(x_pad.shape[0], x_pad.shape[1]):
        size * 2
    X = np.fft.rfft2(x_pad, s=(size, size), axes=(0, 1))
    F = np.fft.rfft2(w[:, ::-1, ::-1, :], s=(size, size), axes=(1, 2))
    full = np.fft.irfft2(np.moveaxis(F, 0, 2) @ X, s=(size, size), axes=(0, 1))
    out = full[f - 1:f - 1 + stride * H_out:stride, f - 1:f - 1 + stride * W_out:stride]
    return out + b.reshape(1, 1, K, 1)
