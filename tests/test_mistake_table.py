"""The notebooks' visible checks name the fix for realistic mistakes.

A table of wrong answers written as students write them (loops, slices, reshapes; one or two
knobs per function turn a right answer into a known mistake) goes through the public checks of
helpers.checks, as the notebooks' visible test cells call them. A mistake is flagged when the
check fails (AssertionError) or, for the contract's other rules (float32, ValueError, a new
array, inputs unchanged), prints its "⚠" warning. It names the fix when the message holds the
fix expected for that mistake: the hint autograder/misconceptions.py gives for that function
(a known mistake's id), or the words of the check's own hint. The table is printed (function,
mistake, the message's first line, named the fix), and at least 90 % of the flagged mistakes
must name the fix; every mistake must be flagged, and every function of the five assignments
has mistakes in the table.
"""
import contextlib
import io
import math

import numpy as np

from autograder import contract, misconceptions, reference as ref
from helpers import checks

FIVE = ("a1_naive", "a2_partial", "a3_im2col", "a4_backward", "a5_fft")


def _sizes(x, f, stride, pad):
    return tuple((n + 2 * pad - f) // stride + 1 for n in x.shape[:2])


def _pad(x, pad):
    return np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))


def _refuse(x, w, pad):
    """The size checks a careful student writes first."""
    f, C = w.shape[1], w.shape[3]
    if C != x.shape[2]:
        raise ValueError(f"x has {x.shape[2]} channels but w has {C}")
    if f > x.shape[0] + 2 * pad or f > x.shape[1] + 2 * pad:
        raise ValueError(f"a {f}x{f} filter does not fit x of shape {x.shape} with pad {pad}")


# --------------------------------------------------------------------------- a1_naive
def size_with(rule=None, padded=True, strided=True):
    def conv_output_size(n, f, stride=1, pad=0):
        span = n + 2 * pad - f if padded else n - f
        step = stride if strided else 1
        if rule == "true division":
            return span / step + 1
        if rule == "ceil":
            return math.ceil(span / step) + 1
        if rule != "no check" and f > n + 2 * pad:
            raise ValueError(f"f={f} does not fit n={n} with pad={pad}")
        return span // step + 1
    return conv_output_size


def pad_with(style):
    def zero_pad(x, pad):
        H, W, C, M = x.shape
        if style == "every axis":
            return np.pad(x, pad)
        if style == "one side":
            return np.pad(x, ((pad, 0), (pad, 0), (0, 0), (0, 0)))
        if style == "x back at pad 0" and pad == 0:
            return x
        out = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=None if style == "default dtype" else x.dtype)
        if style == "minus slicing":
            out[pad:-pad, pad:-pad] = x
        else:
            out[pad:pad + H, pad:pad + W] = x
        return out
    return zero_pad


def naive_with(flip=False, bias="once", swap_uv=False, source="x_pad", strided=True, checked=True):
    def conv_forward_naive(x, w, b, stride=1, pad=0):
        if checked:
            _refuse(x, w, pad)
        H, W, C, M = x.shape
        K, f = w.shape[:2]
        H_out, W_out = _sizes(x, f, stride, pad)
        x_pad = _pad(x, pad)
        src = x_pad if source == "x_pad" else x
        step = stride if strided else 1
        out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
        for n in range(M):
            for k in range(K):
                for i in range(H_out):
                    for j in range(W_out):
                        total = b[k] if bias == "once" else 0.0
                        for u in range(f):
                            for v in range(f):
                                for c in range(C):
                                    wu, wv = (f - 1 - u, f - 1 - v) if flip else (u, v)
                                    if swap_uv:
                                        wu, wv = wv, wu
                                    total += src[i * step + u, j * step + v, c, n] * w[k, wu, wv, c]
                                    if bias == "inside":
                                        total += b[k]
                        out[i, j, k, n] = total
        return out
    return conv_forward_naive


