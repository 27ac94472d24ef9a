"""The one table of layer cases that the project's tests, the hidden graders and the benchmark draw from.

A case fixes the sizes of a convolutional layer and a seed; `case.arrays()` builds x, w, b from that
seed (the published numbers the project's tests use). A grading run draws a fresh seed of its own
(autograder.runner.new_seed) and passes it as `run_seed`: the hidden numbers are then mixed from
both, so nobody can know them in advance, and a run replayed with the same seed gives the same
grade. Shapes, strides and pads always come from this table. Sizes follow docs/CONTRACT.md:
x (H, W, C, M), w (K, f, f, C), b (K,).

`GRID` covers pad 0/1/2, stride 1/2/3, f = 1...11, H != W, C = 1 and C > 1, M = 1 and M > 1 and
sizes that do not tile, small enough for the seven-loop tier. `SEED_CASES` are the source texts'
examples; `LARGE` are the sizes the benchmark uses; `WINDOWS` and `SAMPLES` the shapes the timed
functions are timed on (each function's timed cases are in its entry of autograder/contract.py,
read as contract.TIMING); `MEMORY_CASE` where conv_forward_im2col's memory is measured;
`POOL_CASES` and `NETWORK_CASES` a6_cnn's max pooling and small network.
"""
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Case:
    """One layer: input (H, W, C, M), K filters of f x f x C, stride and pad, and a seed."""
    name: str
    H: int
    W: int
    C: int
    M: int
    K: int
    f: int
    stride: int = 1
    pad: int = 0
    seed: int = 0

    @property
    def H_out(self):
        return (self.H + 2 * self.pad - self.f) // self.stride + 1

    @property
    def W_out(self):
        return (self.W + 2 * self.pad - self.f) // self.stride + 1

    @property
    def x_shape(self):
        return (self.H, self.W, self.C, self.M)

    @property
    def w_shape(self):
        return (self.K, self.f, self.f, self.C)

    @property
    def out_shape(self):
        return (self.H_out, self.W_out, self.K, self.M)

    @property
    def col_shape(self):
        """Shape of im2col's X_col: (f*f*C, H_out*W_out*M)."""
        return (self.f * self.f * self.C, self.H_out * self.W_out * self.M)

    @property
    def tiles(self):
        """True when the windows cover the padded input exactly, with nothing dropped."""
        return ((self.H + 2 * self.pad - self.f) % self.stride == 0
                and (self.W + 2 * self.pad - self.f) % self.stride == 0)

    @property
    def macs(self):
        """Multiply-accumulates of the forward pass: K * f*f*C * H_out*W_out*M."""
        return self.K * self.f * self.f * self.C * self.H_out * self.W_out * self.M

    def describe(self):
        """Human-readable sizes, as the graders' test names and the benchmark show them."""
        return (f"x {self.H}x{self.W}x{self.C}x{self.M}, {self.K} filters {self.f}x{self.f}, "
                f"stride {self.stride}, pad {self.pad}")

    def _rng(self, purpose, seed_offset, run_seed):
        """The generator of one kind of array (`purpose`): from the published seed when
        `run_seed` is None, else from the run's seed mixed with this case's seed."""
        if run_seed is None:
            return np.random.default_rng(self.seed * 1_000_003 + (500_009 if purpose else 0)
                                         + seed_offset)
        return np.random.default_rng([run_seed, self.seed, purpose, seed_offset])

    def arrays(self, dtype=np.float64, seed_offset=0, run_seed=None):
        """x, w, b drawn from this case's seed (plus `seed_offset`, for fresh inputs).

        run_seed None: the published numbers (the project's tests, the benchmark). A grading run
        passes its own fresh seed, so the hidden numbers cannot be known in advance.
        """
        rng = self._rng(0, seed_offset, run_seed)
        x = rng.standard_normal(self.x_shape).astype(dtype)
        w = rng.standard_normal(self.w_shape).astype(dtype)
        b = rng.standard_normal(self.K).astype(dtype)
        return x, w, b

    def dout(self, dtype=np.float64, seed_offset=0, run_seed=None):
        """An upstream gradient with the output's shape, from a seed distinct from arrays()."""
        return self._rng(1, seed_offset, run_seed).standard_normal(self.out_shape).astype(dtype)

    def with_(self, **changes):
        return replace(self, **changes)


