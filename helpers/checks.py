"""Public sanity checks, the ones the notebooks' visible test cells run.

    from helpers.checks import check_conv_forward
    check_conv_forward(conv_forward_naive)

Each check calls your function on a few small cases, prints one "✓ ..." line per case that
passes and raises AssertionError at the first case that does not, saying what was tried (the
sizes), what was expected, what came back, and, when the output is what a known mistake
produces (or the error one raises), the likely mistake and how to fix it. Once the values are
right it checks the contract's other rules (docs/CONTRACT.md): float32 inputs give float32
results, the arguments are left unchanged, sizes that cannot work raise ValueError, zero_pad
returns a new array, no library convolution is called. A rule that is broken is printed as a
"⚠ ..." line saying how to fix it: the check still passes (its values are right), but the hidden
tests check these rules too. Passing these is a first signal, not full marks: the graders run
many more cases.

Expected values are hand-worked literals (with their arithmetic in comments) for tiny cases,
and stored test vectors (helpers/data/check_vectors.npz) for bigger ones: the lecture's 6x6x10
input with six 3x3x10 filters, an H != W stride-2 pad-1 case with two samples, a size that does
not tile, and a pad-0 case. The known mistakes (what each is, its hint, the functions it shows
in), the tolerances, the inputs each function must refuse and the forbidden libraries come from
helpers/data/course_rules.json. Both files are generated on the graders' side
(tools/make_check_vectors.py, tools/make_student_data.py). Layout (docs/CONTRACT.md): x (H, W, C, M),
w (K, f, f, C), b (K,), out (H_out, W_out, K, M), X_col (f*f*C, H_out*W_out*M).
"""
import dis
import inspect
import numbers
from functools import lru_cache
from importlib import resources

import numpy as np

from helpers.rules import rules as _rules

# What the checks say for mistakes that are not in the table of known mistakes.
HW_SWAPPED = ("height and width swapped: the first axis is H (rows, i), the second W (columns, j); "
              "check the order of your loops' indices and of any reshape")

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
    and `tried`, a description for messages. Fresh copies: a function that writes into its
    arguments cannot change the stored ones."""
    prefix = f"case/{cid}/"
    case = {k[len(prefix):]: v.copy() for k, v in _vectors().items() if k.startswith(prefix)}
    for k in ("f", "stride", "pad"):
        case[k] = int(case[k])
    case["tried"] = f"{TITLES[cid]}: {case.pop('describe')}"
    return case


def _target(key, function=None):
    """(expected, [(mistake id, what that mistake returns), ...]) stored under `key`, keeping the
    mistakes that show in `function` (all of them when the function is not known)."""
    data = _vectors()
    prefix = f"{key}/mistake/"
    mistakes = [(k[len(prefix):].rsplit("/", 1)[0], v) for k, v in data.items() if k.startswith(prefix)]
    return data[f"{key}/expected"], [(mid, v) for mid, v in mistakes if _shows_in(mid, function)]


def _stored(prefix, cid):
    return _vectors()[f"{prefix}/{cid}"]


# --------------------------------------------------------------------------- known mistakes
def _function(fn, check):
    """The name of the contract function `fn` is, when it is one `check` checks (a notebook's
    function, or the graders' stand-in for it); None for lambdas and other names."""
    name = getattr(fn, "__name__", "")
    return name if name in _rules()["public_checks"][check] else None


def _shows_in(mid, function):
    """The known mistake `mid` can happen in `function` (any function, when it is None)."""
    known = _rules()["misconceptions"].get(mid)
    return known is None or function is None or function in known["functions"]


def _mistake(mid, function=None):
    """What to tell a student whose value is that of mistake `mid`: "<what the mistake is>.
    Fix: <its hint for `function`>"; `mid` itself when it is a check's own hint, not an id."""
    known = _rules()["misconceptions"].get(mid)
    if known is None:
        return mid
    return f"{known['description']}. Fix: {known['hints'].get(function, known['hint'])}"


def _crash_hint(function, pad):
    """For a call with pad > 0: (exception type, message) -> the known mistake whose `raises`
    match, as _mistake words it, or None."""
    def hint(kind, message):
        for mid, known in _rules()["misconceptions"].items():
            if _shows_in(mid, function) and any(kind == k and words in message for k, words in known["raises"]):
                return _mistake(mid, function)
        return None
    return hint if pad > 0 else None


def _tolerance(dtype):
    """(rtol, atol) for results of `dtype`: float32's, or float64's for every other dtype."""
    return _rules()["tolerances"]["float32" if np.dtype(dtype) == np.float32 else "float64"]


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
    """Raise the AssertionError that says the student's function raised `e` on `tried`; `hint`:
    words, or a function (exception type, message) -> words or None."""
    kind = getattr(e, "exc_type", type(e).__name__)   # a grader's proxy reports the type by name
    message = str(getattr(e, "message", e))
    if kind == "NotImplementedError":
        _fail(label, "not written yet: it raised NotImplementedError; replace "
                     "`raise NotImplementedError()` with your code", tried)
    _fail(label, f"raised {kind}: {message}", tried, hint=hint(kind, message) if callable(hint) else hint)


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


def _close(a, b, dtype=np.float64):
    """a equals b within the course's tolerance for results of `dtype` (course_rules.json):
    |a - b| <= rtol * |b| + atol * max(1, max |b|), elementwise."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if not b.size:
        return True
    rtol, atol = _tolerance(dtype)
    with np.errstate(all="ignore"):
        scale = max(1.0, float(np.max(np.abs(b)))) if np.all(np.isfinite(b)) else 1.0
        return bool(np.allclose(a, b, rtol=rtol, atol=atol * scale))


def _mistaken(got, mistaken, dtype=np.float64):
    """got is what a mistake returns: close to `mistaken` to the tolerance of the coarser of
    `dtype` and the stored value's (float32: stored mistakes only name a mistake)."""
    mistaken = np.asarray(mistaken)
    coarse = np.float32 if np.float32 in (np.dtype(dtype), mistaken.dtype) else np.float64
    return _close(got, mistaken, coarse)


# --------------------------------------------------------------------------- comparing arrays
def _shape_hint(got_shape, expected_shape, shape_hints, axes):
    for shape, hint in shape_hints:
        if tuple(shape) == got_shape:
            return hint
    if sorted(got_shape) == sorted(expected_shape):
        return f"the axes are in another order: the layout is {axes}; check the final reshape/transpose"
    return f"the layout is {axes}"


def _compare(got, expected, mistakes, *, label, tried, what, axes, shape_hints=(), overlap=None,
             spatial=False, function=None, dtype=np.float64):
    """Raise AssertionError unless `got` equals `expected` (to the tolerance of `dtype`).

    mistakes: [(mistake id or hint, what that mistake returns)] used to name the mistake (an id's
    hint for `function`); shape_hints: [(shape, hint)] for wrong shapes (a mistake whose value,
    or failing that whose shape, is the result's comes first or last); overlap: (H, W) window
    counts per pixel, to recognise results wrong only where windows overlap; spatial: the first
    two axes are height and width (a result with them swapped is recognised).
    """
    got = _as_array(got, label, tried, what)
    named = next((_mistake(mid, function) for mid, value in mistakes if _mistaken(got, value, dtype)), None)
    if got.shape != expected.shape:
        by_shape = next((_mistake(mid, function) for mid, value in mistakes if np.shape(value) == got.shape),
                        None)
        hint = next((h for shape, h in shape_hints if tuple(shape) == got.shape), None) or named or by_shape
        _fail(label, f"{what} has shape {got.shape} but should have shape {expected.shape} {axes}",
              tried, hint=hint or _shape_hint(got.shape, expected.shape, (), axes))
    if _close(got, expected, dtype):
        return
    hint = named
    if hint is None and spatial and _close(got, expected.swapaxes(0, 1), dtype):
        hint = HW_SWAPPED
    with np.errstate(all="ignore"):          # inf or nan in a student's output: no warning on stderr
        err = np.abs(got.astype(np.float64) - expected)
    err[np.isnan(err)] = np.inf
    if hint is None and overlap is not None:
        shared = np.broadcast_to((overlap > 1).reshape(overlap.shape + (1,) * (got.ndim - 2)), got.shape)
        _, atol = _tolerance(dtype)
        if shared.any() and np.max(np.where(shared, 0.0, err)) <= atol:
            hint = _mistake("col2im-overwrites-overlap", function) + " (only pixels covered by several windows are wrong)"
    worst = int(np.argmax(err))
    where = np.unravel_index(worst, err.shape)
    extra = (f"max abs error {err[where]:.3g} at index {tuple(map(int, where))}: "
             f"expected {expected[where]:.6g}, got {got[where]:.6g}")
    _fail(label, f"wrong values in {what}", tried, expected, got, extra, hint, around=worst)


def _windows(n, f, stride, pad):
    """Number of window positions along an axis, counted (not a formula); 0 if none fits."""
    return len(range(0, n + 2 * pad - f + 1, stride))


def _size_hints(H, W, f, stride, pad, shape_of, function=None):
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
    hints = [(shape_of(*hw), f"{_mistake(mid, function)} (the result has H_out={hw[0]}, W_out={hw[1]}, "
                             f"the sizes {why}; expected H_out={right[0]}, W_out={right[1]})")
             for hw, mid, why in wrong if hw != right]
    if right[0] != right[1]:
        hints.append((shape_of(right[1], right[0]), HW_SWAPPED))
    return hints


def _dx_shape_hints(x_shape, pad, name="dx", of="x has"):
    """[(shape, hint)] for a gradient w.r.t. x returned with the padded shape or emptied."""
    H, W, C, M = x_shape
    if pad == 0:
        return [((0, 0, C, M), _mistake("empty-at-pad-zero"))]
    padded = (H + 2 * pad, W + 2 * pad, C, M)
    return [(padded, f"{name} has the padded shape {padded} but {of} {tuple(x_shape)}: did you return "
                     f"the padded gradient? ({_mistake('dx-keeps-padding')})")]


def _grid(rows):
    """A one-channel, one-sample input (H, W, 1, 1) from a list of rows."""
    return np.array(rows, dtype=np.float64)[:, :, None, None]


# --------------------------------------------------------------------------- the other rules
def _argument(value):
    """A bad input's argument from course_rules.json: {shape, fill} is an array, a list a tuple."""
    if isinstance(value, dict):
        return np.full(value["shape"], value["fill"])
    if isinstance(value, list):
        return tuple(_argument(v) for v in value)
    return value


def _global_chains(code):
    """The dotted names a function's code reads from its globals, as lists: ["np", "convolve"]
    for np.convolve(...), in the function and the functions defined inside it."""
    chains, codes = [], [code]
    while codes:
        chain = None
        for ins in dis.get_instructions(codes.pop()):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                chain = [ins.argval]
                chains.append(chain)
            elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and chain is not None:
                chain.append(ins.argval)
            else:
                chain = None
            if inspect.iscode(ins.argval):
                codes.append(ins.argval)
    return chains


def _qualified(obj, attrs):
    """The full name of what a global `obj` and its attributes `attrs` reach: "numpy.convolve"
    for np and ["convolve"], "scipy.signal" for scipy and ["signal"]."""
    name = obj.__name__ if inspect.ismodule(obj) else f"{getattr(obj, '__module__', '')}.{getattr(obj, '__name__', '')}"
    for attr in attrs:
        obj = getattr(obj, attr, None)
        name = obj.__name__ if inspect.ismodule(obj) else f"{name}.{attr}"
    return name


def _library_calls(fn):
    """The forbidden library functions (course_rules.json) fn's code reaches through its
    module's globals, e.g. ["numpy.convolve"]; [] for anything that is not plain Python code."""
    code, names_of = getattr(fn, "__code__", None), getattr(fn, "__globals__", None)
    if code is None or names_of is None:
        return []
    reached = {_qualified(names_of[first], attrs) for first, *attrs in _global_chains(code)
               if inspect.ismodule(names_of.get(first)) or callable(names_of.get(first))}
    forbidden = _rules()["forbidden_libraries"]
    return sorted(q for q in reached if any(q == lib or q.startswith(lib + ".") for lib in forbidden))


def _as_float32(args):
    return tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                 for a in args)