# --------------------------------------------------------------------------- a2_partial
def step_with(bias="once", summed=True, swap_uv=False, filters="w.reshape(K, -1)"):
    def conv_single_step(x_slice, w, b):
        K = w.shape[0]
        if swap_uv:
            w = w.transpose(0, 2, 1, 3)
        if not summed:
            return x_slice * w + b[:, None, None, None]
        if bias == "inside":
            return np.sum(x_slice * w + b[:, None, None, None], axis=(1, 2, 3))
        matrix = w.reshape(-1, K).T if filters == "w.reshape(-1, K).T" else w.reshape(K, -1)
        out = matrix @ x_slice.ravel()
        return out + b if bias == "once" else out
    return conv_single_step


def partial_with(bias="once", source="x_pad", swap_uv=False, dtype_kept=True):
    step = step_with(bias=bias, swap_uv=swap_uv)

    def conv_forward_partial(x, w, b, stride=1, pad=0):
        _refuse(x, w, pad)
        K, f = w.shape[:2]
        H_out, W_out = _sizes(x, f, stride, pad)
        src = _pad(x, pad) if source == "x_pad" else x
        out = np.zeros((H_out, W_out, K, x.shape[3]), dtype=x.dtype if dtype_kept else float)
        for n in range(x.shape[3]):
            for i in range(H_out):
                for j in range(W_out):
                    window = src[i * stride:i * stride + f, j * stride:j * stride + f, :, n]
                    out[i, j, :, n] = step(window, w, b)
        return out
    return conv_forward_partial


# --------------------------------------------------------------------------- a3_im2col
def im2col_with(rows="uvc", columns="ijn", source="x_pad", transposed=False, strided=True):
    def im2col(x, f, stride=1, pad=0):
        H, W, C, M = x.shape
        if f > H + 2 * pad or f > W + 2 * pad:
            raise ValueError(f"a {f}x{f} filter does not fit x of shape {x.shape} with pad {pad}")
        H_out, W_out = _sizes(x, f, stride, pad)
        src = _pad(x, pad) if source == "x_pad" else x
        step = stride if strided else 1
        cols = np.empty((f, f, C, H_out, W_out, M), dtype=x.dtype)
        for u in range(f):
            for v in range(f):
                cols[u, v] = src[u:u + step * H_out:step, v:v + step * W_out:step].transpose(2, 0, 1, 3)
        if rows == "cuv":
            cols = cols.transpose(2, 0, 1, 3, 4, 5)
        if columns == "nij":
            cols = cols.transpose(0, 1, 2, 5, 3, 4)
        X_col = cols.reshape(f * f * C, -1)
        return X_col.T if transposed else X_col
    return im2col


def im2col_forward_with(reshape):
    def conv_forward_im2col(x, w, b, stride=1, pad=0):
        _refuse(x, w, pad)
        K, f = w.shape[:2]
        H_out, W_out = _sizes(x, f, stride, pad)
        out_mat = w.reshape(K, -1) @ ref.im2col(x, f, stride, pad) + b[:, None]   # the given im2col
        if reshape == "straight":
            return out_mat.reshape(H_out, W_out, K, x.shape[3])
        return out_mat.reshape(K, H_out, W_out, x.shape[3])                      # never transposed
    return conv_forward_im2col


# --------------------------------------------------------------------------- a4_backward
def backward_naive_with(per_sample_reset=False, crop="slice", flip_for_dx=False):
    def conv_backward_naive(dout, x, w, stride=1, pad=0):
        _refuse(x, w, pad)
        H, W, C, M = x.shape
        K, f = w.shape[:2]
        H_out, W_out = _sizes(x, f, stride, pad)
        x_pad = _pad(x, pad)
        dx_pad = np.zeros_like(x_pad)
        dw, db = np.zeros_like(w), np.zeros(K, dtype=x.dtype)
        for n in range(M):
            if per_sample_reset:
                dw, db = np.zeros_like(w), np.zeros(K, dtype=x.dtype)
            for k in range(K):
                w_k = w[k, ::-1, ::-1] if flip_for_dx else w[k]
                for i in range(H_out):
                    for j in range(W_out):
                        g = dout[i, j, k, n]
                        rows, cols = slice(i * stride, i * stride + f), slice(j * stride, j * stride + f)
                        dx_pad[rows, cols, :, n] += w_k * g
                        dw[k] += x_pad[rows, cols, :, n] * g
                        db[k] += g
        if crop == "none":
            return dx_pad, dw, db
        if crop == "minus":
            return dx_pad[pad:-pad, pad:-pad], dw, db
        return dx_pad[pad:pad + H, pad:pad + W], dw, db
    return conv_backward_naive


