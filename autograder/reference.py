"""Reference implementations of every function in the course contract (docs/CONTRACT.md).

Layout, as in the lecture:

    x    : (H, W, C, M)          input; the batch is the LAST axis
    w    : (K, f, f, C)          K square filters
    b    : (K,)                  one bias per filter
    out  : (H_out, W_out, K, M)  H_out = (H + 2*pad - f) // stride + 1, likewise W_out
    dout : same shape as out

The layer computes cross-correlation:

    out[i, j, k, n] = b[k] + sum_{u, v, c} x_pad[i*s + u, j*s + v, c, n] * w[k, u, v, c]

The naive and partial tiers keep the lecture's loop structure on purpose: they are the graders'
baselines for the timing thresholds. The im2col tier, col2im and the FFT tier are vectorized.
No function modifies its inputs; returned arrays have the dtype of `x`.
"""
import numbers

import numpy as np

__all__ = [
    "conv_output_size", "zero_pad", "conv_forward_naive", "conv_single_step",
    "conv_forward_partial", "im2col", "conv_forward_im2col", "conv_backward_naive",
    "col2im", "conv_backward_im2col", "conv_forward_fft",
]


# --------------------------------------------------------------------------- validation
def _check_int(name, value, minimum):
    """Return `value` as an int, or raise ValueError if it is not an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_fits(H, W, f, pad):
    """Raise ValueError unless an f x f window fits in the padded (H+2p) x (W+2p) plane."""
    if f > H + 2 * pad or f > W + 2 * pad:
        raise ValueError(
            f"filter size f={f} does not fit the padded input: H + 2*pad = {H + 2 * pad}, "
            f"W + 2*pad = {W + 2 * pad} (H={H}, W={W}, pad={pad}); no output position exists")


def _check_x(x, name="x"):
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        shape = getattr(x, "shape", None)
        raise ValueError(f"{name} must be a 4-D array (H, W, C, M), got shape {shape}")


def _check_layer(x, w, b, stride, pad):
    """Validate a layer's arguments and return (H, W, C, M, K, f, s, p, H_out, W_out)."""
    _check_x(x)
    if not isinstance(w, np.ndarray) or w.ndim != 4:
        raise ValueError(f"w must be a 4-D array (K, f, f, C), got shape {getattr(w, 'shape', None)}")
    K, f, f2, Cw = w.shape
    H, W, C, M = x.shape
    if f != f2:
        raise ValueError(f"filters must be square: w has shape {w.shape} (f x f = {f} x {f2})")
    if Cw != C:
        raise ValueError(f"channel mismatch: x has C={C} channels (shape {x.shape}) "
                         f"but w expects C={Cw} (shape {w.shape})")
    if b is not None and np.shape(b) != (K,):
        raise ValueError(f"b must have shape (K,) = ({K},), got {np.shape(b)}")
    s = _check_int("stride", stride, 1)
    p = _check_int("pad", pad, 0)
    _check_fits(H, W, f, p)
    return H, W, C, M, K, f, s, p, (H + 2 * p - f) // s + 1, (W + 2 * p - f) // s + 1


# --------------------------------------------------------------------------- a1_naive
def conv_output_size(n, f, stride=1, pad=0):
    """Number of window positions along one spatial axis.

    Inputs:
    - n: input size along the axis (H or W), int >= 1
    - f: filter size, int >= 1
    - stride, pad: ints, stride >= 1, pad >= 0

    Returns floor((n + 2*pad - f) / stride) + 1 (windows that would run past the padded edge are
    dropped). Raises ValueError when no window fits (f > n + 2*pad).
    """
    n = _check_int("n", n, 1)
    f = _check_int("f", f, 1)
    s = _check_int("stride", stride, 1)
    p = _check_int("pad", pad, 0)
    if f > n + 2 * p:
        raise ValueError(f"filter size f={f} does not fit: n + 2*pad = {n + 2 * p} "
                         f"(n={n}, pad={p}); no output position exists")
    return (n + 2 * p - f) // s + 1


