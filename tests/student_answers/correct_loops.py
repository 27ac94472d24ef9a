"""Right answers in the plainest style: explicit loops in other orders than the reference,
im2col by a loop over the f x f window offsets, col2im with np.add.at, an FFT layer looping over
filters with complex transforms."""
import numpy as np


def conv_output_size(n, f, stride=1, pad=0):
    if f > n + 2 * pad:
        raise ValueError(f"f={f} is larger than n + 2*pad = {n + 2 * pad}")
    return len(range(0, n + 2 * pad - f + 1, stride))


def zero_pad(x, pad):
    H, W, C, M = x.shape
    out = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=x.dtype)
    out[pad:pad + H, pad:pad + W] = x
    return out


def _sizes(x, w, stride, pad):
    H, W, C, M = x.shape
    K, f, _, Cw = w.shape
    if C != Cw:
        raise ValueError(f"x has {C} channels but the filters have {Cw}")
    return conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad), K, f, M


def conv_forward_naive(x, w, b, stride=1, pad=0):
    H_out, W_out, K, f, M = _sizes(x, w, stride, pad)
    xp = zero_pad(x, pad)
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            for n in range(M):
                for k in range(K):
                    total = 0.0
                    for c in range(x.shape[2]):
                        for u in range(f):
                            for v in range(f):
                                total += xp[i * stride + u, j * stride + v, c, n] * w[k, u, v, c]
                    out[i, j, k, n] = total + b[k]
    return out


def conv_single_step(x_slice, w, b):
    K = w.shape[0]
    if w.shape[1:] != x_slice.shape:
        raise ValueError(f"the window {x_slice.shape} is not the shape of one filter of w {w.shape}")
    out = np.zeros(K, dtype=x_slice.dtype)
    for k in range(K):
        out[k] = np.sum(np.multiply(x_slice, w[k])) + b[k]
    return out


def conv_forward_partial(x, w, b, stride=1, pad=0):
    H_out, W_out, K, f, M = _sizes(x, w, stride, pad)
    xp = zero_pad(x, pad)
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            for n in range(M):
                window = xp[i * stride:i * stride + f, j * stride:j * stride + f, :, n]
                out[i, j, :, n] = conv_single_step(window, w, b)
    return out


def im2col(x, f, stride=1, pad=0):
    H, W, C, M = x.shape
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    xp = zero_pad(x, pad)
    cols = np.empty((f, f, C, H_out, W_out, M), dtype=x.dtype)
    for u in range(f):
        for v in range(f):
            block = xp[u:u + stride * H_out:stride, v:v + stride * W_out:stride]   # (H_out, W_out, C, M)
            cols[u, v] = block.transpose(2, 0, 1, 3)
    return cols.reshape(f * f * C, H_out * W_out * M)


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    H_out, W_out, K, f, M = _sizes(x, w, stride, pad)
    out = np.dot(w.reshape(K, -1), im2col(x, f, stride, pad))
    out = out.reshape(K, H_out, W_out, M).transpose(1, 2, 0, 3) + b.reshape(1, 1, K, 1)
    return out.astype(x.dtype)


