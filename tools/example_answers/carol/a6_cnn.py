"""carol, a6_cnn: pooling and the forward pass are right; the backward pass walks the batch
with a while loop that forgets `n += 1`, so it hangs. `conv_output_size`, `im2col`, `col2im`,
`conv_forward_im2col` and `conv_backward_im2col` are the notebook's given code."""
import numpy as np


def max_pool_forward(x, pool=2, stride=2):
    H, W, C, M = x.shape
    H_out = conv_output_size(H, pool, stride)
    W_out = conv_output_size(W, pool, stride)
    cols = im2col(x.reshape(H, W, 1, C * M), pool, stride)
    return cols.max(axis=0).reshape(H_out, W_out, C, M)


def max_pool_backward(dout, x, pool=2, stride=2):
    H, W, C, M = x.shape
    H_out = conv_output_size(H, pool, stride)
    W_out = conv_output_size(W, pool, stride)
    if dout.shape != (H_out, W_out, C, M):
        raise ValueError(f"dout has shape {dout.shape}, expected {(H_out, W_out, C, M)}")
    cols = im2col(x.reshape(H, W, 1, C * M), pool, stride)
    dcols = np.zeros_like(cols)
    dcols[cols.argmax(axis=0), np.arange(cols.shape[1])] = dout.ravel()
    return col2im(dcols, (H, W, 1, C * M), pool, stride).reshape(x.shape)


def cnn_forward(x, w1, b1, w2, b2, pad=0, pool=2):
    a = conv_forward_im2col(x, w1, b1, 1, pad)
    p = max_pool_forward(np.maximum(a, 0), pool, pool)
    if w2.shape[1:] != p.shape[:3]:
        raise ValueError(f"w2 has shape {w2.shape}, the pooled maps {p.shape[:3]}")
    scores = w2.reshape(len(w2), -1) @ p.reshape(-1, x.shape[3]) + b2[:, None]
    return scores.astype(x.dtype)


def cnn_backward(dscores, x, w1, b1, w2, pad=0, pool=2):
    M = x.shape[3]
    dw1, db1 = np.zeros_like(w1), np.zeros_like(b1)
    dw2, db2 = np.zeros_like(w2), np.zeros(len(w2), dtype=x.dtype)
    n = 0
    while n < M:                      # one sample at a time
        xn = x[..., n:n + 1]
        a = conv_forward_im2col(xn, w1, b1, 1, pad)
        r = np.maximum(a, 0)
        p = max_pool_forward(r, pool, pool)
        g = dscores[:, n]
        dw2 += g[:, None, None, None] * p[..., 0]
        db2 += g
        dp = np.tensordot(g, w2, axes=1)[..., None]
        da = np.where(a > 0, max_pool_backward(dp, r, pool, pool), 0)
        _, dw1_n, db1_n = conv_backward_im2col(da, xn, w1, 1, pad)
        dw1 += dw1_n
        db1 += db1_n
    return dw1, db1, dw2, db2
