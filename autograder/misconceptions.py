"""The one table of known mistakes (docs/CONTRACT.md): what each is, how to fix it, and how to
build the reference's output with the mistake built in.

A correctness grader that sees a wrong answer calls

    diagnose(function, args, kwargs, student_value) -> id | None

which compares the student's value with every variant of the reference ("the reference with
the mistake built in") that applies to `function`. The first misconception (in table order)
with a variant equal to the student's value wins; if none is equal, a variant whose *shape*
alone matches the student's (when the reference's shape does not) is diagnosed too. For
functions that return a tuple (dx, dw, db), each component must equal the reference's or the
variant's, and at least one must be the variant's: a `dw` from the last sample with a correct
`db` is still `grad-last-sample-only`.

`mutates-input` and `library-convolution` have no variant: the graders' contract tests detect
them (arguments after the call, static inspection of the source). `slices-unpadded-x` usually
shows as an exception instead of a value (a window past the edge of x): `raises` lists the
exceptions that, raised on a call with pad > 0 by an answer right at pad 0, point to it.

What students read of this table (descriptions, hints, the functions each mistake shows in)
ships in helpers/data/course_rules.json, written by tools/make_student_data.py; the values of
the variants on the public checks' cases ship in helpers/data/check_vectors.npz
(tools/make_check_vectors.py). Adding a misconception: its entry below (with its variants) and
its row in docs/CONTRACT.md, then both tools.

A variant takes the call's arguments bound to the reference's signature (a dict with defaults
filled in) and returns a tuple of mistaken values: several ways of making the same mistake, or
none where the mistake cannot show (e.g. an empty result at pad 0 on a case with pad 1). A
variant that raises ValueError (no window fits without padding) gives none.
"""
import inspect
import math
from dataclasses import dataclass, field
from itertools import permutations

import numpy as np

from autograder import reference
from autograder.contract import BACKWARD, FORWARD, FUNCTIONS   # FORWARD, BACKWARD: the layer's passes
from autograder.student_rules import FORBIDDEN_LIBRARIES, TOLERANCES

IDENTITY = (0, 1, 2)
OTHER_ORDERS = tuple(p for p in permutations(IDENTITY) if p != IDENTITY)


@dataclass(frozen=True)
class Misconception:
    """A known mistake: its id (docs/CONTRACT.md), what it is, a hint pointing to the fix (and
    for some functions a hint of their own), for each function it shows in how to build the
    reference's output with it built in, and the exceptions (type, words of the message) it
    raises instead where it usually crashes."""
    id: str
    description: str
    hint: str
    variants: dict = field(default_factory=dict)   # function -> variant(bound) -> tuple of values
    hints: dict = field(default_factory=dict)      # function -> its own hint, replacing `hint`
    raises: tuple = ()                             # (exception type, words of its message)

    @property
    def functions(self):
        return tuple(self.variants) if self.variants else tuple(reference.__all__)

    def hint_for(self, function):
        """The hint a student who made this mistake in `function` reads."""
        return self.hints.get(function, self.hint)


# --------------------------------------------------------------------------- the reference's pieces
def bind(function, args, kwargs):
    """The call's arguments as a dict keyed by the contract's parameter names, defaults filled."""
    bound = inspect.signature(getattr(reference, function)).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def expected(function, args, kwargs):
    """The reference's value for a call (through a faster reference computing the same thing)."""
    faster = FUNCTIONS[function].same_as if function in FUNCTIONS else None
    return getattr(reference, faster or function)(*args, **kwargs)