def _other_rules(fn, label, function, check, call, names):
    """Check the contract's other rules on fn and print them: "✓" when all hold, one "⚠" line per
    rule broken, with its fix (a broken rule does not fail the check: its values are right).

    call: (args, expected, tried) of one float64 call whose results are right, or None; it is
    repeated with float32 arrays (the results must be float32 and close to `expected`, a tuple
    for a tuple) and its arguments, named `names`, must be left unchanged. The inputs `function`
    (the check's first function when unknown) must refuse with ValueError come from
    course_rules.json. Returns the list of problems.
    """
    problems, kept = [], []
    if call is not None:
        args, expected, tried = call
        args32 = _as_float32(args)
        before = [a.copy() if isinstance(a, np.ndarray) else a for a in args32]
        try:
            result = fn(*args32)
        except Exception as e:  # the student's error, reported as a broken rule
            result = e
        results = result if isinstance(result, (tuple, list)) else (result,)
        wanted = expected if isinstance(expected, tuple) else (expected,)
        dtypes = [np.asarray(r).dtype for r in results]
        if isinstance(result, Exception):
            problems.append((f"raised {getattr(result, 'exc_type', type(result).__name__)}: "
                             f"{getattr(result, 'message', result)} with float32 inputs ({tried})",
                             "results come back in the dtype of the input: nothing in the layer "
                             "depends on float64"))
        elif any(d != np.float32 for d in dtypes):
            problems.append((f"float32 inputs gave {', '.join(map(str, dtypes))} results ({tried})",
                             "results come back in the dtype of the input: create them with "
                             "dtype=x.dtype (np.zeros(..., dtype=x.dtype)) or cast at the end "
                             "(.astype(x.dtype))"))
        elif not all(_close(r, e, np.float32) for r, e in zip(results, wanted)):
            problems.append((f"float32 inputs gave values that differ from the float64 ones by more "
                             f"than float32's rounding ({tried})",
                             "compute in the input's dtype throughout; do not mix in float64 arrays "
                             "with integer or float16 ones"))
        else:
            kept.append("float32 kept")
        changed = [n for n, a, b in zip(names, args32, before)
                   if isinstance(a, np.ndarray) and not np.array_equal(a, b)]
        if changed:
            problems.append((f"changed its argument {', '.join(changed)} ({tried})", _mistake("mutates-input")))
        else:
            kept.append(f"{', '.join(names)} unchanged")
        if check == "check_zero_pad" and any(isinstance(r, np.ndarray) and np.shares_memory(r, a)
                                             for r in results for a in args32 if isinstance(a, np.ndarray)):
            problems.append((f"returned an array that shares memory with x ({tried})",
                             "zero_pad returns a NEW array, also when pad == 0 (np.pad always "
                             "copies; or return x.copy()): whoever writes into the padded array "
                             "must not change x"))
    for bad in _rules()["bad_inputs"].get(function or _rules()["public_checks"][check][0], []):
        args = [_argument(a) for a in bad["args"]]
        try:
            got = fn(*args)
        except Exception as e:  # the student's error: only ValueError is right
            kind = getattr(e, "exc_type", type(e).__name__)
            if kind == "ValueError":
                kept.append(bad["name"])
                continue
            outcome = f"raised {kind}: {getattr(e, 'message', e)}"
        else:
            outcome = f"returned {type(got).__name__}"
        problems.append((f"{outcome} with {bad['text']}: the contract asks for a ValueError",
                         "check the sizes before computing and raise ValueError(...) with a message "
                         "giving them (the filter size and the padded input's, or both channel counts)"))
    calls = _library_calls(fn)
    if calls:
        problems.append((f"calls {', '.join(calls)}", _mistake("library-convolution")))
    for problem, fix in problems:
        print(f"⚠ {label}: {problem}\n    fix: {fix}")
    if problems:
        print(f"⚠ {label}: the values are right, but the hidden tests also check the rule"
              f"{'s' if len(problems) > 1 else ''} above")
    elif kept:
        _passed(f"{label}: {'; '.join(kept)}")
    return problems


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
    """Check conv_output_size(n, f, stride=1, pad=0) -> int on hand-worked sizes, and that it
    raises ValueError when no window fits."""
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
                  hint=_mistake(mid) if mid else "the size is floor((n + 2*pad - f) / stride) + 1")
    _passed(f"{label}: {len(_SIZE_CASES)} hand-worked sizes (AlexNet conv1 227, f 11, stride 4 -> 55; "
            "sizes that do not tile; padding)")
    for bad in _rules()["bad_inputs"]["conv_output_size"]:
        n, f, stride, pad = bad["args"]
        tried = f"conv_output_size({n}, {f}, stride={stride}, pad={pad}): {bad['text']}"
        try:
            got = conv_output_size(n, f, stride=stride, pad=pad)
        except Exception as e:
            if getattr(e, "exc_type", type(e).__name__) != "ValueError":
                _report_exception(e, label, tried, hint="raise ValueError when f > n + 2*pad")
            continue
        _fail(label, f"returned {got!r} although no window fits", tried,
              hint="raise ValueError (with a message naming n, f and pad) when f > n + 2*pad")
    _passed(f"{label}: raises ValueError when no window fits (f > n + 2*pad)")