def zero_pad(x, pad):
    """Pad the two spatial axes of x with `pad` zeros on each side.

    Inputs:
    - x: (H, W, C, M)
    - pad: int >= 0

    Returns a new array of shape (H + 2*pad, W + 2*pad, C, M); channels and samples untouched.
    """
    _check_x(x)
    p = _check_int("pad", pad, 0)
    return np.pad(x, ((p, p), (p, p), (0, 0), (0, 0)), mode="constant")


def conv_forward_naive(x, w, b, stride=1, pad=0):
    """The lecture's seven loops: sample, filter, i, j, then the window's u, v, c.

    Inputs: x (H, W, C, M), w (K, f, f, C), b (K,), stride, pad.
    Returns out: (H_out, W_out, K, M).
    """
    H, W, C, M, K, f, s, p, H_out, W_out = _check_layer(x, w, b, stride, pad)
    xp = zero_pad(x, p)
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    acc = b[k]
                    for u in range(f):
                        for v in range(f):
                            for c in range(C):
                                acc += xp[i * s + u, j * s + v, c, n] * w[k, u, v, c]
                    out[i, j, k, n] = acc
    return out


# --------------------------------------------------------------------------- a2_partial
def conv_single_step(x_slice, w, b):
    """One window times every filter: the K outputs of one position, as one matrix-vector product.

    Inputs:
    - x_slice: (f, f, C) window of the padded input
    - w: (K, f, f, C) filters
    - b: (K,) biases

    Returns out: (K,), out[k] = sum(x_slice * w[k]) + b[k], in x_slice's dtype for float inputs
    of one dtype. Row k of w.reshape(K, f*f*C) is filter k in (u, v, c) order, the order of
    x_slice.reshape(f*f*C).
    """
    if np.ndim(w) != 4 or np.shape(w)[1:] != np.shape(x_slice):
        raise ValueError(f"x_slice {np.shape(x_slice)} must have the shape of one filter of w "
                         f"{np.shape(w)}: w is (K, f, f, C) and x_slice (f, f, C)")
    K = w.shape[0]
    if np.shape(b) != (K,):
        raise ValueError(f"b must have shape (K,) = ({K},), got {np.shape(b)}")
    return _filters_times_window(w.reshape(K, -1), x_slice, b)


def _filters_times_window(filters, x_slice, b):
    """filters (K, f*f*C) @ x_slice (f, f, C) flattened in (u, v, c) order, plus b: (K,)."""
    return filters @ x_slice.reshape(-1) + b


def conv_forward_partial(x, w, b, stride=1, pad=0):
    """Three loops (sample, i, j); conv_single_step's product gives every filter's output of a
    window (the arguments checked once for the whole layer, not once per window).

    Inputs: x (H, W, C, M), w (K, f, f, C), b (K,), stride, pad.
    Returns out: (H_out, W_out, K, M).
    """
    H, W, C, M, K, f, s, p, H_out, W_out = _check_layer(x, w, b, stride, pad)
    xp = zero_pad(x, p)
    filters = w.reshape(K, -1)          # once: _check_layer has validated what the step checks
    out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
    for n in range(M):
        for i in range(H_out):
            for j in range(W_out):
                window = xp[i * s:i * s + f, j * s:j * s + f, :, n]
                out[i, j, :, n] = _filters_times_window(filters, window, b)
    return out


# --------------------------------------------------------------------------- a3_im2col
# The im2col tier multiplies one band of output rows at a time: the band's slice of X_col
# (at most about this many bytes) stays in the core's L2 cache (1 MiB on the course machine)
# between being built and being multiplied. The products are exactly those of the whole X_col.
# Measured on the bench's layers (autograder.bench), bands of 1 and 2 MiB are within noise of
# each other; 4-8 MiB bands, close to no banding, cost the backward up to 30 % (mid layer,
# float32: 24.6 -> 31.4 ms; AlexNet conv1: 11.7 -> 15.0 ms).
BAND_BYTES = 1 << 20


def _windows(xp, f, stride, H_out, W_out):
    """A read-only view of every window of the padded input xp (H+2p, W+2p, C, M):
    windows[u, v, c, i, j, n] = xp[i*stride + u, j*stride + v, c, n], shape (f, f, C, H_out, W_out, M).
    Reshaped to (f*f*C, H_out*W_out*M) it is X_col; nothing is copied."""
    sH, sW, sC, sM = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, shape=(f, f, xp.shape[2], H_out, W_out, xp.shape[3]),
        strides=(sH, sW, sC, stride * sH, stride * sW, sM), writeable=False)


