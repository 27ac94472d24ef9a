"""The student toolkit helpers/: public checks, gradient check, timing, plots, stored vectors."""
import ast
import copy
import inspect
import re
import subprocess
import sys
import types
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from autograder import misconceptions, reference as ref
from autograder.student import InProcessStudent
from helpers import checks, gradcheck, plots, timing
from helpers.rules import rules
from student_answers.mistake_slices_unpadded_x import conv_forward_partial as partial_from_x

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "helpers"

# check -> the reference functions it is given, in order
CHECKED = [
    (checks.check_conv_output_size, ("conv_output_size",)),
    (checks.check_zero_pad, ("zero_pad",)),
    (checks.check_conv_single_step, ("conv_single_step",)),
    (checks.check_conv_forward, ("conv_forward_naive",)),
    (checks.check_conv_forward, ("conv_forward_partial",)),
    (checks.check_conv_forward, ("conv_forward_im2col",)),
    (checks.check_conv_forward, ("conv_forward_fft",)),
    (checks.check_im2col, ("im2col",)),
    (checks.check_col2im, ("col2im", "im2col")),
    (checks.check_conv_backward, ("conv_backward_naive",)),
    (checks.check_conv_backward, ("conv_backward_im2col",)),
]
CHECK_IDS = [f"{check.__name__}({', '.join(names)})" for check, names in CHECKED]


def proxy(student, name):
    """What the caged grader hands a check: a lambda that forwards to the student."""
    return lambda *args, **kwargs: student.call(name, *args, **kwargs)


# --------------------------------------------------------------------------- passing
@pytest.mark.parametrize("check, names", CHECKED, ids=CHECK_IDS)
def test_check_passes_on_the_reference(check, names, capsys):
    check(*(getattr(ref, n) for n in names))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 2 and all(line.startswith("✓ ") for line in lines), lines
    assert all(names[0] in line for line in lines), lines


@pytest.mark.parametrize("check, names", CHECKED, ids=CHECK_IDS)
def test_check_passes_through_a_proxy(check, names, capsys):
    student = InProcessStudent({n: getattr(ref, n) for n in names})
    check(*(proxy(student, n) for n in names))
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("✓ ") for line in lines)
    if check is checks.check_conv_forward:            # a lambda has no name to show
        assert all("your layer" in line for line in lines)


@pytest.mark.parametrize("check, names", CHECKED, ids=CHECK_IDS)
def test_a_stub_fails_the_check(check, names):
    def stub(*args, **kwargs):
        raise NotImplementedError()
    others = [getattr(ref, n) for n in names[1:]]
    with pytest.raises(AssertionError, match="not written yet: it raised NotImplementedError"):
        check(stub, *others)
    student = InProcessStudent({names[0]: stub})
    with pytest.raises(AssertionError, match="not written yet"):
        check(proxy(student, names[0]), *others)


# --------------------------------------------------------------------------- mistaken versions
def flipped_forward(x, w, b, stride=1, pad=0):
    return ref.conv_forward_im2col(x, w[:, ::-1, ::-1, :], b, stride, pad)


def forward_without_bias(x, w, b, stride=1, pad=0):
    return ref.conv_forward_im2col(x, w, np.zeros_like(b), stride, pad)


def forward_ignoring_stride(x, w, b, stride=1, pad=0):
    return ref.conv_forward_im2col(x, w, b, 1, pad)


def forward_stepping_by_one(x, w, b, stride=1, pad=0):
    """Sizes the output for the stride but steps the windows by 1."""
    H_out = ref.conv_output_size(x.shape[0], w.shape[1], stride, pad)
    W_out = ref.conv_output_size(x.shape[1], w.shape[1], stride, pad)
    return ref.conv_forward_im2col(x, w, b, 1, pad)[:H_out, :W_out]


def forward_ignoring_padding(x, w, b, stride=1, pad=0):
    return ref.conv_forward_im2col(x, w, b, stride, 0)


