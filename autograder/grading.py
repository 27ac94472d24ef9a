"""The vocabulary hidden graders are written in: a decorator that says what a test grades, and
the failure that carries a diagnosed misconception.

    @grades("conv_forward_im2col", kind="correctness", weight=2,
            name="matches the reference on {case}")
    @pytest.mark.parametrize("case", GRID, ids=case_id)
    def test_matches_reference(student, reference, case):
        ...
        raise Failed("expected ..., got ...", misconception="true-convolution")

A test's results.json name is "<function>: <name formatted with the test's parameters>".
Within one function, the hidden points (autograder.contract) are shared among its non-public
tests in proportion to `weight` (a parametrized test's weight is split among its cases); a
`public=True` test (the notebook's visible checks) is worth exactly the visible points.
"""
import warnings

import pytest

KINDS = ("correctness", "contract", "timing", "memory", "robustness")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def grades(function, kind, name, weight=1.0, visibility="after_due_date", public=False):
    """Mark a pytest test as grading `function` (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}, got {visibility!r}")
    if weight <= 0:
        raise ValueError(f"weight must be positive, got {weight}")
    return pytest.mark.grades(function=function, kind=kind, name=name, weight=float(weight),
                              visibility=visibility, public=public)


class GradingNote(UserWarning):
    """What a test says about itself (see note)."""


def note(text):
    """Add `text` to the output of the running test even when it passes (e.g. the measured
    timing ratio, so the feedback shows how close to the threshold an answer was).

    The text travels as a GradingNote warning: pytest records it against the running test and
    the runner reads it from there (pytest_warning_recorded), whatever warning filters are set.
    Called outside a grading run (a project test timing an answer directly), it is an ordinary
    warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", GradingNote)
        warnings.warn(GradingNote(text), stacklevel=2)


class Failed(AssertionError):
    """A grader's verdict that the student's answer is wrong, in words for the student.

    `misconception` is an id from autograder.misconceptions when the mistake was recognised.
    """

    def __init__(self, message, misconception=None):
        super().__init__(message)
        self.message = message
        self.misconception = misconception