def _bands(H_out, row_bytes):
    """(first output row, number of rows) of bands whose X_col slice is about BAND_BYTES."""
    rows = max(1, min(H_out, BAND_BYTES // max(row_bytes, 1)))
    return [(i0, min(rows, H_out - i0)) for i0 in range(0, H_out, rows)]


def im2col(x, f, stride=1, pad=0):
    """Stretch every f x f x C window of x into one column.

    Inputs: x (H, W, C, M), f, stride, pad.
    Returns X_col: (f*f*C, H_out*W_out*M) with

        X_col[(u*f + v)*C + c, (i*W_out + j)*M + n] = x_pad[i*stride + u, j*stride + v, c, n]

    so that w.reshape(K, -1) @ X_col is the layer's output matrix. Built from one strided view
    of the padded input and one copy in the order the matrix product wants (always a copy: for
    f = 1, C = 1, stride 1, pad 0 the view is already contiguous and would alias x, read-only).
    """
    _check_x(x)
    H, W, C, M = x.shape
    f = _check_int("f", f, 1)
    s = _check_int("stride", stride, 1)
    p = _check_int("pad", pad, 0)
    _check_fits(H, W, f, p)
    H_out, W_out = (H + 2 * p - f) // s + 1, (W + 2 * p - f) // s + 1
    windows = _windows(zero_pad(x, p) if p else x, f, s, H_out, W_out)
    return np.array(windows, order="C").reshape(f * f * C, H_out * W_out * M)


def _patches(xp, f, stride, H_out, W_out):
    """A read-only view of every window of one padded sample xp (H+2p, W+2p, C), window-major:
    patches[i, j, u, v, c] = xp[i*stride + u, j*stride + v, c], shape (H_out, W_out, f, f, C).
    Reshaped to (H_out*W_out, f*f*C) it is X_col.T of that sample; nothing is copied."""
    sH, sW, sC = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, shape=(H_out, W_out, f, f, xp.shape[2]),
        strides=(stride * sH, stride * sW, sH, sW, sC), writeable=False)


def _aligned_empty(n, dtype):
    """An uninitialised 1-D array of n items whose data starts on a 64-byte boundary (a cache
    line). np.empty promises only 16 bytes, and where a buffer falls depends on what the
    allocator saw before; the BLAS kernels read a misaligned buffer about 30 % slower (CIFAR
    layer, float32: 0.41 against 0.55 ms for its products), which made the layer's time swing
    from run to run."""
    itemsize = np.dtype(dtype).itemsize
    raw = np.empty(n * itemsize + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + n * itemsize].view(dtype)


class _BandColumns:
    """X_col of a padded input xp (H+2p, W+2p, C, M), one band of output rows at a time
    (`bands`, from BAND_BYTES), copied into one reused, cache-line aligned buffer:

        band(i0, rows) -> M > 1: X_col's columns of the band as (F, rows*W_out, M), F = f*f*C
                          M = 1: X_col.T's rows of the band, (rows*W_out, F), each window
                                 copied as f runs of f*C contiguous numbers (_patches)

    With `ones`, each band has one more row (M = 1: column) of ones after its F: a product with
    [w_row | b] then adds the bias too, with no pass of its own over the output.
    """

    def __init__(self, xp, f, stride, H_out, W_out, ones=False):
        C, M = xp.shape[2:]
        self.f, self.C, self.M, self.W_out, self.ones = f, C, M, W_out, int(ones)
        self.view = (_patches(xp[..., 0], f, stride, H_out, W_out) if M == 1 else
                     _windows(xp, f, stride, H_out, W_out))
        rows = f * f * C + self.ones
        self.bands = _bands(H_out, rows * W_out * M * xp.itemsize)
        self.buffer = _aligned_empty(rows * self.bands[0][1] * W_out * M, xp.dtype)

    def band(self, i0, rows):
        f, C, M, n = self.f, self.C, self.M, rows * self.W_out
        F = f * f * C
        X = self.buffer[:(F + self.ones) * n * M]
        if M == 1:
            X = X.reshape(n, F + self.ones)
            np.copyto(X[:, :F].reshape(rows, self.W_out, f, f, C), self.view[i0:i0 + rows])
            X[:, F:] = 1
            return X
        X = X.reshape(F + self.ones, n, M)
        np.copyto(X[:F].reshape(f, f, C, rows, self.W_out, M), self.view[:, :, :, i0:i0 + rows])
        X[F:] = 1
        return X


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    """The layer as a matrix product: (K, f*f*C) @ X_col (f*f*C, H_out*W_out*M).

    Inputs: x (H, W, C, M), w (K, f, f, C), b (K,), stride, pad.
    Returns out: (H_out, W_out, K, M).

    The same products as w.reshape(K, -1) @ im2col(x, f, stride, pad), taken one band of output
    rows at a time (BAND_BYTES) while the band's columns are still in cache, and written in
    out's own layout, so nothing is transposed afterwards: for each output pixel (i, j),
    out[i, j] (K, M) = w_row (K, F) @ its columns (F, M), one batched product over the band's
    pixels; with one sample (M = 1), the band's X_col.T (pixels, F) @ w_row.T. The bias rides in
    the product as one more column of w_row against a row of ones (CIFAR batch: 0.93 against
    1.13 ms with a pass of its own).
    """
    H, W, C, M, K, f, s, p, H_out, W_out = _check_layer(x, w, b, stride, pad)
    F = f * f * C
    columns = _BandColumns(zero_pad(x, p) if p else x, f, s, H_out, W_out, ones=True)
    w_bias = np.empty((K, F + 1), dtype=x.dtype)                     # [w_row | b]
    w_bias[:, :F], w_bias[:, F] = w.reshape(K, F), b
    out = np.empty((H_out, W_out, K, M), dtype=x.dtype)
    for i0, rows in columns.bands:
        X = columns.band(i0, rows)
        out_band = out[i0:i0 + rows].reshape(rows * W_out, K, M)
        if M == 1:
            np.matmul(X, w_bias.T, out=out_band[:, :, 0])
        else:
            np.matmul(w_bias, X.transpose(1, 0, 2), out=out_band)
    return out


# --------------------------------------------------------------------------- a4_backward
def conv_backward_naive(dout, x, w, stride=1, pad=0):
    """Gradients of the layer with loops over (sample, filter, i, j).

    Inputs:
    - dout: (H_out, W_out, K, M) upstream gradient
    - x, w, stride, pad: as in the forward pass

    Returns (dx, dw, db) with the shapes of x (H, W, C, M), w (K, f, f, C) and b (K,).
    """
    H, W, C, M, K, f, s, p, H_out, W_out = _check_layer(x, w, None, stride, pad)
    _check_dout(dout, (H_out, W_out, K, M))
    xp = zero_pad(x, p)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape, dtype=x.dtype)
    for n in range(M):
        for k in range(K):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[i, j, k, n]
                    dxp[i * s:i * s + f, j * s:j * s + f, :, n] += w[k] * g
                    dw[k] += xp[i * s:i * s + f, j * s:j * s + f, :, n] * g
    db = dout.sum(axis=(0, 1, 3)).astype(x.dtype, copy=False)
    return dxp[p:p + H, p:p + W].copy(), dw, db