def forward_with_ceil_size(x, w, b, stride=1, pad=0):
    f = w.shape[1]
    good = ref.conv_forward_im2col(x, w, b, stride, pad)
    out = np.zeros((-(-(x.shape[0] + 2 * pad - f) // stride) + 1, -(-(x.shape[1] + 2 * pad - f) // stride) + 1)
                   + good.shape[2:])
    out[:good.shape[0], :good.shape[1]] = good
    return out


def forward_height_width_swapped(x, w, b, stride=1, pad=0):
    return ref.conv_forward_im2col(x, w, b, stride, pad).transpose(1, 0, 2, 3)


def forward_axes_kmhw(x, w, b, stride=1, pad=0):
    return ref.conv_forward_im2col(x, w, b, stride, pad).transpose(2, 3, 0, 1)


def ceil_output_size(n, f, stride=1, pad=0):
    return -(-(n + 2 * pad - f) // stride) + 1


def float_output_size(n, f, stride=1, pad=0):
    return (n + 2 * pad - f) / stride + 1


def output_size_without_error(n, f, stride=1, pad=0):
    return max((n + 2 * pad - f) // stride + 1, 0)


def output_size_ignoring_stride(n, f, stride=1, pad=0):
    return ref.conv_output_size(n, f, 1, pad)


def pad_every_axis(x, pad):
    return np.pad(x, pad)


def pad_one_side(x, pad):
    return np.pad(x, ((pad, 0), (pad, 0), (0, 0), (0, 0)))


def pad_with_ones(x, pad):
    return np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)), constant_values=1.0)


def pad_by_minus_slicing(x, pad):
    out = np.zeros((x.shape[0] + 2 * pad, x.shape[1] + 2 * pad) + x.shape[2:])
    out[pad:-pad, pad:-pad] = x
    return out


def single_step_without_bias(x_slice, w, b):
    return w.reshape(w.shape[0], -1) @ x_slice.ravel()


def single_step_flipped(x_slice, w, b):
    return np.array([np.sum(x_slice * w[k, ::-1, ::-1]) for k in range(len(w))]) + b


def single_step_without_sum(x_slice, w, b):
    return x_slice * w + b[:, None, None, None]


def single_step_one_filter(x_slice, w, b):
    return float(np.sum(x_slice * w[0]) + b[0])


def _by_offset(X, f, C):
    return X.reshape(f, f, C, -1)


def im2col_rows_cuv(x, f, stride=1, pad=0):
    X = ref.im2col(x, f, stride, pad)
    return _by_offset(X, f, x.shape[2]).transpose(2, 0, 1, 3).reshape(X.shape)


def im2col_columns_nij(x, f, stride=1, pad=0):
    X = ref.im2col(x, f, stride, pad)
    H_out = ref.conv_output_size(x.shape[0], f, stride, pad)
    W_out = ref.conv_output_size(x.shape[1], f, stride, pad)
    return X.reshape(-1, H_out, W_out, x.shape[3]).transpose(0, 3, 1, 2).reshape(X.shape)


def im2col_transposed(x, f, stride=1, pad=0):
    return ref.im2col(x, f, stride, pad).T


def im2col_ignoring_stride(x, f, stride=1, pad=0):
    return ref.im2col(x, f, 1, pad)


def col2im_overwriting(X_col, x_shape, f, stride=1, pad=0):
    """Assigns (=) each window instead of adding it (+=)."""
    H, W, C, M = x_shape
    H_out, W_out = ref.conv_output_size(H, f, stride, pad), ref.conv_output_size(W, f, stride, pad)
    cols = X_col.reshape(f, f, C, H_out, W_out, M)
    xp = np.zeros((H + 2 * pad, W + 2 * pad, C, M))
    for i in range(H_out):
        for j in range(W_out):
            xp[i * stride:i * stride + f, j * stride:j * stride + f] = cols[:, :, :, i, j]
    return xp[pad:pad + H, pad:pad + W]


def col2im_keeping_padding(X_col, x_shape, f, stride=1, pad=0):
    return ref.zero_pad(ref.col2im(X_col, x_shape, f, stride, pad), pad)


def col2im_minus_slicing(X_col, x_shape, f, stride=1, pad=0):
    p = pad
    return ref.zero_pad(ref.col2im(X_col, x_shape, f, stride, pad), pad)[p:-p, p:-p]


def im2col_rows_vuc(x, f, stride=1, pad=0):
    X = ref.im2col(x, f, stride, pad)
    return _by_offset(X, f, x.shape[2]).transpose(1, 0, 2, 3).reshape(X.shape)


def backward_keeping_padding(dout, x, w, stride=1, pad=0):
    dx, dw, db = ref.conv_backward_im2col(dout, x, w, stride, pad)
    return ref.zero_pad(dx, pad), dw, db


def backward_minus_slicing(dout, x, w, stride=1, pad=0):
    dx, dw, db = ref.conv_backward_im2col(dout, x, w, stride, pad)
    p = pad
    return ref.zero_pad(dx, pad)[p:-p, p:-p], dw, db


def backward_last_sample(dout, x, w, stride=1, pad=0):
    dx, _, _ = ref.conv_backward_im2col(dout, x, w, stride, pad)
    _, dw, db = ref.conv_backward_im2col(dout[..., -1:], x[..., -1:], w, stride, pad)
    return dx, dw, db


def backward_flipped(dout, x, w, stride=1, pad=0):
    dx, dw, db = ref.conv_backward_im2col(dout, x, w[:, ::-1, ::-1, :], stride, pad)
    return dx, dw[:, ::-1, ::-1, :], db


def backward_stepping_by_one(dout, x, w, stride=1, pad=0):
    f = w.shape[1]
    H1, W1 = ref.conv_output_size(x.shape[0], f, 1, pad), ref.conv_output_size(x.shape[1], f, 1, pad)
    big = np.zeros((H1, W1) + dout.shape[2:])
    big[:dout.shape[0], :dout.shape[1]] = dout
    return ref.conv_backward_im2col(big, x, w, 1, pad)


def backward_through_overwriting_col2im(dout, x, w, stride=1, pad=0):
    _, dw, db = ref.conv_backward_im2col(dout, x, w, stride, pad)
    K, f = w.shape[0], w.shape[1]
    dcols = w.reshape(K, -1).T @ dout.transpose(2, 0, 1, 3).reshape(K, -1)
    return col2im_overwriting(dcols, x.shape, f, stride, pad), dw, db


def backward_db_per_sample(dout, x, w, stride=1, pad=0):
    dx, dw, _ = ref.conv_backward_im2col(dout, x, w, stride, pad)
    return dx, dw, dout.sum(axis=(0, 1))


def backward_two_values(dout, x, w, stride=1, pad=0):
    return ref.conv_backward_im2col(dout, x, w, stride, pad)[:2]


def wrong_im2col(x, f, stride=1, pad=0):
    return ref.im2col(x, f, stride, pad) * 2.0


def named(name, fn):
    """A copy of the function fn (its code, globals and defaults) under the name of a contract
    function, as a notebook defines it."""
    return types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)