def _check_padded(got, x, pad, label, tried, dtype=np.float64):
    """got must be x with `pad` zeros around H and W: shape, then the middle, then the border."""
    H, W, C, M = x.shape
    shape = (H + 2 * pad, W + 2 * pad, C, M)
    got = _as_array(got, label, tried, "the padded array")
    if got.shape != shape:
        one_side = (H + pad, W + pad, C, M)
        every_axis = _mistake("pads-every-axis", "zero_pad")
        _fail(label, f"the padded array has shape {got.shape}, expected {shape} = (H+2*pad, W+2*pad, C, M)",
              tried, hint=_shape_hint(got.shape, shape, [
                  ((H + 2 * pad, W + 2 * pad, C + 2 * pad, M + 2 * pad), every_axis),
                  ((H + 2 * pad, W + 2 * pad, C + 2 * pad, M), every_axis),
                  (one_side, "padded one side only: pad adds `pad` zeros on BOTH sides"),
                  ((0, 0, C, M), _mistake("empty-at-pad-zero", "zero_pad"))], "(H+2*pad, W+2*pad, C, M)"))
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
    """Check zero_pad(x, pad) -> (H+2p, W+2p, C, M): a hand-worked case, a bigger one, pad 0;
    then float32 kept, x unchanged and a new array returned (also for pad 0)."""
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
        got = _call(zero_pad, label, tried, x.copy(), pad,
                    hint=_mistake("empty-at-pad-zero", "zero_pad") if pad == 0 else None)
        _check_padded(got, x, pad, label, tried)
        _passed(f"{label}: {tried}")
    x = cases[2][1]
    _other_rules(zero_pad, label, "zero_pad", "check_zero_pad",
                 ((x, 0), x, "zero_pad(x, 0) with x of shape (3, 4, 2, 2)"), ("x",))


# --------------------------------------------------------------------------- forward layers
# The 3x3 input with a 2x2 kernel, worked by hand (one channel, one sample, one filter, b = 1):
#   x = [[1, 2, 3],     w = [[1, 2],
#        [4, 5, 6],          [3, 4]]
#        [7, 8, 9]]
#   out[0, 0] = 1*1 + 2*2 + 4*3 + 5*4 + 1 = 1 + 4 + 12 + 20 + 1 = 38
#   out[0, 1] = 2*1 + 3*2 + 5*3 + 6*4 + 1 = 2 + 6 + 15 + 24 + 1 = 48
#   out[1, 0] = 4*1 + 5*2 + 7*3 + 8*4 + 1 = 4 + 10 + 21 + 32 + 1 = 68
#   out[1, 1] = 5*1 + 6*2 + 8*3 + 9*4 + 1 = 5 + 12 + 24 + 36 + 1 = 78
# w is not symmetric, so a flipped (true convolution: 1*4 + 2*3 + 4*2 + 5*1 + 1 = 24) or a
# transposed kernel (u and v swapped: 1*1 + 2*3 + 4*2 + 5*4 + 1 = 36) cannot pass; what those and
# the other known mistakes give is stored in check_vectors.npz (conv_forward/hand).
_X33 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
_W22 = [[1, 2], [3, 4]]
_OUT = [[38, 48], [68, 78]]
HAND = "the 3x3 input [[1, 2, 3], [4, 5, 6], [7, 8, 9]] with the 2x2 kernel [[1, 2], [3, 4]]"
FORWARD_CASES = ("lecture", "s2p1", "s3p2")


def hand_worked_layer():
    """The hand-worked layer of the checks: x (3, 3, 1, 1), w (1, 2, 2, 1), b (1,) = [1.]."""
    return _grid(_X33), np.array(_W22, dtype=np.float64)[None, :, :, None], np.array([1.0])


def _forward_hints(case_shape, f, stride, pad, K, M, function):
    H, W = case_shape
    return _size_hints(H, W, f, stride, pad, lambda ho, wo: (ho, wo, K, M), function)


# One window of the hand-worked input, [[1, 2], [4, 5]], with two filters and b = [1, 2]:
#   w[0] = [[1, 2],     out[0] = 1*1 + 2*2 + 4*3 + 5*4 + 1 = 38
#           [3, 4]]
#   w[1] = [[1, 0],     out[1] = 1*1 + 2*0 + 4*0 + 5*(-1) + 2 = -2
#           [0, -1]]
# A filter matrix that interleaves the two filters' numbers (rows [1, 3, 1, 0] and [2, 4, 0, -1]
# give 12 and 7) and the other known mistakes are stored in check_vectors.npz
# (conv_single_step/hand).
_W22_SECOND = [[1, 0], [0, -1]]
_STEP_OUT = [38.0, -2.0]
HAND_STEP = ("the window [[1, 2], [4, 5]] with the filters [[1, 2], [3, 4]] and [[1, 0], [0, -1]], "
             "b = [1, 2] (f=2, C=1, K=2)")


def hand_worked_step():
    """The hand-worked call of check_conv_single_step: x_slice (2, 2, 1), w (2, 2, 2, 1), b (2,)."""
    x = hand_worked_layer()[0]
    w = np.array([_W22, _W22_SECOND], dtype=np.float64)[..., None]
    return x[:2, :2, :, 0], w, np.array([1.0, 2.0])


def check_conv_single_step(conv_single_step):
    """Check conv_single_step(x_slice, w, b) -> out (K,) on the hand-worked window with two
    filters and on a 3x3x10 window of the lecture's input with its filters, then the contract's
    other rules."""
    label = _label(conv_single_step, "conv_single_step")
    function = _function(conv_single_step, "check_conv_single_step")
    key = "conv_single_step/lecture"
    lecture = tuple(_vectors()[f"{key}/{k}"].copy() for k in ("x_slice", "w", "b"))
    K = lecture[1].shape[0]
    cases = [(HAND_STEP, hand_worked_step(), np.array(_STEP_OUT), "conv_single_step/hand"),
             (f"a 3x3x10 window of the lecture's input with its {K} filters (f=3, C=10, K={K})",
              lecture, _target(key)[0], key)]
    for tried, args, expected, key in cases:
        x_slice, w, _ = args
        got = _as_array(_call(conv_single_step, label, tried, *args), label, tried, f"K = {w.shape[0]} values")
        if got.size == 1:
            _fail(label, f"returned one number instead of K = {w.shape[0]} values, one per filter", tried,
                  expected, got, hint="one call applies every filter to the window: entry k of the "
                                      "result is filter k's sum of products plus b[k]")
        _compare(got, expected, _target(key, function)[1], label=label, tried=tried, what="out",
                 axes="(K,)", function=function,
                 shape_hints=[(w.shape, "sum each filter's products over the window's axes (u, v, c): "
                                        "one number per filter"),
                              ((w.shape[0], x_slice.size), "sum each row of products: one number per filter")])
        _passed(f"{label}: {tried}")
    _other_rules(conv_single_step, label, function, "check_conv_single_step",
                 (lecture, cases[1][2], cases[1][0]), ("x_slice", "w", "b"))