def col2im(X_col, x_shape, f, stride=1, pad=0):
    """The adjoint of im2col: scatter every column back to its window, summing overlaps.

    Inputs:
    - X_col: (f*f*C, H_out*W_out*M), e.g. the gradient with respect to im2col's output
    - x_shape: (H, W, C, M), the shape of the UNPADDED input
    - f, stride, pad: as given to im2col

    Returns an array of shape x_shape: the contributions of all windows covering each pixel,
    summed, with the padding border dropped. <im2col(x), Y> == <x, col2im(Y)> for all x, Y.
    """
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (H, W, C, M), got {x_shape}")
    H, W, C, M = (_check_int(n, v, 1) for n, v in zip("HWCM", x_shape))
    f = _check_int("f", f, 1)
    s = _check_int("stride", stride, 1)
    p = _check_int("pad", pad, 0)
    _check_fits(H, W, f, p)
    H_out, W_out = (H + 2 * p - f) // s + 1, (W + 2 * p - f) // s + 1
    expected = (f * f * C, H_out * W_out * M)
    if np.shape(X_col) != expected:
        raise ValueError(f"X_col must have shape (f*f*C, H_out*W_out*M) = {expected} for "
                         f"x_shape={tuple(x_shape)}, f={f}, stride={s}, pad={p}; got {np.shape(X_col)}")
    cols = X_col.reshape(f, f, C, H_out, W_out, M)
    xp = np.zeros((H + 2 * p, W + 2 * p, C, M), dtype=X_col.dtype)
    for u in range(f):          # accumulate one window offset at a time: no repeated indices
        for v in range(f):
            xp[u:u + s * H_out:s, v:v + s * W_out:s] += cols[u, v].transpose(1, 2, 0, 3)
    return xp[p:p + H, p:p + W].copy()