GRID = (
    Case("1x1 filter, one channel, one sample", 4, 4, 1, 1, 1, 1, 1, 0, seed=1),
    Case("stride 2, pad 1, H != W", 7, 9, 3, 2, 4, 3, 2, 1, seed=2),
    Case("stride 3, pad 2, size that does not tile", 10, 8, 2, 3, 3, 4, 3, 2, seed=3),
    Case("pad 0, stride 1, C = 1, M > 1", 6, 5, 1, 3, 2, 3, 1, 0, seed=4),
    Case("pad 1, stride 1, M = 1, C > 1", 5, 6, 4, 1, 3, 3, 1, 1, seed=5),
    Case("even filter, stride 2, pad 0, does not tile", 9, 7, 3, 2, 2, 2, 2, 0, seed=6),
    Case("f = 5, pad 2, H != W", 8, 11, 2, 2, 3, 5, 1, 2, seed=7),
    Case("f = 7, stride 2, pad 1", 13, 12, 2, 1, 2, 7, 2, 1, seed=8),
    Case("f = 11 filling the whole input", 11, 11, 1, 2, 2, 11, 1, 0, seed=9),
    Case("f = 11, stride 3, pad 2, H != W", 16, 14, 2, 1, 2, 11, 3, 2, seed=10),
    Case("f = 4, stride 3, pad 1, does not tile", 11, 9, 3, 2, 2, 4, 3, 1, seed=11),
    Case("f = 6, stride 1, pad 0, H != W", 9, 7, 2, 2, 3, 6, 1, 0, seed=12),
    Case("f = 8, stride 2, pad 2", 12, 10, 1, 2, 2, 8, 2, 2, seed=13),
    Case("f = 9, pad 1", 10, 11, 2, 1, 2, 9, 1, 1, seed=14),
    Case("f = 10, stride 2, pad 0", 13, 12, 1, 2, 1, 10, 2, 0, seed=15),
)

SEED_CASES = (
    # the lecture's layer: 6x6x10 input, six 3x3x10 filters -> (6,90) @ (90,16) -> (4,4,6)
    Case("the lecture's 6x6x10 input with six 3x3x10 filters", 6, 6, 10, 1, 6, 3, 1, 0, seed=21),
    # the worked example: a 3x3 input with one 2x2 kernel
    Case("the 3x3 input with a 2x2 kernel", 3, 3, 1, 1, 1, 2, 1, 0, seed=22),
    # the forward graph: one 3-channel 4x4 image, K = 2 (kernel 2x2), S = 1, P = 0, one filter
    Case("the 4x4x3 image with one 2x2x3 filter", 4, 4, 3, 1, 1, 2, 1, 0, seed=23),
)

# AlexNet conv1: 227x227x3, 96 filters 11x11x3, stride 4 -> X_col 363x3025, W_row 96x363, 55x55x96
ALEXNET_CONV1 = Case("AlexNet conv1", 227, 227, 3, 1, 96, 11, 4, 0, seed=31)

LARGE = {
    "lecture": SEED_CASES[0],
    "cifar": Case("CIFAR batch", 32, 32, 3, 32, 16, 3, 1, 1, seed=32),
    "alexnet": ALEXNET_CONV1,
    "mid": Case("mid-sized layer", 28, 28, 64, 16, 64, 3, 1, 1, seed=33),
}

SMALL_CASES = GRID + SEED_CASES

