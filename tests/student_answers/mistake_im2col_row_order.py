"""Each window flattened channel-first, (c, u, v), while w.reshape(K, -1) is (u, v, c)."""
import numpy as np

from student_answers.correct_loops import conv_output_size, zero_pad


def im2col(x, f, stride=1, pad=0):
    H, W, C, M = x.shape
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    xp = zero_pad(x, pad)
    cols = np.empty((C, f, f, H_out, W_out, M), dtype=x.dtype)
    for u in range(f):
        for v in range(f):
            cols[:, u, v] = xp[u:u + stride * H_out:stride, v:v + stride * W_out:stride].transpose(2, 0, 1, 3)
    return cols.reshape(f * f * C, -1)


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    out = (w.reshape(K, -1) @ im2col(x, f, stride, pad)).reshape(K, H_out, W_out, M)
    return out.transpose(1, 2, 0, 3) + b[:, None]