def col2im_with(assign=False, crop="slice"):
    def col2im(X_col, x_shape, f, stride=1, pad=0):
        H, W, C, M = x_shape
        if f > H + 2 * pad or f > W + 2 * pad:
            raise ValueError(f"a {f}x{f} filter does not fit x_shape {x_shape} with pad {pad}")
        H_out, W_out = (H + 2 * pad - f) // stride + 1, (W + 2 * pad - f) // stride + 1
        cols = X_col.reshape(f, f, C, H_out, W_out, M)
        x_pad = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
        for i in range(H_out):
            for j in range(W_out):
                block = cols[:, :, :, i, j, :]
                if assign:
                    x_pad[i * stride:i * stride + f, j * stride:j * stride + f] = block
                else:
                    x_pad[i * stride:i * stride + f, j * stride:j * stride + f] += block
        return x_pad if crop == "none" else x_pad[pad:pad + H, pad:pad + W]
    return col2im


def backward_im2col_with(dout_transposed=True, db_axes=(0, 1, 3)):
    def conv_backward_im2col(dout, x, w, stride=1, pad=0):
        _refuse(x, w, pad)
        K, f = w.shape[:2]
        X_col = ref.im2col(x, f, stride, pad)                                      # the given im2col
        dout_mat = dout.transpose(2, 0, 1, 3).reshape(K, -1) if dout_transposed else dout.reshape(K, -1)
        dw = (dout_mat @ X_col.T).reshape(w.shape)
        db = dout.sum(axis=db_axes)
        dx = ref.col2im(w.reshape(K, -1).T @ dout_mat, x.shape, f, stride, pad)   # a right col2im
        return dx, dw, db
    return conv_backward_im2col


# --------------------------------------------------------------------------- a5_fft
def fft_with(flip="spatial", crop_start="f-1", inverse_size=True, transform="x_pad", real=True):
    def conv_forward_fft(x, w, b, stride=1, pad=0):
        _refuse(x, w, pad)
        H, W, C, M = x.shape
        K, f = w.shape[:2]
        Hp, Wp = H + 2 * pad, W + 2 * pad
        H_out, W_out = _sizes(x, f, stride, pad)
        if flip == "in place":
            w[...] = w[:, ::-1, ::-1, :]
            flipped = w
        else:
            flipped = {"spatial": w[:, ::-1, ::-1, :], "none": w, "all axes": np.flip(w),
                       "channels too": w[:, ::-1, ::-1, ::-1]}[flip]
        image = _pad(x, pad) if transform == "x_pad" else x
        if real:
            X = np.fft.rfft2(image, s=(Hp, Wp), axes=(0, 1))                  # (Hp, Q, C, M)
            F = np.fft.rfft2(flipped, s=(Hp, Wp), axes=(1, 2))                # (K, Hp, Q, C)
            Y = np.einsum("hqcm,khqc->hqkm", X, F)
            full = np.fft.irfft2(Y, s=(Hp, Wp), axes=(0, 1)) if inverse_size else np.fft.irfft2(Y, axes=(0, 1))
        else:
            X = np.fft.fft2(image, s=(Hp, Wp), axes=(0, 1))
            F = np.fft.fft2(flipped, s=(Hp, Wp), axes=(1, 2))
            full = np.fft.ifft2(np.einsum("hqcm,khqc->hqkm", X, F), axes=(0, 1))
        start = f - 1 if crop_start == "f-1" else 0
        out = full[start::stride, start::stride][:H_out, :W_out]
        return (out + b[None, None, :, None]).astype(x.dtype if real else out.dtype)
    return conv_forward_fft