def conv_backward_naive(dout, x, w, stride=1, pad=0):
    H_out, W_out, K, f, M = _sizes(x, w, stride, pad)
    H, W = x.shape[:2]
    xp = zero_pad(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w, dtype=x.dtype)
    db = np.zeros(K, dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            for k in range(K):
                for n in range(M):
                    g = dout[i, j, k, n]
                    rows, cols = slice(i * stride, i * stride + f), slice(j * stride, j * stride + f)
                    dxp[rows, cols, :, n] += g * w[k]
                    dw[k] += g * xp[rows, cols, :, n]
                    db[k] += g
    return dxp[pad:pad + H, pad:pad + W], dw, db


def col2im(X_col, x_shape, f, stride=1, pad=0):
    H, W, C, M = x_shape
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    # the padded-input pixel (row, col, channel) each entry of X_col came from, as in CS231n's
    # col2im_indices; the sample axis rides along as a block
    u, v, c = np.unravel_index(np.arange(f * f * C), (f, f, C))
    i, j = np.unravel_index(np.arange(H_out * W_out), (H_out, W_out))
    rows = u[:, None] + stride * i[None, :]
    cols = v[:, None] + stride * j[None, :]
    xp = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    np.add.at(xp, (rows, cols, c[:, None]), X_col.reshape(f * f * C, H_out * W_out, M))
    return xp[pad:pad + H, pad:pad + W]


def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    H_out, W_out, K, f, M = _sizes(x, w, stride, pad)
    X_col = im2col(x, f, stride, pad)
    d = dout.transpose(2, 0, 1, 3).reshape(K, -1)
    dw = np.dot(d, X_col.T).reshape(w.shape).astype(x.dtype)
    db = d.sum(axis=1).astype(x.dtype)
    dx = col2im(np.dot(w.reshape(K, -1).T, d), x.shape, f, stride, pad)
    return dx.astype(x.dtype), dw, db


def conv_forward_fft(x, w, b, stride=1, pad=0):
    H_out, W_out, K, f, M = _sizes(x, w, stride, pad)
    xp = zero_pad(x, pad)
    Hp, Wp = xp.shape[:2]
    X = np.fft.fft2(xp, axes=(0, 1))                                    # (Hp, Wp, C, M)
    out = np.empty((H_out, W_out, K, M), dtype=x.dtype)
    for k in range(K):
        Wk = np.fft.fft2(w[k, ::-1, ::-1, :], s=(Hp, Wp), axes=(0, 1))   # (Hp, Wp, C)
        full = np.fft.ifft2((X * Wk[:, :, :, None]).sum(axis=2), axes=(0, 1)).real
        out[:, :, k, :] = full[f - 1::stride, f - 1::stride][:H_out, :W_out] + b[k]
    return out


# --------------------------------------------------------------------------- a6_cnn
def max_pool_forward(x, pool=2, stride=2):
    H_out, W_out = conv_output_size(x.shape[0], pool, stride), conv_output_size(x.shape[1], pool, stride)
    out = np.empty((H_out, W_out) + x.shape[2:], dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[i, j] = x[i * stride:i * stride + pool, j * stride:j * stride + pool].max(axis=(0, 1))
    return out


def max_pool_backward(dout, x, pool=2, stride=2):
    H_out, W_out = conv_output_size(x.shape[0], pool, stride), conv_output_size(x.shape[1], pool, stride)
    if dout.shape != (H_out, W_out) + x.shape[2:]:
        raise ValueError(f"dout {dout.shape} does not match the pooled output")
    C, M = x.shape[2:]
    c, n = np.meshgrid(np.arange(C), np.arange(M), indexing="ij")
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + pool, j * stride:j * stride + pool]
            first = window.reshape(pool * pool, C, M).argmax(axis=0)      # first maximum
            np.add.at(dx, (i * stride + first // pool, j * stride + first % pool, c, n), dout[i, j])
    return dx


def _network(x, w1, b1, pad, pool):
    a = conv_forward_im2col(x, w1, b1, 1, pad)
    return a, max_pool_forward(np.maximum(a, 0), pool, pool)


def cnn_forward(x, w1, b1, w2, b2, pad=0, pool=2):
    _, p = _network(x, w1, b1, pad, pool)
    if w2.shape[1:] != p.shape[:3]:
        raise ValueError(f"w2 {w2.shape} does not match the pooled maps {p.shape}")
    return np.tensordot(w2, p, axes=3) + b2[:, None].astype(x.dtype)


def cnn_backward(dscores, x, w1, b1, w2, pad=0, pool=2):
    if dscores.shape != (w2.shape[0], x.shape[3]):
        raise ValueError(f"dscores {dscores.shape} is not (classes, M)")
    a, p = _network(x, w1, b1, pad, pool)
    dw2 = np.tensordot(dscores, p, axes=([1], [3])).astype(x.dtype)
    dp = np.tensordot(w2, dscores, axes=([0], [0]))
    dr = max_pool_backward(dp, np.maximum(a, 0), pool, pool)
    _, dw1, db1 = conv_backward_im2col(dr * (a > 0), x, w1, 1, pad)
    return dw1, db1, dw2, dscores.sum(axis=1).astype(x.dtype)