def check_conv_forward(conv_forward):
    """Check a forward layer conv_forward(x, w, b, stride=1, pad=0) -> out (H_out, W_out, K, M).

    Works for conv_forward_naive, _partial, _im2col and _fft (a mistake's hint is the one for
    the function of that name): the hand-worked 3x3 input with a 2x2 kernel, then the stored
    cases (the lecture's 6x6x10 layer; H != W with stride 2, pad 1 and two samples; a size that
    does not tile), then the contract's other rules.
    """
    label = _label(conv_forward, "your layer")
    function = _function(conv_forward, "check_conv_forward")
    axes = "(H_out, W_out, K, M)"
    x, w, b = hand_worked_layer()
    tried = f"{HAND}, b = 1, stride 1, pad 0 (x (3, 3, 1, 1), w (1, 2, 2, 1))"
    got = _call(conv_forward, label, tried, x, w, b, 1, 0)
    _compare(got, _grid(_OUT), _target("conv_forward/hand", function)[1], label=label, tried=tried,
             what="out", axes=axes, spatial=True, shape_hints=_forward_hints((3, 3), 2, 1, 0, 1, 1, function),
             function=function)
    _passed(f"{label}: the 3x3 input with a 2x2 kernel (hand-worked)")
    for cid in FORWARD_CASES:
        case = _case(cid)
        s, p = case["stride"], case["pad"]
        tried = f"{case['tried']}; called with stride={s}, pad={p}"
        got = _call(conv_forward, label, tried, case["x"], case["w"], case["b"], s, p,
                    hint=_crash_hint(function, p))
        expected, mistakes = _target(f"conv_forward/{cid}", function)
        K, M = case["w"].shape[0], case["x"].shape[3]
        _compare(got, expected, mistakes, label=label, tried=tried, what="out", axes=axes, spatial=True,
                 shape_hints=_forward_hints(case["x"].shape[:2], case["f"], s, p, K, M, function),
                 function=function)
        _passed(f"{label}: {case['tried']}")
    case = _case("s2p1")
    _other_rules(conv_forward, label, function, "check_conv_forward",
                 ((case["x"], case["w"], case["b"], 2, 1), _target("conv_forward/s2p1")[0], case["tried"]),
                 ("x", "w", "b"))


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
# (what was tried, x, f, stride, pad, X_col) of the hand-worked cases; what the known mistakes
# give on them is stored in check_vectors.npz (im2col/hand0, im2col/hand1)
_HAND_COLUMNS = (
    ("the 3x3 input [[1, 2, 3], [4, 5, 6], [7, 8, 9]], f=2, stride 1, pad 0", _X33, 2, 1, 0, _XCOL_33),
    ("the 2x2 input [[1, 2], [3, 4]], f=2, stride 2, pad 1 (one pixel per window)", [[1, 2], [3, 4]], 2, 2, 1,
     _XCOL_PADDED),
)
IM2COL_CASES = ("lecture", "s2p1")
TRANSPOSED = ("X_col is transposed: one COLUMN per window position (H_out*W_out*M columns), "
              "one ROW per entry of a window (f*f*C rows)")


def hand_worked_columns():
    """The hand-worked calls of check_im2col: [(x, f, stride, pad)], x of shape (H, W, 1, 1)."""
    return [(_grid(rows), f, s, p) for _, rows, f, s, p, _ in _HAND_COLUMNS]


