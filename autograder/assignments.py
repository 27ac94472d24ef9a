"""The five assignments: which contract functions each grades and how its 100 points split.

Every function's points are split between its visible test cell (the public checks in
`helpers.checks`, all-or-nothing, as a student sees them in the notebook) and its hidden tests
(the pytest graders under `autograder/graders/`, partial credit). The notebook builder, the
nbgrader cells, the CLI grader and the Gradescope results all read these numbers from here.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Graded:
    """One contract function of an assignment and its points."""
    function: str
    visible_points: int
    hidden_points: int

    @property
    def points(self):
        return self.visible_points + self.hidden_points


ASSIGNMENTS = {
    "a1_naive": (
        Graded("conv_output_size", 5, 10),
        Graded("zero_pad", 5, 10),
        Graded("conv_forward_naive", 20, 50),
    ),
    "a2_partial": (
        Graded("conv_single_step", 10, 20),
        Graded("conv_forward_partial", 20, 50),
    ),
    "a3_im2col": (
        Graded("im2col", 15, 35),
        Graded("conv_forward_im2col", 15, 35),
    ),
    "a4_backward": (
        Graded("conv_backward_naive", 10, 25),
        Graded("col2im", 10, 20),
        Graded("conv_backward_im2col", 10, 25),
    ),
    "a5_fft": (
        Graded("conv_forward_fft", 30, 70),
    ),
}

# Cell tags used in the notebooks.
DEMO_TAG = "demo"      # timing and plotting cells a grader skips
GIVEN_TAG = "given"    # code the course provides (imports, earlier assignments' functions)

# grade_id of a function's test cells: the answer cell's grade_id is the function name itself.
def visible_test_id(function):
    return f"test_{function}"


def hidden_test_id(function):
    return f"hidden_{function}"


FUNCTION_TO_ASSIGNMENT = {g.function: a for a, gs in ASSIGNMENTS.items() for g in gs}


def graded(assignment):
    """The Graded entries of an assignment; ValueError naming the known ids otherwise."""
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
    hits = [a for a, gs in ASSIGNMENTS.items() if any(g.function in names for g in gs)]
    return hits[-1] if hits else None