# --------------------------------------------------------------------------- the table
C = checks
TABLE = [
    # (check, functions given after it, what the student did, their function, the expected fix:
    #  a known mistake's id or the words of the check's own hint)
    (C.check_conv_output_size, (), "divides with / (a float)", size_with("true division"), "integer division //"),
    (C.check_conv_output_size, (), "rounds up with math.ceil", size_with("ceil"), "output-size-rounding"),
    (C.check_conv_output_size, (), "leaves the padding out", size_with(padded=False), "ignores-padding"),
    (C.check_conv_output_size, (), "leaves the stride out", size_with(strided=False), "ignores-stride"),
    (C.check_conv_output_size, (), "no ValueError when no window fits", size_with("no check"),
     "raise ValueError (with a message naming n, f and pad)"),
    (C.check_zero_pad, (), "np.pad(x, pad) pads every axis", pad_with("every axis"), "pads-every-axis"),
    (C.check_zero_pad, (), "pads one side only", pad_with("one side"), "pad adds `pad` zeros on BOTH sides"),
    (C.check_zero_pad, (), "x_pad[pad:-pad, pad:-pad] = x", pad_with("minus slicing"), "empty-at-pad-zero"),
    (C.check_zero_pad, (), "returns x itself when pad == 0", pad_with("x back at pad 0"), "a NEW array"),
    (C.check_zero_pad, (), "np.zeros without dtype (float32 lost)", pad_with("default dtype"), "dtype=x.dtype"),
    (C.check_conv_forward, (), "w[k, f-1-u, f-1-v, c]: kernel flipped", naive_with(flip=True), "true-convolution"),
    (C.check_conv_forward, (), "adds b[k] inside the u, v, c loops", naive_with(bias="inside"),
     "bias-inside-window-sum"),
    (C.check_conv_forward, (), "w[k, v, u, c]: u and v swapped", naive_with(swap_uv=True), "u-v-swapped"),
    (C.check_conv_forward, (), "indexes x instead of x_pad", naive_with(source="x"), "slices-unpadded-x"),
    (C.check_conv_forward, (), "x_pad[i + u, j + v]: stride left out", naive_with(strided=False), "ignores-stride"),
    (C.check_conv_forward, (), "starts the sum at 0, no bias", naive_with(bias="none"), "missing-bias"),
    (C.check_conv_forward, (), "no size checks: no ValueError", naive_with(checked=False),
     "raise ValueError(...) with a message giving them"),
    (C.check_conv_single_step, (), "np.sum(x_slice * w + b[:, None, None, None])", step_with(bias="inside"),
     "bias-inside-window-sum"),
    (C.check_conv_single_step, (), "forgets + b", step_with(bias="none"), "missing-bias"),
    (C.check_conv_single_step, (), "x_slice * w + b[:, None, None, None], no sum",
     step_with(summed=False), "sum each filter's products"),
    (C.check_conv_single_step, (), "w.transpose(0, 2, 1, 3): u and v swapped", step_with(swap_uv=True),
     "u-v-swapped"),
    (C.check_conv_single_step, (), "w.reshape(-1, K).T as the filter matrix",
     step_with(filters="w.reshape(-1, K).T"), "filter-matrix-scrambled"),
    (C.check_conv_forward, (), "slices windows from x, not x_pad", partial_with(source="x"), "slices-unpadded-x"),
    (C.check_conv_forward, (), "np.sum(window * w + b[:, None, None, None])", partial_with(bias="inside"),
     "bias-inside-window-sum"),
    (C.check_conv_forward, (), "w.transpose(0, 2, 1, 3): u and v swapped", partial_with(swap_uv=True),
     "u-v-swapped"),
    (C.check_conv_forward, (), "np.zeros(...) float64 whatever x's dtype", partial_with(dtype_kept=False),
     "dtype=x.dtype"),
    (C.check_im2col, (), "rows in (c, u, v) order", im2col_with(rows="cuv"), "im2col-row-order"),
    (C.check_im2col, (), "columns in (n, i, j) order", im2col_with(columns="nij"), "im2col-column-order"),
    (C.check_im2col, (), "one row per window (transposed)", im2col_with(transposed=True), "X_col is transposed"),
    (C.check_im2col, (), "copies blocks of x instead of x_pad", im2col_with(source="x"), "slices-unpadded-x"),
    (C.check_im2col, (), "blocks stepped by 1, not the stride", im2col_with(strided=False), "ignores-stride"),
    (C.check_conv_forward, (), "out_mat.reshape(H_out, W_out, K, M)", im2col_forward_with("straight"),
     "out-mat-not-transposed"),
    (C.check_conv_forward, (), "out_mat.reshape(K, H_out, W_out, M), no transpose",
     im2col_forward_with("filters first"), "out-mat-not-transposed"),
    (C.check_conv_backward, (), "resets dw, db for every sample", backward_naive_with(per_sample_reset=True),
     "grad-last-sample-only"),
    (C.check_conv_backward, (), "returns the padded dx_pad", backward_naive_with(crop="none"), "dx-keeps-padding"),
    (C.check_conv_backward, (), "dx_pad[pad:-pad, pad:-pad]", backward_naive_with(crop="minus"), "empty-at-pad-zero"),
    (C.check_conv_backward, (), "flips w for dx", backward_naive_with(flip_for_dx=True), "true-convolution"),
    (C.check_col2im, (ref.im2col,), "= instead of += per window", col2im_with(assign=True),
     "col2im-overwrites-overlap"),
    (C.check_col2im, (ref.im2col,), "returns the padded result", col2im_with(crop="none"), "dx-keeps-padding"),
    (C.check_conv_backward, (), "dout.reshape(K, -1) without its transpose", backward_im2col_with(False),
     "dout-not-transposed"),
    (C.check_conv_backward, (), "db = dout.sum(axis=(0, 1)): (K, M)", backward_im2col_with(db_axes=(0, 1)),
     "sum dout over H_out, W_out and the M samples"),
    (C.check_conv_forward, (), "transforms w without flipping it", fft_with(flip="none"), "true-convolution"),
    (C.check_conv_forward, (), "crops full[::stride] from 0, not f - 1", fft_with(crop_start="0"), "fft-wrong-crop"),
    (C.check_conv_forward, (), "np.fft.irfft2 without s=", fft_with(inverse_size=False), "irfft2-without-s"),
    (C.check_conv_forward, (), "np.flip(w): every axis flipped", fft_with(flip="all axes"), "fft-flips-channels"),
    (C.check_conv_forward, (), "w[:, ::-1, ::-1, ::-1]: channels flipped", fft_with(flip="channels too"),
     "fft-flips-channels"),
    (C.check_conv_forward, (), "transforms x instead of x_pad", fft_with(transform="x"), "slices-unpadded-x"),
    (C.check_conv_forward, (), "flips w in place (w[...] = ...)", fft_with(flip="in place"), "mutates-input"),
    (C.check_conv_forward, (), "fft2/ifft2, complex result", fft_with(real=False), "keep the real part"),
]


