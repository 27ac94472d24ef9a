"""dw and db overwritten in the loop over samples: only the last sample's survive."""
import numpy as np

from student_answers.correct_loops import conv_output_size, zero_pad


def conv_backward_naive(dout, x, w, stride=1, pad=0):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    xp = zero_pad(x, pad)
    dxp = np.zeros_like(xp)
    for n in range(M):
        dw, db = np.zeros_like(w), np.zeros(K, dtype=x.dtype)
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    r, c = i * stride, j * stride
                    dxp[r:r + f, c:c + f, :, n] += w[k] * dout[i, j, k, n]
                    dw[k] += xp[r:r + f, c:c + f, :, n] * dout[i, j, k, n]
                    db[k] += dout[i, j, k, n]
    return dxp[pad:pad + H, pad:pad + W], dw, db