def check_im2col(im2col):
    """Check im2col(x, f, stride=1, pad=0) -> X_col (f*f*C, H_out*W_out*M), rows (u, v, c),
    columns (i, j, n): two hand-worked cases, then the lecture's layer and an H != W case, then
    the contract's other rules."""
    label = _label(im2col, "im2col")
    function = _function(im2col, "check_im2col")
    axes = "(f*f*C, H_out*W_out*M)"

    def hints(H, W, C, M, f, s, p):
        wrong = _size_hints(H, W, f, s, p, lambda ho, wo: (f * f * C, ho * wo * M), function)
        right = (f * f * C, _windows(H, f, s, p) * _windows(W, f, s, p) * M)
        return [(right[::-1], TRANSPOSED)] + wrong

    for n, ((tried, *_, cols), args) in enumerate(zip(_HAND_COLUMNS, hand_worked_columns())):
        x, f, s, p = args
        expected = np.array(cols, dtype=np.float64)
        got = _call(im2col, label, tried, *args, hint=_crash_hint(function, p))
        _compare(got, expected, _target(f"im2col/hand{n}", function)[1] + [(TRANSPOSED, expected.T)],
                 label=label, tried=tried, what="X_col", axes=axes, shape_hints=hints(*x.shape, f, s, p),
                 function=function)
        _passed(f"{label}: {tried} (hand-worked)")
    for cid in IM2COL_CASES:
        case = _case(cid)
        f, s, p = case["f"], case["stride"], case["pad"]
        tried = f"{case['tried']}; called as im2col(x, {f}, stride={s}, pad={p})"
        got = _call(im2col, label, tried, case["x"], f, s, p, hint=_crash_hint(function, p))
        expected, mistakes = _target(f"im2col/{cid}", function)
        _compare(got, expected, mistakes, label=label, tried=tried, what="X_col", axes=axes,
                 shape_hints=hints(*case["x"].shape, f, s, p), function=function)
        _passed(f"{label}: {case['tried']}")
    case = _case("s2p1")
    _other_rules(im2col, label, function, "check_im2col",
                 ((case["x"], case["f"], 2, 1), _target("im2col/s2p1")[0], case["tried"]), ("x",))


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

    Overlap counts (hand-worked), the stored cases (stride 2 with pad 1; pad 0), the adjoint
    identity <im2col(x), Y> == <x, col2im(Y)> with your im2col, then the contract's other rules.
    """
    label = _label(col2im, "col2im")
    function = _function(col2im, "check_col2im")
    axes = "x_shape = (H, W, C, M)"
    for counts, f, s, p in ((_COUNTS_33, 2, 1, 0), (_COUNTS_55, 3, 2, 1)):
        expected = _grid(counts)
        H, W = expected.shape[:2]
        n_cols = _windows(H, f, s, p) * _windows(W, f, s, p)
        tried = (f"col2im(np.ones(({f * f}, {n_cols})), ({H}, {W}, 1, 1), {f}, stride={s}, pad={p}): "
                 "every window adds 1 to each pixel it covers")
        got = _call(col2im, label, tried, np.ones((f * f, n_cols)), (H, W, 1, 1), f, s, p,
                    hint=_crash_hint(function, p))
        _compare(got, expected, [("col2im-overwrites-overlap", (expected > 0).astype(np.float64))],
                 label=label, tried=tried, what="the result", axes=axes,
                 shape_hints=_dx_shape_hints((H, W, 1, 1), p, "the result", "x_shape is"), function=function)
        _passed(f"{label}: overlap counts of a {H}x{W} input, f={f}, stride {s}, pad {p}")
    for cid in BACKWARD_CASES:
        case = _case(cid)
        f, s, p, x, cols = case["f"], case["stride"], case["pad"], case["x"], case["cols"]
        tried = f"{case['tried']}; col2im(cols of shape {cols.shape}, {x.shape}, {f}, stride={s}, pad={p})"
        got = _call(col2im, label, tried, cols, x.shape, f, s, p, hint=_crash_hint(function, p))
        expected, mistakes = _target(f"col2im/{cid}", function)
        _compare(got, expected, mistakes, label=label, tried=tried, what="the result", axes=axes,
                 shape_hints=_dx_shape_hints(x.shape, p, "the result", "x_shape is"),
                 overlap=_stored("col2im", cid + "/counts"), function=function)
        _passed(f"{label}: {case['tried']}")

    case = _case("s2p1")
    f, s, p, x, cols = case["f"], case["stride"], case["pad"], case["x"], case["cols"]
    im_label = _label(im2col, "im2col")
    tried = f"the adjoint identity <im2col(x), Y> == <x, col2im(Y)> on {case['tried']}"
    X = _as_array(_call(im2col, im_label, tried, x, f, s, p), im_label, tried, "X_col")
    if X.shape != cols.shape:
        _fail(im_label, f"X_col has shape {X.shape}, expected {cols.shape}: fix im2col first (check_im2col)",
              tried)
    back = _as_array(_call(col2im, label, tried, cols.copy(), x.shape, f, s, p), label, tried, "the result")
    with np.errstate(all="ignore"):
        lhs, rhs = float(np.sum(X * cols)), float(np.sum(x * back))
    rtol = _rules()["adjoint_rtol"]
    if not np.isclose(lhs, rhs, rtol=rtol, atol=rtol):
        _fail(label, f"<im2col(x), Y> = {lhs:.10g} but <x, col2im(Y)> = {rhs:.10g}", tried,
              hint="col2im must send every entry of Y back to the pixel im2col copied it from; "
                   "col2im passed the stored vectors, so check im2col (check_im2col)")
    _passed(f"{label}: adjoint of your im2col (<im2col(x), Y> == <x, col2im(Y)>)")
    _other_rules(col2im, label, function, "check_col2im",
                 ((cols, x.shape, f, s, p), _target("col2im/s2p1")[0], case["tried"]), ("X_col",))


# The 3x3 input with the 2x2 kernel again, backward with dout = all ones (2x2):
#   dx[r, c] = sum of w[u, v] over the windows (i, j) with (i + u, j + v) = (r, c):
#     [[1,     1+2,         2  ],        [[1,  3, 2],
#      [1+3,   1+2+3+4,     2+4],   =     [4, 10, 6],
#      [3,     3+4,         4  ]]         [3,  7, 4]]
#   dw[u, v] = sum of the 2x2 block of x starting at (u, v): 1+2+4+5 = 12, 2+3+5+6 = 16,
#              4+5+7+8 = 24, 5+6+8+9 = 28;   db = 4 ones = 4
# What the known mistakes give is stored in check_vectors.npz (conv_backward/hand).
_DX = [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
_DW = [[12, 16], [24, 28]]


def _backward_parts(result, label, tried):
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        what = f"a {type(result).__name__}"
        if isinstance(result, (tuple, list)):
            what += f" of length {len(result)}"
        _fail(label, f"returned {what}: expected the tuple (dx, dw, db)", tried,
              hint="end with `return dx, dw, db`")
    return result


def _check_backward_case(conv_backward, label, tried, dout, x, w, stride, pad, targets, function,
                         overlap=None):
    """targets: {"dx"|"dw"|"db": (expected, mistakes)}."""
    result = _backward_parts(_call(conv_backward, label, tried, dout, x, w, stride, pad,
                                   hint=_crash_hint(function, pad)), label, tried)
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
                 shape_hints=shape_hints[name], overlap=overlap if name == "dx" else None, spatial=name == "dx",
                 function=function)


def check_conv_backward(conv_backward):
    """Check conv_backward(dout, x, w, stride=1, pad=0) -> (dx, dw, db), shapes of x, w, (K,).

    For conv_backward_naive and conv_backward_im2col: the hand-worked 3x3 input with a 2x2
    kernel, then stored gradients for an H != W stride-2 pad-1 case and a pad-0 case (two
    samples each), then the contract's other rules.
    """
    label = _label(conv_backward, "your backward pass")
    function = _function(conv_backward, "check_conv_backward")
    x, w, _ = hand_worked_layer()
    tried = f"dout = ones (2, 2, 1, 1) for {HAND}, stride 1, pad 0"
    expected = {"dx": _grid(_DX), "dw": np.array(_DW, dtype=np.float64)[None, :, :, None], "db": np.array([4.0])}
    targets = {name: (expected[name], _target(f"conv_backward/hand/{name}", function)[1]) for name in expected}
    _check_backward_case(conv_backward, label, tried, np.ones((2, 2, 1, 1)), x, w, 1, 0, targets, function,
                         overlap=np.array(_COUNTS_33))
    _passed(f"{label}: the 3x3 input with a 2x2 kernel, dout = ones (hand-worked)")
    for cid in BACKWARD_CASES:
        case = _case(cid)
        s, p = case["stride"], case["pad"]
        tried = f"{case['tried']}; called with stride={s}, pad={p}, dout of shape {case['dout'].shape}"
        targets = {name: _target(f"conv_backward/{cid}/{name}", function) for name in ("dx", "dw", "db")}
        _check_backward_case(conv_backward, label, tried, case["dout"], case["x"], case["w"], s, p, targets,
                             function, overlap=_stored("col2im", cid + "/counts"))
        _passed(f"{label}: {case['tried']}")
    case = _case("s2p1")
    expected = tuple(_target(f"conv_backward/s2p1/{name}")[0] for name in ("dx", "dw", "db"))
    _other_rules(conv_backward, label, function, "check_conv_backward",
                 ((case["dout"], case["x"], case["w"], 2, 1), expected, case["tried"]), ("dout", "x", "w"))

# =========================================================================== a6_cnn
# The public checks of assignment 6 (the layer at work): max pooling and the small network
# conv -> ReLU -> max-pool -> affine. Expected values are hand-worked literals (their arithmetic
# in the comments); the bigger cases check what must hold whatever the numbers: every sample
# scored on its own, gradients equal to central differences of the student's own forward pass.
# Layout: pooled maps (H_out, W_out, C, M); the network's w1 (K, f, f, C), b1 (K,), its affine
# layer w2 (classes, Hp, Wp, K), b2 (classes,), its scores (classes, M): one column per sample.
from helpers.gradcheck import numerical_gradient  # noqa: E402  (used by this section only)

# The likely mistakes of this assignment, and where to look: those the graders diagnose too read
# their hint from the misconception table (course_rules.json), the others are the checks' own.
_DIAGNOSED = {"average": "pool-averages", "ignores-stride": "pool-ignores-stride",
              "whole-window": "pool-gradient-to-whole-window",
              "overwrites-overlap": "pool-overlap-overwritten", "no-relu": "relu-missing",
              "no-relu-mask": "relu-mask-missing"}
CNN_HINTS = {
    **{key: _rules()["misconceptions"][mistake]["hint"] for key, mistake in _DIAGNOSED.items()},
    "stride-is-pool": "the windows moved by `pool`, not by `stride`: window (i, j) starts at row "
                      "i*stride and column j*stride, and H_out = (H - pool) // stride + 1",
    "every-tie": "the gradient went to every input equal to the window's maximum: when several "
                 "inputs tie, send it to the first of them only (row by row, as np.argmax "
                 "picks), or the window's gradient is counted several times",
    "last-tie": "the gradient went to the last of the tied maxima: send it to the first one "
                "(row by row, the one np.argmax returns)",
    "swapped-offset": "the maximum's row and column within the window are swapped: np.argmax of "
                      "a window flattened row by row returns u*pool + v, so u = index // pool and "
                      "v = index % pool",
    "feature-order": "the pooled maps were flattened in another order than w2's axes: scores[k, n] "
                     "= b2[k] + sum over i, j, c of w2[k, i, j, c] * p[i, j, c, n], so flatten p "
                     "(Hp, Wp, K, M) and w2 (classes, Hp, Wp, K) both in (i, j, c) order",
    "batch-first": "samples got mixed: the batch is the LAST axis of p (Hp, Wp, K, M), so one "
                   "sample's features are a column of p.reshape(-1, M), not a row of "
                   "p.reshape(M, -1)",
    "missing-bias": "b2 is missing: add b2[k] to every score of class k",
    "below-affine": "dw2 and db2 are right, so the affine layer is: look at the way back below "
                    "it, dp reshaped to p's (Hp, Wp, K, M) layout, your max_pool_backward (check "
                    "it passes its own checks), the ReLU (gradient only where a > 0) and the "
                    "convolution's backward with stride 1 and the same pad",
}


def _untiled(pool, stride):
    """The hint for an answer that fails where the windows do not tile x."""
    how = "overlap (stride < pool)" if stride < pool else "leave gaps (stride > pool)"
    return (f"here the windows {how}: cutting x into pool x pool blocks with a reshape works only "
            "when stride == pool and the windows cover x exactly; the entry (u, v) of every window "
            "is one strided slice of x, whatever the stride")


POOL_AXES = "(H_out, W_out, C, M)"


def _pool_tried(x, pool, stride, note=""):
    rows = x[:, :, 0, 0].astype(int).tolist() if x.shape[2:] == (1, 1) else f"x of shape {x.shape}"
    return f"pool={pool}, stride={stride} on {rows}" + (f" ({note})" if note else "")


def _compare_or(fallback, got, expected, mistakes=(), **kwargs):
    """helpers.checks' comparison; a failure that names no likely mistake gets `fallback`."""
    try:
        _compare(got, expected, list(mistakes), **kwargs)
    except AssertionError as failure:
        if fallback is None or "likely mistake" in str(failure):
            raise
        raise AssertionError(f"{failure}\n  likely mistake: {fallback}") from None


