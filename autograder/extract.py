"""Notebook -> the code a grader runs: which cells, which assignment, what looked wrong.

    sub = load_submission("submitted/ada/a3_im2col/a3_im2col.ipynb")
    sub.assignment   # "a3_im2col", from the answer cells' grade_ids (or `def name(` if lost)
    sub.cells        # [Cell(source, grade_id, index), ...] the code cells to run, in order
    sub.functions    # ("im2col", "conv_forward_im2col", ...) contract functions the cells define
    sub.source       # all code that will run, for static checks
    sub.problems     # ["cell 7 had IPython magics removed", ...] notes for the student

Cells that do not run: nbgrader test cells (grade and not solution, or a grade_id starting with
`test_`/`hidden_`), cells tagged `demo`, cells starting with a cell magic (`%%...`), and, in a
notebook whose nbgrader metadata was lost altogether, cells that look like test cells (they call
a `check_*` helper or `run_hidden_tests`). IPython line magics and shell escapes (`%...`, `!...`)
are removed from the cells that run. A file that is not a version-4 notebook defining at least one
contract function raises SubmissionError with the reason.
"""
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignments import DEMO_TAG, FUNCTION_TO_ASSIGNMENT, recognise

_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
_TEST_CALL = re.compile(r"(?<!def )\bcheck_\w+\s*\(|\brun_hidden_tests\b")
_MAGIC = re.compile(r"^(\s*)(?:%|!(?!=)).*$", re.MULTILINE)


class SubmissionError(Exception):
    """The file cannot be graded; `str()` says why, in words for the student."""


@dataclass(frozen=True)
class Cell:
    """One code cell to run. `index` is its 0-based position among the notebook's cells
    (messages call it "cell index+1"); `grade_id` is nbgrader's, or None."""
    source: str
    grade_id: object = None
    index: int = 0

    @property
    def label(self):
        return f"cell {self.index + 1}" + (f" ({self.grade_id})" if self.grade_id else "")


@dataclass
class Submission:
    path: Path
    assignment: str
    cells: list
    functions: tuple
    source: str
    problems: list = field(default_factory=list)


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader") or {}


def _text(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _is_test_cell(meta):
    grade_id = meta.get("grade_id") or ""
    return ((meta.get("grade") and not meta.get("solution"))
            or grade_id.startswith(("test_", "hidden_")))


def _read_notebook(path):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SubmissionError(f"{path} cannot be read: {e}") from None
    try:
        nb = json.loads(text)
    except ValueError as e:
        raise SubmissionError(f"{path} is not a notebook: it is not valid JSON ({e})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or "nbformat" not in nb:
        raise SubmissionError(f"{path} is JSON but not a Jupyter notebook "
                              "(it has no 'cells' list or no 'nbformat' version)")
    if nb["nbformat"] != 4:
        raise SubmissionError(f"{path} is a version {nb['nbformat']} notebook; only version 4 "
                              "notebooks can be graded (open it in current Jupyter and save it)")
    return nb


def _strip_magics(source):
    """(source without IPython line magics and shell escapes, whether any were removed).

    Only a cell that is not valid Python is touched, so `%` and `!` starting a continuation
    line of ordinary code stay; each magic becomes `pass` to keep the indentation valid.
    """
    try:
        compile(source, "<cell>", "exec")
        return source, False
    except (SyntaxError, ValueError):
        pass
    stripped, count = _MAGIC.subn(lambda m: f"{m.group(1)}pass  # IPython magic removed", source)
    return stripped, count > 0


def load_submission(path):
    """Read the notebook at `path` and decide what to run (see the module docstring)."""
    path = Path(path)
    nb = _read_notebook(path)
    cells, problems, answer_ids = [], [], []
    has_metadata = any(_nbgrader(c) for c in nb["cells"])
    for index, raw in enumerate(nb["cells"]):
        if not isinstance(raw, dict) or raw.get("cell_type") != "code":
            continue
        meta, source = _nbgrader(raw), _text(raw)
        if meta.get("solution") and meta.get("grade_id") in FUNCTION_TO_ASSIGNMENT:
            answer_ids.append(meta["grade_id"])
        cell = Cell(source, meta.get("grade_id"), index)
        if (_is_test_cell(meta) or DEMO_TAG in raw.get("metadata", {}).get("tags", ())
                or (not has_metadata and _TEST_CALL.search(source))):
            continue
        if source.lstrip().startswith("%%"):
            problems.append(f"{cell.label} starts with a cell magic ({source.split()[0]}) "
                            "and was not run")
            continue
        source, had_magics = _strip_magics(source)
        if had_magics:
            problems.append(f"{cell.label} had IPython magics or shell commands removed")
        cells.append(Cell(source, cell.grade_id, index))

    defined = {}
    for cell in cells:
        for name in _DEF.findall(cell.source):
            if name in FUNCTION_TO_ASSIGNMENT:
                defined.setdefault(name, []).append(cell)
    for name, where in defined.items():
        if len(where) > 1:
            problems.append(f"{len(where)} cells define `{name}` "
                            f"({', '.join(c.label for c in where)}); the last one is used")

    assignment = recognise(answer_ids) or recognise(defined)
    if assignment is None:
        raise SubmissionError(f"{path} defines none of the course's functions "
                              f"({', '.join(FUNCTION_TO_ASSIGNMENT)}), so it cannot be graded")
    functions = tuple(f for f in FUNCTION_TO_ASSIGNMENT if f in defined)
    return Submission(path, assignment, cells, functions,
                      "\n\n".join(c.source for c in cells), problems)
