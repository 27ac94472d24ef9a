"""The padded gradient returned as dx."""
import numpy as np

from student_answers.correct_loops import conv_output_size, zero_pad


def conv_backward_naive(dout, x, w, stride=1, pad=0):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    xp = zero_pad(x, pad)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    r, c = i * stride, j * stride
                    dxp[r:r + f, c:c + f, :, n] += w[k] * dout[i, j, k, n]
                    dw[k] += xp[r:r + f, c:c + f, :, n] * dout[i, j, k, n]
    return dxp, dw, dout.sum(axis=(0, 1, 3))
