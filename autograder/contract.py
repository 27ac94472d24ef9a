"""The course contract, declared once: the assignments in order, and every graded function with
what the rest of the course reads about it (docs/CONTRACT.md).

A function's entry (`Spec`) holds its signature, what its result is called in messages, how
the graders build its arguments from a case (autograder/cases.py) and say that case in words,
the bad inputs it must refuse with ValueError, its family (the layer's forward or backward
pass), what the generic graders check (autograder/graders/generic.py: correctness on a case
grid, float32 kept, inputs unchanged, bad input, no library convolution, timing, memory), the
notebook's public check (a function of helpers.checks) and its visible and hidden points. An
assignment (`Assignment`) has its id, its title and its functions, in course order. The
notebook builder (tools/notebooks, tools/nbbuild.py), the graders, the misconception table's
FORWARD and BACKWARD, the bundle's titles, nbgrader's and Gradescope's points all read this
module; it imports only the case table and the configuration, never the reference, the
graders or the misconceptions.

Adding a function to an assignment touches:
    autograder/reference.py                    its reference implementation (and `__all__`)
    autograder/contract.py                     its `Spec`, in its assignment's tuple below
    tools/notebooks/functions.py and <id>.py   its answer (header and solution) and its cells
    helpers/checks.py                          its public check (`public_check`)
    tools/example_answers/<student>/<id>.py    the example submissions' answers
    tests/student_answers/correct_*.py         the two right answers the graders' tests grade
    docs/CONTRACT.md                           its row of the Functions table
    autograder/graders/test_<id>.py            only tests the generic ones do not cover
and `make notebooks` regenerates solutions/, notebooks/ and examples/submissions/ from them. A
timed function also has its honest and looping styles in tests/student_answers/timing_styles.py
(tests/test_timing_thresholds.py reads its limit from the entry).

Adding an assignment: the same files, with an `Assignment` below (its place in COURSE is its
place in the course, its title is what the student bundle lists), its notebook module
tools/notebooks/<id>.py and its grader module autograder/graders/test_<id>.py, which holds at
least

    from autograder.graders.generic import add_generic_tests
    add_generic_tests(globals(), "<id>")

The points of an assignment's functions sum to config.POINTS_PER_ASSIGNMENT; tests/test_registry.py
checks this and the rest of the registry against the reference, the notebooks and the graders.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from autograder import config
from autograder.cases import (ALEXNET_CONV1, GRID, LARGE, MEMORY_CASE, NETWORK_CASES, POOL_CASES,
                              SAMPLES, SEED_CASES, SMALL_CASES, WINDOWS, Case)

# Cell tags used in the notebooks.
DEMO_TAG = "demo"      # timing and plotting cells a grader skips
GIVEN_TAG = "given"    # code the course provides (imports, earlier assignments' functions)

FAMILIES = ("forward", "backward")
# The case the generic contract tests (float32 kept, inputs unchanged) call every function on.
CONTRACT_CASE = GRID[1]


@dataclass(frozen=True)
class Correctness:
    """The generic correctness test: the reference's value on each of `cases` (a pytest case
    each), named `name` ("{case}" is case.describe(), fields such as "{case.x_shape}" work)."""
    cases: tuple
    name: str
    weight: float


@dataclass(frozen=True)
class BadInput:
    """An input the function must refuse with ValueError: `build()` -> (args, the input in
    words); `name` is the robustness test's name and `id` ends its pytest name."""
    id: str
    name: str
    build: Callable


@dataclass(frozen=True)
class Timing:
    """The timing test: at most `max_ratio` times `reference_function`'s time (default: the
    function's own reference) on every one of `cases`. `claim` is the test's name before
    " on <cases>"; `hint` is what a too slow answer is told."""
    cases: tuple
    max_ratio: float
    claim: str
    hint: str
    reference_function: str | None = None
    reference_label: str = "the reference"


@dataclass(frozen=True)
class Memory:
    """The memory test: peak extra memory of one call on `case` at most `factor` times the
    bytes of that case's X_col."""
    case: Case
    factor: float


