"""The padding stripped with [pad:-pad], which is empty when pad == 0."""
import numpy as np

from student_answers.correct_loops import conv_output_size, im2col


def col2im(X_col, x_shape, f, stride=1, pad=0):
    H, W, C, M = x_shape
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    cols = X_col.reshape(f, f, C, H_out, W_out, M)
    xp = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    for u in range(f):
        for v in range(f):
            xp[u:u + stride * H_out:stride, v:v + stride * W_out:stride] += cols[u, v].transpose(1, 2, 0, 3)
    return xp[pad:-pad, pad:-pad]


def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    K, f = w.shape[:2]
    if x.shape[2] != w.shape[3]:
        raise ValueError("channel mismatch")
    d = dout.transpose(2, 0, 1, 3).reshape(K, -1)
    dw = (d @ im2col(x, f, stride, pad).T).reshape(w.shape)
    return col2im(w.reshape(K, -1).T @ d, x.shape, f, stride, pad), dw, d.sum(axis=1)
