"""bob, a5_fft: multiplies the spectra without flipping the filters, so the layer computes a
true convolution instead of the cross-correlation."""
import numpy as np


def conv_forward_fft(x, w, b, stride=1, pad=0):
    H, W, C, M = x.shape
    K, f = w.shape[0], w.shape[1]
    H_out = (H + 2 * pad - f) // stride + 1
    W_out = (W + 2 * pad - f) // stride + 1
    x_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    Hp, Wp = x_pad.shape[0], x_pad.shape[1]
    X = np.fft.fft2(x_pad, axes=(0, 1))
    F = np.fft.fft2(w, s=(Hp, Wp), axes=(1, 2))
    Y = np.einsum("kpqc,pqcm->pqkm", F, X)
    full = np.real(np.fft.ifft2(Y, axes=(0, 1)))
    out = full[f - 1::stride, f - 1::stride][:H_out, :W_out]
    return out + b[None, None, :, None]