EMPTY_AT_PAD_ZERO = r"\[pad:-pad\] returns an empty array when pad == 0"
OVERWRITES = r"assigned \(`=`\) instead of summed \(`\+=`\)"
MISTAKES = [
    # (check, the mistaken function, functions passed after it, what the message must say)
    (checks.check_conv_forward, flipped_forward, (), r"true convolution \(the filter flipped\).*do not flip"),
    (checks.check_conv_forward, forward_without_bias, (), "the bias is missing"),
    (checks.check_conv_forward, forward_ignoring_stride, (),
     r"stepped by 1 whatever the stride.*H_out=7, W_out=9, the sizes for stride 1"),
    (checks.check_conv_forward, forward_stepping_by_one, (), "stepped by 1 whatever the stride"),
    (checks.check_conv_forward, forward_ignoring_padding, (), "no zero padding is applied"),
    (checks.check_conv_forward, forward_with_ceil_size, (), "rounded up or to the nearest integer"),
    (checks.check_conv_forward, named("conv_forward_naive", forward_height_width_swapped), (),
     "height and width swapped"),
    (checks.check_conv_forward, forward_axes_kmhw, (),
     r"axes are in another order: the layout is \(H_out, W_out, K, M\)"),
    (checks.check_conv_output_size, ceil_output_size, (), "rounded up or to the nearest integer"),
    (checks.check_conv_output_size, float_output_size, (), "integer division"),
    (checks.check_conv_output_size, output_size_ignoring_stride, (), "stepped by 1 whatever the stride"),
    (checks.check_conv_output_size, output_size_without_error, (), "raise ValueError"),
    (checks.check_zero_pad, pad_every_axis, (), "also pads the channel or the sample axis"),
    (checks.check_zero_pad, pad_one_side, (), "padded one side only"),
    (checks.check_zero_pad, pad_with_ones, (), "border is not all zeros"),
    (checks.check_zero_pad, pad_by_minus_slicing, (), EMPTY_AT_PAD_ZERO),
    (checks.check_conv_single_step, single_step_without_bias, (), "the bias is missing"),
    (checks.check_conv_single_step, single_step_flipped, (), "true convolution"),
    (checks.check_conv_single_step, single_step_without_sum, (), "one number per filter"),
    (checks.check_conv_single_step, single_step_one_filter, (), "returned one number instead of K"),
    (checks.check_im2col, im2col_rows_cuv, (), r"flattened in another order than \(u, v, c\)"),
    (checks.check_im2col, im2col_rows_vuc, (), r"flattened in another order than \(u, v, c\)"),
    (checks.check_im2col, im2col_columns_nij, (), r"columns of X_col are in another order than \(i, j, n\)"),
    (checks.check_im2col, im2col_transposed, (), "X_col is transposed"),
    (checks.check_im2col, im2col_ignoring_stride, (), "stepped by 1 whatever the stride"),
    (checks.check_col2im, col2im_overwriting, (ref.im2col,), OVERWRITES),
    (checks.check_col2im, col2im_keeping_padding, (ref.im2col,),
     r"the result has the padded shape \(7, 7, 1, 1\) but x_shape is \(5, 5, 1, 1\): did you return the padded"),
    (checks.check_col2im, col2im_minus_slicing, (ref.im2col,), EMPTY_AT_PAD_ZERO),
    (checks.check_col2im, ref.col2im, (wrong_im2col,), r"col2im passed the stored vectors, so check im2col"),
    (checks.check_conv_backward, backward_keeping_padding, (),
     r"dx has the padded shape .* did you return the padded gradient\?"),
    (checks.check_conv_backward, backward_minus_slicing, (), EMPTY_AT_PAD_ZERO),
    (checks.check_conv_backward, backward_last_sample, (), "dw or db is taken from one sample"),
    (checks.check_conv_backward, backward_flipped, (), "true convolution"),
    (checks.check_conv_backward, backward_stepping_by_one, (), "stepped by 1 whatever the stride"),
    (checks.check_conv_backward, backward_through_overwriting_col2im, (), OVERWRITES),
    (checks.check_conv_backward, backward_db_per_sample, (), r"sum dout over H_out, W_out and the M samples"),
    (checks.check_conv_backward, backward_two_values, (), r"expected the tuple \(dx, dw, db\)"),
]


@pytest.mark.parametrize("check, mistaken, others, message", MISTAKES,
                         ids=[m[1].__name__ for m in MISTAKES])
def test_check_names_the_mistake(check, mistaken, others, message, capsys):
    with pytest.raises(AssertionError, match=message) as failure:
        check(mistaken, *others)
    text = str(failure.value)
    assert "tried:" in text, text
    if "wrong values" in text:           # a value failure shows both sides and the error
        assert "expected: shape" in text and "got:      shape" in text and "max abs error" in text, text


def test_a_value_failure_says_what_was_tried_expected_and_got():
    with pytest.raises(AssertionError) as failure:
        checks.check_conv_forward(flipped_forward)
    assert str(failure.value).splitlines()[:5] == [
        "flipped_forward: wrong values in out",
        "  tried:    the 3x3 input [[1, 2, 3], [4, 5, 6], [7, 8, 9]] with the 2x2 kernel [[1, 2], [3, 4]], "
        "b = 1, stride 1, pad 0 (x (3, 3, 1, 1), w (1, 2, 2, 1))",
        "  expected: shape (2, 2, 1, 1), values around index (0, 0, 0, 0) [38., 48., 68., 78.]",
        "  got:      shape (2, 2, 1, 1), values around index (0, 0, 0, 0) [24., 34., 54., 64.]",
        "  max abs error 14 at index (0, 0, 0, 0): expected 38, got 24",
    ]


def forward_off_in_one_late_value(x, w, b, stride=1, pad=0):
    """Right, except out[2, 1, 3, 0] is 10 too large once the output has more than 20 values
    (the hand-worked 2x2x1x1 case passes, the lecture's 4x4x6x1 layer does not)."""
    out = ref.conv_forward_im2col(x, w, b, stride, pad)
    if out.size > 20:
        out[2, 1, 3, 0] += 10.0
    return out