def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    """Gradients through im2col: the fully-connected layer's backward plus col2im.

    Inputs: dout (H_out, W_out, K, M), x (H, W, C, M), w (K, f, f, C), stride, pad.
    Returns (dx, dw, db) with the shapes of x, w and (K,).

    With dout_mat = dout as (K, H_out*W_out*M):  dw = dout_mat @ X_col.T,  db = row sums of
    dout_mat,  dX_col = w_row.T @ dout_mat,  dx = col2im(dX_col). As in the forward pass, the
    products are taken one band of output rows at a time (_BandColumns):

    - dw: with no more filters than samples (K <= M), summed from the pixels' own products
      X[:, pixel, :] (F, M) @ dout[i, j].T (M, K), which spares transposing dout (CIFAR
      batch: 3.4 against 3.9 ms); with more, one product per band; with one sample, the band's
      dout_mat.T.T @ X_col.T.
    - dx: dX_col window-major straight from dout's own layout, each pixel's windows' gradient
      (F, M) = w_row.T @ dout[i, j] (K, M) in one batched product (one sample: dout_mat.T @
      w_row), summed into the padded gradient while still in cache (_add_windows). At stride 1
      with several samples, dx is instead the full convolution of dout with the flipped filters
      (_dx_at_stride_one), with no dX_col at all (CIFAR batch: 0.9 against 2.2 ms).
    """
    H, W, C, M, K, f, s, p, H_out, W_out = _check_layer(x, w, None, stride, pad)
    _check_dout(dout, (H_out, W_out, K, M))
    F = f * f * C
    columns = _BandColumns(zero_pad(x, p) if p else x, f, s, H_out, W_out)
    w_row = w.reshape(K, F).astype(x.dtype, copy=False)
    dout = dout.astype(x.dtype, copy=False)
    full_convolution = s == 1 and M > 1
    # room for whole stride-by-stride blocks past the last window (_add_windows); cropped below
    dxp = None if full_convolution else np.zeros((s * H_out + f + s, s * W_out + f + s, C, M),
                                                 dtype=x.dtype)
    dw = np.zeros((K, F), dtype=x.dtype)
    dw_col = np.zeros((F, K), dtype=x.dtype)                         # dw.T, where M > 1
    d_buffer = _aligned_empty(K * columns.bands[0][1] * W_out * M, x.dtype) if K > M > 1 else None
    for i0, rows in columns.bands:
        X = columns.band(i0, rows)
        d = dout[i0:i0 + rows].reshape(rows * W_out, K, M)          # (pixels, K, M)
        if M == 1:
            dw += d[:, :, 0].T @ X
            dX = d[:, :, 0] @ w_row                                   # (pixels, F)
        else:
            if K <= M:
                dw_col += np.matmul(X.transpose(1, 0, 2), d.transpose(0, 2, 1)).sum(axis=0)
            else:
                d_mat = d_buffer[:K * rows * W_out * M].reshape(K, rows * W_out, M)
                np.copyto(d_mat, d.transpose(1, 0, 2))                # dout_mat of the band
                dw_col += X.reshape(F, -1) @ d_mat.reshape(K, -1).T
            dX = None if full_convolution else np.matmul(w_row.T, d)  # (pixels, F, M)
        if dX is not None:
            _add_windows(dxp, dX.reshape(rows, W_out, f, f, C, M), i0 * s, s)
    dx = _dx_at_stride_one(dout, w_row.reshape(w.shape), H, W, p) if full_convolution else \
        dxp[p:p + H, p:p + W].copy()
    return dx, (dw + dw_col.T).reshape(w.shape), dout.sum(axis=(0, 1, 3))


