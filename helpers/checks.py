"""Public sanity checks, the ones the notebooks' visible test cells run.

    from helpers.checks import check_conv_forward
    check_conv_forward(conv_forward_naive)

Each check calls your function on a few small cases, prints one "✓ ..." line per case that
passes and raises AssertionError at the first case that does not, saying what was tried (the
sizes), what was expected, what came back, and where to look (the likely mistake, when the
output matches what a known mistake produces). Passing these is a first signal, not full marks:
the graders run many more cases.

Expected values are hand-worked literals (with their arithmetic in comments) for tiny cases,
and stored test vectors (helpers/data/check_vectors.npz) for bigger ones: the lecture's 6x6x10
input with six 3x3x10 filters, an H != W stride-2 pad-1 case with two samples, a size that does
not tile, and a pad-0 case. Layout (docs/CONTRACT.md): x (H, W, C, M), w (K, f, f, C), b (K,),
out (H_out, W_out, K, M), X_col (f*f*C, H_out*W_out*M).
"""
import numbers
from functools import lru_cache
from importlib import resources

import numpy as np

RTOL = 1e-6
ATOL = 1e-8

# What each known mistake (docs/CONTRACT.md "Known mistakes" id) looks like, and where to look.
HW_SWAPPED = ("height and width swapped: the first axis is H (rows, i), the second W (columns, j); "
              "check the order of your loops' indices and of any reshape")
HINTS = {
    "true-convolution": "the output is the flipped-kernel convolution: the layer is "
                        "cross-correlation, do not flip w (use w[k, u, v, c], not w[k, f-1-u, f-1-v, c])",
    "missing-bias": "bias missing: add b[k] to every output of filter k",
    "ignores-stride": "stride ignored: window (i, j) starts at row i*stride and column j*stride",
    "ignores-padding": "padding ignored: zero-pad the input by `pad` on H and W before sliding windows",
    "output-size-rounding": "output size rounded up: it is floor((n + 2*pad - f) / stride) + 1, "
                            "windows that would run past the padded edge are dropped (use //)",
    "pads-every-axis": "padded the channel axis too (and the sample axis): pad only H and W, "
                       "(np.pad takes one (before, after) pair per axis; C and M get (0, 0))",
    "im2col-row-order": "rows ordered differently from (u, v, c): row r = (u*f + v)*C + c, "
                        "the order of w.reshape(K, -1)",
    "im2col-column-order": "columns ordered differently from (i, j, n): column q = (i*W_out + j)*M + n",
    "col2im-overwrites-overlap": "overlapping windows overwritten instead of summed (use +=): "
                                 "a pixel covered by several windows gets the sum of all their values",
    "dx-keeps-padding": "drop the `pad` border rows and columns at the end: slice [pad:pad+H, pad:pad+W]",
    "empty-at-pad-zero": "[p:-p] is empty when pad == 0 (-0 is 0): slice [pad:pad+H, pad:pad+W] instead",
    "grad-last-sample-only": "dw/db from one sample only: accumulate (+=) the contributions of all "
                             "M samples, do not overwrite them in the sample loop",
}

# Short names of the stored cases, for messages.
TITLES = {
    "lecture": "the lecture's layer",
    "s2p1": "H != W, stride 2, pad 1, two samples",
    "s3p2": "a size that does not tile (stride 3, pad 2), three samples",
    "p0": "pad 0, stride 1, overlapping 6x6 windows, two samples",
}


# --------------------------------------------------------------------------- stored vectors
@lru_cache(maxsize=1)
def _vectors():
    """Every array of check_vectors.npz, as a dict (read once)."""
    with resources.files("helpers").joinpath("data", "check_vectors.npz").open("rb") as fh:
        with np.load(fh, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}


def _case(cid):
    """A stored case: arrays x, w, b (and dout, cols for backward cases), ints f, stride, pad,
    and `tried`, a description for messages."""
    prefix = f"case/{cid}/"
    case = {k[len(prefix):]: v for k, v in _vectors().items() if k.startswith(prefix)}
    for k in ("f", "stride", "pad"):
        case[k] = int(case[k])
    case["tried"] = f"{TITLES[cid]}: {case.pop('describe')}"
    return case


def _target(key):
    """(expected, [(mistake id, what that mistake returns), ...]) stored under `key`."""
    data = _vectors()
    prefix = f"{key}/mistake/"
    mistakes = [(k[len(prefix):].rsplit("/", 1)[0], v) for k, v in data.items() if k.startswith(prefix)]
    return data[f"{key}/expected"], mistakes


def _stored(prefix, cid):
    return _vectors()[f"{prefix}/{cid}"]


# --------------------------------------------------------------------------- reporting
def _label(fn, default):
    """The function's name for messages; `default` for lambdas and proxies."""
    name = getattr(fn, "__name__", "")
    return name if name.isidentifier() else default


