"""The rules students read, declared once (docs/CONTRACT.md): the library convolutions a graded
function must not use, how close a result must be to count as right, and what speed-up the
notebooks' timing demos should show. The graders' static check, the cage's import block, the
misconception table's comparisons and hints all read them from here, and tools/make_student_data.py
writes them into helpers/data/course_rules.json, the copy the public checks and helpers.timing
read (helpers never import autograder).
"""
from dataclasses import dataclass

from autograder.cases import Case

# Dotted names a graded function must not call: each library's convolution, or the library.
FORBIDDEN_LIBRARIES = ("scipy.signal", "scipy.ndimage", "numpy.convolve", "numpy.correlate",
                       "torch", "jax", "tensorflow", "cv2")

# The modules among them, which the cage refuses to import (defence in depth: the verdict is the
# static check; numpy's own convolve and correlate are replaced by stubs instead).
BLOCKED_MODULES = tuple(name for name in FORBIDDEN_LIBRARIES if not name.startswith("numpy."))

# How close a value must be to the reference's, by the dtype of the inputs: (rtol, atol), with
#     |got - expected| <= rtol * |expected| + atol * max(1, max |expected|)
# elementwise (atol scales with the result's magnitude). Numbers (float results) use the float64
# pair. The hidden graders (autograder.misconceptions.values_match) and the public checks compare
# with this one rule.
TOLERANCES = {"float64": (1e-7, 1e-9), "float32": (1e-4, 1e-4)}
# The adjoint identity <im2col(x), Y> == <x, col2im(Y)> holds to this relative error.
ADJOINT_RTOL = 1e-9


@dataclass(frozen=True)
class Speedup:
    """What a notebook's timing demo (helpers.timing.report_speedup) tells a student to expect:
    `function` against `baseline` (`baseline_words` in messages) on `case`, where the course's
    reference was `measured` times as fast as the baseline's reference (best of 5 calls, one BLAS
    thread, on the course machine of README "Performance", 2026-12). The least speed-up the
    hidden timing test accepts is derived from the function's timing limit
    (autograder.contract) by tools/make_student_data.py."""
    function: str
    baseline: str
    baseline_words: str
    case: Case
    measured: float


SPEEDUPS = (
    # the case the graders time conv_forward_partial on: f*f*C = 486
    Speedup("conv_forward_partial", "conv_forward_naive", "the seven loops",
            Case("partial demo", 16, 16, 6, 1, 2, 9, 1, 0, seed=41), 90.0),
    Speedup("conv_forward_im2col", "conv_forward_naive", "the seven loops",
            Case("im2col demo", 32, 32, 3, 4, 8, 3, 1, 1, seed=51), 800.0),
    Speedup("conv_backward_im2col", "conv_backward_naive", "the backward loops",
            Case("backward demo", 32, 32, 3, 4, 8, 3, 1, 1, seed=52), 85.0),
    # a filter large enough for the FFT to win (the crossover is near f = 11 here)
    Speedup("conv_forward_fft", "conv_forward_im2col", "the im2col layer",
            Case("fft demo", 64, 64, 3, 2, 8, 15, 1, 7, seed=53), 3.1),
)