@dataclass(frozen=True)
class Spec:
    """One graded function of the contract (see the module docstring).

    function: its name, also its answer cell's grade_id
    signature: its parameters as written in Python, "x, w, b, stride=1, pad=0" (the reference's)
    result: what its result is called in messages ("out"), a tuple for a tuple ("dx", "dw", "db")
    arguments(case, dtype, seed_offset, seed): its positional arguments for a case, numbers from
        the run's seed (None: the published numbers), fresh ones for each seed_offset
    where(case): the case in words, as messages show it
    visible_points, hidden_points: its visible test cell's points (all or nothing) and its hidden
        tests' points (shared by weight); an assignment's sum to config.POINTS_PER_ASSIGNMENT
    public_check: the helpers.checks function its visible test cell calls, with the student's
        function first and then `public_check_with` ("reference.im2col": the reference's)
    family: "forward" or "backward" for the convolutional layer's two passes (FORWARD_LAYER,
        BACKWARD_LAYER: the misconceptions built into the layer apply to them), else None
    correctness: the generic correctness test (None: only special tests check the values)
    keeps_dtype: float32 inputs give float32 results (a test on CONTRACT_CASE)
    unchanged: the arguments the no-mutation test names (none: no such test)
    bad_inputs: the BadInputs it must refuse with ValueError, one robustness test each
    library_check: the static test for library convolutions
    timing, memory: its timing and memory tests (None: not timed, not measured)
    returns(*args, **kwargs): the shapes of the arrays it returns, called with its own arguments
        (an empty list for a number); the call channel bounds a reply by them (replies.py;
        None: by the bytes of its array arguments)
    same_as: a faster reference function computing the same values, which the graders and the
        misconception table call in its place (None: its own reference)
    """
    function: str
    signature: str
    result: str | tuple
    arguments: Callable
    where: Callable
    visible_points: int
    hidden_points: int
    public_check: str
    public_check_with: tuple = ()
    family: str | None = None
    correctness: Correctness | None = None
    keeps_dtype: bool = True
    unchanged: tuple = ()
    bad_inputs: tuple = ()
    library_check: bool = True
    timing: Timing | None = None
    memory: Memory | None = None
    returns: Callable | None = None
    same_as: str | None = None

    def __post_init__(self):
        if self.family not in (None, *FAMILIES):
            raise ValueError(f"{self.function}: family must be one of {FAMILIES} or None, "
                             f"got {self.family!r}")

    @property
    def points(self):
        return self.visible_points + self.hidden_points

    @property
    def parameters(self):
        """The parameter names, in order: ("x", "w", "b", "stride", "pad")."""
        return tuple(p.split("=", 1)[0].strip() for p in self.signature.split(","))


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str          # what the notebook teaches, as the student bundle's README lists it
    functions: tuple    # of Spec, in the notebook's order


# --------------------------------------------------------------------------- arguments from a case
def _layer_arguments(case, dtype, seed_offset, seed):
    x, w, b = case.arrays(dtype, seed_offset, run_seed=seed)
    return (x, w, b, case.stride, case.pad)


def _backward_arguments(case, dtype, seed_offset, seed):
    x, w, _ = case.arrays(dtype, seed_offset, run_seed=seed)
    return (case.dout(dtype, seed_offset, run_seed=seed), x, w, case.stride, case.pad)


def _output_size_arguments(case, dtype, seed_offset, seed):
    return (case.H, case.f, case.stride, case.pad)


def _zero_pad_arguments(case, dtype, seed_offset, seed):
    x = case.arrays(dtype, seed_offset, run_seed=seed)[0]
    return (x, case.pad)


def _single_step_arguments(case, dtype, seed_offset, seed):
    """The first window of the padded first sample, with all the case's filters and biases."""
    x, w, b = case.arrays(dtype, seed_offset, run_seed=seed)
    p = case.pad
    window = np.pad(x, ((p, p), (p, p), (0, 0), (0, 0)))[:case.f, :case.f, :, 0]
    return (window, w, b)


