"""The kernel flipped: a true convolution instead of the layer's cross-correlation."""
import numpy as np

from student_answers.correct_loops import conv_output_size, zero_pad


def conv_forward_naive(x, w, b, stride=1, pad=0):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    xp = zero_pad(x, pad)
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    s = b[k]
                    for u in range(f):
                        for v in range(f):
                            for c in range(C):
                                s += xp[i * stride + u, j * stride + v, c, n] * w[k, f - 1 - u, f - 1 - v, c]
                    out[i, j, k, n] = s
    return out


def conv_forward_fft(x, w, b, stride=1, pad=0):
    """The convolution theorem applied to w as it is (it should have been flipped first)."""
    K, f = w.shape[:2]
    H_out, W_out = conv_output_size(x.shape[0], f, stride, pad), conv_output_size(x.shape[1], f, stride, pad)
    xp = zero_pad(x, pad)
    size = xp.shape[:2]
    X = np.fft.rfft2(xp, axes=(0, 1))
    F = np.fft.rfft2(w, s=size, axes=(1, 2))
    full = np.fft.irfft2(np.einsum("abcn,kabc->abkn", X, F), s=size, axes=(0, 1))
    out = full[f - 1::stride, f - 1::stride][:H_out, :W_out]
    return (out + b[:, None]).astype(x.dtype)