def _dx_at_stride_one(dout, w, H, W, pad):
    """dx (H, W, C, M) of a stride-1 layer as the full convolution of dout with the flipped
    filters: with dout padded by f - 1 (doutp), dx[y, x] = sum over u of
    A_u (C, f*K) @ doutp[y + pad + u, x + pad : x + pad + f] (f*K, M), where
    A_u[c, v*K + k] = w[k, f-1-u, f-1-v, c]. Each (f*K, M) block is contiguous in doutp, so every
    u is one batched product over all pixels, straight from a strided view."""
    K, f, _, C = w.shape
    M = dout.shape[3]
    doutp = zero_pad(dout, f - 1)
    sH, sW, sK, sM = doutp.strides
    flipped = w[:, ::-1, ::-1, :]
    dx, term = (np.empty((H, W, C, M), dtype=dout.dtype) for _ in range(2))
    for u in range(f):
        A = np.ascontiguousarray(flipped[:, u].transpose(2, 1, 0)).reshape(C, f * K)
        blocks = np.lib.stride_tricks.as_strided(doutp[pad + u:, pad:], shape=(H, W, f * K, M),
                                                 strides=(sH, sW, sK, sM), writeable=False)
        np.matmul(A, blocks, out=dx if u == 0 else term)
        if u:
            dx += term
    return dx


