"""The inverse transform taken without its size: irfft2 guesses an even width."""
import numpy as np

from student_answers.correct_loops import conv_output_size, zero_pad


def conv_forward_fft(x, w, b, stride=1, pad=0):
    K, f = w.shape[:2]
    if x.shape[2] != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = conv_output_size(x.shape[0], f, stride, pad), conv_output_size(x.shape[1], f, stride, pad)
    xp = zero_pad(x, pad)
    X = np.fft.rfft2(xp, axes=(0, 1))
    F = np.fft.rfft2(w[:, ::-1, ::-1, :], s=xp.shape[:2], axes=(1, 2))
    full = np.fft.irfft2(np.einsum("abcn,kabc->abkn", X, F), axes=(0, 1))
    out = full[f - 1::stride, f - 1::stride][:H_out, :W_out]
    return (out + b[:, None]).astype(x.dtype)
