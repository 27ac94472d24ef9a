"""Right answers of every timed function in the styles students write (docs/CONTRACT.md): the
honest vectorized ones (offset loops over the f*f window offsets, np.add.at, sliding_window_view
with einsum/tensordot, einsum, stride tricks) and the ones that loop over windows (output
positions), pixels or samples (the batch axis M). tests/test_timing_thresholds.py times each
against the reference on the graders' timed case: every vectorized style must stay at or under
half its threshold, every loop at least twice over it.

STYLES[function] is a list of (style, "vectorized" | "loop", the function).
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from student_answers import correct_loops, correct_vectorized, slow_loops


def _out_size(x_shape, f, stride, pad):
    return ((x_shape[0] + 2 * pad - f) // stride + 1, (x_shape[1] + 2 * pad - f) // stride + 1)


def _check(x, w):
    if x.shape[2] != w.shape[3]:
        raise ValueError(f"channel mismatch: x {x.shape}, w {w.shape}")


# --------------------------------------------------------------------------- conv_forward_partial
def partial_channels_only(x, w, b, stride=1, pad=0):
    """Loops over every window and every pixel (u, v) of it; only the channels are vectorized."""
    _check(x, w)
    K, f = w.shape[:2]
    H_out, W_out = _out_size(x.shape, f, stride, pad)
    xp = correct_loops.zero_pad(x, pad)
    out = np.zeros((H_out, W_out, K, x.shape[3]), dtype=x.dtype)
    for n in range(x.shape[3]):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    acc = b[k]
                    for u in range(f):
                        for v in range(f):
                            acc += xp[i * stride + u, j * stride + v, :, n] @ w[k, u, v]
                    out[i, j, k, n] = acc
    return out


# --------------------------------------------------------------------------- im2col
def _im2col_strided(x, f, stride, pad):
    """X_col through one as_strided view (u, v, c, i, j, n) and one copy."""
    xp = correct_loops.zero_pad(x, pad)
    H_out, W_out = _out_size(x.shape, f, stride, pad)
    sH, sW, sC, sM = xp.strides
    view = as_strided(xp, (f, f, xp.shape[2], H_out, W_out, xp.shape[3]),
                      (sH, sW, sC, stride * sH, stride * sW, sM), writeable=False)
    return view.reshape(f * f * xp.shape[2], -1)


def forward_strided(x, w, b, stride=1, pad=0):
    """Stride tricks: X_col from an as_strided view, then one matrix product."""
    _check(x, w)
    K, f = w.shape[:2]
    H_out, W_out = _out_size(x.shape, f, stride, pad)
    out = (w.reshape(K, -1) @ _im2col_strided(x, f, stride, pad)).reshape(K, H_out, W_out, -1)
    return out.transpose(1, 2, 0, 3) + b[:, None]


def _im2col_by_window(x, f, stride, pad):
    """X_col filled one window (output position) at a time, all channels and samples at once."""
    H, W, C, M = x.shape
    H_out, W_out = _out_size(x.shape, f, stride, pad)
    xp = correct_loops.zero_pad(x, pad)
    cols = np.empty((f * f * C, H_out, W_out, M), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            cols[:, i, j] = xp[i * stride:i * stride + f, j * stride:j * stride + f].reshape(-1, M)
    return cols.reshape(f * f * C, -1)


def forward_by_window(x, w, b, stride=1, pad=0):
    _check(x, w)
    K, f = w.shape[:2]
    H_out, W_out = _out_size(x.shape, f, stride, pad)
    out = (w.reshape(K, -1) @ _im2col_by_window(x, f, stride, pad)).reshape(K, H_out, W_out, -1)
    return out.transpose(1, 2, 0, 3) + b[:, None]


def forward_by_sample(x, w, b, stride=1, pad=0):
    """The offset-loop layer applied to one sample at a time."""
    return np.concatenate([correct_loops.conv_forward_im2col(x[..., n:n + 1], w, b, stride, pad)
                           for n in range(x.shape[3])], axis=3)


# --------------------------------------------------------------------------- col2im
def col2im_offsets(X_col, x_shape, f, stride=1, pad=0):
    """One strided += per window offset (u, v)."""
    H, W, C, M = x_shape
    H_out, W_out = _out_size(x_shape, f, stride, pad)
    cols = X_col.reshape(f, f, C, H_out, W_out, M)
    xp = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    for u in range(f):
        for v in range(f):
            xp[u:u + stride * H_out:stride, v:v + stride * W_out:stride] += \
                cols[u, v].transpose(1, 2, 0, 3)
    return xp[pad:pad + H, pad:pad + W].copy()


def col2im_window_view(X_col, x_shape, f, stride=1, pad=0):
    """Offset loop writing through a writeable sliding_window_view of the padded result."""
    H, W, C, M = x_shape
    H_out, W_out = _out_size(x_shape, f, stride, pad)
    cols = X_col.reshape(f, f, C, H_out, W_out, M)
    xp = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    view = sliding_window_view(xp, (f, f), axis=(0, 1), writeable=True)[::stride, ::stride]
    for u in range(f):
        for v in range(f):
            view[:H_out, :W_out, :, :, u, v] += cols[u, v].transpose(1, 2, 0, 3)
    return xp[pad:pad + H, pad:pad + W].copy()


def col2im_by_window(X_col, x_shape, f, stride=1, pad=0):
    """One += per window (output position), all channels and samples at once."""
    H, W, C, M = x_shape
    H_out, W_out = _out_size(x_shape, f, stride, pad)
    cols = X_col.reshape(f, f, C, H_out, W_out, M)
    xp = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    for i in range(H_out):
        for j in range(W_out):
            xp[i * stride:i * stride + f, j * stride:j * stride + f] += cols[:, :, :, i, j]
    return xp[pad:pad + H, pad:pad + W].copy()


def col2im_by_window_lean(X_col, x_shape, f, stride=1, pad=0):
    """The leanest loop over windows: one += of a contiguous slice of X_col per window."""
    H, W, C, M = x_shape
    H_out, W_out = _out_size(x_shape, f, stride, pad)
    xp = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
    for i in range(H_out):
        for j in range(W_out):
            q = (i * W_out + j) * M
            xp[i * stride:i * stride + f, j * stride:j * stride + f] += \
                X_col[:, q:q + M].reshape(f, f, C, M)
    return xp[pad:pad + H, pad:pad + W].copy()


def col2im_by_sample(X_col, x_shape, f, stride=1, pad=0):
    """The offset loop applied to one sample at a time."""
    H, W, C, M = x_shape
    cols = X_col.reshape(-1, X_col.shape[1] // M, M)
    return np.stack([col2im_offsets(np.ascontiguousarray(cols[:, :, n]), (H, W, C, 1), f,
                                    stride, pad)[..., 0] for n in range(M)], axis=3)


# --------------------------------------------------------------------------- conv_backward_im2col
def _backward_with(col2im, im2col=correct_loops.im2col):
    """conv_backward_im2col built from the given im2col and col2im."""
    def conv_backward_im2col(dout, x, w, stride=1, pad=0):
        _check(x, w)
        K, f = w.shape[:2]
        d = dout.transpose(2, 0, 1, 3).reshape(K, -1)
        dw = (d @ im2col(x, f, stride, pad).T).reshape(w.shape)
        dx = col2im(w.reshape(K, -1).T @ d, x.shape, f, stride, pad)
        return dx, dw, d.sum(axis=1)
    return conv_backward_im2col


def backward_einsum(dout, x, w, stride=1, pad=0):
    """dw by einsum over a sliding_window_view, dx by einsum then an offset-loop col2im."""
    _check(x, w)
    K, f = w.shape[:2]
    win = sliding_window_view(correct_loops.zero_pad(x, pad), (f, f), axis=(0, 1))[::stride, ::stride]
    H_out, W_out = dout.shape[:2]
    dw = np.einsum("ijkn,ijcnuv->kuvc", dout, win[:H_out, :W_out], optimize=True)
    d_cols = np.einsum("kuvc,ijkn->uvcijn", w, dout, optimize=True)
    dx = col2im_offsets(d_cols.reshape(f * f * x.shape[2], -1), x.shape, f, stride, pad)
    return dx, dw, dout.sum(axis=(0, 1, 3))


def backward_by_sample(dout, x, w, stride=1, pad=0):
    """The vectorized backward pass applied to one sample at a time."""
    grads = [correct_loops.conv_backward_im2col(dout[..., n:n + 1], x[..., n:n + 1], w, stride, pad)
             for n in range(x.shape[3])]
    return (np.concatenate([g[0] for g in grads], axis=3), sum(g[1] for g in grads),
            sum(g[2] for g in grads))


# --------------------------------------------------------------------------- conv_forward_fft
def fft_by_sample(x, w, b, stride=1, pad=0):
    """The batched real FFT applied to one sample at a time."""
    return np.concatenate([correct_vectorized.conv_forward_fft(x[..., n:n + 1], w, b, stride, pad)
                           for n in range(x.shape[3])], axis=3)


def forward_window_tensordot(x, w, b, stride=1, pad=0):
    """No FFT at all: one tensordot per window (output position)."""
    return correct_vectorized.conv_forward_partial(x, w, b, stride, pad)


STYLES = {
    "conv_forward_partial": [
        ("window loop, np.sum per window and filter", "vectorized", correct_loops.conv_forward_partial),
        ("window loop, tensordot over filters", "vectorized", correct_vectorized.conv_forward_partial),
        ("einsum over sliding_window_view", "vectorized", correct_vectorized.conv_forward_naive),
        ("loops over pixels of each window", "loop", partial_channels_only),
        ("seven loops over every pixel", "loop", slow_loops.conv_forward_partial),
    ],
    "conv_forward_im2col": [
        ("offset loops, matmul", "vectorized", correct_loops.conv_forward_im2col),
        ("sliding_window_view, tensordot", "vectorized", correct_vectorized.conv_forward_im2col),
        ("einsum over sliding_window_view", "vectorized", correct_vectorized.conv_forward_naive),
        ("stride tricks (as_strided), matmul", "vectorized", forward_strided),
        ("loop over windows", "loop", forward_by_window),
        ("loop over samples", "loop", forward_by_sample),
        ("loops over pixels", "loop", slow_loops.conv_forward_im2col),
    ],
    "col2im": [
        ("offset loops", "vectorized", col2im_offsets),
        ("np.add.at", "vectorized", correct_loops.col2im),
        ("offset loops through sliding_window_view", "vectorized", col2im_window_view),
        ("loop over windows", "loop", col2im_by_window),
        ("loop over windows, contiguous columns", "loop", col2im_by_window_lean),
        ("loop over samples", "loop", col2im_by_sample),
        ("loops over pixels", "loop", slow_loops.col2im),
    ],
    "conv_backward_im2col": [
        ("matmul, offset-loop col2im", "vectorized", _backward_with(col2im_offsets)),
        ("matmul, np.add.at col2im", "vectorized", correct_loops.conv_backward_im2col),
        ("einsum over sliding_window_view", "vectorized", backward_einsum),
        ("stride tricks, offset-loop col2im", "vectorized",
         _backward_with(col2im_offsets, _im2col_strided)),
        ("col2im looping over windows", "loop", _backward_with(col2im_by_window)),
        ("col2im looping over windows, contiguous", "loop", _backward_with(col2im_by_window_lean)),
        ("loop over samples", "loop", backward_by_sample),
        ("loops over pixels", "loop", slow_loops.conv_backward_im2col),
    ],
    "conv_forward_fft": [
        ("batched rfft2, einsum", "vectorized", correct_vectorized.conv_forward_fft),
        ("fft2 per filter, all samples", "vectorized", correct_loops.conv_forward_fft),
        ("loop over samples", "loop", fft_by_sample),
        ("loop over windows, no FFT", "loop", forward_window_tensordot),
        ("loops over pixels, no FFT", "loop", slow_loops.conv_forward_fft),
    ],
}
