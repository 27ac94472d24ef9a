"""alice, a6_cnn: correct answers (the example of full marks). `conv_output_size`,
`conv_forward_im2col` and `conv_backward_im2col` are the notebook's given code."""
import numpy as np


def max_pool_forward(x, pool=2, stride=2):
    H, W, C, M = x.shape
    H_out = conv_output_size(H, pool, stride)
    W_out = conv_output_size(W, pool, stride)
    out = None
    # a running maximum over the pool*pool offsets: the entry (u, v) of every window at once
    for u in range(pool):
        for v in range(pool):
            block = x[u:u + stride * (H_out - 1) + 1:stride, v:v + stride * (W_out - 1) + 1:stride]
            out = block.copy() if out is None else np.maximum(out, block)
    return out


def max_pool_backward(dout, x, pool=2, stride=2):
    H, W, C, M = x.shape
    H_out = conv_output_size(H, pool, stride)
    W_out = conv_output_size(W, pool, stride)
    if dout.shape != (H_out, W_out, C, M):
        raise ValueError(f"dout has shape {dout.shape}, expected {(H_out, W_out, C, M)}")
    out = max_pool_forward(x, pool, stride)
    dx = np.zeros_like(x)
    routed = np.zeros(out.shape, dtype=bool)      # windows whose maximum already got the gradient
    for u in range(pool):                         # row-major order: the first maximum wins ties
        for v in range(pool):
            rows = slice(u, u + stride * (H_out - 1) + 1, stride)
            cols = slice(v, v + stride * (W_out - 1) + 1, stride)
            winner = (x[rows, cols] == out) & ~routed
            dx[rows, cols] += np.where(winner, dout, 0)
            routed |= winner
    return dx


def cnn_forward(x, w1, b1, w2, b2, pad=0, pool=2):
    a = conv_forward_im2col(x, w1, b1, 1, pad)
    p = max_pool_forward(np.maximum(a, 0), pool, pool)
    if w2.shape[1:] != p.shape[:3]:
        raise ValueError(f"w2 has shape {w2.shape}, the pooled maps {p.shape[:3]}")
    return np.einsum("kijc,ijcn->kn", w2, p).astype(x.dtype) + b2[:, None].astype(x.dtype)


def cnn_backward(dscores, x, w1, b1, w2, pad=0, pool=2):
    if dscores.shape != (w2.shape[0], x.shape[3]):
        raise ValueError(f"dscores has shape {dscores.shape}, expected {(w2.shape[0], x.shape[3])}")
    a = conv_forward_im2col(x, w1, b1, 1, pad)
    r = np.maximum(a, 0)
    p = max_pool_forward(r, pool, pool)
    dw2 = np.einsum("kn,ijcn->kijc", dscores, p).astype(x.dtype)
    db2 = dscores.sum(axis=1).astype(x.dtype)
    dp = np.einsum("kijc,kn->ijcn", w2, dscores)
    dr = max_pool_backward(dp, r, pool, pool)
    da = np.where(a > 0, dr, 0).astype(x.dtype)
    dx, dw1, db1 = conv_backward_im2col(da, x, w1, 1, pad)
    return dw1, db1, dw2, db2