def _preview(line):
    """(index, numbers) of an expected/got line: "shape S, values around index I [..., a, ...]"."""
    head, values = line.split(" [", 1)
    index = head.rsplit("values around index ", 1)[1]
    return index, [float(v) for v in values.rstrip("]").split(", ") if v != "..."]


def test_the_previews_show_the_values_around_the_largest_difference():
    with pytest.raises(AssertionError) as failure:
        checks.check_conv_forward(forward_off_in_one_late_value)
    lines = str(failure.value).splitlines()
    assert lines[0] == "forward_off_in_one_late_value: wrong values in out"
    assert lines[4].startswith("  max abs error 10 at index (2, 1, 3, 0): ")
    # out (4, 4, 6, 1): index (2, 1, 3, 0) is flat 2*24 + 1*6 + 3 = 57, shown with 55..59,
    # values cut on both sides
    assert lines[2].startswith("  expected: shape (4, 4, 6, 1), values around index (2, 1, 3, 0) [..., ")
    assert lines[3].startswith("  got:      shape (4, 4, 6, 1), values around index (2, 1, 3, 0) [..., ")
    assert lines[2].endswith(", ...]") and lines[3].endswith(", ...]")
    case = checks._case("lecture")
    right = ref.conv_forward_naive(case["x"], case["w"], case["b"], 1, 0).ravel()[55:60]
    (_, expected), (_, got) = _preview(lines[2]), _preview(lines[3])
    np.testing.assert_allclose(expected, right, atol=1e-3)
    np.testing.assert_allclose(np.subtract(got, expected), [0, 0, 10, 0, 0], atol=1e-3)


def test_previews_mark_each_side_where_values_were_left_out():
    ten = np.arange(10.0)
    assert checks._fmt(ten) == "[0., 1., 2., 3., 4., ...]"
    assert checks._fmt(ten, around=1) == "[0., 1., 2., 3., 4., ...]"
    assert checks._fmt(ten, around=5) == "[..., 3., 4., 5., 6., 7., ...]"
    assert checks._fmt(ten, around=9) == "[..., 5., 6., 7., 8., 9.]"
    assert checks._fmt(ten[:4], around=3) == "[0., 1., 2., 3.]"
    assert checks._describe(ten.reshape(2, 5), around=7) == \
        "shape (2, 5), values around index (1, 2) [..., 5., 6., 7., 8., 9.]"


def test_a_later_case_is_reported_with_its_sizes(capsys):
    with pytest.raises(AssertionError) as failure:
        checks.check_conv_forward(forward_stepping_by_one)
    assert "x 7x9x3x2, 4 filters 3x3, stride 2, pad 1" in str(failure.value)
    assert capsys.readouterr().out.count("✓") == 2          # the hand-worked and the lecture's case passed


def test_student_exceptions_are_reported_with_the_case():
    def broken(x, w, b, stride=1, pad=0):
        raise IndexError("index 3 is out of bounds for axis 0 with size 3")
    with pytest.raises(AssertionError, match=r"raised IndexError: index 3 is out of bounds.*\n  tried: +the 3x3"):
        checks.check_conv_forward(broken)


@pytest.mark.filterwarnings("error")
def test_nan_and_inf_outputs_fail_without_a_warning():
    def overflowing(x, w, b, stride=1, pad=0):
        out = ref.conv_forward_im2col(x, w, b, stride, pad)
        out.flat[::2] = np.inf
        out.flat[1::2] = np.nan
        return out
    with pytest.raises(AssertionError, match="max abs error inf"):
        checks.check_conv_forward(overflowing)


def test_complex_output_is_explained():
    with pytest.raises(AssertionError, match=r"(?s)complex values.*keep the real part"):
        checks.check_conv_forward(lambda x, w, b, stride=1, pad=0: ref.conv_forward_fft(x, w, b, stride, pad) + 0j)


def test_returning_nothing_is_explained():
    with pytest.raises(AssertionError, match=r"returned None instead of .*did you forget `return`\?"):
        checks.check_im2col(lambda x, f, stride=1, pad=0: None)


def test_a_mistake_s_hint_is_the_one_for_the_function_checked():
    unflipped = lambda x, w, b, stride=1, pad=0: ref.conv_forward_im2col(x, w[:, ::-1, ::-1, :], b, stride, pad)
    hint = misconceptions.get("true-convolution")
    with pytest.raises(AssertionError) as failure:
        checks.check_conv_forward(named("conv_forward_fft", unflipped))
    assert hint.hint_for("conv_forward_fft") in str(failure.value)
    assert hint.hint_for("conv_forward_fft") != hint.hint
    with pytest.raises(AssertionError) as failure:
        checks.check_conv_forward(named("conv_forward_naive", unflipped))
    assert hint.hint in str(failure.value)


