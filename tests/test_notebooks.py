"""The assignment notebooks: built from tools/notebooks, released by nbgrader, leak-free (see also
test_release_prose.py), well-formed for nbgrader, with hints that render, runnable with the
solutions and failing with the stubs."""
import ast
import collections
import copy
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.nbgraderformat.v3 import MetadataValidatorV3

from autograder import reference
from autograder.contract import (ASSIGNMENTS, DEMO_TAG, FUNCTION_TO_ASSIGNMENT, GIVEN_TAG,
                                 hidden_test_id, visible_test_id)
from autograder.config import PINNED_THREADS, POINTS_PER_ASSIGNMENT
from tools import build_notebooks, nbbuild
from tools.notebooks import ORDER, functions

ROOT = Path(__file__).resolve().parents[1]
IDS = list(ASSIGNMENTS)
MARKERS = (nbbuild.BEGIN_SOLUTION, nbbuild.END_SOLUTION, nbbuild.BEGIN_HIDDEN, nbbuild.END_HIDDEN)
STUB = "raise NotImplementedError()"


def solution_path(assignment):
    return ROOT / "solutions" / assignment / f"{assignment}.ipynb"


def release_path(assignment):
    return ROOT / "notebooks" / assignment / f"{assignment}.ipynb"


def read(path):
    return nbformat.read(path, as_version=4)


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def cells_by_grade_id(nb):
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if "grade_id" in nbgrader_meta(c)}


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


# --------------------------------------------------------------------------- body fingerprints
class _Canonical(ast.NodeTransformer):
    """Rename every variable and argument to v0, v1, ... in order of first appearance."""

    def __init__(self):
        self.names = {}

    def _name(self, name):
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        node.id = self._name(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._name(node.arg)
        node.annotation = None
        return node


def fingerprint(fn):
    """An ast dump of a function's arguments and body, without its name, docstring and
    variable names: two functions share it when one is a renamed copy of the other."""
    fn = copy.deepcopy(fn)
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    bare = ast.FunctionDef(name="f", args=fn.args, body=body or [ast.Pass()], decorator_list=[],
                           returns=None)
    return ast.dump(_Canonical().visit(bare), annotate_fields=False)


def functions_in(source):
    return [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)]


REFERENCE_BODIES = {fingerprint(fn): fn.name
                    for fn in functions_in(Path(reference.__file__).read_text())}


def test_fingerprint_catches_a_renamed_copy_of_a_reference_function():
    renamed = textwrap.dedent('''
        def zero_pad(inp, amount):
            """A different docstring."""
            _check_x(inp)
            q = _check_int("pad", amount, 0)
            return np.pad(inp, ((q, q), (q, q), (0, 0), (0, 0)), mode="constant")
    ''')
    assert REFERENCE_BODIES.get(fingerprint(functions_in(renamed)[0])) == "zero_pad"
    different = renamed.replace("(0, 0), (0, 0)", "(0, 0), (0, 1)")
    assert fingerprint(functions_in(different)[0]) not in REFERENCE_BODIES


# --------------------------------------------------------------------------- built from sources
def test_builder_covers_every_assignment_in_order():
    assert ORDER == tuple(ASSIGNMENTS)


@pytest.mark.parametrize("assignment", IDS)
def test_solution_notebook_is_what_the_builder_makes_today(assignment):
    built = build_notebooks.normalise(build_notebooks.source_notebook(assignment))
    assert read(solution_path(assignment)) == built, (
        f"solutions/{assignment} is stale: run `python -m tools.build_notebooks {assignment}`")


def test_builder_rejects_a_notebook_without_an_answer_cell():
    with pytest.raises(ValueError, match="answer cells"):
        nbbuild.notebook("a2_partial", [nbbuild.answer(functions.CONV_SINGLE_STEP)])