def _sizes(shape, f, s, p, rule=None):
    """(H_out, W_out) of an (H, W, ...) input; `rule` replaces floor for the rounding mistakes."""
    if rule is None:
        return tuple((n + 2 * p - f) // s + 1 for n in shape[:2])
    return tuple(int(rule((n + 2 * p - f) / s)) + 1 for n in shape[:2])


def _forward(a, **changes):
    a = {**a, **changes}
    return reference.conv_forward_im2col(a["x"], a["w"], a["b"], a["stride"], a["pad"])


def _backward(a, **changes):
    a = {**a, **changes}
    return reference.conv_backward_im2col(a["dout"], a["x"], a["w"], a["stride"], a["pad"])


def _cols(x, f, s, p, order=IDENTITY + (3, 4, 5)):
    """im2col's X_col with its rows/columns laid out in `order` of the axes (u, v, c, i, j, n)."""
    X = reference.im2col(x, f, s, p)
    H_out, W_out = _sizes(x.shape, f, s, p)
    six = X.reshape(f, f, x.shape[2], H_out, W_out, x.shape[3])
    return six.transpose(order).reshape(X.shape)


def _uncols(Y, x_shape, f, s, p, order):
    """col2im of a Y whose rows/columns are laid out in `order` (the adjoint of _cols)."""
    H_out, W_out = _sizes(x_shape, f, s, p)
    six = (f, f, x_shape[2], H_out, W_out, x_shape[3])
    Y6 = np.reshape(Y, tuple(six[i] for i in order)).transpose(np.argsort(order))
    return reference.col2im(Y6.reshape(np.shape(Y)), x_shape, f, s, p)


def _row_order(rows):
    return tuple(rows) + (3, 4, 5)


def _column_order(cols):
    return IDENTITY + tuple(3 + c for c in cols)


def _extended(x, f, s, p, rule):
    """x with zero rows/columns appended so that `rule`-rounded output sizes have whole windows."""
    H_out, W_out = _sizes(x.shape, f, s, p, rule)
    extra = [max(0, (n_out - 1) * s + f - (n + 2 * p)) for n_out, n in zip((H_out, W_out), x.shape)]
    return np.pad(x, ((0, extra[0]), (0, extra[1]), (0, 0), (0, 0)))


def _gemm_forward(X_col, w, b, H_out, W_out, M):
    """What `w.reshape(K, -1) @ X_col`, reshaped as the contract says, makes of any X_col."""
    K = w.shape[0]
    out = (w.reshape(K, -1) @ X_col).reshape(K, H_out, W_out, M).transpose(1, 2, 0, 3)
    return out + b[:, None]


def _dout_mat(dout):
    return dout.transpose(2, 0, 1, 3).reshape(dout.shape[2], -1)


def _stepped_by_one(Y, x_shape, f, s, p):
    """col2im that puts window (i, j) at (i, j) instead of (i*s, j*s)."""
    H_out, W_out = _sizes(x_shape, f, s, p)
    H1, W1 = _sizes(x_shape, f, 1, p)
    C, M = x_shape[2:]
    full = np.zeros((f, f, C, H1, W1, M), dtype=np.result_type(Y))
    full[:, :, :, :H_out, :W_out] = np.reshape(Y, (f, f, C, H_out, W_out, M))
    return reference.col2im(full.reshape(f * f * C, -1), x_shape, f, 1, p)


def _cols_stepped_by_one(x, f, s, p):
    """X_col of the first H_out x W_out windows stepped by 1 (the stride left out of the starts)."""
    H_out, W_out = _sizes(x.shape, f, s, p)
    H1, W1 = _sizes(x.shape, f, 1, p)
    six = reference.im2col(x, f, 1, p).reshape(f, f, x.shape[2], H1, W1, x.shape[3])
    return six[:, :, :, :H_out, :W_out].reshape(f * f * x.shape[2], -1)


def _assigned(Y, x_shape, f, s, p, by_window=True, padded=False):
    """col2im with `=` instead of `+=`: where windows overlap, the last one written wins.

    by_window: loops over the windows (i, j) (the last window wins); otherwise over the
    offsets (u, v) (the last offset wins, as fancy-index assignment also does).
    """
    H, W, C, M = x_shape
    H_out, W_out = _sizes(x_shape, f, s, p)
    cols = np.reshape(Y, (f, f, C, H_out, W_out, M))
    xp = np.zeros((H + 2 * p, W + 2 * p, C, M), dtype=np.result_type(Y))
    if by_window:
        for i in range(H_out):
            for j in range(W_out):
                xp[i * s:i * s + f, j * s:j * s + f] = cols[:, :, :, i, j]
    else:
        for u in range(f):
            for v in range(f):
                xp[u:u + s * H_out:s, v:v + s * W_out:s] = cols[u, v].transpose(1, 2, 0, 3)
    return xp if padded else xp[p:p + H, p:p + W]


def _padded_crops(xp, H, W, p):
    """A padded gradient returned whole or cut out at the wrong place."""
    if p == 0:
        return ()
    return (xp, xp[:H, :W], xp[2 * p:2 * p + H, 2 * p:2 * p + W], xp[p:H, p:W])


# --------------------------------------------------------------------------- variants per mistake
def _flipped(a):
    return _forward(a, w=a["w"][:, ::-1, ::-1, :])


def _step(a, **changes):
    a = {**a, **changes}
    return reference.conv_single_step(a["x_slice"], a["w"], a["b"])


def _wrong_biases(b):
    """No bias, or the first or the last filter's bias for every filter."""
    b = np.asarray(b)
    return (np.zeros_like(b), np.full_like(b, b[0]), np.full_like(b, b[-1]))


def _bias_variants(a):
    return tuple(_forward(a, b=bb) for bb in _wrong_biases(a["b"]))


def _scrambled(w):
    """The filters as the rows of w.reshape(f*f*C, K).T: each row mixes several filters."""
    K = w.shape[0]
    return np.ascontiguousarray(w.reshape(-1, K).T).reshape(w.shape)


def _layer_stride_variants(a):
    if a["stride"] == 1:
        return ()
    one = _forward(a, stride=1)
    H_out, W_out = _sizes(a["x"].shape, a["w"].shape[1], a["stride"], a["pad"])
    return (one, one[:H_out, :W_out])


def _layer_rounding_variants(a):
    x, f, s, p = a["x"], a["w"].shape[1], a["stride"], a["pad"]
    return tuple(_forward(a, x=_extended(x, f, s, p, rule)) for rule in (math.ceil, round))


def _im2col_args(a):
    return a["x"], a["f"], a["stride"], a["pad"]


def _im2col_stride_variants(a):
    x, f, s, p = _im2col_args(a)
    return () if s == 1 else (reference.im2col(x, f, 1, p), _cols_stepped_by_one(x, f, s, p))


def _im2col_rounding_variants(a):
    x, f, s, p = _im2col_args(a)
    return tuple(reference.im2col(_extended(x, f, s, p, rule), f, s, p) for rule in (math.ceil, round))


def _forward_via_cols(a, order):
    x, w, s, p = a["x"], a["w"], a["stride"], a["pad"]
    f = w.shape[1]
    H_out, W_out = _sizes(x.shape, f, s, p)
    return _gemm_forward(_cols(x, f, s, p, order), w, np.asarray(a["b"]), H_out, W_out, x.shape[3])


def _backward_pieces(a):
    """(dout_mat, w_row, x, f, s, p) of a backward call."""
    w = a["w"]
    return _dout_mat(a["dout"]), w.reshape(w.shape[0], -1), a["x"], w.shape[1], a["stride"], a["pad"]


def _backward_via_cols(a, order):
    dout_mat, w_row, x, f, s, p = _backward_pieces(a)
    X = _cols(x, f, s, p, order)
    dx = _uncols(w_row.T @ dout_mat, x.shape, f, s, p, order)
    return dx, (dout_mat @ X.T).reshape(a["w"].shape), dout_mat.sum(axis=1)


def _with_dx(a, dx):
    _, dw, db = _backward(a)
    return dx, dw, db


def _backward_assigned(a, naive):
    dout_mat, w_row, x, f, s, p = _backward_pieces(a)
    if naive:   # dxp[window, n] = w[k] * g: the last filter's term of the last window wins
        last = a["dout"][:, :, -1, :].reshape(1, -1)
        return (_with_dx(a, _assigned(w_row[-1:].T @ last, x.shape, f, s, p)),)
    Y = w_row.T @ dout_mat
    return tuple(_with_dx(a, _assigned(Y, x.shape, f, s, p, by)) for by in (True, False))


def _backward_padding_variants(a):
    dout_mat, w_row, x, f, s, p = _backward_pieces(a)
    H, W, C, M = x.shape
    xp = reference.col2im(w_row.T @ dout_mat, (H + 2 * p, W + 2 * p, C, M), f, s, 0)
    return tuple(_with_dx(a, dx) for dx in _padded_crops(xp, H, W, p))


def _backward_empty(a):
    x = a["x"]
    return None if a["pad"] else _with_dx(a, np.zeros((0, 0) + x.shape[2:], dtype=x.dtype))


def _one_sample(a):
    """(dx, dw, db) with dw and db from the first and from the last sample only."""
    dx, _, _ = _backward(a)
    M = a["x"].shape[3]
    if M == 1:
        return ()
    out = []
    for n in (0, M - 1):
        _, dw, db = _backward(a, x=a["x"][..., n:n + 1], dout=a["dout"][..., n:n + 1])
        out.append((dx, dw, db))
    return tuple(out)


def _backward_stride(a):
    if a["stride"] == 1:
        return ()
    dout_mat, w_row, x, f, s, p = _backward_pieces(a)
    dx = _stepped_by_one(w_row.T @ dout_mat, x.shape, f, s, p)
    dw = (dout_mat @ _cols_stepped_by_one(x, f, s, p).T).reshape(a["w"].shape)
    return ((dx, dw, dout_mat.sum(axis=1)),)


def _col2im_args(a):
    return a["X_col"], tuple(a["x_shape"]), a["f"], a["stride"], a["pad"]


def _col2im_padding_variants(a):
    Y, shape, f, s, p = _col2im_args(a)
    H, W, C, M = shape
    return _padded_crops(reference.col2im(Y, (H + 2 * p, W + 2 * p, C, M), f, s, 0), H, W, p)


def _one(build):
    """A variant builder returning the single value of `build`, or none when it gives None."""
    def variant(a):
        value = build(a)
        return () if value is None else (value,)
    return variant


def _for(functions, variant):
    return {fn: variant for fn in functions}


def _flipped_backward(a):
    """(dx, dw, db) of a backward pass that uses the flipped filter (dw flipped back to w's
    layout)."""
    dx, dw, db = _backward(a, w=a["w"][:, ::-1, ::-1, :])
    return dx, dw[:, ::-1, ::-1, :], db


# --------------------------------------------------------------------------- a6_cnn
def _pool_view(x, pool, stride):
    """(windows (pool, pool, C, H_out, W_out, M) view of x, H_out, W_out); ValueError when no
    window fits (the reference's check)."""
    _, _, H_out, W_out = reference._check_pool(x, pool, stride)
    return reference._windows(x, pool, stride, H_out, W_out), H_out, W_out


def _pool_mean(a):
    windows = _pool_view(a["x"], a["pool"], a["stride"])[0]
    return windows.mean(axis=(0, 1)).transpose(1, 2, 0, 3)


def _pool_every_position(a):
    """Max pooling whose windows move one step at a time, whatever the stride."""
    return reference.max_pool_forward(a["x"], a["pool"], 1)


def _spread(a, share):
    """A pooling gradient that gives every input of a window `share` * its dout (overlaps add)."""
    x, pool, s = a["x"], a["pool"], a["stride"]
    _, H_out, W_out = _pool_view(x, pool, s)
    dx = np.zeros(x.shape, dtype=np.result_type(x, a["dout"]))
    for u in range(pool):
        for v in range(pool):
            dx[u:u + s * H_out:s, v:v + s * W_out:s] += share * a["dout"]
    return dx


def _pool_overwritten(a):
    """Pooling gradients where a later window (in row-major (i, j) order) overwrites an earlier
    one instead of adding to it: at its maximum only, or over its whole window (mask * dout).
    Only overlapping windows (stride < pool) can show it."""
    x, dout, pool, s = a["x"], a["dout"], a["pool"], a["stride"]
    if s >= pool:
        return ()
    windows, H_out, W_out = _pool_view(x, pool, s)
    C, M = x.shape[2:]
    first = windows.reshape(pool * pool, C, H_out, W_out, M).argmax(axis=0)
    at_max, whole = (np.zeros(x.shape, dtype=np.result_type(x, dout)) for _ in range(2))
    c, n = np.meshgrid(np.arange(C), np.arange(M), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            u, v = np.divmod(first[:, i, j], pool)
            at_max[i * s + u, j * s + v, c, n] = dout[i, j]
            mask = np.zeros((pool, pool, C, M))
            mask[u, v, c, n] = 1
            whole[i * s:i * s + pool, j * s:j * s + pool] = mask * dout[i, j]
    return at_max, whole


def _scores_without_relu(a):
    features = reference._hidden_layers(a["x"], a["w1"], a["b1"], a["pad"], a["pool"], relu=False)[3]
    return a["w2"].reshape(a["w2"].shape[0], -1) @ features + a["b2"][:, None]


def _gradients_without_mask(a):
    """cnn_backward with the pooling's gradient passed through the ReLU unmasked."""
    return reference._network_gradients(a["dscores"], a["x"], a["w1"], a["b1"], a["w2"],
                                        a["pad"], a["pool"], relu_mask=False)


def _window_size(w):
    """f*f*C: the number of products in one window."""
    return int(np.prod(np.shape(w)[-3:]))


def _bias_per_product(a):
    """b[k] added to each of the f*f*C products of a window instead of once to their sum."""
    return _forward(a, b=np.asarray(a["b"]) * _window_size(a["w"][0]))


def _transposed(a):
    """The layer with u and v swapped: w[k, v, u, c] where w[k, u, v, c] belongs."""
    return _forward(a, w=np.swapaxes(a["w"], 1, 2))


def _transposed_backward(a):
    dx, dw, db = _backward(a, w=np.swapaxes(a["w"], 1, 2))
    return dx, np.swapaxes(dw, 1, 2), db


def _top_left(x, p):
    """x in the top-left corner of the padded frame, all 2*pad zeros below and to the right:
    what windows placed for x_pad but read from x see."""
    return np.pad(x, ((0, 2 * p), (0, 2 * p), (0, 0), (0, 0)))


def _unpadded_windows(a):
    return None if a["pad"] == 0 else _forward(a, x=_top_left(a["x"], a["pad"]), pad=0)


def _cut_windows(a):
    """The loop layers with each window sliced from x at its padded position,
    x[i*s:i*s + f, j*s:j*s + f]: a window cut short by the edge of x to one row or column is
    broadcast against the filter (numpy's rule); where one keeps more, or none, the call raises
    (None)."""
    x, w, b, s, p = a["x"], a["w"], np.asarray(a["b"]), a["stride"], a["pad"]
    if p == 0:
        return None
    K, f, _, C = w.shape
    H_out, W_out = _sizes(x.shape, f, s, p)
    out = np.empty((H_out, W_out, K, x.shape[3]), dtype=np.result_type(x, w))
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * s:i * s + f, j * s:j * s + f]
            try:
                window = np.broadcast_to(window, (f, f) + window.shape[2:])
            except ValueError:
                return None
            out[i, j] = np.einsum("uvcn,kuvc->kn", window, w) + b[:, None]
    return out


def _unpadded_columns(a):
    x, f, s, p = _im2col_args(a)
    return None if p == 0 else reference.im2col(_top_left(x, p), f, s, 0)


def _cut_columns(a):
    """im2col copying the strided block of each window offset (u, v) from x at its padded
    position, x[u:u + s*H_out:s, v:v + s*W_out:s]: a block cut short by the edge of x to one row
    or column is broadcast into place; where one keeps more, or none, the call raises (None)."""
    x, f, s, p = _im2col_args(a)
    if p == 0:
        return None
    H_out, W_out = _sizes(x.shape, f, s, p)
    cols = np.empty((f, f, H_out, W_out) + x.shape[2:], dtype=x.dtype)
    for u in range(f):
        for v in range(f):
            try:
                cols[u, v] = x[u:u + s * H_out:s, v:v + s * W_out:s]
            except ValueError:
                return None
    return cols.transpose(0, 1, 4, 2, 3, 5).reshape(f * f * x.shape[2], -1)


def _unpadded_backward(a):
    """dw (and db) from windows of x instead of x_pad; dx right."""
    if a["pad"] == 0:
        return None
    _, dw, db = _backward(a, x=_top_left(a["x"], a["pad"]), pad=0)
    return _backward(a)[0], dw, db


def _out_mat_untransposed(a):
    """out_mat = w.reshape(K, -1) @ X_col reshaped to the output without moving its filter axis
    (K, H_out*W_out*M) behind the positions: bias added before or after the reshape."""
    x, w, s, p = a["x"], a["w"], a["stride"], a["pad"]
    K, f = w.shape[:2]
    H_out, W_out = _sizes(x.shape, f, s, p)
    M = x.shape[3]
    bias = np.asarray(a["b"])[:, None]
    out_mat = w.reshape(K, -1) @ reference.im2col(x, f, s, p)
    return ((out_mat + bias).reshape(H_out, W_out, K, M), out_mat.reshape(H_out, W_out, K, M) + bias,
            (out_mat + bias).reshape(K, H_out, W_out, M))


def _dout_untransposed(a):
    """The backward pass with dout.reshape(K, -1) as dout_mat, its filter axis never moved to
    the front: db from dout itself or from that matrix."""
    dout, x, w, s, p = a["dout"], a["x"], a["w"], a["stride"], a["pad"]
    K, f = w.shape[:2]
    d = dout.reshape(K, -1)
    dx = reference.col2im(w.reshape(K, -1).T @ d, x.shape, f, s, p)
    dw = (d @ reference.im2col(x, f, s, p).T).reshape(w.shape)
    return (dx, dw, dout.sum(axis=(0, 1, 3))), (dx, dw, d.sum(axis=1))


def _fft_full(a):
    """What the FFT layer computes over the padded plane (Hp, Wp, K, M) before cropping: the
    circular convolution with the flipped filter, whose index (r, q) holds the window starting
    at ((r - f + 1) mod Hp, (q - f + 1) mod Wp); no bias yet."""
    x, w, p = a["x"], a["w"], a["pad"]
    f = w.shape[1]
    wrapped = np.pad(reference.zero_pad(x, p), ((f - 1, 0), (f - 1, 0), (0, 0), (0, 0)), mode="wrap")
    return reference.conv_forward_im2col(wrapped, w, np.zeros(w.shape[0], dtype=x.dtype), 1, 0)


def _crop(full, a, start):
    """The rows and columns start, start + stride, ... of `full`, as many as the output has
    (fewer where `full` ends first), plus the bias."""
    s = a["stride"]
    H_out, W_out = _sizes(a["x"].shape, a["w"].shape[1], s, a["pad"])
    cropped = full[start:start + s * (H_out - 1) + 1:s, start:start + s * (W_out - 1) + 1:s]
    return cropped + np.asarray(a["b"])[:, None]


def _crop_at_zero(a):
    """The full FFT result cropped from row and column 0: the f - 1 shift left out. (Cropping
    one further, from f, is not told apart: with pad 1 it equals ignoring the padding.)"""
    return None if a["w"].shape[1] == 1 else _crop(_fft_full(a), a, 0)


def _irfft2_without_s(a):
    """The FFT layer with the inverse transform's size left out: irfft2 then returns
    2 * (Wp // 2) columns, one short and with wrong values when Wp is odd."""
    full = _fft_full(a)
    short = np.fft.irfft2(np.fft.rfft2(full, axes=(0, 1)), axes=(0, 1))
    return None if short.shape == full.shape else _crop(short, a, a["w"].shape[1] - 1)


def _channel_flips(a):
    """The filter flipped along its channel axis too (and its filter axis: np.flip(w))."""
    w = a["w"]
    return tuple(_forward(a, w=v) for v in (w[:, :, :, ::-1], w[::-1, :, :, ::-1]))


# --------------------------------------------------------------------------- the table
TABLE = (
    Misconception(
        "true-convolution",
        "the result is a true convolution (the filter flipped), not the layer's cross-correlation",
        "a convolutional layer multiplies x_pad[i*s + u, j*s + v, c] by w[k, u, v, c] with the "
        "same u and v: do not flip the filter (no w[::-1], no f-1-u indices). For the FFT layer, "
        "flip the filter before transforming it, because the convolution theorem computes a "
        "true convolution",
        {**_for(FORWARD, _one(_flipped)),
         "conv_single_step": _one(lambda a: _step(a, w=a["w"][:, ::-1, ::-1, :])),
         **_for(BACKWARD, _one(_flipped_backward))},
        hints={"conv_forward_fft":
               "the product of two transforms is a true convolution, so the filter must be "
               "flipped first: transform w[:, ::-1, ::-1, :] (both spatial axes, not the channels), "
               "then the cropped result is the layer's cross-correlation"},
    ),
    Misconception(
        "missing-bias",
        "the bias is missing, or one filter's bias is added for every filter",
        "add b[k] once to every output of filter k: out[:, :, k, :] gets its own b[k]",
        {**_for(FORWARD, _bias_variants),
         "conv_single_step": lambda a: tuple(_step(a, b=bb) for bb in _wrong_biases(a["b"]))},
    ),
    Misconception(
        "ignores-stride",
        "the windows are stepped by 1 whatever the stride",
        "window (i, j) starts at row i*stride and column j*stride of the padded input; use the "
        "stride in the slice starts (and in the backward pass where gradients are scattered "
        "back), not only in the output size",
        {"conv_output_size": _one(lambda a: a["n"] + 2 * a["pad"] - a["f"] + 1),
         **_for(FORWARD, _layer_stride_variants), "im2col": _im2col_stride_variants,
         "col2im": _one(lambda a: None if a["stride"] == 1 else _stepped_by_one(*_col2im_args(a))),
         **_for(BACKWARD, _backward_stride)},
    ),
    Misconception(
        "ignores-padding",
        "no zero padding is applied",
        "pad the input with `pad` zeros on every side of the two spatial axes before taking "
        "windows (zero_pad(x, pad)), and count the padding in the output size",
        {"conv_output_size": _one(lambda a: (a["n"] - a["f"]) // a["stride"] + 1),
         "zero_pad": _one(lambda a: None if a["pad"] == 0 else a["x"]),
         **_for(FORWARD, _one(lambda a: None if a["pad"] == 0 else _forward(a, pad=0))),
         "im2col": _one(lambda a: None if a["pad"] == 0 else reference.im2col(a["x"], a["f"], a["stride"], 0))},
    ),
    Misconception(
        "output-size-rounding",
        "the output size is rounded up or to the nearest integer instead of down",
        "H_out = (H + 2*pad - f) // stride + 1 with integer (floor) division: a window that "
        "would run past the padded edge is dropped, not kept",
        {"conv_output_size": lambda a: tuple(
            rule((a["n"] + 2 * a["pad"] - a["f"]) / a["stride"]) + 1
            for rule in (math.ceil, round, float)),
         **_for(FORWARD, _layer_rounding_variants), "im2col": _im2col_rounding_variants},
    ),
    Misconception(
        "pads-every-axis",
        "zero_pad also pads the channel or the sample axis",
        "pad only the two spatial axes: np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))",
        {"zero_pad": lambda a: tuple(
            np.pad(a["x"], [(a["pad"], a["pad"]) if axis in axes else (0, 0) for axis in range(4)])
            for axes in ((0, 1, 2, 3), (0, 1, 2), (0, 1, 3)))},
    ),
    Misconception(
        "im2col-row-order",
        "each window is flattened in another order than (u, v, c)",
        "row r of X_col must be (u*f + v)*C + c, the order of w.reshape(K, -1), so that "
        "w.reshape(K, -1) @ X_col multiplies matching entries: take the window as an (f, f, C) "
        "block and reshape it in C order, without transposing it",
        {"im2col": lambda a: tuple(_cols(*_im2col_args(a), _row_order(r)) for r in OTHER_ORDERS),
         "conv_forward_im2col": lambda a: tuple(_forward_via_cols(a, _row_order(r)) for r in OTHER_ORDERS),
         "col2im": lambda a: tuple(_uncols(*_col2im_args(a), _row_order(r)) for r in OTHER_ORDERS),
         "conv_backward_im2col": lambda a: tuple(_backward_via_cols(a, _row_order(r)) for r in OTHER_ORDERS)},
    ),
    Misconception(
        "im2col-column-order",
        "the columns of X_col are in another order than (i, j, n)",
        "column q of X_col must be (i*W_out + j)*M + n (the sample index varies fastest), so that "
        "out_mat.reshape(K, H_out, W_out, M) puts every value at its place",
        {"im2col": lambda a: tuple(_cols(*_im2col_args(a), _column_order(c)) for c in OTHER_ORDERS),
         "conv_forward_im2col": lambda a: tuple(_forward_via_cols(a, _column_order(c)) for c in OTHER_ORDERS),
         "col2im": lambda a: tuple(_uncols(*_col2im_args(a), _column_order(c)) for c in OTHER_ORDERS),
         "conv_backward_im2col": lambda a: tuple(_backward_via_cols(a, _column_order(c)) for c in OTHER_ORDERS)},
    ),
    Misconception(
        "col2im-overwrites-overlap",
        "where windows overlap, the gradient is assigned (`=`) instead of summed (`+=`)",
        "a pixel covered by several windows receives the sum of all their contributions: "
        "accumulate with +=, one window offset (u, v) at a time or with np.add.at (a fancy-index "
        "`+=` keeps only one of repeated indices)",
        {"col2im": lambda a: tuple(_assigned(*_col2im_args(a), by) for by in (True, False)),
         "conv_backward_naive": lambda a: _backward_assigned(a, naive=True),
         "conv_backward_im2col": lambda a: _backward_assigned(a, naive=False)},
    ),
    Misconception(
        "dx-keeps-padding",
        "dx is returned with the padded shape, or the padding is stripped at the wrong place",
        "accumulate into a padded gradient, then return dx_pad[pad:pad + H, pad:pad + W]: the "
        "gradient of the unpadded input, with the shape of x",
        {"col2im": _col2im_padding_variants, **_for(BACKWARD, _backward_padding_variants)},
    ),
    Misconception(
        "empty-at-pad-zero",
        "slicing [pad:-pad] returns an empty array when pad == 0",
        "x[0:-0] is x[0:0], which is empty: strip the padding with [pad:pad + H] (or only when "
        "pad > 0)",
        {"col2im": _one(lambda a: None if a["pad"] else np.zeros((0, 0) + tuple(a["x_shape"][2:]))),
         **_for(BACKWARD, _one(_backward_empty))},
    ),
    Misconception(
        "grad-last-sample-only",
        "dw or db is taken from one sample instead of summed over the batch",
        "every sample contributes to dw and db: accumulate over n (dw += ..., db += ...) or sum "
        "over the sample axis, instead of overwriting inside the loop over samples",
        _for(BACKWARD, _one_sample),
    ),
    Misconception(
        "bias-inside-window-sum",
        "the bias is added inside the window's sum, so it is counted f*f*C times",
        "add b[k] once per output value, after summing the f*f*C products of the window with "
        "filter k (sum first, then add the bias, rather than adding it to every product; in the "
        "seven loops, start the sum at b[k] or add it after the u, v, c loops)",
        {"conv_single_step": _one(lambda a: _step(a, b=a["b"] * a["x_slice"].size)),
         "conv_forward_naive": _one(_bias_per_product), "conv_forward_partial": _one(_bias_per_product)},
    ),
    Misconception(
        "u-v-swapped",
        "the window offsets u and v are swapped: the filter is used transposed",
        "u is the row offset and v the column offset in both places: x_pad[i*stride + u, "
        "j*stride + v, c] goes with w[k, u, v, c] (not w[k, v, u, c])",
        {"conv_single_step": _one(lambda a: _step(a, w=np.swapaxes(a["w"], 1, 2))),
         "conv_forward_naive": _one(_transposed), "conv_forward_partial": _one(_transposed),
         "conv_backward_naive": _one(_transposed_backward)},
    ),
    Misconception(
        "filter-matrix-scrambled",
        "the filter matrix is w reshaped to (f*f*C, K), so each of its rows mixes several filters",
        "filter k must be row k of the filter matrix, its f*f*C numbers in the (u, v, c) order in "
        "which the window is flattened: w is (K, f, f, C), so a reshape that keeps K first does "
        "it; reshaping to (f*f*C, K) and transposing cuts across the filters",
        {"conv_single_step": _one(lambda a: _step(a, w=_scrambled(a["w"]))),
         **_for(("conv_forward_partial", "conv_forward_im2col"),
                _one(lambda a: _forward(a, w=_scrambled(a["w"]))))},
    ),
    Misconception(
        "slices-unpadded-x",
        "the windows are taken from x instead of the padded x_pad",
        "windows are positions in the PADDED input: take them from x_pad = zero_pad(x, pad), "
        "of shape (H + 2*pad, W + 2*pad, C, M), not from x (with pad > 0 the last windows run "
        "past the edge of x); in the backward pass, scatter into a padded gradient the same way "
        "and crop it at the end",
        {**_for(FORWARD, _one(_unpadded_windows)),
         "im2col": lambda a: tuple(v for v in (_cut_columns(a), _unpadded_columns(a)) if v is not None),
         **_for(("conv_forward_naive", "conv_forward_partial"),
                lambda a: tuple(v for v in (_cut_windows(a), _unpadded_windows(a)) if v is not None)),
         **_for(BACKWARD, _one(_unpadded_backward))},
        raises=(("IndexError", "out of bounds"), ("ValueError", "broadcast"),
                ("ValueError", "matmul"), ("ValueError", "not aligned")),
    ),
    Misconception(
        "out-mat-not-transposed",
        "out_mat (K, H_out*W_out*M) is reshaped to the output without moving its filter axis",
        "out_mat's rows are the K filters: reshape it to (K, H_out, W_out, M) first, then move "
        "the filter axis to third place with .transpose(1, 2, 0, 3) to get (H_out, W_out, K, M)",
        {"conv_forward_im2col": _out_mat_untransposed},
    ),
    Misconception(
        "dout-not-transposed",
        "dout is reshaped to (K, -1) without moving its filter axis to the front first",
        "dout is (H_out, W_out, K, M): move the filter axis to the front, "
        "dout.transpose(2, 0, 1, 3), before reshaping it to dout_mat (K, H_out*W_out*M), so "
        "that its columns follow X_col's (i, j, n) order",
        {"conv_backward_im2col": _dout_untransposed},
    ),
    Misconception(
        "fft-wrong-crop",
        "the valid outputs are cropped from the wrong place of the FFT's full result",
        "the full (circular) result of the FFT is shifted by f - 1: the window starting at row "
        "i*stride sits at row f - 1 + i*stride, so crop rows and columns from f - 1 on (the "
        "first f - 1 wrap around the border), stepping by the stride",
        {"conv_forward_fft": _one(_crop_at_zero)},
    ),
    Misconception(
        "irfft2-without-s",
        "the inverse transform is taken without its size, s=",
        "pass s=(Hp, Wp) to np.fft.irfft2 as well as to the filters' rfft2: from a half "
        "spectrum the inverse cannot tell an odd width from an even one, and guesses even",
        {"conv_forward_fft": _one(_irfft2_without_s)},
    ),
    Misconception(
        "fft-flips-channels",
        "the filter is flipped along its channel axis (or all its axes) as well as u and v",
        "flip only the two spatial axes, w[:, ::-1, ::-1, :]: the channels are summed, not slid "
        "over (np.flip(w) without axes flips all four axes, the filters and the channels too)",
        {"conv_forward_fft": _channel_flips},
    ),
    Misconception(
        "pool-averages",
        "the pooling window's values are averaged instead of taking their maximum",
        "the window's values were averaged: max pooling keeps the largest value only, and its "
        "gradient goes to that one input",
        {"max_pool_forward": _one(_pool_mean),
         "max_pool_backward": _one(lambda a: _spread(a, 1 / a["pool"] ** 2))},
    ),
    Misconception(
        "pool-ignores-stride",
        "the pooling windows move one step at a time whatever the stride",
        "the windows moved one step at a time whatever the stride: window (i, j) starts at row "
        "i*stride and column j*stride, and H_out = (H - pool) // stride + 1",
        {"max_pool_forward": _one(_pool_every_position)},
    ),
    Misconception(
        "pool-gradient-to-whole-window",
        "every input of a pooling window receives the window's gradient",
        "every input of the window received the gradient: only the maximum influenced the "
        "output, the others get 0",
        {"max_pool_backward": _one(lambda a: _spread(a, 1))},
    ),
    Misconception(
        "pool-overlap-overwritten",
        "overlapping pooling windows overwrite each other's gradient instead of adding up",
        "overlapping windows overwrote each other's gradient: where two windows pick the same "
        "input its gradient is the SUM of theirs (use +=, and never assign a whole window's "
        "slice, which also wipes what the earlier windows left there)",
        {"max_pool_backward": _pool_overwritten},
    ),
    Misconception(
        "relu-missing",
        "the network pools the convolution's output without the ReLU",
        "the ReLU is missing: r = max(a, 0) comes between the convolution and the pooling",
        {"cnn_forward": _one(_scores_without_relu)},
    ),
    Misconception(
        "relu-mask-missing",
        "the network's gradient passes back through the ReLU where it was closed",
        "the gradient passed the ReLU where it was closed: it flows back only where the "
        "convolution's output a was positive (da = dr where a > 0, else 0)",
        {"cnn_backward": _one(_gradients_without_mask)},
    ),
    Misconception(
        "mutates-input",
        "the function changes its input arrays",
        "never write into x, w, b, dout or X_col: work on a copy (zero_pad returns a new array; "
        "use out = np.zeros(...) for results, and `a = a + 1` rather than `a += 1` on an input)",
    ),
    Misconception(
        "library-convolution",
        "a graded function calls a library convolution",
        "the point of the exercise is to build the layer yourself: use numpy's array operations, "
        "matrix products and FFTs, not " + ", ".join(FORBIDDEN_LIBRARIES[:-1]) + " or "
        + FORBIDDEN_LIBRARIES[-1],
    ),
)

BY_ID = {m.id: m for m in TABLE}
IDS = tuple(BY_ID)


def get(misconception_id):
    try:
        return BY_ID[misconception_id]
    except KeyError:
        raise ValueError(f"unknown misconception {misconception_id!r}; known: {', '.join(IDS)}") from None


def variants(misconception_id, function, args, kwargs):
    """The values of the reference with the mistake built in, for one call (may be empty)."""
    build = get(misconception_id).variants.get(function)
    if build is None:
        return ()
    try:
        with np.errstate(all="ignore"):
            return tuple(build(bind(function, args, kwargs)))
    except ValueError:
        return ()   # the mistake cannot show on this call (e.g. no window fits without padding)


# --------------------------------------------------------------------------- comparing values
def tolerance(dtype):
    """(rtol, atol scale) for comparing arrays of `dtype` with the reference
    (autograder.student_rules.TOLERANCES; float64's for every dtype but float32)."""
    return TOLERANCES["float32" if np.dtype(dtype) == np.float32 else "float64"]


def values_match(a, b):
    """True when a student's value equals an expected one: same structure, shape and (close)
    values. Numbers compare exactly when both are ints, closely otherwise."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(values_match(x, y) for x, y in zip(a, b)))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape:
            return False
        if a.size == 0:
            return True
        rtol, atol = tolerance(b.dtype if b.dtype.kind == "f" else a.dtype)
        scale = max(1.0, float(np.max(np.abs(b))) if np.all(np.isfinite(b)) else 1.0)
        return bool(np.allclose(a, b, rtol=rtol, atol=atol * scale))
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    rtol, atol = TOLERANCES["float64"]
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(
        a, b, rel_tol=rtol, abs_tol=atol)


def shape_of(value):
    """A comparable description of a value's shape: a tuple per component, or a type name."""
    if isinstance(value, tuple):
        return tuple(shape_of(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.shape
    return type(value).__name__


def _componentwise(student, ref, variant, same):
    """Every component equals the reference's or the variant's, at least one only the variant's."""
    if isinstance(ref, tuple):
        if not (isinstance(student, tuple) and isinstance(variant, tuple)
                and len(student) == len(ref) == len(variant)):
            return False
        hits = [(same(s, v), same(s, r)) for s, r, v in zip(student, ref, variant)]
        return all(v or r for v, r in hits) and any(v and not r for v, r in hits)
    return same(student, variant) and not same(student, ref)


def _same_shape(a, b):
    return shape_of(a) == shape_of(b)


def diagnose(function, args, kwargs, student_value):
    """The id of the known mistake that explains `student_value`, or None.

    `args`/`kwargs` are the call's arguments as the grader passed them. A value equal to the
    reference's is no mistake (None).
    """
    ref = expected(function, args, kwargs)
    if values_match(student_value, ref):
        return None
    built = []
    for m in TABLE:                      # variants are built only until one equals the value
        if function in m.variants:
            built.append((m.id, variants(m.id, function, args, kwargs)))
            if any(_componentwise(student_value, ref, v, values_match) for v in built[-1][1]):
                return m.id
    for mid, values in built:
        if any(_componentwise(student_value, ref, v, _same_shape) for v in values):
            return mid
    return None
