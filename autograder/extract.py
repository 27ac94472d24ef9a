"""Notebook -> the code a grader runs: which cells, which assignment, what looked wrong.

    code = load_submission("submitted/ada/a3_im2col/a3_im2col.ipynb")   # -> NotebookCode
    code.assignment   # "a3_im2col", from the answer cells' grade_ids (or `def name(` if lost)
    code.cells        # [Cell(source, grade_id, index), ...] the code cells to run, in order
    code.functions    # ("im2col", "conv_forward_im2col", ...) contract functions the cells define
    code.source       # all code that will run, for static checks
    code.problems     # ["cell 7 had IPython magics removed", ...] notes for the student

Cells that do not run: nbgrader test cells (grade and not solution, or a grade_id starting with
`test_`/`hidden_`), cells tagged `demo`, cells starting with a cell magic (`%%...`), and, in a
notebook whose nbgrader metadata was lost altogether, cells that look like test cells (they call
a `check_*` helper or `run_hidden_tests`). IPython line magics and shell escapes (`%...`, `!...`)
are removed from the cells that run. A file that is not a version-4 notebook defining at least one
contract function raises SubmissionError with the reason: so does one larger than
MAX_NOTEBOOK_BYTES or nested too deeply to parse. Metadata of the wrong JSON type counts as absent
(a `grade_id` that is not a string, `tags` that are not a list), a cell whose source is not text
is not run, and keys given twice in the JSON are noted in `problems` (the last one is used, as
Jupyter does); nothing in a notebook's JSON makes this module raise anything but SubmissionError.
"""
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.contract import DEMO_TAG, FUNCTION_TO_ASSIGNMENT, recognise

_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
_TEST_CALL = re.compile(r"(?<!def )\bcheck_\w+\s*\(|\brun_hidden_tests\b")
_MAGIC = re.compile(r"^(\s*)(?:%|!(?!=)).*$", re.MULTILINE)
MAX_NOTEBOOK_BYTES = 64 * 2**20     # far above any notebook of the course, outputs included


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


def as_cells(cells):
    """Cells from Cell objects or plain source strings (the i-th string: cell i, no grade_id)."""
    return [c if isinstance(c, Cell) else Cell(str(c), None, i) for i, c in enumerate(cells)]


@dataclass
class NotebookCode:
    """What load_submission found in one notebook (see the module docstring)."""
    assignment: str
    cells: list
    functions: tuple
    source: str
    problems: list = field(default_factory=list)


def _dict(value):
    return value if isinstance(value, dict) else {}


def _metadata(cell):
    return _dict(cell.get("metadata"))


def _nbgrader(cell):
    return _dict(_metadata(cell).get("nbgrader"))


def _grade_id(meta):
    """nbgrader's grade_id when it is a string, else None."""
    grade_id = meta.get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def _tags(cell):
    tags = _metadata(cell).get("tags")
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _text(cell):
    """The cell's source as one string, or None when it is not text (nor a list of texts)."""
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return source if isinstance(source, str) else None


def _is_test_cell(meta):
    grade_id = _grade_id(meta) or ""
    return ((meta.get("grade") and not meta.get("solution"))
            or grade_id.startswith(("test_", "hidden_")))


class _Pairs:
    """json object_pairs_hook that builds dicts and remembers keys given twice."""

    def __init__(self):
        self.duplicates = []

    def __call__(self, pairs):
        made = dict(pairs)
        if len(made) < len(pairs):
            seen = set()
            self.duplicates += [k for k, _ in pairs if k in seen or seen.add(k)]
        return made


def _parse(path, data):
    """(notebook dict, [duplicated keys]) from the file's bytes; SubmissionError if it is not a
    version-4 notebook."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path} is {len(data) / 2**20:.0f} MB; notebooks over "
                              f"{MAX_NOTEBOOK_BYTES // 2**20} MB are not graded (clear its outputs)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SubmissionError(f"{path} is not a notebook: it is not UTF-8 text ({e})") from None
    pairs = _Pairs()
    try:
        nb = json.loads(text, object_pairs_hook=pairs)
    except ValueError as e:
        raise SubmissionError(f"{path} is not a notebook: it is not valid JSON ({e})") from None
    except RecursionError:
        raise SubmissionError(f"{path} is not a notebook: its JSON is nested too deeply "
                              "to read") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or "nbformat" not in nb:
        raise SubmissionError(f"{path} is JSON but not a Jupyter notebook "
                              "(it has no 'cells' list or no 'nbformat' version)")
    version = nb["nbformat"]
    if type(version) is not int:
        raise SubmissionError(f"{path} gives its nbformat version as {json.dumps(version)[:40]}, "
                              "not a whole number; open it in current Jupyter and save it")
    if version != 4:
        raise SubmissionError(f"{path} is a version {version} notebook; only version 4 "
                              "notebooks can be graded (open it in current Jupyter and save it)")
    return nb, pairs.duplicates


def _read_notebook(path, data=None):
    """The notebook dict and [duplicated keys] of the file at `path` (or of its bytes `data`)."""
    if data is None:
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_NOTEBOOK_BYTES + 1)
        except OSError as e:
            raise SubmissionError(f"{path} cannot be read: {e}") from None
    return _parse(path, data)


def _strip_magics(source):
    """(source without IPython line magics and shell escapes, whether any were removed).

    Only a cell that is not valid Python is touched, so `%` and `!` starting a continuation
    line of ordinary code stay; each magic becomes `pass` to keep the indentation valid.
    """
    try:
        compile(source, "<cell>", "exec")
        return source, False
    except Exception:   # SyntaxError, and MemoryError/RecursionError from absurd nesting
        pass
    stripped, count = _MAGIC.subn(lambda m: f"{m.group(1)}pass  # IPython magic removed", source)
    return stripped, count > 0


def load_submission(path, data=None):
    """Read the notebook at `path` (its bytes `data` if given) and decide what to run (see the
    module docstring)."""
    path = Path(path)
    nb, duplicates = _read_notebook(path, data)
    cells, problems, answer_ids = [], [], []
    if duplicates:
        problems.append("keys given twice in the notebook's JSON (the last one is used): "
                        + ", ".join(sorted(set(map(repr, duplicates)))[:10]))
    has_metadata = any(_nbgrader(c) for c in nb["cells"] if isinstance(c, dict))
    for index, raw in enumerate(nb["cells"]):
        if not isinstance(raw, dict) or raw.get("cell_type") != "code":
            continue
        meta, source = _nbgrader(raw), _text(raw)
        cell = Cell("", _grade_id(meta), index)
        if source is None:
            problems.append(f"{cell.label} has a source that is not text and was not run")
            continue
        if meta.get("solution") and cell.grade_id in FUNCTION_TO_ASSIGNMENT:
            answer_ids.append(cell.grade_id)
        if (_is_test_cell(meta) or DEMO_TAG in _tags(raw)
                or (not has_metadata and _TEST_CALL.search(source))):
            continue
        if source.lstrip().startswith("%%"):
            problems.append(f"{cell.label} starts with a cell magic ({source.split()[0][:40]}) "
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
    return NotebookCode(assignment, cells, functions, "\n\n".join(c.source for c in cells),
                        problems)