def naive_from_x(x, w, b, stride=1, pad=0):
    """The seven loops indexing x, not the padded x: an IndexError past its edge."""
    K, f = w.shape[:2]
    H_out, W_out = ((n + 2 * pad - f) // stride + 1 for n in x.shape[:2])
    out = np.zeros((H_out, W_out, K, x.shape[3]))
    for n, k, i, j in np.ndindex(x.shape[3], K, H_out, W_out):
        out[i, j, k, n] = b[k] + sum(x[i * stride + u, j * stride + v, c, n] * w[k, u, v, c]
                                     for u, v, c in np.ndindex(f, f, x.shape[2]))
    return out


@pytest.mark.parametrize("mistaken, problem", [(partial_from_x, "wrong values in out"),
                                               (naive_from_x, "raised IndexError: index 9 is out of bounds")])
def test_windows_taken_from_x_are_recognised_from_their_values_or_their_error(mistaken, problem):
    with pytest.raises(AssertionError) as failure:
        checks.check_conv_forward(mistaken)
    text = str(failure.value)
    assert text.splitlines()[0].startswith(f"{mistaken.__name__}: {problem}"), text
    assert misconceptions.get("slices-unpadded-x").hint in text


# --------------------------------------------------------------------------- the contract's other rules
def as_float64(fn):
    """fn, its results cast to float64 whatever the inputs' dtype."""
    def call(*args):
        result = fn(*args)
        if isinstance(result, tuple):
            return tuple(np.asarray(v, dtype=np.float64) for v in result)
        return np.asarray(result, dtype=np.float64)
    return call


def without_value_errors(fn):
    """fn, but returning an array where it should raise ValueError."""
    def call(*args):
        try:
            return fn(*args)
        except ValueError:
            return np.zeros(1)
    return call


def writes_into(fn, position):
    def call(*args):
        result = fn(*args)
        args[position][...] = 0
        return result
    return call


def pad_returning_x(x, pad):
    return x if pad == 0 else ref.zero_pad(x, pad)


def forward_calling_numpy_convolve(x, w, b, stride=1, pad=0):
    np.convolve                                    # named in the body: the static rule sees it
    return ref.conv_forward_im2col(x, w, b, stride, pad)


BROKEN_RULES = [
    # (check, function name, the function breaking a rule, what the warning must name)
    (checks.check_conv_forward, "conv_forward_im2col", as_float64(ref.conv_forward_im2col),
     r"float32 inputs gave float64 results.*dtype=x\.dtype"),
    (checks.check_conv_backward, "conv_backward_im2col", as_float64(ref.conv_backward_im2col),
     r"float32 inputs gave float64, float64, float64 results"),
    (checks.check_im2col, "im2col", as_float64(ref.im2col), "float32 inputs gave float64"),
    (checks.check_zero_pad, "zero_pad", as_float64(ref.zero_pad), "float32 inputs gave float64"),
    (checks.check_conv_forward, "conv_forward_naive", without_value_errors(ref.conv_forward_naive),
     r"returned ndarray with x of shape \(4, 5, 2, 1\), f=7.*ValueError"),
    (checks.check_col2im, "col2im", without_value_errors(ref.col2im), "returned ndarray with x of shape"),
    (checks.check_zero_pad, "zero_pad", pad_returning_x, "shares memory with x.*a NEW array"),
    (checks.check_conv_backward, "conv_backward_naive", writes_into(ref.conv_backward_naive, 0),
     r"changed its argument dout.*" + re.escape(misconceptions.get("mutates-input").hint)),
    (checks.check_conv_forward, "conv_forward_naive", forward_calling_numpy_convolve,
     r"calls numpy\.convolve.*" + re.escape(misconceptions.get("library-convolution").hint)),
]


@pytest.mark.parametrize("check, name, function, warning", BROKEN_RULES,
                         ids=[f"{r[1]}-{i}" for i, r in enumerate(BROKEN_RULES)])
def test_a_broken_rule_is_a_warning_with_its_fix(check, name, function, warning, capsys):
    others = (ref.im2col,) if check is checks.check_col2im else ()
    check(named(name, function), *others)               # the values are right: no failure
    out = capsys.readouterr().out
    warnings = "\n".join(line for line in out.splitlines() if not line.startswith("✓ "))
    assert warnings.startswith(f"⚠ {name}: ") and re.search(warning, warnings, re.S), out
    assert re.fullmatch(f"⚠ {name}: the values are right, but the hidden tests also check the rules? above",
                        warnings.splitlines()[-1])


def test_rules_that_hold_are_one_line(capsys):
    checks.check_conv_forward(ref.conv_forward_naive)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == ("✓ conv_forward_naive: float32 kept; x, w, b unchanged; ValueError when the filter "
                    "does not fit; ValueError on a channel mismatch")


# --------------------------------------------------------------------------- gradcheck
def test_numerical_gradient_matches_an_analytic_gradient():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 3))
    x = rng.standard_normal((3, 2))
    dout = rng.standard_normal((4, 2))
    before = x.copy()
    f = lambda v: np.sin(A @ v)                               # d/dv sum(sin(Av) * dout) = A^T (cos(Av) * dout)
    num = gradcheck.numerical_gradient(f, x, dout)
    assert num.shape == x.shape
    assert gradcheck.rel_error(num, A.T @ (np.cos(A @ x) * dout)) < 1e-8
    assert np.array_equal(x, before)                         # x restored


def test_numerical_gradient_of_the_layer_matches_the_reference_backward():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((4, 5, 2, 2)), rng.standard_normal((2, 3, 3, 2)), rng.standard_normal(2)
    dout = rng.standard_normal((2, 3, 2, 2))
    dx, dw, _ = ref.conv_backward_im2col(dout, x, w, 2, 1)
    num_dx = gradcheck.numerical_gradient(lambda v: ref.conv_forward_im2col(v, w, b, 2, 1), x, dout)
    num_dw = gradcheck.numerical_gradient(lambda v: ref.conv_forward_im2col(x, v, b, 2, 1), w, dout)
    assert gradcheck.rel_error(num_dx, dx) < 1e-7 and gradcheck.rel_error(num_dw, dw) < 1e-7


def test_numerical_gradient_refuses_integer_input():
    with pytest.raises(ValueError, match="float numpy array"):
        gradcheck.numerical_gradient(lambda v: v, np.arange(3), np.ones(3))