# --------------------------------------------------------------------------- nbgrader metadata
@pytest.mark.parametrize("path", [solution_path(a) for a in IDS] + [release_path(a) for a in IDS],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_metadata_is_valid_nbgrader_schema_3_with_unique_grade_ids(path):
    nb = read(path)
    MetadataValidatorV3().validate_nb(nb)            # schema and duplicate grade_ids
    graded = [nbgrader_meta(c) for c in nb.cells if "nbgrader" in c.metadata]
    assert graded and all(m["schema_version"] == 3 for m in graded)
    ids = [m["grade_id"] for m in graded]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("assignment", IDS)
def test_each_graded_function_has_its_answer_visible_and_hidden_cell(assignment):
    cells = cells_by_grade_id(read(solution_path(assignment)))
    total = 0
    for g in ASSIGNMENTS[assignment]:
        answer = nbgrader_meta(cells[g.function])
        assert answer["solution"] and not answer["grade"] and not answer["locked"]
        tree = ast.parse(cells[g.function].source)
        assert [type(n) for n in tree.body] == [ast.FunctionDef] and tree.body[0].name == g.function, (
            f"the answer cell {g.function} must hold exactly one function, {g.function}")

        visible = cells[visible_test_id(g.function)]
        meta = nbgrader_meta(visible)
        assert meta["grade"] and meta["locked"] and meta["points"] == g.visible_points
        assert "from helpers.checks import check_" in visible.source
        assert g.function in visible.source

        hidden = cells[hidden_test_id(g.function)]
        meta = nbgrader_meta(hidden)
        assert meta["grade"] and meta["locked"] and meta["points"] == g.hidden_points
        assert hidden.source == (f"{nbbuild.BEGIN_HIDDEN}\nfrom autograder.incell import run_hidden_tests\n"
                                 f"run_hidden_tests(\"{g.function}\", globals())\n{nbbuild.END_HIDDEN}")
        total += g.visible_points + g.hidden_points
    points = sum(nbgrader_meta(c).get("points", 0) for c in cells.values())
    assert points == total == POINTS_PER_ASSIGNMENT


def test_every_contract_function_has_exactly_one_answer_cell_in_the_course():
    answers = collections.Counter(
        nbgrader_meta(c)["grade_id"] for a in IDS for c in read(solution_path(a)).cells
        if nbgrader_meta(c).get("solution"))
    assert answers == collections.Counter(list(FUNCTION_TO_ASSIGNMENT))
    for a in IDS:
        in_notebook = {nbgrader_meta(c)["grade_id"] for c in read(solution_path(a)).cells
                       if nbgrader_meta(c).get("solution")}
        assert in_notebook == {g.function for g in ASSIGNMENTS[a]}


@pytest.mark.parametrize("assignment", IDS)
def test_code_cells_are_graded_given_or_demo(assignment):
    """Graders run given and graded cells and skip demos; no code cell is anything else."""
    nb = read(solution_path(assignment))
    for cell in code_cells(nb):
        meta, tags = nbgrader_meta(cell), cell.metadata.get("tags", [])
        if meta.get("solution") or meta.get("grade"):
            continue
        if meta.get("locked"):
            assert tags == [GIVEN_TAG], f"locked cell {meta['grade_id']} must be tagged {GIVEN_TAG!r}"
        else:
            assert tags == [DEMO_TAG], f"untagged code cell in {assignment}:\n{cell.source[:200]}"


@pytest.mark.parametrize("assignment", IDS)
def test_first_code_cell_pins_blas_before_numpy(assignment):
    first = code_cells(read(release_path(assignment)))[0]
    assert first.metadata["tags"] == [GIVEN_TAG] and nbgrader_meta(first)["locked"]
    source = first.source
    assert "import numpy" in source
    for var in PINNED_THREADS:
        assert var in source[:source.index("import numpy")], f"{var} is not pinned before numpy"
    assert "os.environ[" in source[:source.index("import numpy")]


# --------------------------------------------------------------------------- no leaks
@pytest.mark.parametrize("assignment", IDS)
def test_release_contains_no_solution_code(assignment):
    nb = read(release_path(assignment))
    cells = cells_by_grade_id(nb)
    for cell in nb.cells:
        for marker in MARKERS:
            assert marker not in cell.source, f"{marker} left in the release of {assignment}"
    for g in ASSIGNMENTS[assignment]:
        stub = cells[g.function].source
        assert STUB in stub and f"def {g.function}(" in stub
        assert cells[hidden_test_id(g.function)].source.strip() == ""
    ours = {fingerprint(functions_in(fn.source)[0]): fn.name for fn in functions.ALL
            if FUNCTION_TO_ASSIGNMENT[fn.name] == assignment}
    for cell in code_cells(nb):
        for fn in functions_in(cell.source):
            body = fingerprint(fn)
            assert body not in REFERENCE_BODIES, (
                f"{fn.name} in the release of {assignment} has the body of "
                f"autograder.reference.{REFERENCE_BODIES[body]}")
            assert body not in ours, f"the solution of {ours[body]} leaked into the release"


@pytest.mark.parametrize("assignment", IDS)
def test_solution_code_is_not_the_reference(assignment):
    for cell in code_cells(read(solution_path(assignment))):
        for fn in functions_in(cell.source):
            assert fingerprint(fn) not in REFERENCE_BODIES, (
                f"{fn.name} in solutions/{assignment} copies autograder.reference")


def test_release_notebooks_carry_no_outputs():
    for a in IDS:
        for path in (solution_path(a), release_path(a)):
            for cell in code_cells(read(path)):
                assert cell.outputs == [] and cell.execution_count is None, path


HINT = re.compile(r"<details><summary>[^<\n]+</summary>\n\n(.+?)\n</details>", re.S)


@pytest.mark.parametrize("assignment", IDS)
def test_hints_are_collapsed_blocks_that_render(assignment):
    """A hint is <details><summary>title</summary>, a blank line (so that the markdown inside
    renders), the hint, and </details> on a line of its own; an unclosed one would hide the rest
    of the cell."""
    for cell in read(release_path(assignment)).cells:
        if cell.cell_type != "markdown":
            continue
        opened, closed = cell.source.count("<details>"), cell.source.count("</details>")
        assert opened == closed == len(HINT.findall(cell.source)), (
            f"{assignment}: a <details> hint is not of the form <details><summary>...</summary>, "
            f"blank line, text, </details>:\n{cell.source[:300]}")


# --------------------------------------------------------------------------- nbgrader and kernels
@pytest.mark.slow
def test_release_is_what_nbgrader_generates_from_the_solutions_today(tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    for assignment in IDS:
        generated = build_notebooks.normalise(read(build_notebooks.generate_release(assignment, root=tmp_path)))
        assert read(release_path(assignment)) == generated, (
            f"notebooks/{assignment} differs from nbgrader's release of solutions/{assignment}: "
            f"run `python -m tools.build_notebooks {assignment}`")


@pytest.mark.slow
def test_solution_notebooks_run_top_to_bottom():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
         *(str(solution_path(a).relative_to(ROOT)) for a in IDS)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", IDS)
def test_release_visible_tests_fail_on_the_stubs(assignment):
    nb = read(release_path(assignment))
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    errored = {nbgrader_meta(c).get("grade_id"): any(o.output_type == "error" for o in c.outputs)
               for c in code_cells(nb) if "nbgrader" in c.metadata}
    for g in ASSIGNMENTS[assignment]:
        assert errored[visible_test_id(g.function)], (
            f"the visible test of {g.function} passed on the stub")
    given = [gid for gid, err in errored.items() if err and GIVEN_TAG in
             cells_by_grade_id(nb)[gid].metadata.get("tags", [])]
    assert given == [], f"given cells failed in the release of {assignment}: {given}"