def _add_windows(dxp, dX, top, stride):
    """col2im of one band: dxp[top + stride*i + u, stride*j + v] += dX[i, j, u, v] for every
    window (i, j) of the band and offset (u, v); dX (rows, W_out, f, f, C, M).

    The windows' offsets u in one group of `stride` consecutive offsets reach stride*i + u:
    distinct rows for distinct (i, u), together a contiguous run of rows; likewise for v and the
    columns. So each pair of groups is one addition without overlap, ceil(f/stride)**2 in all
    instead of f*f (dxp needs f + stride rows and columns past the last window)."""
    rows, W_out, f, _, C, M = dX.shape
    groups = [(q * stride, min(stride, f - q * stride)) for q in range(-(-f // stride))]
    for u0, nu in groups:
        block = dxp[top + u0:top + u0 + stride * rows].reshape(rows, stride, -1, C, M)[:, :nu]
        for v0, nv in groups:
            target = block[:, :, v0:v0 + stride * W_out].reshape(rows, nu, W_out, stride, C, M)
            target[:, :, :, :nv] += dX[:, :, u0:u0 + nu, v0:v0 + nv].transpose(0, 2, 1, 3, 4, 5)


def _check_dout(dout, expected):
    if np.shape(dout) != expected:
        raise ValueError(f"dout must have the output's shape (H_out, W_out, K, M) = {expected}, "
                         f"got {np.shape(dout)}")


# --------------------------------------------------------------------------- a5_fft
def conv_forward_fft(x, w, b, stride=1, pad=0):
    """The layer through the convolution theorem.

    Cross-correlation with w is convolution with the flipped filter, so the filters are flipped
    before the transform. A circular convolution over the padded plane is exact at every valid
    window position, so the transform size is the padded size; stride is subsampling.

    Inputs: x (H, W, C, M), w (K, f, f, C), b (K,), stride, pad.
    Returns out: (H_out, W_out, K, M).
    """
    H, W, C, M, K, f, s, p, H_out, W_out = _check_layer(x, w, b, stride, pad)
    Hp, Wp = H + 2 * p, W + 2 * p
    xp = zero_pad(x, p)
    X = np.fft.rfft2(xp, axes=(0, 1))                                # (Hp, Q, C, M)
    Wf = np.fft.rfft2(w[:, ::-1, ::-1, :].astype(x.dtype, copy=False), s=(Hp, Wp), axes=(1, 2))
    # one small (K, C) @ (C, M) product per frequency
    Y = np.matmul(Wf.transpose(1, 2, 0, 3), X)                       # (Hp, Q, K, M)
    full = np.fft.irfft2(Y, s=(Hp, Wp), axes=(0, 1))
    out = full[f - 1:f - 1 + s * (H_out - 1) + 1:s, f - 1:f - 1 + s * (W_out - 1) + 1:s]
    return (out + b[:, None]).astype(x.dtype)


# =========================================================================== a6_cnn
# The layer at work: max pooling, and a small network conv -> ReLU -> max-pool -> affine in the
# same layout (x (H, W, C, M), the batch last), trained with a softmax loss the notebook gives.
#
#   max pool  out[i, j, c, n] = max over u, v in [0, pool) of x[i*stride + u, j*stride + v, c, n],
#             H_out = (H - pool) // stride + 1 (no padding), likewise W_out. Its backward sends
#             each window's gradient to ONE input, the window's first maximum in row-major (u, v)
#             order (np.argmax's and PyTorch's choice); overlapping windows (stride < pool) add up
#             where they pick the same input.
#   network   a = conv(x; w1, b1, stride 1, pad), r = max(a, 0), p = maxpool(r; pool, stride pool),
#             scores[k, n] = b2[k] + sum over i, j, c of w2[k, i, j, c] * p[i, j, c, n]:
#             w2 (classes, Hp, Wp, K) is a filter the size of the pooled maps. Its backward, like
#             the layer's, recomputes what it needs from the inputs.
__all__ += ["max_pool_forward", "max_pool_backward", "cnn_forward", "cnn_backward"]


def _check_pool(x, pool, stride):
    """Validate a pooling call; return (pool, stride, H_out, W_out)."""
    _check_x(x)
    pool = _check_int("pool", pool, 1)
    s = _check_int("stride", stride, 1)
    H, W = x.shape[:2]
    if pool > H or pool > W:
        raise ValueError(f"pool size {pool} does not fit the input: H={H}, W={W} "
                         f"(x has shape {x.shape}); no window exists")
    return pool, s, (H - pool) // s + 1, (W - pool) // s + 1


def max_pool_forward(x, pool=2, stride=2):
    """The largest value of every pool x pool window, channel by channel.

    Inputs:
    - x: (H, W, C, M)
    - pool: window size, int >= 1 (pool <= H and pool <= W)
    - stride: step between windows, int >= 1 (stride < pool: windows overlap)

    Returns out: (H_out, W_out, C, M), dtype of x, H_out = (H - pool) // stride + 1.
    """
    pool, s, H_out, W_out = _check_pool(x, pool, stride)
    windows = _windows(x, pool, s, H_out, W_out)                     # (p, p, C, Ho, Wo, M) view
    return windows.max(axis=(0, 1)).transpose(1, 2, 0, 3).copy()


def max_pool_backward(dout, x, pool=2, stride=2):
    """Gradient of max pooling: each window's dout goes to the input it took its max from.

    Inputs:
    - dout: (H_out, W_out, C, M) upstream gradient
    - x: (H, W, C, M), the forward pass's input; pool, stride: as in the forward pass

    Returns dx: (H, W, C, M), dtype of x. A window whose maximum is tied routes its gradient to
    its first maximum in row-major (u, v) order only; where overlapping windows pick the same
    input, their gradients add up.
    """
    pool, s, H_out, W_out = _check_pool(x, pool, stride)
    C, M = x.shape[2:]
    if np.shape(dout) != (H_out, W_out, C, M):
        raise ValueError(f"dout must have the pooled output's shape (H_out, W_out, C, M) = "
                         f"{(H_out, W_out, C, M)}, got {np.shape(dout)}")
    windows = _windows(x, pool, s, H_out, W_out)
    picked = windows.reshape(pool * pool, C, H_out, W_out, M).argmax(axis=0)  # u*pool + v
    picked = picked.transpose(1, 2, 0, 3)                            # (Ho, Wo, C, M)
    g = dout.astype(x.dtype, copy=False)
    dx = np.zeros(x.shape, dtype=x.dtype)
    for u in range(pool):       # one offset at a time: no input is hit twice within a pass
        for v in range(pool):
            dx[u:u + s * H_out:s, v:v + s * W_out:s] += np.where(picked == u * pool + v, g, 0)
    return dx


def _check_network(x, w1, b1, w2, pad, pool):
    """Validate the network's parameters against x; return (pad, pool, classes, M)."""
    H, W, C, M, K, f, s, p, H1, W1 = _check_layer(x, w1, b1, 1, pad)
    pool = _check_int("pool", pool, 1)
    if pool > H1 or pool > W1:
        raise ValueError(f"pool size {pool} does not fit the convolution's {H1}x{W1} output")
    pooled = ((H1 - pool) // pool + 1, (W1 - pool) // pool + 1, K)
    if not isinstance(w2, np.ndarray) or w2.ndim != 4 or w2.shape[1:] != pooled:
        raise ValueError(f"w2 must have shape (classes, Hp, Wp, K) = (classes, {pooled[0]}, "
                         f"{pooled[1]}, {K}) to cover the pooled maps; got {getattr(w2, 'shape', None)}")
    return p, pool, w2.shape[0], M


def _hidden_layers(x, w1, b1, pad, pool, relu=True):
    """The network's intermediate values: a (conv), r (ReLU; a itself without `relu`, the
    misconception table's network that forgot it), p (pooled) and p as a (Hp*Wp*K, M) matrix,
    one column per sample."""
    a = conv_forward_im2col(x, w1, b1, 1, pad)
    r = np.maximum(a, 0) if relu else a
    p = max_pool_forward(r, pool, pool)
    return a, r, p, p.reshape(-1, x.shape[3])


def cnn_forward(x, w1, b1, w2, b2, pad=0, pool=2):
    """Class scores of conv (stride 1, `pad`) -> ReLU -> max-pool (pool x pool, stride pool) ->
    affine.

    Inputs:
    - x: (H, W, C, M) images
    - w1: (K, f, f, C), b1: (K,): the convolution
    - w2: (classes, Hp, Wp, K), b2: (classes,): the affine layer, one weight per pooled value
      (Hp = (H + 2*pad - f + 1 - pool) // pool + 1, likewise Wp)
    - pad: int >= 0; pool: int >= 1, the pooling window and its stride

    Returns scores: (classes, M), dtype of x: scores[k, n] = b2[k] + sum of w2[k] * p[..., n].
    """
    pad, pool, classes, M = _check_network(x, w1, b1, w2, pad, pool)
    if np.shape(b2) != (classes,):
        raise ValueError(f"b2 must have shape (classes,) = ({classes},), got {np.shape(b2)}")
    features = _hidden_layers(x, w1, b1, pad, pool)[3]
    scores = w2.reshape(classes, -1).astype(x.dtype, copy=False) @ features
    return scores + b2.astype(x.dtype, copy=False)[:, None]


def cnn_backward(dscores, x, w1, b1, w2, pad=0, pool=2):
    """Gradients of the network's parameters, given the gradient of its scores.

    Inputs:
    - dscores: (classes, M), the gradient of the loss with respect to cnn_forward's scores
    - x, w1, b1, w2, pad, pool: as in cnn_forward (b2 does not change any gradient)

    Returns (dw1, db1, dw2, db2), shaped like w1, b1, w2 and (classes,), dtype of x.
    """
    pad, pool, classes, M = _check_network(x, w1, b1, w2, pad, pool)
    if np.shape(dscores) != (classes, M):
        raise ValueError(f"dscores must have the scores' shape (classes, M) = ({classes}, {M}), "
                         f"got {np.shape(dscores)}")
    return _network_gradients(dscores, x, w1, b1, w2, pad, pool)


def _network_gradients(dscores, x, w1, b1, w2, pad, pool, relu_mask=True):
    """cnn_backward's gradients (its arguments already checked); without `relu_mask` the
    gradient passes back through the ReLU where it was closed (the misconception table's
    mistake)."""
    a, r, p, features = _hidden_layers(x, w1, b1, pad, pool)
    g = dscores.astype(x.dtype, copy=False)
    classes = w2.shape[0]
    w2_row = w2.reshape(classes, -1).astype(x.dtype, copy=False)
    dw2 = (g @ features.T).reshape(w2.shape)
    dr = max_pool_backward((w2_row.T @ g).reshape(p.shape), r, pool, pool)
    _, dw1, db1 = conv_backward_im2col(np.where(a > 0, dr, 0) if relu_mask else dr, x, w1, 1, pad)
    return dw1, db1, dw2, g.sum(axis=1)