def test_rel_error():
    assert gradcheck.rel_error(np.ones(3), np.ones(3)) == 0.0
    assert gradcheck.rel_error([1.0, 2.0], [3.0, 2.0]) == pytest.approx(0.5)          # |1-3| / (1+3)
    assert gradcheck.rel_error(0.0, 1e-9) == pytest.approx(1e-9 / 1e-8)               # the 1e-8 floor
    assert isinstance(gradcheck.rel_error(1.0, 2.0), float)
    with pytest.raises(ValueError, match="same shape"):
        gradcheck.rel_error(np.ones(2), np.ones(3))


# --------------------------------------------------------------------------- timing
def test_time_function_returns_positive_seconds_and_calls_warmup_plus_repeats():
    calls = []
    seconds = timing.time_function(lambda a, k=0: calls.append((a, k)), 1, repeats=3, warmup=2, k=5)
    assert seconds > 0
    assert calls == [(1, 5)] * 5


def test_compare_timings_prints_a_table_and_returns_seconds(capsys):
    result = timing.compare_timings({"slow": lambda v: sorted(v * 20), "fast": lambda v: v},
                                    args=(list(range(200)),), baseline="slow", repeats=2)
    assert list(result) == ["slow", "fast"] and all(t > 0 for t in result.values())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["function", "median", "ms", "speed-up"]
    assert [ln.split()[0] for ln in lines[1:]] == ["slow", "fast"]
    assert lines[1].split()[2] == "1.0x"


def test_format_speedup_table():
    table = timing.format_speedup_table({"7 loops": 2.0, "im2col": 0.004}, baseline="7 loops")
    assert table.splitlines()[1].split() == ["7", "loops", "2000.000", "1.0x"]
    assert table.splitlines()[2].split() == ["im2col", "4.000", "500.0x"]
    with pytest.raises(ValueError, match="baseline 'fft'"):
        timing.format_speedup_table({"a": 1.0}, baseline="fft")


def test_estimate_by_scaling_scales_by_the_mac_ratio(monkeypatch):
    seen = {}

    def fake_time_function(fn, *args, **kw):
        seen.update(args=args, kw=kw)
        return 0.5
    monkeypatch.setattr(timing, "time_function", fake_time_function)
    assert timing.estimate_by_scaling(print, (1, 2), 10, 1000, repeats=1, stride=2) == pytest.approx(50.0)
    assert seen == {"args": (1, 2), "kw": {"repeats": 1, "stride": 2}}


def test_estimate_by_scaling_measures_for_real():
    assert timing.estimate_by_scaling(sum, ([1, 2, 3],), 3, 300, repeats=2) > 0


def test_best_time_is_the_least_of_the_repeats(monkeypatch):
    clock = iter([0.0, 0.5, 1.0, 1.2, 2.0, 2.9])                 # three calls: 0.5, 0.2, 0.9 s
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(clock))
    assert timing.best_time(lambda: None, repeats=3, warmup=0) == pytest.approx(0.2)


def test_report_speedup_times_the_demo_layer_and_says_what_to_expect(capsys):
    expected = rules()["speedups"]["conv_forward_im2col"]
    shapes = []

    def conv_forward_im2col(x, w, b, stride=1, pad=0):
        shapes.append((x.shape, w.shape, b.shape, stride, pad))
        return ref.conv_forward_im2col(x, w, b, stride, pad)

    result = timing.report_speedup(conv_forward_im2col, conv_forward_im2col, repeats=1, warmup=0)
    c = expected["case"]
    assert set(shapes) == {((c["H"], c["W"], c["C"], c["M"]), (c["K"], c["f"], c["f"], c["C"]), (c["K"],),
                            c["stride"], c["pad"])}
    line = capsys.readouterr().out.strip()
    # the same function against itself is about 1x: far from the 800x expected
    assert line.startswith(f"conv_forward_im2col on {expected['describe']}: expect about 800x faster than "
                           "the seven loops; yours is ")
    assert f"too slow for the hidden timing test, which asks for about {expected['at_least']:.0f}x here" in line
    assert line.endswith(expected["look_for"])
    assert result["expected"] == expected["measured"] and result["speedup"] < expected["at_least"]


def test_report_speedup_builds_backward_arguments_and_handles_a_stub(capsys):
    def conv_backward_im2col(dout, x, w, stride=1, pad=0):
        raise NotImplementedError()
    assert timing.report_speedup(conv_backward_im2col, ref.conv_backward_naive) is None
    assert capsys.readouterr().out == "conv_backward_im2col: not written yet, nothing to time\n"
    seen = []
    timing.report_speedup(lambda *args: seen.append(args) or ref.conv_backward_im2col(*args),
                          ref.conv_backward_im2col, name="conv_backward_im2col", repeats=1, warmup=0)
    dout, x, w, stride, pad = seen[0]
    assert dout.shape == ref.conv_forward_im2col(x, w, np.zeros(w.shape[0]), stride, pad).shape
    with pytest.raises(ValueError, match="no demo layer for 'im2col'; pass name= one of conv_forward_partial"):
        timing.report_speedup(ref.im2col, ref.im2col)


@pytest.mark.parametrize("speedup, says", [
    (500.0, "as expected."),
    (150.0, "slower than the course's version, but fast enough for the hidden timing test (about 100x "
            "here). To close the gap: "),
    (20.0, "too slow for the hidden timing test, which asks for about 100x here. Look for: "),
])
def test_the_verdict_compares_with_the_course_and_the_hidden_limit(speedup, says):
    expected = {"measured": 800.0, "at_least": 100.0, "look_for": "the loops."}
    assert timing._verdict(speedup, expected) in (says, says + "the loops.")