def _im2col_arguments(case, dtype, seed_offset, seed):
    x = case.arrays(dtype, seed_offset, run_seed=seed)[0]
    return (x, case.f, case.stride, case.pad)


def _col2im_rng(case, seed_offset, seed):
    """The generator of col2im's input Y (a stream distinct from Case.arrays' and Case.dout's)."""
    if seed is None:
        return np.random.default_rng([case.seed, 1, seed_offset])
    return np.random.default_rng([seed, case.seed, 2, seed_offset])


def _col2im_arguments(case, dtype, seed_offset, seed):
    Y = _col2im_rng(case, seed_offset, seed).standard_normal(case.col_shape).astype(dtype)
    return (Y, case.x_shape, case.f, case.stride, case.pad)


# --------------------------------------------------------------------------- a case in words
def _layer_where(case):
    return case.describe()


def _output_size_where(case):
    return f"n={case.H}, f={case.f}, stride={case.stride}, pad={case.pad}"


def _zero_pad_where(case):
    return f"x of shape {case.x_shape}, pad={case.pad}"


def _single_step_where(case):
    return f"a {case.f}x{case.f}x{case.C} window and {case.K} filters"


def _columns_where(case):
    return f"x of shape {case.x_shape}, f={case.f}, stride={case.stride}, pad={case.pad}"


