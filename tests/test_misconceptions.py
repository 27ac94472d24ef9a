"""The table of known mistakes: ids as docs/CONTRACT.md lists them, every built-in variant really
differs from the reference on the graders' cases, and diagnose() maps each variant, and each
independently written wrong answer in tests/student_answers, to its own id and no other."""
import importlib
from pathlib import Path

import numpy as np
import pytest

from autograder import misconceptions, reference
from autograder.cases import SMALL_CASES
from autograder.graders import inputs

# docs/CONTRACT.md, in its order.
SPEC_IDS = ("true-convolution", "missing-bias", "ignores-stride", "ignores-padding",
            "output-size-rounding", "pads-every-axis", "im2col-row-order", "im2col-column-order",
            "col2im-overwrites-overlap", "dx-keeps-padding", "empty-at-pad-zero",
            "grad-last-sample-only", "bias-inside-window-sum", "u-v-swapped", "filter-matrix-scrambled",
            "slices-unpadded-x",
            "out-mat-not-transposed", "dout-not-transposed", "fft-wrong-crop", "irfft2-without-s",
            "fft-flips-channels", "pool-averages", "pool-ignores-stride",
            "pool-gradient-to-whole-window", "pool-overlap-overwritten", "relu-missing",
            "relu-mask-missing", "mutates-input", "library-convolution")

VARIANTS = [(m.id, function) for m in misconceptions.TABLE for function in m.variants]


def _calls(function):
    """(args, reference value) on every small case the graders use where the call is valid."""
    out = []
    for case in SMALL_CASES:
        args = inputs(function, case)
        out.append((args, misconceptions.expected(function, args, {})))
    return out


def test_ids_are_exactly_the_spec_table():
    assert misconceptions.IDS == SPEC_IDS
    for m in misconceptions.TABLE:
        assert m.description and m.hint and m.functions
        assert set(m.functions) <= set(reference.__all__)
    assert not misconceptions.get("mutates-input").variants
    assert not misconceptions.get("library-convolution").variants
    with pytest.raises(ValueError, match="unknown misconception 'nope'"):
        misconceptions.get("nope")


@pytest.mark.parametrize("mistake, function", VARIANTS)
def test_every_variant_differs_from_the_reference_and_is_diagnosed_as_itself(mistake, function):
    differs = {}
    for args, ref in _calls(function):
        for k, value in enumerate(misconceptions.variants(mistake, function, args, {})):
            if misconceptions.values_match(value, ref):
                differs.setdefault(k, False)
                continue
            differs[k] = True
            assert misconceptions.diagnose(function, args, {}, value) == mistake, (k, args[1:])
    assert differs and all(differs.values()), f"variants that never differ: {differs}"


# Mistakes that change the result's shape on some of the graders' cases.
SHAPE_CHANGING = [
    ("ignores-stride", "conv_forward_naive"), ("ignores-stride", "im2col"),
    ("ignores-padding", "zero_pad"), ("ignores-padding", "conv_forward_im2col"),
    ("ignores-padding", "im2col"), ("output-size-rounding", "conv_forward_fft"),
    ("output-size-rounding", "im2col"), ("pads-every-axis", "zero_pad"),
    ("dx-keeps-padding", "col2im"), ("dx-keeps-padding", "conv_backward_naive"),
    ("empty-at-pad-zero", "col2im"), ("empty-at-pad-zero", "conv_backward_im2col"),
    ("out-mat-not-transposed", "conv_forward_im2col"), ("irfft2-without-s", "conv_forward_fft"),
    ("pool-ignores-stride", "max_pool_forward"),
]


def _noise_like(value, rng):
    if isinstance(value, tuple):
        return tuple(_noise_like(v, rng) for v in value)
    return rng.standard_normal(value.shape)


@pytest.mark.parametrize("mistake, function", SHAPE_CHANGING)
def test_a_result_with_only_a_variant_s_shape_is_diagnosed_too(mistake, function):
    rng = np.random.default_rng(0)
    checked = 0
    for args, ref in _calls(function):
        for value in misconceptions.variants(mistake, function, args, {}):
            if misconceptions.shape_of(value) != misconceptions.shape_of(ref):
                assert misconceptions.diagnose(function, args, {}, _noise_like(value, rng)) == mistake
                checked += 1
    assert checked


@pytest.mark.parametrize("function", reference.__all__)
def test_the_reference_and_unrelated_noise_get_no_diagnosis(function):
    rng = np.random.default_rng(1)
    for args, ref in _calls(function)[:4]:
        assert misconceptions.diagnose(function, args, {}, ref) is None
        if isinstance(ref, np.ndarray):
            assert misconceptions.diagnose(function, args, {}, rng.standard_normal(ref.shape)) is None


def _answer_modules():
    root = Path(__file__).resolve().parent / "student_answers"
    for path in sorted(root.glob("mistake_*.py")):
        mistake = path.stem.removeprefix("mistake_").replace("_", "-")
        if misconceptions.get(mistake).variants:
            yield mistake, path.stem


@pytest.mark.parametrize("mistake, module", list(_answer_modules()))
def test_independently_written_wrong_answers_are_diagnosed(mistake, module):
    answers = importlib.import_module(f"student_answers.{module}")
    functions = [f for f in reference.__all__
                 if getattr(getattr(answers, f, None), "__module__", None) == answers.__name__]
    assert functions
    for function in functions:
        diagnosed = set()
        for args, ref in _calls(function):
            try:
                got = getattr(answers, function)(*[a.copy() if isinstance(a, np.ndarray) else a
                                                   for a in args])
            except (ValueError, IndexError):
                continue
            if not misconceptions.values_match(got, ref):
                diagnosed.add(misconceptions.diagnose(function, args, {}, got))
        assert diagnosed == {mistake}, function


def test_values_match_compares_structure_shape_and_values_within_dtype_tolerance():
    a = np.linspace(-1, 1, 12).reshape(3, 4)
    assert misconceptions.values_match(a, a + 1e-12)
    assert not misconceptions.values_match(a, a + 1e-3)
    assert not misconceptions.values_match(a, a.reshape(4, 3))
    assert misconceptions.values_match(a.astype(np.float32) + np.float32(1e-6), a.astype(np.float32))
    assert not misconceptions.values_match((a, a), (a,))
    assert misconceptions.values_match(4, 4) and not misconceptions.values_match(4, 5)
    assert not misconceptions.values_match(4.5, 4)
    assert not misconceptions.values_match(a, np.full_like(a, np.nan))