def _passed(text):
    print(f"✓ {text}")


def _fmt(a, n=5, around=None):
    """`n` values of the flattened array, for messages: the first ones, or those around flat
    index `around`; "..." marks each side where values were left out."""
    flat = np.ravel(a)
    start = 0 if around is None else max(0, min(around - n // 2, flat.size - n))
    shown = np.array2string(flat[start:start + n], precision=4, separator=", ", suppress_small=True)
    if start + n < flat.size:
        shown = shown[:-1] + ", ...]"
    return "[..., " + shown[1:] if start > 0 else shown


def _describe(a, around=None):
    """"shape S, values [...]" (the first values), or around flat index `around`: "shape S,
    values around index (i, j, k, l) [...]"; a 0-d array's value alone."""
    a = np.asarray(a)
    if not a.ndim:
        return f"{a.item()!r}"
    if around is None:
        return f"shape {a.shape}, values {_fmt(a)}"
    index = tuple(int(i) for i in np.unravel_index(around, a.shape))
    return f"shape {a.shape}, values around index {index} {_fmt(a, around=around)}"


def _fail(label, problem, tried, expected=None, got=None, extra="", hint=None, around=None):
    """Raise the AssertionError of a failed case; `around`: the flat index whose neighbourhood
    the expected/got previews show (default: their first values)."""
    lines = [f"{label}: {problem}", f"  tried:    {tried}"]
    if expected is not None:
        lines.append(f"  expected: {_describe(expected, around)}")
    if got is not None:
        lines.append(f"  got:      {_describe(got, around)}")
    if extra:
        lines.append(f"  {extra}")
    if hint:
        lines.append(f"  likely mistake: {hint}")
    raise AssertionError("\n".join(lines))


def _report_exception(e, label, tried, hint=None):
    """Raise the AssertionError that says the student's function raised `e` on `tried`."""
    kind = getattr(e, "exc_type", type(e).__name__)   # a grader's proxy reports the type by name
    if kind == "NotImplementedError":
        _fail(label, "not written yet: it raised NotImplementedError; replace "
                     "`raise NotImplementedError()` with your code", tried)
    _fail(label, f"raised {kind}: {getattr(e, 'message', e)}", tried, hint=hint)


def _call(fn, label, tried, *args, hint=None, **kwargs):
    """fn(*args, **kwargs); an exception becomes an AssertionError saying what was tried."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # the student's error, reported as a failed check
        _report_exception(e, label, tried, hint)


def _as_array(got, label, tried, what):
    if got is None:
        _fail(label, f"returned None instead of {what}: did you forget `return`?", tried)
    arr = np.asarray(got)
    if arr.dtype.kind == "c":
        _fail(label, f"returned complex values instead of {what}", tried,
              hint="the layer's output is real: after an inverse FFT keep the real part (or use irfft2)")
    if arr.dtype.kind not in "biuf":
        _fail(label, f"returned a {type(got).__name__} (dtype {arr.dtype}) instead of {what}, "
                     "a numeric numpy array", tried)
    return arr


def _close(a, b):
    with np.errstate(all="ignore"):
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


# --------------------------------------------------------------------------- comparing arrays
def _shape_hint(got_shape, expected_shape, shape_hints, axes):
    for shape, hint in shape_hints:
        if tuple(shape) == got_shape:
            return hint
    if sorted(got_shape) == sorted(expected_shape):
        return f"the axes are in another order: the layout is {axes}; check the final reshape/transpose"
    return f"the layout is {axes}"


def _compare(got, expected, mistakes, *, label, tried, what, axes, shape_hints=(), overlap=None,
             spatial=False):
    """Raise AssertionError unless `got` equals `expected` (to RTOL/ATOL).

    mistakes: [(id or hint, what that mistake returns)] used to name the mistake; shape_hints:
    [(shape, hint)] for wrong shapes; overlap: (H, W) window counts per pixel, to recognise
    results wrong only where windows overlap; spatial: the first two axes are height and width
    (a result with them swapped is recognised).
    """
    got = _as_array(got, label, tried, what)
    if got.shape != expected.shape:
        _fail(label, f"{what} has shape {got.shape} but should have shape {expected.shape} {axes}",
              tried, hint=_shape_hint(got.shape, expected.shape, shape_hints, axes))
    if _close(got, expected):
        return
    hint = next((HINTS.get(mid, mid) for mid, value in mistakes if _close(got, np.asarray(value))), None)
    if hint is None and spatial and _close(got, expected.swapaxes(0, 1)):
        hint = HW_SWAPPED
    with np.errstate(all="ignore"):          # inf or nan in a student's output: no warning on stderr
        err = np.abs(got.astype(np.float64) - expected)
    err[np.isnan(err)] = np.inf
    if hint is None and overlap is not None:
        shared = np.broadcast_to((overlap > 1).reshape(overlap.shape + (1,) * (got.ndim - 2)), got.shape)
        if shared.any() and np.max(np.where(shared, 0.0, err)) <= ATOL:
            hint = HINTS["col2im-overwrites-overlap"] + " (only pixels covered by several windows are wrong)"
    worst = int(np.argmax(err))
    where = np.unravel_index(worst, err.shape)
    extra = (f"max abs error {err[where]:.3g} at index {tuple(map(int, where))}: "
             f"expected {expected[where]:.6g}, got {got[where]:.6g}")
    _fail(label, f"wrong values in {what}", tried, expected, got, extra, hint, around=worst)


def _windows(n, f, stride, pad):
    """Number of window positions along an axis, counted (not a formula); 0 if none fits."""
    return len(range(0, n + 2 * pad - f + 1, stride))


def _size_hints(H, W, f, stride, pad, shape_of):
    """[(shape, hint)] for the output sizes the known size mistakes give.

    shape_of(H_out, W_out) builds the function's output shape from the output's spatial size.
    """
    right = (_windows(H, f, stride, pad), _windows(W, f, stride, pad))
    rounded_up = (len(range(0, H + 2 * pad - f + stride, stride)), len(range(0, W + 2 * pad - f + stride, stride)))
    wrong = [(rounded_up, "output-size-rounding", "rounded up")]
    if stride > 1:
        wrong.append(((_windows(H, f, 1, pad), _windows(W, f, 1, pad)), "ignores-stride",
                      f"for stride 1, not {stride}"))
    if pad > 0:
        wrong.append(((_windows(H, f, stride, 0), _windows(W, f, stride, 0)), "ignores-padding",
                      f"for pad 0, not {pad}"))
    hints = [(shape_of(*hw), f"{HINTS[mid]} (the result has H_out={hw[0]}, W_out={hw[1]}, the sizes {why}; "
                             f"expected H_out={right[0]}, W_out={right[1]})")
             for hw, mid, why in wrong if hw != right]
    if right[0] != right[1]:
        hints.append((shape_of(right[1], right[0]), HW_SWAPPED))
    return hints


def _dx_shape_hints(x_shape, pad, name="dx", of="x has"):
    """[(shape, hint)] for a gradient w.r.t. x returned with the padded shape or emptied."""
    H, W, C, M = x_shape
    if pad == 0:
        return [((0, 0, C, M), HINTS["empty-at-pad-zero"])]
    padded = (H + 2 * pad, W + 2 * pad, C, M)
    return [(padded, f"{name} has the padded shape {padded} but {of} {tuple(x_shape)}: did you return "
                     f"the padded gradient? ({HINTS['dx-keeps-padding']})")]


def _grid(rows):
    """A one-channel, one-sample input (H, W, 1, 1) from a list of rows."""
    return np.array(rows, dtype=np.float64)[:, :, None, None]


# --------------------------------------------------------------------------- a1_naive
# (n, f, stride, pad) -> expected size, with what the known mistakes would return
_SIZE_CASES = (
    # AlexNet conv1: (227 + 0 - 11) / 4 + 1 = 216 / 4 + 1 = 54 + 1 = 55
    ((227, 11, 4, 0), 55, {217: "ignores-stride"}),
    # the lecture's layer: (6 - 3) / 1 + 1 = 4
    ((6, 3, 1, 0), 4, {}),
    # (7 - 3) / 2 + 1 = 2 + 1 = 3: windows start at 0, 2, 4 and the last ends exactly at 7
    ((7, 3, 2, 0), 3, {5: "ignores-stride"}),
    # does not tile: (8 - 3) / 2 = 2.5 -> floor 2, + 1 = 3 (a 4th window would need a 9th pixel)
    ((8, 3, 2, 0), 3, {4: "output-size-rounding", 6: "ignores-stride"}),
    # does not tile: (11 - 3) / 3 = 2.67 -> floor 2, + 1 = 3 (rounding to nearest gives 4)
    ((11, 3, 3, 0), 3, {4: "output-size-rounding", 9: "ignores-stride"}),
    # "same" padding: (5 + 2 - 3) / 1 + 1 = 5
    ((5, 3, 1, 1), 5, {3: "ignores-padding"}),
    # ResNet's first layer: (224 + 6 - 7) / 2 = 111.5 -> 111, + 1 = 112
    ((224, 7, 2, 3), 112, {113: "output-size-rounding", 109: "ignores-padding", 224: "ignores-stride"}),
    # the window exactly covers the padded input: (3 + 2 - 5) / 1 + 1 = 1
    ((3, 5, 1, 1), 1, {}),
)


def check_conv_output_size(conv_output_size):
    """Check conv_output_size(n, f, stride=1, pad=0) -> int on hand-worked sizes."""
    label = _label(conv_output_size, "conv_output_size")
    for (n, f, stride, pad), expected, mistakes in _SIZE_CASES:
        tried = f"conv_output_size({n}, {f}, stride={stride}, pad={pad})"
        got = _call(conv_output_size, label, tried, n, f, stride=stride, pad=pad)
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            if isinstance(got, numbers.Real) and float(got) == expected:
                _fail(label, f"returned {got!r}, a {type(got).__name__}, not an int", tried, expected, got,
                      hint="use integer division // (a size is a whole number; / gives a float)")
            _fail(label, f"returned {got!r} ({type(got).__name__}), expected the int {expected}", tried,
                  hint="use integer division //: floor((n + 2*pad - f) / stride) + 1")
        if got != expected:
            mid = mistakes.get(int(got))
            _fail(label, f"returned {got}, expected {expected}", tried,
                  hint=HINTS[mid] if mid else "the size is floor((n + 2*pad - f) / stride) + 1")
    _passed(f"{label}: {len(_SIZE_CASES)} hand-worked sizes (AlexNet conv1 227, f 11, stride 4 -> 55; "
            "sizes that do not tile; padding)")
    tried = "conv_output_size(3, 5, stride=1, pad=0): a 5-wide window in 3 pixels"
    try:
        got = conv_output_size(3, 5, stride=1, pad=0)
    except Exception as e:
        if getattr(e, "exc_type", type(e).__name__) != "ValueError":
            _report_exception(e, label, tried, hint="raise ValueError when f > n + 2*pad")
        _passed(f"{label}: raises ValueError when no window fits (f > n + 2*pad)")
        return
    _fail(label, f"returned {got!r} although no window fits", tried,
          hint="raise ValueError (with a message naming n, f and pad) when f > n + 2*pad")


def _check_padded(got, x, pad, label, tried):
    """got must be x with `pad` zeros around H and W: shape, then the middle, then the border."""
    H, W, C, M = x.shape
    shape = (H + 2 * pad, W + 2 * pad, C, M)
    got = _as_array(got, label, tried, "the padded array")
    if got.shape != shape:
        one_side = (H + pad, W + pad, C, M)
        _fail(label, f"the padded array has shape {got.shape}, expected {shape} = (H+2*pad, W+2*pad, C, M)",
              tried, hint=_shape_hint(got.shape, shape, [
                  ((H + 2 * pad, W + 2 * pad, C + 2 * pad, M + 2 * pad), HINTS["pads-every-axis"]),
                  ((H + 2 * pad, W + 2 * pad, C + 2 * pad, M), HINTS["pads-every-axis"]),
                  (one_side, "padded one side only: pad adds `pad` zeros on BOTH sides"),
                  ((0, 0, C, M), HINTS["empty-at-pad-zero"])], "(H+2*pad, W+2*pad, C, M)"))
    middle = got[pad:pad + H, pad:pad + W]
    if not np.array_equal(middle, x):
        _fail(label, f"x is not in the middle of the padded array (rows {pad}..{pad + H - 1}, "
                     f"columns {pad}..{pad + W - 1})", tried, x, middle,
              hint="the input goes to [pad:pad+H, pad:pad+W], unchanged, for every channel and sample")
    border = float(np.abs(got).sum() - np.abs(middle).sum())
    if border != 0:
        _fail(label, f"the border is not all zeros (sum of |border| = {border:g})", tried, got=got,
              hint="pad with zeros (np.pad's default constant mode, or np.zeros and one assignment)")


def check_zero_pad(zero_pad):
    """Check zero_pad(x, pad) -> (H+2p, W+2p, C, M): a hand-worked case, a bigger one, pad 0."""
    label = _label(zero_pad, "zero_pad")
    cases = [
        # [[1, 2],      pad 1     [[0, 0, 0, 0],
        #  [3, 4]]      ----->     [0, 1, 2, 0],
        #                          [0, 3, 4, 0],
        #                          [0, 0, 0, 0]]
        ("x = [[1, 2], [3, 4]] as a (2, 2, 1, 1) array", _grid([[1, 2], [3, 4]]), 1),
        # x (3, 4, 2, 2) holding 1..48, pad 2 -> (7, 8, 2, 2): x in the middle, zeros around
        ("x of shape (3, 4, 2, 2) holding 1..48 (C = 2 channels, M = 2 samples)",
         np.arange(1.0, 49.0).reshape(3, 4, 2, 2), 2),
        ("x of shape (3, 4, 2, 2) holding 1..48: pad 0 gives x back", np.arange(1.0, 49.0).reshape(3, 4, 2, 2), 0),
    ]
    for what, x, pad in cases:
        tried = f"zero_pad(x, {pad}) with {what}"
        got = _call(zero_pad, label, tried, x, pad, hint=HINTS["empty-at-pad-zero"] if pad == 0 else None)
        _check_padded(got, x, pad, label, tried)
        _passed(f"{label}: {tried}")


# --------------------------------------------------------------------------- forward layers
# The 3x3 input with a 2x2 kernel, worked by hand (one channel, one sample, one filter, b = 1):
#   x = [[1, 2, 3],     w = [[1, 2],
#        [4, 5, 6],          [3, 4]]
#        [7, 8, 9]]
#   out[0, 0] = 1*1 + 2*2 + 4*3 + 5*4 + 1 = 1 + 4 + 12 + 20 + 1 = 38
#   out[0, 1] = 2*1 + 3*2 + 5*3 + 6*4 + 1 = 2 + 6 + 15 + 24 + 1 = 48
#   out[1, 0] = 4*1 + 5*2 + 7*3 + 8*4 + 1 = 4 + 10 + 21 + 32 + 1 = 68
#   out[1, 1] = 5*1 + 6*2 + 8*3 + 9*4 + 1 = 5 + 12 + 24 + 36 + 1 = 78
# With the kernel flipped ([[4, 3], [2, 1]], true convolution): 1*4 + 2*3 + 4*2 + 5*1 + 1 = 24, ...
_X33 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
_W22 = [[1, 2], [3, 4]]
_OUT = [[38, 48], [68, 78]]
_OUT_FLIPPED = [[24, 34], [54, 64]]
_OUT_NO_BIAS = [[37, 47], [67, 77]]
FORWARD_CASES = ("lecture", "s2p1", "s3p2")


def _forward_hints(case_shape, f, stride, pad, K, M):
    H, W = case_shape
    return _size_hints(H, W, f, stride, pad, lambda ho, wo: (ho, wo, K, M))


def check_conv_single_step(conv_single_step):
    """Check conv_single_step(x_slice, w_k, b_k) -> float on the hand-worked window and a
    3x3x10 window of the lecture's input."""
    label = _label(conv_single_step, "conv_single_step")
    # the first window of the 3x3 input: [[1, 2], [4, 5]] . [[1, 2], [3, 4]] + 1 = 37 + 1 = 38
    x_slice = np.array([[1.0, 2.0], [4.0, 5.0]])[:, :, None]
    w_k = np.array(_W22, dtype=np.float64)[:, :, None]
    cases = [("the window [[1, 2], [4, 5]] with the kernel [[1, 2], [3, 4]] and b_k = 1 (f=2, C=1)",
              (x_slice, w_k, 1.0), 38.0, [("true-convolution", 24.0), ("missing-bias", 37.0)])]
    key = "conv_single_step/lecture"
    expected, mistakes = _target(key)
    cases.append(("a 3x3x10 window of the lecture's input with its third filter (f=3, C=10)",
                  tuple(_vectors()[f"{key}/{k}"] for k in ("x_slice", "w_k", "b_k")), float(expected),
                  [(mid, float(v)) for mid, v in mistakes]))
    for tried, args, expected, mistakes in cases:
        got = _call(conv_single_step, label, tried, *args)
        arr = _as_array(got, label, tried, "a number")
        if arr.ndim != 0 and arr.size != 1:
            _fail(label, f"returned an array of shape {arr.shape} instead of one number", tried, expected, arr,
                  hint="sum all f*f*C products (np.sum over every axis) and add b_k")
        value = float(arr.reshape(()))
        if not np.isclose(value, expected, rtol=RTOL, atol=ATOL):
            hint = next((HINTS[mid] for mid, v in mistakes if np.isclose(value, v, rtol=RTOL, atol=ATOL)), None)
            _fail(label, f"returned {value:.6g}, expected {expected:.6g}", tried,
                  extra=f"error {abs(value - expected):.3g}", hint=hint)
        _passed(f"{label}: {tried}")


def check_conv_forward(conv_forward):
    """Check a forward layer conv_forward(x, w, b, stride=1, pad=0) -> out (H_out, W_out, K, M).

    Works for conv_forward_naive, _partial, _im2col and _fft: the hand-worked 3x3 input with a
    2x2 kernel, then the stored cases (the lecture's 6x6x10 layer; H != W with stride 2, pad 1
    and two samples; a size that does not tile).
    """
    label = _label(conv_forward, "your layer")
    axes = "(H_out, W_out, K, M)"
    x, w, b = _grid(_X33), np.array(_W22, dtype=np.float64)[None, :, :, None], np.array([1.0])
    tried = ("the 3x3 input [[1, 2, 3], [4, 5, 6], [7, 8, 9]] with the 2x2 kernel [[1, 2], [3, 4]], "
             "b = 1, stride 1, pad 0 (x (3, 3, 1, 1), w (1, 2, 2, 1))")
    got = _call(conv_forward, label, tried, x, w, b, 1, 0)
    _compare(got, _grid(_OUT), [("true-convolution", _grid(_OUT_FLIPPED)), ("missing-bias", _grid(_OUT_NO_BIAS))],
             label=label, tried=tried, what="out", axes=axes, spatial=True,
             shape_hints=_forward_hints((3, 3), 2, 1, 0, 1, 1))
    _passed(f"{label}: the 3x3 input with a 2x2 kernel (hand-worked)")
    for cid in FORWARD_CASES:
        case = _case(cid)
        s, p = case["stride"], case["pad"]
        tried = f"{case['tried']}; called with stride={s}, pad={p}"
        got = _call(conv_forward, label, tried, case["x"], case["w"], case["b"], s, p)
        expected, mistakes = _target(f"conv_forward/{cid}")
        K, M = case["w"].shape[0], case["x"].shape[3]
        _compare(got, expected, mistakes, label=label, tried=tried, what="out", axes=axes, spatial=True,
                 shape_hints=_forward_hints(case["x"].shape[:2], case["f"], s, p, K, M))
        _passed(f"{label}: {case['tried']}")


# --------------------------------------------------------------------------- a3_im2col
# im2col of the 3x3 input with f = 2 (stride 1, pad 0): 4 windows, 4 values each.
#   column q = i*W_out + j holds window (i, j); row r = u*f + v holds its pixel (u, v)
#   window (0,0) = [1, 2, 4, 5], (0,1) = [2, 3, 5, 6], (1,0) = [4, 5, 7, 8], (1,1) = [5, 6, 8, 9]
_XCOL_33 = [[1, 2, 4, 5],     # r = 0: (u, v) = (0, 0) of each window
            [2, 3, 5, 6],     # r = 1: (0, 1)
            [4, 5, 7, 8],     # r = 2: (1, 0)
            [5, 6, 8, 9]]     # r = 3: (1, 1)
# The 2x2 input [[1, 2], [3, 4]] with f = 2, stride 2, pad 1: padded to 4x4, windows start at
# rows/columns 0 and 2, and each window holds one pixel of x in a different corner:
#   window (0,0) = [0, 0, 0, 1], (0,1) = [0, 0, 2, 0], (1,0) = [0, 3, 0, 0], (1,1) = [4, 0, 0, 0]
_XCOL_PADDED = [[0, 0, 0, 4],
                [0, 0, 3, 0],
                [0, 2, 0, 0],
                [1, 0, 0, 0]]
IM2COL_CASES = ("lecture", "s2p1")
TRANSPOSED = ("X_col is transposed: one COLUMN per window position (H_out*W_out*M columns), "
              "one ROW per entry of a window (f*f*C rows)")


def check_im2col(im2col):
    """Check im2col(x, f, stride=1, pad=0) -> X_col (f*f*C, H_out*W_out*M), rows (u, v, c),
    columns (i, j, n): two hand-worked cases, then the lecture's layer and an H != W case."""
    label = _label(im2col, "im2col")
    axes = "(f*f*C, H_out*W_out*M)"

    def hints(H, W, C, M, f, s, p):
        wrong = _size_hints(H, W, f, s, p, lambda ho, wo: (f * f * C, ho * wo * M))
        right = (f * f * C, _windows(H, f, s, p) * _windows(W, f, s, p) * M)
        return [(right[::-1], TRANSPOSED)] + wrong

    def hand_mistakes(X):
        """What the order mistakes give on a hand-worked (4, 4) X_col (f = 2, C = 1, 2x2 windows)."""
        swap = [0, 2, 1, 3]                                   # (u, v) <-> (v, u), or (i, j) <-> (j, i)
        return [("im2col-row-order", X[swap]), ("im2col-column-order", X[:, swap]), (TRANSPOSED, X.T)]

    hand = [("the 3x3 input [[1, 2, 3], [4, 5, 6], [7, 8, 9]], f=2, stride 1, pad 0",
             (_grid(_X33), 2, 1, 0), np.array(_XCOL_33, dtype=np.float64), hints(3, 3, 1, 1, 2, 1, 0)),
            ("the 2x2 input [[1, 2], [3, 4]], f=2, stride 2, pad 1 (one pixel per window)",
             (_grid([[1, 2], [3, 4]]), 2, 2, 1), np.array(_XCOL_PADDED, dtype=np.float64),
             hints(2, 2, 1, 1, 2, 2, 1))]
    for tried, args, expected, shape_hints in hand:
        got = _call(im2col, label, tried, *args)
        _compare(got, expected, hand_mistakes(expected), label=label, tried=tried, what="X_col", axes=axes,
                 shape_hints=shape_hints)
        _passed(f"{label}: {tried} (hand-worked)")
    for cid in IM2COL_CASES:
        case = _case(cid)
        f, s, p = case["f"], case["stride"], case["pad"]
        tried = f"{case['tried']}; called as im2col(x, {f}, stride={s}, pad={p})"
        got = _call(im2col, label, tried, case["x"], f, s, p)
        expected, mistakes = _target(f"im2col/{cid}")
        _compare(got, expected, mistakes, label=label, tried=tried, what="X_col", axes=axes,
                 shape_hints=hints(*case["x"].shape, f, s, p))
        _passed(f"{label}: {case['tried']}")


# --------------------------------------------------------------------------- a4_backward
# Windows covering each pixel (what col2im sums when every column is all ones):
#   3x3 input, f = 2, stride 1, pad 0: the centre is in all 4 windows, edges in 2, corners in 1
_COUNTS_33 = [[1, 2, 1],
              [2, 4, 2],
              [1, 2, 1]]
#   5x5 input, f = 3, stride 2, pad 1: padded rows 0..6, windows cover rows 0-2, 2-4, 4-6, so
#   padded rows 2 and 4 are in two windows; the input's rows (padded 1..5) are covered
#   [1, 2, 1, 2, 1] times, likewise the columns; a pixel's count is row count * column count
_COUNTS_55 = [[1, 2, 1, 2, 1],
              [2, 4, 2, 4, 2],
              [1, 2, 1, 2, 1],
              [2, 4, 2, 4, 2],
              [1, 2, 1, 2, 1]]
BACKWARD_CASES = ("s2p1", "p0")


def check_col2im(col2im, im2col):
    """Check col2im(X_col, x_shape, f, stride=1, pad=0) -> array of shape x_shape.

    Overlap counts (hand-worked), the stored cases (stride 2 with pad 1; pad 0), and the adjoint
    identity <im2col(x), Y> == <x, col2im(Y)> with your im2col.
    """
    label = _label(col2im, "col2im")
    axes = "x_shape = (H, W, C, M)"
    for counts, f, s, p in ((_COUNTS_33, 2, 1, 0), (_COUNTS_55, 3, 2, 1)):
        expected = _grid(counts)
        H, W = expected.shape[:2]
        n_cols = _windows(H, f, s, p) * _windows(W, f, s, p)
        tried = (f"col2im(np.ones(({f * f}, {n_cols})), ({H}, {W}, 1, 1), {f}, stride={s}, pad={p}): "
                 "every window adds 1 to each pixel it covers")
        got = _call(col2im, label, tried, np.ones((f * f, n_cols)), (H, W, 1, 1), f, s, p)
        _compare(got, expected, [("col2im-overwrites-overlap", (expected > 0).astype(np.float64))],
                 label=label, tried=tried, what="the result", axes=axes,
                 shape_hints=_dx_shape_hints((H, W, 1, 1), p, "the result", "x_shape is"))
        _passed(f"{label}: overlap counts of a {H}x{W} input, f={f}, stride {s}, pad {p}")
    for cid in BACKWARD_CASES:
        case = _case(cid)
        f, s, p, x, cols = case["f"], case["stride"], case["pad"], case["x"], case["cols"]
        tried = f"{case['tried']}; col2im(cols of shape {cols.shape}, {x.shape}, {f}, stride={s}, pad={p})"
        got = _call(col2im, label, tried, cols, x.shape, f, s, p)
        expected, mistakes = _target(f"col2im/{cid}")
        _compare(got, expected, mistakes, label=label, tried=tried, what="the result", axes=axes,
                 shape_hints=_dx_shape_hints(x.shape, p, "the result", "x_shape is"),
                 overlap=_stored("col2im", cid + "/counts"))
        _passed(f"{label}: {case['tried']}")

    case = _case("s2p1")
    f, s, p, x, cols = case["f"], case["stride"], case["pad"], case["x"], case["cols"]
    im_label = _label(im2col, "im2col")
    tried = f"the adjoint identity <im2col(x), Y> == <x, col2im(Y)> on {case['tried']}"
    X = _as_array(_call(im2col, im_label, tried, x, f, s, p), im_label, tried, "X_col")
    if X.shape != cols.shape:
        _fail(im_label, f"X_col has shape {X.shape}, expected {cols.shape}: fix im2col first (check_im2col)",
              tried)
    back = _as_array(_call(col2im, label, tried, cols, x.shape, f, s, p), label, tried, "the result")
    with np.errstate(all="ignore"):
        lhs, rhs = float(np.sum(X * cols)), float(np.sum(x * back))
    if not np.isclose(lhs, rhs, rtol=1e-9, atol=1e-9):
        _fail(label, f"<im2col(x), Y> = {lhs:.10g} but <x, col2im(Y)> = {rhs:.10g}", tried,
              hint="col2im must send every entry of Y back to the pixel im2col copied it from; "
                   "col2im passed the stored vectors, so check im2col (check_im2col)")
    _passed(f"{label}: adjoint of your im2col (<im2col(x), Y> == <x, col2im(Y)>)")


# The 3x3 input with the 2x2 kernel again, backward with dout = all ones (2x2):
#   dx[r, c] = sum of w[u, v] over the windows (i, j) with (i + u, j + v) = (r, c):
#     [[1,     1+2,         2  ],        [[1,  3, 2],
#      [1+3,   1+2+3+4,     2+4],   =     [4, 10, 6],
#      [3,     3+4,         4  ]]         [3,  7, 4]]
#   dw[u, v] = sum of the 2x2 block of x starting at (u, v): 1+2+4+5 = 12, 2+3+5+6 = 16,
#              4+5+7+8 = 24, 5+6+8+9 = 28;   db = 4 ones = 4
# A flipped kernel gives dx [[4, 7, 3], [6, 10, 4], [2, 3, 1]] and dw [[28, 24], [16, 12]].
_DX = [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
_DX_FLIPPED = [[4, 7, 3], [6, 10, 4], [2, 3, 1]]
_DW = [[12, 16], [24, 28]]
_DW_FLIPPED = [[28, 24], [16, 12]]


def _backward_parts(result, label, tried):
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        what = f"a {type(result).__name__}"
        if isinstance(result, (tuple, list)):
            what += f" of length {len(result)}"
        _fail(label, f"returned {what}: expected the tuple (dx, dw, db)", tried,
              hint="end with `return dx, dw, db`")
    return result


def _check_backward_case(conv_backward, label, tried, dout, x, w, stride, pad, targets, overlap=None):
    """targets: {"dx"|"dw"|"db": (expected, mistakes)}."""
    result = _backward_parts(_call(conv_backward, label, tried, dout, x, w, stride, pad), label, tried)
    K = w.shape[0]
    shape_hints = {
        "dx": _dx_shape_hints(x.shape, pad),
        "dw": [],
        "db": [(shape, f"db has shape {shape}, expected ({K},): sum dout over H_out, W_out and the M samples")
               for shape in ((K, x.shape[3]), dout.shape[:3], (), (1,), (1, K))],
    }
    axes = {"dx": "(H, W, C, M), the shape of x", "dw": "(K, f, f, C), the shape of w", "db": "(K,)"}
    for name, got in zip(("dx", "dw", "db"), result):
        expected, mistakes = targets[name]
        _compare(got, expected, mistakes, label=label, tried=tried, what=name, axes=axes[name],
                 shape_hints=shape_hints[name], overlap=overlap if name == "dx" else None, spatial=name == "dx")


def check_conv_backward(conv_backward):
    """Check conv_backward(dout, x, w, stride=1, pad=0) -> (dx, dw, db), shapes of x, w, (K,).

    For conv_backward_naive and conv_backward_im2col: the hand-worked 3x3 input with a 2x2
    kernel, then stored gradients for an H != W stride-2 pad-1 case and a pad-0 case (two
    samples each).
    """
    label = _label(conv_backward, "your backward pass")
    x, w = _grid(_X33), np.array(_W22, dtype=np.float64)[None, :, :, None]
    tried = ("dout = ones (2, 2, 1, 1) for the 3x3 input [[1, 2, 3], [4, 5, 6], [7, 8, 9]] with the 2x2 "
             "kernel [[1, 2], [3, 4]], stride 1, pad 0")
    w4 = lambda rows: np.array(rows, dtype=np.float64)[None, :, :, None]
    targets = {"dx": (_grid(_DX), [("true-convolution", _grid(_DX_FLIPPED))]),
               "dw": (w4(_DW), [("true-convolution", w4(_DW_FLIPPED))]),
               "db": (np.array([4.0]), [])}
    _check_backward_case(conv_backward, label, tried, np.ones((2, 2, 1, 1)), x, w, 1, 0, targets,
                         overlap=np.array(_COUNTS_33))
    _passed(f"{label}: the 3x3 input with a 2x2 kernel, dout = ones (hand-worked)")
    for cid in BACKWARD_CASES:
        case = _case(cid)
        s, p = case["stride"], case["pad"]
        tried = f"{case['tried']}; called with stride={s}, pad={p}, dout of shape {case['dout'].shape}"
        targets = {name: _target(f"conv_backward/{cid}/{name}") for name in ("dx", "dw", "db")}
        _check_backward_case(conv_backward, label, tried, case["dout"], case["x"], case["w"], s, p, targets,
                             overlap=_stored("col2im", cid + "/counts"))
        _passed(f"{label}: {case['tried']}")