# --------------------------------------------------------------------------- plots
@pytest.mark.parametrize("H, W, f, stride, pad", [(4, 4, 2, 1, 0), (5, 4, 3, 2, 1), (3, 6, 2, 1, 1)])
def test_plot_im2col_shows_every_window_and_the_pixel_each_entry_copies(no_show, H, W, f, stride, pad):
    fig = plots.plot_im2col(H, W, f, stride, pad)
    assert isinstance(fig, Figure)
    ax_x, ax_col = fig.axes[:2]
    n_windows = ref.conv_output_size(H, f, stride, pad) * ref.conv_output_size(W, f, stride, pad)
    windows = [p for p in ax_x.patches if isinstance(p, Rectangle)]
    assert len(windows) == n_windows
    edges = np.array([matplotlib.colors.to_rgb(p.get_edgecolor()) for p in windows])
    assert len({tuple(np.round(e, 3)) for e in edges}) == n_windows                 # one colour each
    # entry (row r, column q) is labelled with the number of the pixel it copies (pixels 1..H*W, pad 0)
    numbered = np.arange(1.0, H * W + 1).reshape(H, W, 1, 1)
    expected = ref.im2col(numbered, f, stride, pad)
    labels = np.full(expected.shape, -1.0)
    for t in ax_col.texts:
        q, r = t.get_position()
        labels[int(round(r)), int(round(q))] = float(t.get_text())
    np.testing.assert_array_equal(labels, expected)
    # column q is tinted with the colour of window q
    shades = np.asarray(ax_col.images[0].get_array())[..., :3]
    assert np.allclose(shades, shades[:1])                                           # one colour per column
    tint = 1 - shades[0]
    cosine = (tint / np.linalg.norm(tint, axis=1, keepdims=True)) @ \
             ((1 - edges) / np.linalg.norm(1 - edges, axis=1, keepdims=True)).T
    assert np.array_equal(np.argmax(cosine, axis=1), np.arange(n_windows))


@pytest.mark.parametrize("H, W, f, stride, pad",
                         [(3, 3, 2, 1, 0), (7, 9, 3, 2, 1), (10, 8, 4, 3, 2), (6, 5, 5, 1, 0)])
def test_plot_overlap_counts_shows_the_number_of_windows_per_pixel(no_show, H, W, f, stride, pad):
    counts = np.zeros((H + 2 * pad, W + 2 * pad), dtype=int)
    for i in range(0, H + 2 * pad - f + 1, stride):
        for j in range(0, W + 2 * pad - f + 1, stride):
            counts[i:i + f, j:j + f] += 1
    counts = counts[pad:pad + H, pad:pad + W]
    fig = plots.plot_overlap_counts(H, W, f, stride, pad)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), counts)
    written = np.full((H, W), -1)
    for t in ax.texts:
        c, r = t.get_position()
        written[int(r), int(c)] = int(t.get_text())
    np.testing.assert_array_equal(written, counts)


def test_plot_xcol_memory_draws_the_ratio_per_stride(no_show):
    H, W, C, M = 12, 10, 2, 3
    fig = plots.plot_xcol_memory(H, W, C, M, kernel_sizes=(1, 3, 5, 11), strides=(1, 2))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lines = {ln.get_label(): ln for ln in ax.get_lines() if ln.get_label().startswith("stride")}
    assert set(lines) == {"stride 1", "stride 2"}
    for stride in (1, 2):
        fs = [f for f in (1, 3, 5, 11) if f <= min(H, W)]                          # 11 does not fit W = 10
        ratios = [ref.im2col(np.zeros((H, W, C, M)), f, stride, 0).size / (H * W * C * M) for f in fs]
        np.testing.assert_array_equal(lines[f"stride {stride}"].get_xdata(), fs)
        np.testing.assert_allclose(lines[f"stride {stride}"].get_ydata(), ratios)


def test_plot_speedups_bars_and_annotations(no_show):
    times = {"7 loops": 0.3, "4 loops": 0.1, "im2col": 0.0005}
    fig = plots.plot_speedups(times, baseline="7 loops", title="forward pass")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_title() == "forward pass"
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, [300.0, 100.0, 0.5])
    assert [t.get_text() for t in ax.texts] == ["1.0x", "3.0x", "600.0x"]
    with pytest.raises(ValueError, match="baseline"):
        plots.plot_speedups(times, baseline="fft")


def test_plot_timing_curve_draws_each_series(no_show):
    xs = [1, 3, 5, 7]
    series = {"im2col": [1e-3, 4e-3, 9e-3, 2e-2], "fft": [3e-3, 3e-3, 3.1e-3, 3.3e-3]}
    fig = plots.plot_timing_curve(xs, series, xlabel="kernel size f", title="im2col against FFT")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "kernel size f"
    drawn = {ln.get_label(): (list(ln.get_xdata()), list(ln.get_ydata())) for ln in ax.get_lines()}
    assert drawn == {name: (xs, ys) for name, ys in series.items()}
    with pytest.raises(ValueError, match="3 timings for 4 x values"):
        plots.plot_timing_curve(xs, {"bad": [1, 2, 3]}, xlabel="f")


def test_plots_refuse_sizes_where_no_window_fits():
    with pytest.raises(ValueError, match="no 5x5 window fits"):
        plots.plot_overlap_counts(3, 3, 5)


