"""Cell constructors for the course notebooks: nbgrader schema-3 metadata in one place.

Each notebook module under `tools/notebooks/` lists its cells with these constructors; the
builder (`tools/build_notebooks.py`) turns the list into a notebook. Points and tags come from
`autograder.contract`, never from the notebook modules.

    markdown(text)                  prose (objectives, explanations, pictures in words)
    given(grade_id, code)           locked read-only code the course provides, tagged `given`
    answer(fn)                      the one answer cell of a contract function (grade_id = name)
    visible_test(name, code)        the public checks, grade_id test_<name>, visible points
    hidden_test(name)               the hidden graders, grade_id hidden_<name>, hidden points
    demo(code)                      timing and plots, tagged `demo` so graders skip them

A contract function's code is a `Function`: its header (def line and docstring) stays in the
student's stub, its body is the solution, replaced by nbgrader's stub in the release. The same
`Function` serves as given code in later notebooks (`fn.source`), so each assignment stands alone.
"""
import textwrap
from dataclasses import dataclass

import nbformat

from autograder.contract import (ASSIGNMENTS, DEMO_TAG, GIVEN_TAG, FUNCTION_TO_ASSIGNMENT,
                                 hidden_test_id, visible_test_id)

SCHEMA_VERSION = 3
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
LANGUAGE_INFO = {"name": "python", "version": "3.11"}


@dataclass(frozen=True)
class Function:
    """A function written for the course: `header` (def line + docstring) and `body`.

    Both are given without indentation of the body; `body` is indented by four spaces here.
    """
    name: str
    header: str
    body: str

    def __post_init__(self):
        if not self.header.lstrip().startswith(f"def {self.name}("):
            raise ValueError(f"header of {self.name!r} must start with 'def {self.name}('")

    @property
    def source(self):
        """The whole function, as given code shows it."""
        return f"{dedent(self.header)}\n{_indent(self.body)}"

    @property
    def with_markers(self):
        """The function with its body between the solution markers (an answer cell)."""
        return (f"{dedent(self.header)}\n    {BEGIN_SOLUTION}\n{_indent(self.body)}\n"
                f"    {END_SOLUTION}")


def dedent(text):
    """`text` without common indentation and without leading or trailing blank lines."""
    return textwrap.dedent(text).strip("\n")


def _indent(text):
    return textwrap.indent(dedent(text), "    ")


def _nbgrader(grade_id, *, solution, grade, locked, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": SCHEMA_VERSION, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def _graded(function):
    """The Graded entry of a contract function (ValueError for a name not in the contract)."""
    try:
        assignment = FUNCTION_TO_ASSIGNMENT[function]
    except KeyError:
        raise ValueError(f"{function!r} is not a contract function; known: "
                         f"{', '.join(FUNCTION_TO_ASSIGNMENT)}") from None
    return next(g for g in ASSIGNMENTS[assignment] if g.function == function)


def markdown(text):
    return nbformat.v4.new_markdown_cell(dedent(text))


def given(grade_id, code):
    """Locked code the course provides (imports, helpers, earlier assignments' functions)."""
    cell = nbformat.v4.new_code_cell(dedent(code))
    cell.metadata["nbgrader"] = _nbgrader(grade_id, solution=False, grade=False, locked=True)
    cell.metadata["tags"] = [GIVEN_TAG]
    return cell


def answer(fn):
    """The answer cell of contract function `fn` (a Function): grade_id is its name."""
    _graded(fn.name)
    cell = nbformat.v4.new_code_cell(fn.with_markers)
    cell.metadata["nbgrader"] = _nbgrader(fn.name, solution=True, grade=False, locked=False)
    return cell


def visible_test(function, code):
    """The visible test cell of `function`: the public checks, all-or-nothing."""
    cell = nbformat.v4.new_code_cell(dedent(code))
    cell.metadata["nbgrader"] = _nbgrader(visible_test_id(function), solution=False, grade=True,
                                          locked=True, points=_graded(function).visible_points)
    return cell


def hidden_test(function):
    """The hidden test cell of `function`; nbgrader strips its body from the release."""
    code = (f"{BEGIN_HIDDEN}\nfrom autograder.incell import run_hidden_tests\n"
            f"run_hidden_tests(\"{function}\", globals())\n{END_HIDDEN}")
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata["nbgrader"] = _nbgrader(hidden_test_id(function), solution=False, grade=True,
                                          locked=True, points=_graded(function).hidden_points)
    return cell


def demo(code):
    """A demonstration (timing, plots): tagged so graders skip it."""
    cell = nbformat.v4.new_code_cell(dedent(code))
    cell.metadata["tags"] = [DEMO_TAG]
    return cell


def notebook(assignment, cells):
    """A notebook of `cells` with deterministic cell ids; checks the assignment's answer cells.

    Every contract function of `assignment` must have exactly one answer cell, and no other
    contract function may have one (earlier functions come as given code).
    """
    wanted = [g.function for g in ASSIGNMENTS[assignment]]
    answers = [c.metadata["nbgrader"]["grade_id"] for c in cells
               if c.metadata.get("nbgrader", {}).get("solution")]
    if sorted(answers) != sorted(wanted):
        raise ValueError(f"{assignment}: answer cells {answers} but the assignment grades {wanted}")
    ids = [c.metadata["nbgrader"]["grade_id"] for c in cells if "nbgrader" in c.metadata]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{assignment}: duplicate grade_ids {duplicates}")
    for index, cell in enumerate(cells):
        cell["id"] = f"{assignment}-{index:03d}"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    nbformat.validate(nb)
    return nb