def _fix(expected, function):
    """The words a message must hold to name the fix: a known mistake's hint for `function`
    (autograder/misconceptions.py), or the check's own words."""
    if expected in misconceptions.IDS:
        return misconceptions.get(expected).hint_for(function)
    return expected


def _run(check, student, others):
    """(flagged, the message: the failure or the printed warnings) of one public check."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            check(student, *others)
        except AssertionError as failure:
            return True, str(failure)
    warnings = "\n".join(line for line in printed.getvalue().splitlines() if not line.startswith("✓ "))
    return bool(warnings), warnings


def test_the_visible_checks_name_the_fix_of_realistic_mistakes(capsys):
    rows = []
    for check, others, what, student, expected in TABLE:
        function = student.__name__
        flagged, message = _run(check, student, others)
        first = message.splitlines()[0] if message else "(passed unnoticed)"
        named = flagged and _fix(expected, function) in message
        rows.append((function, what, first, flagged, named))
    flagged = [r for r in rows if r[3]]
    named = [r for r in flagged if r[4]]
    with capsys.disabled():
        print(f"\n{'function':<22} {'mistake':<44} {'named the fix':<13} first line of the message")
        for function, what, first, _, ok in rows:
            print(f"{function:<22} {what:<44} {'yes' if ok else 'NO':<13} {first[:110]}")
        print(f"named the fix: {len(named)} / {len(flagged)} failures ({len(rows)} mistakes)")
    assert len(rows) >= 30
    assert {r[0] for r in rows} == {s.function for a in FIVE for s in contract.graded(a)}
    assert len(flagged) == len(rows), [r[:3] for r in rows if not r[3]]
    assert len(named) >= 0.9 * len(flagged), [r[:3] for r in flagged if not r[4]]