# --------------------------------------------------------------------------- stored vectors, packaging
def test_check_vectors_are_up_to_date_with_the_reference(tmp_path):
    out = tmp_path / "vectors.npz"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_check_vectors.py"), "--out", str(out)],
                   check=True, capture_output=True, cwd=tmp_path)
    shipped = np.load(HELPERS / "data" / "check_vectors.npz", allow_pickle=False)
    fresh = np.load(out, allow_pickle=False)
    assert sorted(shipped.files) == sorted(fresh.files), "run tools/make_check_vectors.py"
    for key in fresh.files:
        assert shipped[key].shape == fresh[key].shape and shipped[key].dtype == fresh[key].dtype, key
        if fresh[key].dtype.kind == "f":
            np.testing.assert_allclose(shipped[key], fresh[key], rtol=1e-12, atol=1e-12, err_msg=key)
        else:
            assert np.array_equal(shipped[key], fresh[key]), key
    assert (HELPERS / "data" / "check_vectors.npz").stat().st_size < 256_000


def test_course_rules_are_up_to_date_with_the_autograder(tmp_path):
    out = tmp_path / "rules.json"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_student_data.py"), "--out", str(out)],
                   check=True, capture_output=True, cwd=tmp_path)
    shipped = (HELPERS / "data" / "course_rules.json").read_text(encoding="utf-8")
    assert shipped == out.read_text(encoding="utf-8"), "run make notebooks (tools/make_student_data.py)"


def test_course_rules_say_what_the_autograder_says():
    shipped = rules()
    assert list(shipped["misconceptions"]) == list(misconceptions.IDS)
    fft = shipped["misconceptions"]["true-convolution"]
    assert fft["hints"]["conv_forward_fft"] == misconceptions.get("true-convolution").hint_for("conv_forward_fft")
    assert shipped["tolerances"]["float32"] == list(misconceptions.tolerance(np.float32))
    assert shipped["public_checks"]["check_conv_forward"] == [
        "conv_forward_naive", "conv_forward_partial", "conv_forward_im2col", "conv_forward_fft"]
    im2col = shipped["speedups"]["conv_forward_im2col"]
    assert im2col["at_least"] == pytest.approx(im2col["measured"] / 8)          # IM2COL_MAX_RATIO
    assert shipped["speedups"]["conv_forward_partial"]["at_least"] == 5         # PARTIAL_MIN_SPEEDUP_VS_NAIVE


def test_the_hand_worked_values_are_the_reference_s():
    data = checks._vectors()
    np.testing.assert_array_equal(data["conv_forward/hand/expected"], checks._grid(checks._OUT))
    np.testing.assert_array_equal(data["conv_backward/hand/dx/expected"], checks._grid(checks._DX))
    np.testing.assert_array_equal(data["conv_backward/hand/dw/expected"][0, :, :, 0], checks._DW)
    np.testing.assert_array_equal(data["conv_single_step/hand/expected"], [38.0, -2.0])


def test_check_vectors_include_the_agreed_cases():
    data = checks._vectors()
    assert data["case/lecture/x"].shape == (6, 6, 10, 1) and data["case/lecture/w"].shape == (6, 3, 3, 10)
    assert data["conv_forward/lecture/expected"].shape == (4, 4, 6, 1)
    x = data["case/s2p1/x"]
    assert x.shape[0] != x.shape[1] and x.shape[3] > 1
    assert int(data["case/s2p1/stride"]) == 2 and int(data["case/s2p1/pad"]) == 1
    assert int(data["case/p0/pad"]) == 0 and "conv_backward/p0/dx/expected" in data
    assert "col2im/s2p1/expected" in data


def test_helpers_import_without_autograder_from_anywhere(tmp_path):
    code = ("import sys, helpers.checks, helpers.gradcheck, helpers.timing, helpers.plots, helpers.rules\n"
            "assert not [m for m in sys.modules if m.split('.')[0] == 'autograder'], 'autograder imported'\n"
            "print(len(helpers.checks._vectors()))")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"MPLBACKEND": "Agg", "MPLCONFIGDIR": str(tmp_path / "mpl"), "PATH": ""})
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) > 50


def _modules():
    return sorted(HELPERS.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_helpers_never_import_autograder(path):
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        assert not any(n.split(".")[0] == "autograder" for n in names), f"{path.name} imports {names}"


class _Normalise(ast.NodeTransformer):
    """Rename every name and argument to v0, v1, ... in order of appearance; blank strings."""

    def __init__(self):
        self.names = {}

    def _rename(self, name):
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        node.id = self._rename(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._rename(node.arg)
        node.annotation = None
        return node

    def visit_Constant(self, node):
        return ast.Constant("") if isinstance(node.value, str) else node


def _normalised_bodies(source):
    """{dump of a function body, docstring dropped and names normalised: function name}."""
    bodies = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            if body:
                tree = _Normalise().visit(ast.Module(body=copy.deepcopy(body), type_ignores=[]))
                bodies[ast.dump(tree)] = node.name
    return bodies


def test_the_body_comparison_sees_through_renaming():
    copied = re.sub(r"\bw\b", "kernel", inspect.getsource(ref.conv_single_step).replace("x_slice", "patch"))
    copied = re.sub(r"\bb\b", "bias", copied.replace("def conv_single_step(", "def one_window("))
    assert "def one_window(patch, kernel, bias):" in copied
    assert set(_normalised_bodies(copied)) <= set(_normalised_bodies(inspect.getsource(ref)))


def test_no_helpers_function_body_matches_a_reference_body():
    secret = _normalised_bodies(inspect.getsource(ref))
    assert len(secret) >= 11
    for path in _modules():
        for body, name in _normalised_bodies(path.read_text()).items():
            assert body not in secret, f"{path.name}:{name} has the body of reference.{secret[body]}"


def test_helpers_define_no_contract_function():
    contract = set(ref.__all__)
    for path in _modules():
        defined = {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)}
        assert not defined & contract, f"{path.name} defines {defined & contract}"
