"""alice, a5_fft: correct answer (the example of full marks)."""
import numpy as np


def conv_forward_fft(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f, _, C_w = w.shape
    if C_w != C:
        raise ValueError(f"x has {C} channels (shape {x.shape}) but w has {C_w} (shape {w.shape})")
    if f > H + 2 * pad or f > W + 2 * pad:
        raise ValueError(f"a {f}x{f} filter does not fit a {H}x{W} input with pad {pad}")
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    Hp, Wp = x_pad.shape[0], x_pad.shape[1]
    # the layer correlates; the convolution theorem convolves: flip the filters first
    X = np.fft.rfft2(x_pad, axes=(0, 1))                                   # (Hp, Q, C, M)
    F = np.fft.rfft2(w[:, ::-1, ::-1, :], s=(Hp, Wp), axes=(1, 2))         # (K, Hp, Q, C)
    Y = np.moveaxis(F, 0, 2) @ X                                           # (Hp, Q, K, M)
    full = np.fft.irfft2(Y, s=(Hp, Wp), axes=(0, 1))                       # (Hp, Wp, K, M)
    # a window starting at (r, s) ends at (r + f - 1, s + f - 1): keep those, every stride-th
    out = full[f - 1::stride, f - 1::stride][:H_out, :W_out]
    return (out + b.reshape(1, 1, K, 1)).astype(x.dtype)