# --------------------------------------------------------------------------- result shapes
# Each takes the function's own parameters and gives the shapes of the arrays it returns.
def _positions(n, f, stride, pad):
    """Output positions along one axis (0 when the filter does not fit)."""
    return max((n + 2 * pad - f) // stride + 1, 0)


def _number(*args, **kwargs):
    return []


def _one_per_filter(x_slice, w, b):
    return [(w.shape[0],)]


def _padded_shape(x, pad):
    H, W, C, M = x.shape
    return [(H + 2 * pad, W + 2 * pad, C, M)]


def _forward_shape(x, w, b, stride=1, pad=0):
    H, W, _, M = x.shape
    return [(_positions(H, w.shape[1], stride, pad), _positions(W, w.shape[2], stride, pad),
             w.shape[0], M)]


def _backward_shapes(dout, x, w, stride=1, pad=0):
    return [x.shape, w.shape, (w.shape[0],)]


def _columns_shape(x, f, stride=1, pad=0):
    H, W, C, M = x.shape
    return [(f * f * C, _positions(H, f, stride, pad) * _positions(W, f, stride, pad) * M)]


def _col2im_shape(X_col, x_shape, f, stride=1, pad=0):
    return [tuple(x_shape)]


def _pool_shape(x, pool=2, stride=2):
    H, W, C, M = x.shape
    return [(_positions(H, pool, stride, 0), _positions(W, pool, stride, 0), C, M)]


def _pool_backward_shape(dout, x, pool=2, stride=2):
    return [x.shape]


def _scores_shape(x, w1, b1, w2, b2, pad=0, pool=2):
    return [(w2.shape[0], x.shape[3])]


def _network_gradient_shapes(dscores, x, w1, b1, w2, pad=0, pool=2):
    return [w1.shape, (w1.shape[0],), w2.shape, (w2.shape[0],)]


# --------------------------------------------------------------------------- bad inputs
def filter_too_large(arguments):
    """A filter that does not fit the padded input (f > H + 2*pad); `arguments(x, f, stride,
    pad)` builds the call."""
    def build():
        x = np.ones((4, 5, 2, 1))
        f, s, p = 7, 1, 1
        return arguments(x, f, s, p), f"x of shape {x.shape}, f={f}, pad={p} (f > H + 2*pad = {4 + 2 * p})"
    return BadInput("too_large", "ValueError when the filter does not fit", build)


def channel_mismatch(arguments):
    """x with 3 channels and filters expecting 2; `arguments(x, w)` builds the call."""
    def build():
        x, w = np.ones((5, 5, 3, 2)), np.ones((2, 3, 3, 2))
        return arguments(x, w), f"x of shape {x.shape} (C=3) and w of shape {w.shape} (C=2)"
    return BadInput("channels", "ValueError on a channel mismatch", build)


def _output_size_too_large():
    f, p = 7, 1
    return (4, f, 1, p), f"n=4, f={f}, pad={p} (f > n + 2*pad = {4 + 2 * p})"


OUTPUT_SIZE_TOO_LARGE = BadInput("too_large", "ValueError when the filter does not fit",
                                 _output_size_too_large)

# The two families: the convolutional layer's forward pass (x, w, b, stride, pad) -> out and its
# backward pass (dout, x, w, stride, pad) -> (dx, dw, db), every field they share.
FORWARD_LAYER = dict(
    signature="x, w, b, stride=1, pad=0", family="forward", result="out", returns=_forward_shape,
    arguments=_layer_arguments, where=_layer_where, unchanged=("x", "w", "b"),
    public_check="check_conv_forward",
    bad_inputs=(filter_too_large(lambda x, f, s, p: (x, np.ones((2, f, f, 2)), np.zeros(2), s, p)),
                channel_mismatch(lambda x, w: (x, w, np.zeros(2), 1, 0))))
BACKWARD_LAYER = dict(
    signature="dout, x, w, stride=1, pad=0", family="backward", result=("dx", "dw", "db"),
    returns=_backward_shapes, arguments=_backward_arguments, where=_layer_where, unchanged=("dout", "x", "w"),
    public_check="check_conv_backward",
    bad_inputs=(filter_too_large(lambda x, f, s, p: (np.ones((1, 1, 2, 1)), x, np.ones((2, f, f, 2)), s, p)),
                channel_mismatch(lambda x, w: (np.ones((3, 3, 2, 2)), x, w, 1, 0))))

MATCHES = "matches the reference on {case}"
GRADIENTS_MATCH = "dx, dw, db match the reference on {case}"
MATCHES_COLUMNS = "x of shape {case.x_shape}, f={case.f}, stride {case.stride}, pad {case.pad}"


def at_most(ratio, of="the reference's"):
    """A timing claim: "at most 8x the reference's time"."""
    return f"at most {ratio:g}x {of} time"


# The im2col tier's limit. Each of its functions, and the FFT, is timed on WINDOWS and SAMPLES
# (autograder/cases.py says why, and what was measured), each with its own seed.
IM2COL_SPEED = dict(max_ratio=config.IM2COL_MAX_RATIO, claim=at_most(config.IM2COL_MAX_RATIO))


# --------------------------------------------------------------------------- a6_cnn
# Max pooling and the small network conv -> ReLU -> max-pool -> affine (autograder/reference.py,
# section a6_cnn). Their arguments come from the case table's POOL_CASES and NETWORK_CASES
# (autograder/cases.py), read as follows:
#   pooling:  x (H, W, C, M), windows `pool` = case.f at case.stride; case.K and case.pad unused
#   network:  x (H, W, C, M), K filters f x f with case.pad (the convolution's stride is always 1),
#             pooling windows and stride `pool` = case.stride, NETWORK_CLASSES classes
NETWORK_CLASSES = 4



def _pooled_shape(case):
    """(H_out, W_out) of pooling case.f x case.f windows at case.stride over x (no padding)."""
    return (case.H - case.f) // case.stride + 1, (case.W - case.f) // case.stride + 1


def _network_shape(case):
    """(Hp, Wp) of the network's pooled maps: a stride-1 convolution with case.pad, then
    pooling windows and stride case.stride."""
    return tuple((n + 2 * case.pad - case.f + 1 - case.stride) // case.stride + 1
                 for n in (case.H, case.W))


def _a6_rng(case, seed_offset, seed, stream):
    """The generator of arrays a Case does not draw itself: stream 0 for w2 and b2 (or pooling's
    dout), 1 for dscores; each distinct from Case.arrays', Case.dout's and col2im's."""
    if seed is None:
        return np.random.default_rng([case.seed, 3 + stream, seed_offset])
    return np.random.default_rng([seed, case.seed, 5 + stream, seed_offset])


def _pool_arguments(case, dtype, seed_offset, seed):
    x = case.arrays(dtype, seed_offset, run_seed=seed)[0]
    return (x, case.f, case.stride)


def _pool_backward_arguments(case, dtype, seed_offset, seed):
    x = case.arrays(dtype, seed_offset, run_seed=seed)[0]
    dout = _a6_rng(case, seed_offset, seed, 0).standard_normal(_pooled_shape(case) + (case.C, case.M))
    return (dout.astype(dtype), x, case.f, case.stride)


def _network_arguments(case, dtype, seed_offset, seed):
    """(x, w1, b1, w2, b2, pad, pool) of a network with NETWORK_CLASSES classes."""
    x, w1, b1 = case.arrays(dtype, seed_offset, run_seed=seed)
    rng = _a6_rng(case, seed_offset, seed, 0)
    w2 = rng.standard_normal((NETWORK_CLASSES, *_network_shape(case), case.K)).astype(dtype)
    b2 = rng.standard_normal(NETWORK_CLASSES).astype(dtype)
    return (x, w1, b1, w2, b2, case.pad, case.stride)


def _network_backward_arguments(case, dtype, seed_offset, seed):
    """(dscores, x, w1, b1, w2, pad, pool): the network's and a random dscores (classes, M)."""
    x, w1, b1, w2, _, pad, pool = _network_arguments(case, dtype, seed_offset, seed)
    dscores = _a6_rng(case, seed_offset, seed, 1).standard_normal((NETWORK_CLASSES, case.M))
    return (dscores.astype(dtype), x, w1, b1, w2, pad, pool)


POOL_CASE_WORDS = "x of shape {case.x_shape}, pool {case.f}, stride {case.stride}"
NETWORK_CASE_WORDS = ("x of shape {case.x_shape}, {case.K} filters {case.f}x{case.f}, "
                      "pad {case.pad}, pool {case.stride}")


def _pool_where(case):
    return POOL_CASE_WORDS.format(case=case)


def _network_where(case):
    return f"{NETWORK_CASE_WORDS.format(case=case)}, {NETWORK_CLASSES} classes"


def _pool_too_large(arguments):
    """A pooling window larger than x; `arguments(x, pool)` builds the call."""
    def build():
        x, pool = np.ones((4, 5, 2, 1)), 5
        return arguments(x, pool), f"x of shape {x.shape} and pool {pool} > H = 4"
    return BadInput("too_large", "ValueError when the window does not fit", build)


def _network_mismatch(arguments, what):
    """A network whose `what` ("w2" or "dscores") has the wrong shape; `arguments(x, w1, b1, w2,
    dscores)` builds the call."""
    def build():
        x, w1, b1 = np.ones((8, 8, 1, 2)), np.ones((3, 5, 5, 1)), np.zeros(3)
        w2, dscores = np.ones((4, 4, 4, 3)), np.ones((4, 2))     # pad 2, pool 2: 4x4 maps
        if what == "w2":
            w2 = np.ones((4, 2, 2, 3))
        else:
            dscores = np.ones((4, 3))
        shape = (w2 if what == "w2" else dscores).shape
        return arguments(x, w1, b1, w2, dscores), (
            f"x of shape {x.shape}, w1 {w1.shape}, pad 2, pool 2 (pooled maps 4x4x3) and "
            f"{what} of shape {shape}")
    return BadInput(f"{what}_shape", f"ValueError when {what} does not fit the network", build)


# --------------------------------------------------------------------------- the course
COURSE = (
    Assignment("a1_naive", "the seven-loop layer, output size and zero padding", (
        Spec("conv_output_size", "n, f, stride=1, pad=0", result="the output size", returns=_number,
             arguments=_output_size_arguments, where=_output_size_where,
             visible_points=5, hidden_points=10, public_check="check_conv_output_size",
             keeps_dtype=False, library_check=False, bad_inputs=(OUTPUT_SIZE_TOO_LARGE,)),
        Spec("zero_pad", "x, pad", result="x_pad", returns=_padded_shape,
             arguments=_zero_pad_arguments, where=_zero_pad_where,
             visible_points=5, hidden_points=10, public_check="check_zero_pad",
             # pad 3 and 6 catch a hard-coded pad
             correctness=Correctness(GRID[:6] + (SEED_CASES[0].with_(pad=3), GRID[3].with_(pad=6)),
                                     "pads x of shape {case.x_shape} by {case.pad}", 6),
             unchanged=("x",), library_check=False),
        Spec("conv_forward_naive", **FORWARD_LAYER, same_as="conv_forward_im2col",
             visible_points=20, hidden_points=50,
             correctness=Correctness(SMALL_CASES, MATCHES, 8)),
    )),
    Assignment("a2_partial", "three loops and one matrix-vector product per window", (
        Spec("conv_single_step", "x_slice, w, b", result="out", returns=_one_per_filter,
             arguments=_single_step_arguments, where=_single_step_where,
             visible_points=10, hidden_points=20, public_check="check_conv_single_step",
             correctness=Correctness(SMALL_CASES, "one window of {case}", 6),
             unchanged=("x_slice", "w", "b")),
        Spec("conv_forward_partial", **FORWARD_LAYER, same_as="conv_forward_im2col",
             visible_points=20, hidden_points=50,
             correctness=Correctness(SMALL_CASES, MATCHES, 8),
             timing=Timing(
                 # f*f*C = 486 >= 400; 64 windows (H_out*W_out*M), 128 outputs: the seven loops take ~20-40 ms
                 (Case("partial timing", 16, 16, 6, 1, 2, 9, 1, 0, seed=41),),
                 1 / config.PARTIAL_MIN_SPEEDUP_VS_NAIVE,
                 f"at least {config.PARTIAL_MIN_SPEEDUP_VS_NAIVE:g}x faster than the seven loops",
                 "Loop over sample, output row and output column only, and get all K outputs of "
                 "a window from one call of conv_single_step (no loops over the filter or the "
                 "window's u, v, c).",
                 reference_function="conv_forward_naive",
                 reference_label="the reference seven-loop layer")),
    )),
    Assignment("a3_im2col", "im2col and the layer as one matrix product", (
        Spec("im2col", "x, f, stride=1, pad=0", result="X_col", returns=_columns_shape,
             arguments=_im2col_arguments, where=_columns_where,
             visible_points=15, hidden_points=35, public_check="check_im2col",
             correctness=Correctness(SMALL_CASES + (ALEXNET_CONV1,),
                                     f"matches the index contract on {MATCHES_COLUMNS}", 8),
             unchanged=("x",), bad_inputs=(filter_too_large(lambda x, f, s, p: (x, f, s, p)),)),
        Spec("conv_forward_im2col", **FORWARD_LAYER, visible_points=15, hidden_points=35,
             correctness=Correctness(SMALL_CASES + (ALEXNET_CONV1,), MATCHES, 8),
             timing=Timing(
                 # stride 1: the least data per window for the call channel to carry
                 (WINDOWS.with_(K=1, stride=1, seed=42), SAMPLES.with_(seed=47)), **IM2COL_SPEED,
                 hint="Build X_col without looping over output positions or window elements "
                      "(loop over the f*f offsets and copy whole strided blocks, or use a "
                      "strided view), then do one matrix product."),
             memory=Memory(MEMORY_CASE, config.IM2COL_MAX_MEMORY_FACTOR)),
    )),
    Assignment("a4_backward", "the backward pass, col2im", (
        Spec("conv_backward_naive", **BACKWARD_LAYER, same_as="conv_backward_im2col",
             visible_points=10, hidden_points=25,
             correctness=Correctness(SMALL_CASES, GRADIENTS_MATCH, 8)),
        Spec("col2im", "X_col, x_shape, f, stride=1, pad=0", result="the result",
             returns=_col2im_shape,
             arguments=_col2im_arguments, where=_columns_where,
             visible_points=10, hidden_points=20,
             public_check="check_col2im", public_check_with=("reference.im2col",),
             correctness=Correctness(SMALL_CASES + (LARGE["cifar"],),
                                     f"matches the reference on {MATCHES_COLUMNS}", 6),
             unchanged=("X_col",),
             bad_inputs=(filter_too_large(lambda x, f, s, p: (np.ones((f * f * 2, 1)), x.shape, f, s, p)),),
             timing=Timing(
                 # 1x1 filters at stride 2 (cases.py says why); the samples case with two channels
                 (WINDOWS.with_(f=1, seed=43), SAMPLES.with_(C=2, seed=48)), **IM2COL_SPEED,
                 hint="Accumulate one window offset (u, v) at a time into a strided slice of the "
                      "padded result (or use np.add.at), instead of looping over single elements.")),
        Spec("conv_backward_im2col", **BACKWARD_LAYER, visible_points=10, hidden_points=25,
             correctness=Correctness(SMALL_CASES + (LARGE["cifar"],), GRADIENTS_MATCH, 8),
             timing=Timing(
                 # the samples case at stride 1, so its windows overlap (a col2im that assigns
                 # instead of summing fails it)
                 (WINDOWS.with_(f=1), SAMPLES.with_(stride=1)), **IM2COL_SPEED,
                 hint="Use two matrix products (one for dw, one for the columns of dx) and a "
                      "vectorized im2col and col2im.")),
    )),
    Assignment("a5_fft", "the layer through the FFT", (
        Spec("conv_forward_fft", **FORWARD_LAYER, same_as="conv_forward_im2col",
             visible_points=30, hidden_points=70,
             correctness=Correctness(SMALL_CASES + (ALEXNET_CONV1,), MATCHES, 8),
             timing=Timing(
                 (WINDOWS.with_(K=1, seed=44), SAMPLES.with_(seed=49)), config.FFT_MAX_RATIO, at_most(config.FFT_MAX_RATIO, "the reference FFT's"),
                 "Transform the padded input and the filters once, batched over channels and "
                 "samples (a 2-D real transform over the two spatial axes), multiply in the frequency domain and "
                 "sum over channels with one einsum or matmul.")),
    )),
    Assignment("a6_cnn", "the layer at work: max pooling and a small CNN trained on digits", (
        Spec("max_pool_forward", "x, pool=2, stride=2", result="out", returns=_pool_shape,
             arguments=_pool_arguments, where=_pool_where,
             visible_points=5, hidden_points=15, public_check="check_max_pool_forward",
             correctness=Correctness(POOL_CASES, f"matches the reference on {POOL_CASE_WORDS}", 6),
             unchanged=("x",),
             bad_inputs=(_pool_too_large(lambda x, pool: (x, pool, 1)),)),
        Spec("max_pool_backward", "dout, x, pool=2, stride=2", result="dx",
             returns=_pool_backward_shape,
             arguments=_pool_backward_arguments, where=_pool_where,
             visible_points=10, hidden_points=20, public_check="check_max_pool_backward",
             public_check_with=("reference.max_pool_forward",),
             correctness=Correctness(POOL_CASES, f"dx matches the reference on {POOL_CASE_WORDS}", 6),
             unchanged=("dout", "x"),
             bad_inputs=(_pool_too_large(lambda x, pool: (np.ones((1, 1, 2, 1)), x, pool, 1)),
                         BadInput("dout_shape", "ValueError when dout does not have the pooled "
                                  "output's shape",
                                  lambda: ((np.ones((2, 2, 2, 1)), np.ones((6, 6, 2, 1)), 2, 2),
                                           "x of shape (6, 6, 2, 1), pool 2, stride 2 (out "
                                           "3x3x2x1) and dout of shape (2, 2, 2, 1)")))),
        Spec("cnn_forward", "x, w1, b1, w2, b2, pad=0, pool=2", result="scores",
             returns=_scores_shape,
             arguments=_network_arguments, where=_network_where,
             visible_points=5, hidden_points=15, public_check="check_cnn_forward",
             correctness=Correctness(NETWORK_CASES, f"matches the reference on {NETWORK_CASE_WORDS}", 6),
             unchanged=("x", "w1", "b1", "w2", "b2"),
             bad_inputs=(_network_mismatch(lambda x, w1, b1, w2, d: (x, w1, b1, w2, np.zeros(4), 2, 2), "w2"),
                         channel_mismatch(lambda x, w: (x, w, np.zeros(2), np.ones((4, 2, 2, 2)),
                                                        np.zeros(4), 1, 2)))),
        Spec("cnn_backward", "dscores, x, w1, b1, w2, pad=0, pool=2",
             result=("dw1", "db1", "dw2", "db2"), returns=_network_gradient_shapes,
             arguments=_network_backward_arguments, where=_network_where,
             visible_points=5, hidden_points=25, public_check="check_cnn_backward",
             public_check_with=("reference.cnn_forward",),
             correctness=Correctness(NETWORK_CASES, "dw1, db1, dw2, db2 match the reference on "
                                     + NETWORK_CASE_WORDS, 6),
             unchanged=("dscores", "x", "w1", "b1", "w2"),
             bad_inputs=(_network_mismatch(lambda x, w1, b1, w2, d: (d, x, w1, b1, w2, 2, 2), "dscores"),
                         channel_mismatch(lambda x, w: (np.ones((4, 2)), x, w, np.zeros(2),
                                                        np.ones((4, 2, 2, 2)), 1, 2)))),
    )),
)

# --------------------------------------------------------------------------- read from the course
ASSIGNMENTS = {a.id: a.functions for a in COURSE}           # id -> its Specs, in course order
TITLES = {a.id: a.title for a in COURSE}
FUNCTIONS = {s.function: s for a in COURSE for s in a.functions}
FUNCTION_TO_ASSIGNMENT = {s.function: a.id for a in COURSE for s in a.functions}
FORWARD = tuple(f for f, s in FUNCTIONS.items() if s.family == "forward")
BACKWARD = tuple(f for f, s in FUNCTIONS.items() if s.family == "backward")
TIMING = {f: s.timing.cases for f, s in FUNCTIONS.items() if s.timing}   # the timed cases


def spec(function):
    """The Spec of a contract function; ValueError naming the known ones otherwise."""
    try:
        return FUNCTIONS[function]
    except KeyError:
        raise ValueError(f"{function!r} is not a contract function; known: "
                         f"{', '.join(FUNCTIONS)}") from None


def graded(assignment):
    """The Specs of an assignment; ValueError naming the known ids otherwise."""
    try:
        return ASSIGNMENTS[assignment]
    except KeyError:
        raise ValueError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}") from None


def recognise(function_names):
    """The assignment a notebook belongs to, from the contract functions it defines, or None.

    A notebook is recognised from its graded cells' grade_ids (or `def name(` when metadata was
    lost), never from a flag the user must remember. Later notebooks carry earlier assignments'
    functions as given code but never the reverse, so the latest assignment with a hit wins.
    """
    names = set(function_names)
    hits = [a for a, specs in ASSIGNMENTS.items() if any(s.function in names for s in specs)]
    return hits[-1] if hits else None


# grade_id of a function's test cells: the answer cell's grade_id is the function name itself.
def visible_test_id(function):
    return f"test_{function}"


def hidden_test_id(function):
    return f"hidden_{function}"


def inputs(function, case, dtype=np.float64, seed_offset=0, seed=None):
    """The positional arguments of `function` for `case`: fresh numbers for each seed_offset,
    drawn from the run's `seed` (None: the published numbers)."""
    if function not in FUNCTIONS:
        raise ValueError(f"no inputs defined for {function!r}")
    return FUNCTIONS[function].arguments(case, dtype, seed_offset, seed)


def where(function, case):
    """The case in words, as messages show it."""
    return spec(function).where(case)
