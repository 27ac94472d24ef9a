"""Independent checks of autograder/reference.py, the trusted baseline of every grader.

Nothing here compares the reference with itself: every expected value comes from code written in
this file (a direct einsum over sliding windows, explicit index loops, central differences, overlap
counts) or from numbers worked out by hand from the source texts. Layout (docs/CONTRACT.md):
x (H, W, C, M), w (K, f, f, C), b (K,), out (H_out, W_out, K, M).
"""
import functools
import itertools
import re

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from autograder import reference as ref
from autograder.cases import ALEXNET_CONV1, GRID, SEED_CASES, SMALL_CASES, case_id

FORWARD = {
    "naive": ref.conv_forward_naive,
    "partial": ref.conv_forward_partial,
    "im2col": ref.conv_forward_im2col,
    "fft": ref.conv_forward_fft,
}
BACKWARD = {
    "naive": ref.conv_backward_naive,
    "im2col": ref.conv_backward_im2col,
}
TOL64 = dict(rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------- independent helpers
def out_size(n, f, s, p):
    return (n + 2 * p - f) // s + 1


def pad_hw(x, p):
    """x (H, W, C, M) with p zeros around H and W, built by assignment (not zero_pad, not np.pad)."""
    H, W, C, M = x.shape
    xp = np.zeros((H + 2 * p, W + 2 * p, C, M), dtype=x.dtype)
    xp[p:p + H, p:p + W] = x
    return xp


def direct_conv(x, w, b, s, p):
    """out[i, j, k, n] = b[k] + sum_{u,v,c} x_pad[i*s+u, j*s+v, c, n] * w[k, u, v, c]."""
    f = w.shape[1]
    windows = sliding_window_view(pad_hw(x, p), (f, f), axis=(0, 1))[::s, ::s]  # (Ho, Wo, C, M, f, f)
    return np.einsum("ijcnuv,kuvc->ijkn", windows, w) + b[:, None]


def loop_im2col(x, f, s, p):
    """X_col[(u*f+v)*C + c, (i*W_out+j)*M + n] = x_pad[i*s+u, j*s+v, c, n], one element at a time."""
    H, W, C, M = x.shape
    Ho, Wo = out_size(H, f, s, p), out_size(W, f, s, p)
    xp = pad_hw(x, p)
    X = np.empty((f * f * C, Ho * Wo * M), dtype=x.dtype)
    for u, v, c, i, j, n in itertools.product(range(f), range(f), range(C), range(Ho), range(Wo), range(M)):
        X[(u * f + v) * C + c, (i * Wo + j) * M + n] = xp[i * s + u, j * s + v, c, n]
    return X


def numerical_gradient(loss, a, h=1e-3):
    """Central differences of the scalar loss() with respect to every element of a (changed in place)."""
    grad = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + h
        plus = loss()
        a[idx] = old - h
        minus = loss()
        a[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def overlap_counts(case):
    """How many windows cover each input pixel: (#(i, u) hitting row h) * (#(j, v) hitting column w)."""
    def per_axis(n, n_out):
        counts = np.zeros(n)
        for i in range(n_out):
            for u in range(case.f):
                at = i * case.stride + u - case.pad
                if 0 <= at < n:
                    counts[at] += 1
        return counts
    rows, cols = per_axis(case.H, case.H_out), per_axis(case.W, case.W_out)
    return np.broadcast_to(rows[:, None, None, None] * cols[None, :, None, None], case.x_shape)


@functools.lru_cache(maxsize=None)
def forward(tier, case):
    x, w, b = case.arrays()
    return FORWARD[tier](x, w, b, case.stride, case.pad)


@functools.lru_cache(maxsize=None)
def backward(tier, case):
    x, w, _ = case.arrays()
    return BACKWARD[tier](case.dout(), x, w, case.stride, case.pad)


def names_number(message, n):
    return re.search(rf"(?<![\d.]){n}(?![\d.])", message) is not None


# --------------------------------------------------------------------------- the case grid itself
def test_grid_covers_what_the_course_promises():
    pads = {c.pad for c in GRID}
    strides = {c.stride for c in GRID}
    filters = {c.f for c in GRID}
    assert {0, 1, 2} <= pads, pads
    assert {1, 2, 3} <= strides, strides
    assert set(range(1, 12)) <= filters, filters
    assert any(c.H != c.W for c in GRID)
    assert any(c.C == 1 for c in GRID) and any(c.C > 1 for c in GRID)
    assert any(c.M == 1 for c in GRID) and any(c.M > 1 for c in GRID)
    assert any(c.K == 1 for c in GRID) and any(c.K > 1 for c in GRID)
    non_tiling = [c for c in GRID if (c.H + 2 * c.pad - c.f) % c.stride or (c.W + 2 * c.pad - c.f) % c.stride]
    assert len(non_tiling) >= 2
    assert any(c.stride > 1 and c.pad > 0 and c.H != c.W for c in GRID)
    for c in SMALL_CASES:          # every case is valid and small enough for the seven loops
        assert c.f <= min(c.H, c.W) + 2 * c.pad, c
        assert c.K * c.f * c.f * c.C * out_size(c.H, c.f, c.stride, c.pad) \
            * out_size(c.W, c.f, c.stride, c.pad) * c.M <= 50_000, c


# --------------------------------------------------------------------------- forward tiers
@pytest.mark.parametrize("tier", FORWARD)
@pytest.mark.parametrize("case", SMALL_CASES, ids=case_id)
def test_forward_matches_direct_formula(tier, case):
    x, w, b = case.arrays()
    out = forward(tier, case)
    assert out.shape == (out_size(case.H, case.f, case.stride, case.pad),
                         out_size(case.W, case.f, case.stride, case.pad), case.K, case.M)
    np.testing.assert_allclose(out, direct_conv(x, w, b, case.stride, case.pad), **TOL64)


@pytest.mark.parametrize("case", GRID, ids=case_id)
def test_all_tiers_agree(case):
    for a, b in itertools.combinations(FORWARD, 2):
        np.testing.assert_allclose(forward(a, case), forward(b, case), **TOL64,
                                   err_msg=f"forward {a} vs {b}")
    for got_naive, got_im2col, name in zip(backward("naive", case), backward("im2col", case), "dx dw db".split()):
        np.testing.assert_allclose(got_naive, got_im2col, **TOL64, err_msg=f"backward {name}")


@pytest.mark.parametrize("tier", FORWARD)
def test_worked_example_3x3_input_2x2_kernel(tier):
    """By hand: windows [0 1;3 4], [1 2;4 5], [3 4;6 7], [4 5;7 8] against [1 2;3 4] (no flip)."""
    x = np.arange(9.0).reshape(3, 3, 1, 1)
    w = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    out = FORWARD[tier](x, w, np.array([0.5]))
    np.testing.assert_allclose(out[:, :, 0, 0], [[27.5, 37.5], [57.5, 67.5]], **TOL64)


def test_worked_example_im2col_columns():
    x = np.arange(9.0).reshape(3, 3, 1, 1)
    expected = [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]   # row (u, v), column (i, j)
    np.testing.assert_array_equal(ref.im2col(x, 2), expected)


def test_conv_single_step():
    """By hand: the window x_slice[u, v, c] = 4u + 2v + c (0..7) against three filters."""
    x_slice = np.arange(8.0).reshape(2, 2, 2)
    w = np.zeros((3, 2, 2, 2))
    w[0] = 1.0                          # every entry: 0 + 1 + ... + 7 = 28
    w[1, 0, 1, 0], w[1, 1, 0, 1] = 1.0, -2.0     # x_slice[0, 1, 0] - 2 x_slice[1, 0, 1] = 2 - 10 = -8
    w[2, :, :, 1] = 1.0                 # channel 1 only: 1 + 3 + 5 + 7 = 16
    b = np.array([0.5, -1.0, 0.0])
    got = ref.conv_single_step(x_slice, w, b)
    assert got.shape == (3,)
    np.testing.assert_array_equal(got, [28.5, -9.0, 16.0])
    # u and v swapped (w[1, v, u, c]) would give x_slice[1, 0, 0] - 2 x_slice[0, 1, 1] = 4 - 6
    got32 = ref.conv_single_step(x_slice.astype(np.float32), w.astype(np.float32), b.astype(np.float32))
    assert got32.dtype == np.float32
    np.testing.assert_array_equal(got32, [28.5, -9.0, 16.0])


def test_conv_single_step_refuses_mismatched_shapes():
    x_slice, w, b = np.ones((2, 2, 3)), np.ones((4, 2, 2, 3)), np.ones(4)
    with pytest.raises(ValueError):
        ref.conv_single_step(x_slice, np.ones((4, 3, 3, 3)), b)      # filters of another size
    with pytest.raises(ValueError):
        ref.conv_single_step(x_slice, np.ones((4, 2, 2, 2)), b)      # another channel count
    with pytest.raises(ValueError):
        ref.conv_single_step(x_slice, w, np.ones(3))                 # one bias short


# --------------------------------------------------------------------------- im2col contract
@pytest.mark.parametrize("case", SMALL_CASES, ids=case_id)
def test_im2col_index_contract(case):
    x, w, b = case.arrays()
    X_col = ref.im2col(x, case.f, case.stride, case.pad)
    np.testing.assert_array_equal(X_col, loop_im2col(x, case.f, case.stride, case.pad))
    Ho, Wo = out_size(case.H, case.f, case.stride, case.pad), out_size(case.W, case.f, case.stride, case.pad)
    out = (w.reshape(case.K, -1) @ X_col).reshape(case.K, Ho, Wo, case.M).transpose(1, 2, 0, 3) + b[:, None]
    np.testing.assert_allclose(out, forward("im2col", case), **TOL64)
    np.testing.assert_allclose(out, direct_conv(x, w, b, case.stride, case.pad), **TOL64)


@pytest.mark.parametrize("case", SMALL_CASES, ids=case_id)
def test_col2im_is_the_adjoint_of_im2col(case):
    x, _, _ = case.arrays()
    Y = np.random.default_rng(case.seed).standard_normal(case.col_shape)
    lhs = np.vdot(ref.im2col(x, case.f, case.stride, case.pad), Y)
    rhs = np.vdot(x, ref.col2im(Y, case.x_shape, case.f, case.stride, case.pad))
    assert np.isclose(lhs, rhs, rtol=1e-10, atol=1e-10), (lhs, rhs)


@pytest.mark.parametrize("case", SMALL_CASES, ids=case_id)
def test_col2im_of_ones_counts_overlapping_windows(case):
    got = ref.col2im(np.ones(case.col_shape), case.x_shape, case.f, case.stride, case.pad)
    np.testing.assert_array_equal(got, overlap_counts(case))


# --------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("tier", BACKWARD)
@pytest.mark.parametrize("case", GRID, ids=case_id)
def test_backward_matches_numerical_gradient(tier, case):
    x, w, b = case.arrays()
    dout = case.dout()

    def loss():
        return np.sum(direct_conv(x, w, b, case.stride, case.pad) * dout)

    dx, dw, db = backward(tier, case)
    for name, got, arr in (("dx", dx, x), ("dw", dw, w), ("db", db, b)):
        assert got.shape == arr.shape, name
        np.testing.assert_allclose(got, numerical_gradient(loss, arr), rtol=1e-6, atol=1e-6, err_msg=name)


# --------------------------------------------------------------------------- the source texts' sizes
def test_conv_output_size_seed_values():
    assert ref.conv_output_size(227, 11, 4, 0) == 55
    assert ref.conv_output_size(6, 3) == 4
    assert ref.conv_output_size(10, 4, 3, 1) == 3       # 8/3 = 2.67: floor, not round or ceil (4)
    assert ref.conv_output_size(7, 2, 2, 0) == 3        # 5/2 = 2.5: the last column is dropped
    assert ref.conv_output_size(32, 3, 1, 1) == 32
    assert type(ref.conv_output_size(227, 11, 4, 0)) is int


def test_alexnet_conv1_shapes():
    case = ALEXNET_CONV1
    assert (case.H, case.W, case.C, case.K, case.f, case.stride, case.pad) == (227, 227, 3, 96, 11, 4, 0)
    x, w, b = case.arrays()
    X_col = ref.im2col(x, 11, 4, 0)
    W_row = w.reshape(96, -1)
    assert X_col.shape == (363, 3025) and W_row.shape == (96, 363)
    out_mat = W_row @ X_col
    assert out_mat.shape == (96, 3025)
    out = ref.conv_forward_im2col(x, w, b, 4, 0)
    assert out.shape == (55, 55, 96, 1)
    np.testing.assert_allclose(out - b[:, None], out_mat.reshape(96, 55, 55, 1).transpose(1, 2, 0, 3), **TOL64)
    for i, j, k in [(0, 0, 0), (54, 54, 95), (17, 40, 63), (54, 0, 1)]:   # spot checks by the formula
        expected = b[k] + np.sum(x[4 * i:4 * i + 11, 4 * j:4 * j + 11, :, 0] * w[k])
        assert np.isclose(out[i, j, k, 0], expected, rtol=1e-10, atol=1e-10), (i, j, k)


def test_lecture_6x6x10_with_six_3x3x10_filters():
    case = SEED_CASES[0]
    assert (case.H, case.W, case.C, case.K, case.f, case.stride, case.pad) == (6, 6, 10, 6, 3, 1, 0)
    x, w, b = case.arrays()
    X_col = ref.im2col(x, 3)
    assert w.reshape(6, -1).shape == (6, 90) and X_col.shape == (90, 16)
    assert (w.reshape(6, -1) @ X_col).shape == (6, 16)
    for out in (forward(tier, case) for tier in FORWARD):
        assert out.shape == (4, 4, 6, 1)


# --------------------------------------------------------------------------- bad input
def _layer_calls():
    """Every function taking a layer's (x, w, stride, pad), called with those arguments."""
    def dout(x, w):
        return np.zeros((1, 1, w.shape[0], x.shape[-1]))
    calls = {name: (lambda fn: lambda x, w, s, p: fn(x, w, np.zeros(w.shape[0]), s, p))(fn)
             for name, fn in FORWARD.items()}
    calls["backward naive"] = lambda x, w, s, p: ref.conv_backward_naive(dout(x, w), x, w, s, p)
    calls["backward im2col"] = lambda x, w, s, p: ref.conv_backward_im2col(dout(x, w), x, w, s, p)
    return calls


LAYER_CALLS = _layer_calls()
WINDOW_CALLS = dict(LAYER_CALLS,                    # also functions that take only the filter size
                    im2col=lambda x, w, s, p: ref.im2col(x, w.shape[1], s, p),
                    col2im=lambda x, w, s, p: ref.col2im(np.zeros((w.shape[1] ** 2 * x.shape[2], 1)),
                                                         x.shape, w.shape[1], s, p))


@pytest.mark.parametrize("call", WINDOW_CALLS.values(), ids=WINDOW_CALLS.keys())
@pytest.mark.parametrize("H, W, f, pad, too_small", [(4, 6, 5, 0, 4), (6, 2, 5, 1, 4), (2, 3, 5, 1, 4)])
def test_filter_larger_than_padded_input(call, H, W, f, pad, too_small):
    x = np.ones((H, W, 2, 1))
    with pytest.raises(ValueError) as info:
        call(x, np.ones((1, f, f, 2)), 1, pad)
    message = str(info.value)
    assert names_number(message, f) and names_number(message, too_small), message


def test_conv_output_size_filter_too_large():
    with pytest.raises(ValueError) as info:
        ref.conv_output_size(3, 6, 1, 1)
    assert names_number(str(info.value), 6) and names_number(str(info.value), 5), str(info.value)


@pytest.mark.parametrize("call", LAYER_CALLS.values(), ids=LAYER_CALLS.keys())
def test_channel_mismatch(call):
    with pytest.raises(ValueError, match="(?i)channel") as info:
        call(np.ones((5, 5, 3, 1)), np.ones((1, 3, 3, 2)), 1, 0)
    assert names_number(str(info.value), 3) and names_number(str(info.value), 2), str(info.value)


BAD_STRIDES = [1.5, "2", True, 0, -1, None]


@pytest.mark.parametrize("stride", BAD_STRIDES, ids=repr)
@pytest.mark.parametrize("call", WINDOW_CALLS.values(), ids=WINDOW_CALLS.keys())
def test_bad_stride(call, stride):
    with pytest.raises(ValueError, match="stride"):
        call(np.ones((5, 5, 2, 1)), np.ones((1, 3, 3, 2)), stride, 0)


@pytest.mark.parametrize("stride", BAD_STRIDES, ids=repr)
def test_conv_output_size_bad_stride(stride):
    with pytest.raises(ValueError, match="stride"):
        ref.conv_output_size(5, 3, stride, 0)


PAD_CALLS = dict(WINDOW_CALLS, zero_pad=lambda x, w, s, p: ref.zero_pad(x, p),
                 conv_output_size=lambda x, w, s, p: ref.conv_output_size(5, 3, s, p))


@pytest.mark.parametrize("pad", [-1, 1.0, "1", True], ids=repr)
@pytest.mark.parametrize("call", PAD_CALLS.values(), ids=PAD_CALLS.keys())
def test_bad_pad(call, pad):
    with pytest.raises(ValueError, match="pad"):
        call(np.ones((5, 5, 2, 1)), np.ones((1, 3, 3, 2)), 1, pad)


X_CALLS = {name: call for name, call in PAD_CALLS.items() if name not in ("col2im", "conv_output_size")}


@pytest.mark.parametrize("shape", [(5, 5, 2), (5, 5, 2, 1, 1), (5,)])
@pytest.mark.parametrize("call", X_CALLS.values(), ids=X_CALLS.keys())
def test_wrong_x_ndim(call, shape):
    with pytest.raises(ValueError, match=re.escape(str(shape))) as info:
        call(np.ones(shape), np.ones((1, 3, 3, 2)), 1, 0)
    assert re.search(r"\bx\b", str(info.value)), str(info.value)


@pytest.mark.parametrize("shape", [(5, 5, 2), (5, 5, 2, 1, 1)])
def test_col2im_wrong_x_shape_length(shape):
    with pytest.raises(ValueError, match=re.escape(str(shape))):
        ref.col2im(np.zeros((18, 9)), shape, 3)


# --------------------------------------------------------------------------- inputs, dtypes, padding
def _all_calls(case, dtype):
    """(name, function, args) for every contract function returning arrays, on case's arrays."""
    x, w, b = case.arrays(dtype)
    dout = case.dout(dtype)
    s, p, f = case.stride, case.pad, case.f
    X_col = np.random.default_rng(0).standard_normal(case.col_shape).astype(dtype)
    calls = [(f"forward {t}", fn, (x, w, b, s, p)) for t, fn in FORWARD.items()]
    calls += [(f"backward {t}", fn, (dout, x, w, s, p)) for t, fn in BACKWARD.items()]
    calls += [("zero_pad", ref.zero_pad, (x, p)), ("im2col", ref.im2col, (x, f, s, p)),
              ("col2im", ref.col2im, (X_col, case.x_shape, f, s, p))]
    return calls


def _arrays(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("case", GRID, ids=case_id)
def test_inputs_are_never_modified_nor_aliased(case):
    for name, fn, args in _all_calls(case, np.float64):
        before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        result = _arrays(fn(*args))
        for a, old in zip(args, before):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, old, err_msg=f"{name} modified an input")
                assert not any(np.shares_memory(r, a) for r in result), f"{name} returned a view of an input"
        assert all(r.flags.writeable for r in result), name


@pytest.mark.parametrize("case", [GRID[1], GRID[2], SEED_CASES[0]], ids=case_id)
def test_float32_in_float32_out(case):
    for (name, fn, args32), (_, _, args64) in zip(_all_calls(case, np.float32), _all_calls(case, np.float64)):
        for r32, r64 in zip(_arrays(fn(*args32)), _arrays(fn(*args64))):
            assert r32.dtype == np.float32, f"{name} returned {r32.dtype}"
            assert r64.dtype == np.float64, f"{name} returned {r64.dtype}"
            scale = max(1.0, float(np.abs(r64).max()))
            np.testing.assert_allclose(r32, r64, rtol=1e-4, atol=1e-5 * scale, err_msg=name)


@pytest.mark.parametrize("pad", [0, 1, 2])
def test_zero_pad_pads_only_height_and_width(pad):
    x = np.random.default_rng(pad).standard_normal((3, 5, 2, 4))
    got = ref.zero_pad(x, pad)
    assert got.shape == (3 + 2 * pad, 5 + 2 * pad, 2, 4)
    np.testing.assert_array_equal(got[pad:pad + 3, pad:pad + 5], x)
    border = np.ones(got.shape, dtype=bool)
    border[pad:pad + 3, pad:pad + 5] = False
    assert not got[border].any()
