"""Windows taken from x instead of the padded x: the partial layer slices x where x_pad was
meant (a window cut short to one row or column is broadcast, others raise), the FFT layer
transforms x at the padded size (its zeros all below and to the right)."""
import numpy as np

from student_answers.correct_loops import conv_output_size


def conv_forward_partial(x, w, b, stride=1, pad=0):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[i * stride:i * stride + f, j * stride:j * stride + f, :, n]
                    out[i, j, k, n] = np.sum(window * w[k]) + b[k]
    return out


def conv_forward_fft(x, w, b, stride=1, pad=0):
    K, f = w.shape[:2]
    if x.shape[2] != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = conv_output_size(x.shape[0], f, stride, pad), conv_output_size(x.shape[1], f, stride, pad)
    size = (x.shape[0] + 2 * pad, x.shape[1] + 2 * pad)
    X = np.fft.rfft2(x, s=size, axes=(0, 1))
    F = np.fft.rfft2(w[:, ::-1, ::-1, :], s=size, axes=(1, 2))
    full = np.fft.irfft2(np.einsum("abcn,kabc->abkn", X, F), s=size, axes=(0, 1))
    out = full[f - 1::stride, f - 1::stride][:H_out, :W_out]
    return (out + b[:, None]).astype(x.dtype)