def _refuses(fn, label, tried, *args):
    """Fail unless fn(*args) raises ValueError."""
    try:
        got = fn(*args)
    except Exception as e:  # the student's error (a grader's proxy names its type in exc_type)
        if getattr(e, "exc_type", type(e).__name__) != "ValueError":
            _report_exception(e, label, tried, hint="raise ValueError(...) naming the sizes")
        return
    _fail(label, f"returned {type(got).__name__} instead of raising ValueError", tried,
          hint="check the sizes first: raise ValueError(...) saying which sizes do not fit")


def _keeps_contract(fn, label, args, what):
    """float32 arguments give float32 results and are left unchanged."""
    args32 = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                   for a in args)
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in args32]
    tried = "the same call with float32 arrays"
    result = _call(fn, label, tried, *args32)
    for got in (result if isinstance(result, tuple) else (result,)):
        if isinstance(got, np.ndarray) and got.dtype != np.float32:
            _fail(label, f"returned {got.dtype} for float32 inputs", tried,
                  hint="create results with dtype=x.dtype (np.zeros(..., dtype=x.dtype))")
    for name, a, b in zip(what, args32, before):
        if isinstance(a, np.ndarray) and not np.array_equal(a, b):
            _fail(label, f"changed its argument {name}", tried,
                  hint="never write into an argument: work on a copy or a new array")


