"""Right answers in a vectorized style: sliding_window_view and einsum/tensordot, col2im by one
+= per window offset through a writeable window view, a batched real FFT."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_output_size(n, f, stride=1, pad=0):
    if n + 2 * pad < f:
        raise ValueError(f"no window: n + 2*pad = {n + 2 * pad} < f = {f}")
    return (n + 2 * pad - f) // stride + 1


def zero_pad(x, pad):
    return np.pad(x, [(pad, pad), (pad, pad), (0, 0), (0, 0)])


def _check(x, w):
    if x.shape[2] != w.shape[3]:
        raise ValueError(f"channel mismatch: x {x.shape}, w {w.shape}")


def _windows(x, f, stride, pad):
    """(H_out, W_out, C, M, f, f) view of the padded input's windows."""
    conv_output_size(x.shape[0], f, stride, pad)
    conv_output_size(x.shape[1], f, stride, pad)
    return sliding_window_view(zero_pad(x, pad), (f, f), axis=(0, 1))[::stride, ::stride]


def conv_forward_naive(x, w, b, stride=1, pad=0):
    _check(x, w)
    out = np.einsum("ijcnuv,kuvc->ijkn", _windows(x, w.shape[1], stride, pad), w)
    return (out + b[:, None]).astype(x.dtype)


def conv_single_step(x_slice, w, b):
    return np.tensordot(w, x_slice, axes=3) + b         # (K, f, f, C) . (f, f, C) -> (K,)


def conv_forward_partial(x, w, b, stride=1, pad=0):
    _check(x, w)
    win = _windows(x, w.shape[1], stride, pad)
    H_out, W_out, _, M = win.shape[:4]
    out = np.empty((H_out, W_out, w.shape[0], M), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[i, j] = np.tensordot(w, win[i, j], axes=([3, 1, 2], [0, 2, 3])) + b[:, None]
    return out


def im2col(x, f, stride=1, pad=0):
    win = _windows(x, f, stride, pad)                     # (H_out, W_out, C, M, u, v)
    return win.transpose(4, 5, 2, 0, 1, 3).reshape(f * f * x.shape[2], -1)


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    _check(x, w)
    K, f = w.shape[:2]
    H_out, W_out = (conv_output_size(n, f, stride, pad) for n in x.shape[:2])
    out_mat = np.tensordot(w.reshape(K, -1), im2col(x, f, stride, pad), axes=1)
    return (out_mat.reshape(K, H_out, W_out, -1).transpose(1, 2, 0, 3) + b[:, None]).astype(x.dtype)


def conv_backward_naive(dout, x, w, stride=1, pad=0):
    _check(x, w)
    f = w.shape[1]
    win = _windows(x, f, stride, pad)
    dw = np.einsum("ijkn,ijcnuv->kuvc", dout, win)
    db = np.einsum("ijkn->k", dout)
    contrib = np.einsum("ijkn,kuvc->uvcijn", dout, w)
    dx = col2im(contrib.reshape(f * f * x.shape[2], -1), x.shape, f, stride, pad)
    return dx.astype(x.dtype), dw.astype(x.dtype), db.astype(x.dtype)


def col2im(X_col, x_shape, f, stride=1, pad=0):
    H, W, C, M = x_shape
    H_out, W_out = conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad)
    cols = X_col.reshape(f, f, C, H_out, W_out, M)
    xp = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    windows = sliding_window_view(xp, (f, f), axis=(0, 1), writeable=True)[::stride, ::stride]
    for u in range(f):          # one += per window offset, through a writeable window view
        for v in range(f):
            windows[:H_out, :W_out, :, :, u, v] += cols[u, v].transpose(1, 2, 0, 3)
    return xp[pad:H + pad, pad:W + pad]


def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    _check(x, w)
    K, f = w.shape[:2]
    d = np.einsum("ijkn->kijn", dout).reshape(K, -1)
    dw = (d @ im2col(x, f, stride, pad).T).reshape(w.shape)
    dx = col2im(w.reshape(K, -1).T @ d, x.shape, f, stride, pad)
    return dx.astype(x.dtype), dw.astype(x.dtype), d.sum(axis=1).astype(x.dtype)


def conv_forward_fft(x, w, b, stride=1, pad=0):
    _check(x, w)
    K, f = w.shape[:2]
    H_out, W_out = (conv_output_size(n, f, stride, pad) for n in x.shape[:2])
    xp = zero_pad(x, pad)
    size = xp.shape[:2]
    X = np.fft.rfft2(xp, axes=(0, 1))
    F = np.fft.rfft2(np.flip(w, axis=(1, 2)), s=size, axes=(1, 2))
    full = np.fft.irfft2(np.einsum("abcn,kabc->abkn", X, F), s=size, axes=(0, 1))
    out = full[f - 1:, f - 1:][::stride, ::stride][:H_out, :W_out]
    return (out + b[:, None]).astype(x.dtype)


# --------------------------------------------------------------------------- a6_cnn
def _pool_windows(x, pool, stride):
    """(H_out, W_out, C, M, pool*pool) view of the pooling windows, rows of each window first."""
    conv_output_size(x.shape[0], pool, stride)
    conv_output_size(x.shape[1], pool, stride)
    w = sliding_window_view(x, (pool, pool), axis=(0, 1))[::stride, ::stride]
    return w.reshape(w.shape[:4] + (pool * pool,))


def max_pool_forward(x, pool=2, stride=2):
    return _pool_windows(x, pool, stride).max(axis=-1)


def max_pool_backward(dout, x, pool=2, stride=2):
    windows = _pool_windows(x, pool, stride)
    if dout.shape != windows.shape[:4]:
        raise ValueError(f"dout {dout.shape} does not match the pooled output {windows.shape[:4]}")
    first = windows.argmax(axis=-1)
    i, j, c, n = np.indices(first.shape)
    dx = np.zeros_like(x)
    np.add.at(dx, (i * stride + first // pool, j * stride + first % pool, c, n), dout)
    return dx


def cnn_forward(x, w1, b1, w2, b2, pad=0, pool=2):
    p = max_pool_forward(np.maximum(conv_forward_im2col(x, w1, b1, 1, pad), 0), pool, pool)
    if w2.shape[1:] != p.shape[:3]:
        raise ValueError(f"w2 {w2.shape} does not match the pooled maps {p.shape}")
    return (np.einsum("kijc,ijcn->kn", w2, p) + b2[:, None]).astype(x.dtype)


def cnn_backward(dscores, x, w1, b1, w2, pad=0, pool=2):
    if dscores.shape != (w2.shape[0], x.shape[3]):
        raise ValueError(f"dscores {dscores.shape} is not (classes, M)")
    a = conv_forward_im2col(x, w1, b1, 1, pad)
    r = np.maximum(a, 0)
    p = max_pool_forward(r, pool, pool)
    dr = max_pool_backward(np.einsum("kijc,kn->ijcn", w2, dscores), r, pool, pool)
    _, dw1, db1 = conv_backward_im2col(np.where(a > 0, dr, 0).astype(x.dtype), x, w1, 1, pad)
    return (dw1, db1, np.einsum("kn,ijcn->kijc", dscores, p).astype(x.dtype),
            dscores.sum(axis=1).astype(x.dtype))