# a6_cnn's max pooling (windows of case.f at case.stride) and its small network (K filters f x f
# with case.pad at stride 1, then pooling of case.stride): autograder/contract.py reads them.
POOL_CASES = (
    Case("2x2 windows at stride 2, tiling", 8, 8, 3, 2, 1, 2, 2, 0, seed=61),
    Case("2x2 windows at stride 2, H != W, not tiling", 7, 9, 2, 3, 1, 2, 2, 0, seed=62),
    Case("3x3 windows at stride 2, overlapping", 9, 7, 2, 2, 1, 3, 2, 0, seed=63),
    Case("3x3 windows at stride 1", 6, 5, 1, 3, 1, 3, 1, 0, seed=64),
    Case("2x2 windows at stride 3, gaps", 8, 11, 2, 1, 1, 2, 3, 0, seed=65),
    Case("1x1 windows", 4, 5, 2, 2, 1, 1, 1, 0, seed=66),
    Case("one window over the whole input", 5, 5, 3, 2, 1, 5, 1, 0, seed=67),
    Case("the digits network's pooling", 8, 8, 16, 32, 1, 2, 2, 0, seed=68),
)
NETWORK_CASES = (
    Case("the digits network", 8, 8, 1, 4, 4, 5, 2, 2, seed=71),
    Case("3x3 filters, pad 1, H != W, two channels", 7, 9, 2, 3, 3, 3, 2, 1, seed=72),
    Case("pad 0, pool 3", 9, 8, 1, 2, 2, 3, 3, 0, seed=73),
    Case("1x1 filters, pool 1", 4, 5, 3, 2, 2, 1, 1, 0, seed=74),
    # one sample, 16 filters: 256 pooling windows, so a ReLU mask left out shows whatever the seed
    Case("one sample", 8, 8, 1, 1, 16, 3, 2, 1, seed=75),
)

# The shapes the graders' timing thresholds are measured on (docs/CONTRACT.md); each timed
# function's own cases are in its entry of autograder/contract.py. Every threshold must
# separate with margin: each honest vectorized style at or under half of it, each answer that
# loops over windows, pixels or samples at least twice over it (tests/test_timing_thresholds.py
# measures the table of styles in tests/student_answers/timing_styles.py). No one case does that
# for the im2col tier: a Python loop costs ~1-2 us per iteration whatever it copies, so a loop
# over windows only shows on many windows with little data each (M = 1, C = 1), and a loop over
# samples only on many samples with few windows each. So each of those functions is timed on
# two cases, and its ratio is the larger of the two: WINDOWS (192x192 pixels, one sample, one
# channel: 9216-36481 windows) and SAMPLES (4x4 pixels, 2048 samples).
# col2im and the backward pass are timed on 1x1 filters at stride 2 (a ResNet-style downsampling
# layer): one pixel per window, so even the leanest loop over windows (one contiguous += per
# window) pays its ~1 us per window against a reference that moves one number, while np.add.at
# has no repeated index to slow it down. On 2x2 filters at stride 2 with two samples that lean
# loop sat at 9-13x (under twice the limit) and np.add.at's backward at 3.4-4.0x.
# The partial tier needs f*f*C >= 400 and few enough channels that a loop over each window's
# pixels (channels vectorized) is not much faster than the seven loops.
# Measured in the caged grader (SandboxStudent against reference_sandbox, the call channel's cost
# on both sides, each a range over three draws of one run, 2 cores, nothing else running):
#   function   honest vectorized styles               loops over windows (lean += / per-window copy)
#   col2im     0.9-1.5 (np.add.at 1.5)                45-66 / 28-39                 limit 8
#   backward   0.9-2.2 (np.add.at 1.6-2.2)            31-34 / 23-33                 limit 8
# The other functions' full tables: tests/test_timing_thresholds.py prints them on every run.
WINDOWS = Case("many windows", 192, 192, 1, 1, 2, 2, 2, 0, seed=45)
SAMPLES = Case("many samples", 4, 4, 1, 2048, 2, 2, 2, 0, seed=46)
# conv_forward_im2col's peak memory is measured where X_col is tens of MB (AlexNet conv1, M=2).
MEMORY_CASE = ALEXNET_CONV1.with_(M=2)


def case_id(case):
    """A pytest id for a case."""
    return f"{case.H}x{case.W}x{case.C}x{case.M}-K{case.K}f{case.f}s{case.stride}p{case.pad}"