# --------------------------------------------------------------------------- max_pool_forward
#   [[1, 3, 2, 0],     windows 2x2, stride 2: max(1, 3, 4, 2) = 4   max(2, 0, 1, 5) = 5
#    [4, 2, 1, 5],                            max(0, 1, 3, 6) = 6   max(7, 2, 1, 1) = 7
#    [0, 1, 7, 2],     (averaging instead gives 10/4 = 2.5, 8/4 = 2, 10/4 = 2.5, 11/4 = 2.75)
#    [3, 6, 1, 1]]
_X44 = [[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [3, 6, 1, 1]]
_POOL44 = [[4, 5], [6, 7]]
_MEAN44 = [[2.5, 2], [2.5, 2.75]]
#   5x5, windows 3x3 at stride 2 start at rows/columns 0 and 2 ((5 - 3) // 2 + 1 = 2), overlapping
#   in row 2 and column 2:  top-left max 5 at (1, 1); top-right max 6 at (2, 3);
#   bottom-left max 8 at (4, 2); bottom-right max 8 at (4, 2) again (shared by both windows)
_X55 = [[2, 0, 1, 4, 3], [1, 5, 0, 2, 1], [3, 1, 2, 6, 0], [0, 4, 1, 1, 2], [1, 2, 8, 0, 1]]
_POOL55 = [[5, 6], [8, 8]]
#   its first three rows, windows 2x2 at stride 3 (gaps between them): columns 0-1 and 3-4,
#   (5 - 2) // 3 + 1 = 2 windows across, (3 - 2) // 3 + 1 = 1 down: max(2, 0, 1, 5) = 5,
#   max(4, 3, 2, 1) = 4
_POOL35 = [[5, 4]]


def _layered(C=2, M=3):
    """x (2, 3, C, M) with x[i, j, c, n] = 100*c + 10*n + 3*i + j: every window's maximum is its
    bottom-right entry, and each channel and sample its own range of values."""
    i, j, c, n = np.meshgrid(np.arange(2), np.arange(3), np.arange(C), np.arange(M), indexing="ij")
    return (100 * c + 10 * n + 3 * i + j).astype(np.float64)


def check_max_pool_forward(max_pool_forward):
    """Check max_pool_forward(x, pool=2, stride=2) -> (H_out, W_out, C, M)."""
    label = _label(max_pool_forward, "max_pool_forward")
    x = _grid(_X44)
    tried = _pool_tried(x, 2, 2)
    got = _call(max_pool_forward, label, tried, x, 2, 2)
    _compare(got, _grid(_POOL44), [(CNN_HINTS["average"], _grid(_MEAN44))], label=label, tried=tried,
             what="out", axes=POOL_AXES, spatial=True)
    _passed(f"{label}: the 4x4 example, 2x2 windows at stride 2 (hand-worked)")

    x = _grid(_X55)
    tried = _pool_tried(x, 3, 2, "overlapping windows")
    got = _call(max_pool_forward, label, tried, x, 3, 2, hint=_untiled(3, 2))
    _compare(got, _grid(_POOL55), [], label=label, tried=tried, what="out", axes=POOL_AXES,
             shape_hints=[((3, 3, 1, 1), CNN_HINTS["ignores-stride"]),
                          ((1, 1, 1, 1), CNN_HINTS["stride-is-pool"])])
    x = _grid(_X55[:3])
    tried = _pool_tried(x, 2, 3, "H != W, gaps between windows")
    got = _call(max_pool_forward, label, tried, x, 2, 3, hint=_untiled(2, 3))
    _compare(got, _grid(_POOL35), [], label=label, tried=tried, what="out", axes=POOL_AXES,
             shape_hints=[((2, 4, 1, 1), CNN_HINTS["ignores-stride"]),
                          ((1, 2, 1, 1), CNN_HINTS["stride-is-pool"])], spatial=True)
    _passed(f"{label}: 3x3 windows at stride 2 (overlapping) and 2x2 at stride 3 on a 3x5 input")

    x = _layered()
    tried = "pool=2, stride=1 on x of shape (2, 3, 2, 3), x[i, j, c, n] = 100*c + 10*n + 3*i + j"
    # two windows across (columns 0-1 and 1-2), each with its maximum at row 1, column j + 1
    expected = x[1:2, 1:3]
    got = _call(max_pool_forward, label, tried, x, 2, 1)
    _compare(got, expected, [], label=label, tried=tried, what="out", axes=POOL_AXES,
             shape_hints=[(shape, "pool each channel of each sample on its own: the C and M axes "
                                  "pass through unchanged") for shape in ((1, 2, 1, 3), (1, 2, 3), (1, 2))])
    _passed(f"{label}: channels and samples pooled separately, layout {POOL_AXES}")

    _keeps_contract(max_pool_forward, label, (_grid(_X55), 3, 2), ("x",))
    _refuses(max_pool_forward, label, "pool=4 on x of shape (3, 5, 1, 1): no 4x4 window fits",
             _grid(_X55[:3]), 4, 2)
    _passed(f"{label}: float32 kept, x unchanged, ValueError when the window does not fit")


# --------------------------------------------------------------------------- max_pool_backward
#   the 4x4 example with dout [[1, 2], [3, 4]]: each window's dout lands on its maximum,
#   4 at (1, 0), 5 at (1, 3), 6 at (3, 1), 7 at (2, 2)
_DX44 = [[0, 0, 0, 0], [1, 0, 0, 2], [0, 0, 4, 0], [0, 3, 0, 0]]
#   with (u, v) swapped: offsets (1, 0) -> (0, 1); (1, 1), (1, 1) and (0, 0) stay
_DX44_SWAPPED = [[0, 1, 0, 0], [0, 0, 0, 2], [0, 0, 4, 0], [0, 3, 0, 0]]
#   ties: [[0, 0, 5, 1],      left window: four zeros (a ReLU's output often looks like this),
#          [0, 0, 1, 5]]      right window: 5 at (0, 2) and at (1, 3); dout [[1, 2]]
#   first maximum (row by row): 1 -> (0, 0), 2 -> (0, 2)
_XTIE = [[0, 0, 5, 1], [0, 0, 1, 5]]
_DXTIE = [[1, 0, 2, 0], [0, 0, 0, 0]]
_DXTIE_EVERY = [[1, 1, 2, 0], [1, 1, 0, 2]]
_DXTIE_LAST = [[0, 0, 0, 0], [0, 1, 0, 2]]
#   the 5x5 example with dout [[1, 2], [3, 4]]: 1 -> (1, 1), 2 -> (2, 3), and both bottom
#   windows pick the 8 at (4, 2): 3 + 4 = 7 (overwriting leaves 3 or 4)
_DX55 = [[0, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 2, 0], [0, 0, 0, 0, 0], [0, 0, 7, 0, 0]]


def _variant(rows, at, value):
    out = np.array(rows, dtype=np.float64)
    out[at] = value
    return _grid(out)


def check_max_pool_backward(max_pool_backward, max_pool_forward):
    """Check max_pool_backward(dout, x, pool=2, stride=2) -> dx of the shape of x: hand-worked
    routing (ties, overlapping windows), channels and samples, and central differences of your
    max_pool_forward."""
    label = _label(max_pool_backward, "max_pool_backward")
    x, dout = _grid(_X44), _grid([[1, 2], [3, 4]])
    tried = f"dout [[1, 2], [3, 4]], {_pool_tried(x, 2, 2)}"
    got = _call(max_pool_backward, label, tried, dout, x, 2, 2)
    _compare(got, _grid(_DX44), [(CNN_HINTS["swapped-offset"], _grid(_DX44_SWAPPED)),
                                 (CNN_HINTS["average"], np.kron(dout, np.ones((2, 2, 1, 1))) / 4),
                                 (CNN_HINTS["whole-window"], np.kron(dout, np.ones((2, 2, 1, 1))))],
             label=label, tried=tried, what="dx", axes="(H, W, C, M), the shape of x", spatial=True)
    _passed(f"{label}: the 4x4 example, each window's gradient on its maximum (hand-worked)")

    x = _grid(_XTIE)
    tried = f"dout [[1, 2]], {_pool_tried(x, 2, 2, 'tied maxima')}"
    got = _call(max_pool_backward, label, tried, _grid([[1, 2]]), x, 2, 2)
    _compare(got, _grid(_DXTIE), [(CNN_HINTS["every-tie"], _grid(_DXTIE_EVERY)),
                                  (CNN_HINTS["last-tie"], _grid(_DXTIE_LAST))],
             label=label, tried=tried, what="dx", axes="(H, W, C, M), the shape of x")
    _passed(f"{label}: tied maxima, the gradient goes to the first one only")

    x = _grid(_X55)
    tried = f"dout [[1, 2], [3, 4]], {_pool_tried(x, 3, 2, 'overlapping windows')}"
    got = _call(max_pool_backward, label, tried, _grid([[1, 2], [3, 4]]), x, 3, 2,
                hint=_untiled(3, 2))
    _compare(got, _grid(_DX55), [(CNN_HINTS["overwrites-overlap"], _variant(_DX55, (4, 2), 3)),
                                 (CNN_HINTS["overwrites-overlap"], _variant(_DX55, (4, 2), 4))],
             label=label, tried=tried, what="dx", axes="(H, W, C, M), the shape of x", spatial=True)
    _passed(f"{label}: overlapping windows that pick the same input add up")

    x = _layered()
    dout = np.arange(1.0, 13.0).reshape(1, 2, 2, 3)
    tried = ("dout = 1..12 of shape (1, 2, 2, 3), pool=2, stride=1 on x of shape (2, 3, 2, 3), "
             "x[i, j, c, n] = 100*c + 10*n + 3*i + j")
    expected = np.zeros_like(x)
    expected[1:2, 1:3] = dout            # every window's maximum: row 1, column j + 1
    got = _call(max_pool_backward, label, tried, dout, x, 2, 1)
    _compare(got, expected, [], label=label, tried=tried, what="dx",
             axes="(H, W, C, M), the shape of x")
    _passed(f"{label}: channels and samples kept apart, dx shaped like x")

    rng = np.random.default_rng(6)
    x, dout = rng.standard_normal((6, 7, 2, 2)), rng.standard_normal((2, 3, 2, 2))
    tried = ("a random x of shape (6, 7, 2, 2), pool=3, stride=2, random dout: dx against central "
             "differences of sum(max_pool_forward(x) * dout)")
    got = _as_array(_call(max_pool_backward, label, tried, dout, x, 3, 2), label, tried, "dx")
    forward = _label(max_pool_forward, "max_pool_forward")
    numeric = numerical_gradient(lambda v: _call(max_pool_forward, forward, tried, v, 3, 2), x, dout)
    _compare(got, numeric, [], label=label, tried=tried, what="dx",
             axes="(H, W, C, M), the shape of x")
    _passed(f"{label}: equals central differences of your max_pool_forward on random numbers")
    _keeps_contract(max_pool_backward, label, (dout, x, 3, 2), ("dout", "x"))
    _passed(f"{label}: float32 kept, dout and x unchanged")


# --------------------------------------------------------------------------- the network
#   x: two samples 2x4, one channel          w1: two 1x1 filters, +1 and -1, b1 = 0, pad 0
#     n = 0: [[1, 2, -1,  0],                so a[..., 0, n] = x and a[..., 1, n] = -x
#             [3, -2, 0, -4]]
#     n = 1: [[0, 1, 2, 1],
#             [-1, 0, 3, 1]]
#   ReLU, then 2x2 pooling, stride 2 (two windows across): p[0, j, c, n]
#     n = 0: left window  max(x) = 3, max(-x) = 2;  right window max(x) = 0, max(-x) = 4
#     n = 1: left window  max(x) = 1, max(-x) = 1;  right window max(x) = 3, max(-x) = -1 -> ReLU 0
#   features in (i, j, c) order: n = 0: [3, 2, 0, 4]   n = 1: [1, 1, 3, 0]
#   w2 (2 classes, 1, 2, 2) in (i, j, c) order: class 0 [1, 2, 3, 4], class 1 [0, -1, 1, 0];
#   b2 = [0.5, -0.5]
#   scores: class 0: n = 0: 3 + 4 + 0 + 16 + 0.5 = 23.5    n = 1: 1 + 2 + 9 + 0 + 0.5 = 12.5
#           class 1: n = 0: 0 - 2 + 0 + 0 - 0.5 = -2.5     n = 1: 0 - 1 + 3 + 0 - 0.5 = 1.5
_SCORES = [[23.5, 12.5], [-2.5, 1.5]]
_SCORES_WRONG = {
    "no-relu": [[23.5, 8.5], [-2.5, 1.5]],            # n = 1 keeps -1: 12.5 - 4 = 8.5
    "feature-order": [[25.5, 10.5], [1.5, -2.5]],     # features in (c, i, j) order
    "batch-first": [[15.5, 18.5], [0.5, 0.5]],        # features from p.reshape(M, -1)
    "missing-bias": [[23, 12], [-2, 2]],
}
#   backward with dscores = identity (class 0's score of sample 0, class 1's of sample 1):
#   db2 = dscores summed over samples = [1, 1];  dw2[k] = features of the sample with dscores 1:
#   class 0 [3, 2, 0, 4], class 1 [1, 1, 3, 0].  dp = w2 for that sample, routed to the maxima:
#     n = 0, filter 0: 1 -> the 3 at (1, 0); the right window is four zeros after the ReLU, its
#            gradient 3 goes to the first, (0, 2), where a = -1 < 0: the ReLU stops it
#     n = 0, filter 1: 2 -> -x = 2 at (1, 1) (x = -2); 4 -> -x = 4 at (1, 3) (x = -4)
#     n = 1, filter 0: 0 -> (0, 1); 1 -> the 3 at (1, 2)       filter 1: -1 -> -x = 1 at (1, 0)
#            (x = -1); 0 -> ...
#   dw1[k] = sum of da * x: filter 0: 1*3 + 1*3 = 6; filter 1: 2*(-2) + 4*(-4) + (-1)*(-1) = -19
#   db1[k] = sum of da: filter 0: 1 + 1 = 2; filter 1: 2 + 4 - 1 = 5
#   without the ReLU's mask the 3 reaches x = -1: dw1 = [3, -19], db1 = [5, 5]
_DW1, _DB1 = [6, -19], [2, 5]
_DW1_NO_MASK, _DB1_NO_MASK = [3, -19], [5, 5]
_DW2 = [[3, 2, 0, 4], [1, 1, 3, 0]]


def _tiny_network():
    """(x, w1, b1, w2, b2) of the hand-worked network above."""
    x = np.zeros((2, 4, 1, 2))
    x[:, :, 0, 0] = [[1, 2, -1, 0], [3, -2, 0, -4]]
    x[:, :, 0, 1] = [[0, 1, 2, 1], [-1, 0, 3, 1]]
    w1 = np.array([1.0, -1.0]).reshape(2, 1, 1, 1)
    w2 = np.array([[1, 2, 3, 4], [0, -1, 1, 0]], dtype=np.float64).reshape(2, 1, 2, 2)
    return x, w1, np.zeros(2), w2, np.array([0.5, -0.5])


TINY = ("the hand-worked network: x two 2x4 samples, two 1x1 filters (+1, -1), pad 0, "
        "2x2 pooling, 2 classes")


def _random_network(seed, M=3, K=4, f=5, pad=2, classes=10, H=8, W=8):
    """A digits-sized network (8x8 images, K f x f filters, pad, 2x2 pooling) with random numbers:
    (x, w1, b1, w2, b2)."""
    rng = np.random.default_rng(seed)
    Hp, Wp = (H + 2 * pad - f + 1) // 2, (W + 2 * pad - f + 1) // 2
    return (rng.standard_normal((H, W, 1, M)), rng.standard_normal((K, f, f, 1)),
            rng.standard_normal(K), rng.standard_normal((classes, Hp, Wp, K)),
            rng.standard_normal(classes))


def check_cnn_forward(cnn_forward):
    """Check cnn_forward(x, w1, b1, w2, b2, pad=0, pool=2) -> scores (classes, M)."""
    label = _label(cnn_forward, "cnn_forward")
    x, w1, b1, w2, b2 = _tiny_network()
    got = _call(cnn_forward, label, TINY, x, w1, b1, w2, b2, 0, 2)
    _compare(got, np.array(_SCORES), [(CNN_HINTS[k], np.array(v)) for k, v in _SCORES_WRONG.items()],
             label=label, tried=TINY, what="scores", axes="(classes, M), one column per sample")
    _passed(f"{label}: the hand-worked network (conv, ReLU, pooling, affine)")

    x, w1, b1, w2, b2 = _random_network(7)
    tried = ("a digits-sized network: x (8, 8, 1, 3), w1 (4, 5, 5, 1), pad 2, 2x2 pooling, "
             "w2 (10, 4, 4, 4), random numbers")
    scores = _as_array(_call(cnn_forward, label, tried, x, w1, b1, w2, b2, 2, 2), label, tried, "scores")
    if scores.shape != (10, 3):
        _fail(label, f"scores has shape {scores.shape}, expected (10, 3): (classes, M)", tried,
              hint="one row per class, one column per sample: w2.reshape(classes, -1) times the "
                   "features as columns")
    for n in range(3):
        alone = _call(cnn_forward, label, tried, x[..., n:n + 1], w1, b1, w2, b2, 2, 2)
        _compare(alone, scores[:, n:n + 1], [], label=label, what=f"the scores of sample {n} alone",
                 tried=f"{tried}: sample {n} scored alone must equal column {n} of the batch's "
                       "scores", axes="(classes, 1)")
    shifted = _as_array(_call(cnn_forward, label, tried, x, w1, b1, w2, b2 + 1, 2, 2), label,
                        tried, "scores")
    _compare(shifted - scores, np.ones((10, 3)), [], label=label, what="the change of the scores",
             tried=f"{tried}: adding 1 to every b2[k] must add 1 to every score", axes="(classes, M)")
    _passed(f"{label}: every sample scored on its own, b2 added once per class (8x8 digits-sized)")
    _keeps_contract(cnn_forward, label, (x, w1, b1, w2, b2, 2, 2), ("x", "w1", "b1", "w2", "b2"))
    _passed(f"{label}: float32 kept, arguments unchanged")


def _gradients(result, label, tried):
    if not isinstance(result, (tuple, list)) or len(result) != 4:
        _fail(label, f"returned {type(result).__name__}"
                     + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
                     + ": expected the tuple (dw1, db1, dw2, db2)", tried,
              hint="end with `return dw1, db1, dw2, db2`")
    return result


GRADIENT_NAMES = ("dw1", "db1", "dw2", "db2")


def check_cnn_backward(cnn_backward, cnn_forward):
    """Check cnn_backward(dscores, x, w1, b1, w2, pad=0, pool=2) -> (dw1, db1, dw2, db2): the
    hand-worked network, then central differences of your cnn_forward."""
    label = _label(cnn_backward, "cnn_backward")
    x, w1, b1, w2, b2 = _tiny_network()
    # b1 = -10 closes the ReLU everywhere (|x| <= 4): r = p = 0, nothing reaches w1 or b1
    tried = f"{TINY}, but b1 = [-10, -10], so every a < 0; dscores = identity (2, 2)"
    closed = _gradients(_call(cnn_backward, label, tried, np.eye(2), x, w1, b1 - 10, w2, 0, 2),
                        label, tried)
    for name, got, shape in (("dw1", closed[0], w1.shape), ("db1", closed[1], b1.shape)):
        _compare_or(CNN_HINTS["no-relu-mask"], got, np.zeros(shape), label=label, tried=tried,
                    what=name, axes=str(shape))
    _passed(f"{label}: nothing reaches w1 and b1 when the ReLU is closed everywhere")

    tried = f"{TINY}; dscores = identity (2, 2)"
    result = _gradients(_call(cnn_backward, label, tried, np.eye(2), x, w1, b1, w2, 0, 2), label, tried)
    as_w1 = lambda v: np.array(v, dtype=np.float64).reshape(2, 1, 1, 1)
    targets = {
        "dw1": (as_w1(_DW1), [(CNN_HINTS["no-relu-mask"], as_w1(_DW1_NO_MASK))], "(K, f, f, C), the shape of w1"),
        "db1": (np.array(_DB1, dtype=np.float64), [(CNN_HINTS["no-relu-mask"], np.array(_DB1_NO_MASK))], "(K,)"),
        "dw2": (np.array(_DW2, dtype=np.float64).reshape(w2.shape), [], "(classes, Hp, Wp, K), the shape of w2"),
        "db2": (np.ones(2), [], "(classes,)"),
    }
    for name in ("dw2", "db2", "dw1", "db1"):        # the affine layer's first
        expected, mistakes, axes = targets[name]
        fallback = CNN_HINTS["below-affine"] if name in ("dw1", "db1") else None
        _compare_or(fallback, result[GRADIENT_NAMES.index(name)], expected, mistakes, label=label,
                    tried=tried, what=name, axes=axes)
    _passed(f"{label}: the hand-worked network, dscores = identity")

    x, w1, b1, w2, b2 = _random_network(8, M=2, K=2, f=3, pad=1, classes=3, H=6, W=5)
    dscores = np.random.default_rng(9).standard_normal((3, 2))
    tried = ("a random network: x (6, 5, 1, 2), w1 (2, 3, 3, 1), pad 1, 2x2 pooling, "
             "w2 (3, 3, 2, 2), random dscores (3, 2): gradients against central differences of "
             "sum(cnn_forward(...) * dscores)")
    result = _gradients(_call(cnn_backward, label, tried, dscores, x, w1, b1, w2, 1, 2), label, tried)
    forward = _label(cnn_forward, "cnn_forward")
    params = {"w1": w1, "b1": b1, "w2": w2, "b2": b2}

    def scores_with(name, value):
        return _call(cnn_forward, forward, tried, x, **{**params, name: value}, pad=1, pool=2)

    for name, got in zip(GRADIENT_NAMES, result):
        param = name[1:]
        numeric = numerical_gradient(lambda v: scores_with(param, v), params[param], dscores)
        _compare(got, numeric, [], label=label, tried=tried, what=name,
                 axes=f"{params[param].shape}, the shape of {param}",
                 shape_hints=[((), f"{name} must have the shape of {param}")])
    _passed(f"{label}: dw1, db1, dw2, db2 equal central differences of your cnn_forward")
    _keeps_contract(cnn_backward, label, (dscores, x, w1, b1, w2, 1, 2),
                    ("dscores", "x", "w1", "b1", "w2"))
    _passed(f"{label}: float32 kept, arguments unchanged")
