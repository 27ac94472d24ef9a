"""No release notebook hands out an answer: no markdown, demo or given cell of notebooks/<id>
contains a characteristic line of the solution of a function that <id> grades (issue 12).

A solution's characteristic lines are the statements of its body that carry the answer: not
argument checks, shape bookkeeping, allocations or plain calls of the course's functions, and
not a statement too small to say anything (a handful of syntax nodes, such as `top = i * stride`).
Each is compared, with its right-hand side on its own, against every statement and every
sub-expression of the code in the release's markdown (fenced blocks and inline code spans) and
demo cells, up to whitespace and the names of variables: `x_pad[p:p + H] = x` in the prose gives
away `x_pad[pad:pad + H] = x` in the answer. Given cells (the earlier assignments' functions,
handed over as code) are compared statement by statement with the names kept, since an adjoint
or a later tier naturally reuses the idioms of the code it builds on (col2im reads the strided
grids im2col wrote); what they must not contain is the answer's own line.
"""
import ast
import copy
import re
from pathlib import Path

import nbformat
import pytest

from autograder.contract import ASSIGNMENTS, DEMO_TAG, GIVEN_TAG
from tools.notebooks import functions

ROOT = Path(__file__).resolve().parents[1]

MIN_NODES = 7
"""Expression nodes a form needs to be characteristic: `w.reshape(K, -1)` (6, the contract's
flattening, stated in im2col's own docstring) is not, `filters @ x_slice.ravel() + b` (7) is."""

PROSE_TO_PYTHON = {"·": "*", "−": "-", "…": "...", "ᵀ": ".T"}


def _size(node):
    return sum(isinstance(n, ast.expr) for n in ast.walk(node))


class _Rename(ast.NodeTransformer):
    """Variables become v0, v1, ... in order of first appearance; attributes, `np` and the
    names of called functions are kept."""

    def __init__(self):
        self.names = {}

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name):
            node.args = [self.visit(a) for a in node.args]
            node.keywords = [self.visit(k) for k in node.keywords]
            return node
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id != "np":
            node.id = self.names.setdefault(node.id, f"v{len(self.names)}")
        return node


def canonical(node, rename=True):
    node = copy.deepcopy(node)
    if rename:
        node = _Rename().visit(node)
    return ast.dump(node, annotate_fields=False, include_attributes=False)


ALLOCATIONS = {"zeros", "empty", "ones", "zeros_like", "empty_like"}


def _is_plain(node):
    """A name, a constant (-1 included), an attribute chain, plain indexing (`dout[i, j, k, n]`,
    `w.shape[1]`), a tuple of those, or a call of a function by its name or of a numpy
    allocation with plain arguments (`col2im(dX_col, x.shape, f, stride, pad)`,
    `np.zeros(x_pad.shape)`): using the contract, not computing an answer."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, ast.Attribute):
        return _is_plain(node.value)
    if isinstance(node, ast.Subscript):
        return _is_plain(node.value) and _is_plain(node.slice)
    if isinstance(node, ast.Tuple):
        return all(_is_plain(e) for e in node.elts)
    if isinstance(node, ast.Slice):                     # x.shape[:2], not a flip such as ::-1
        return node.step is None and all(part is None or _is_plain(part) for part in (node.lower, node.upper))
    if isinstance(node, ast.Call):
        func = node.func
        named = isinstance(func, ast.Name) or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id == "np" and func.attr in ALLOCATIONS)
        return named and all(_is_plain(a) for a in node.args) and \
            all(_is_plain(k.value) for k in node.keywords)
    return False


def _is_bookkeeping(statement):
    """Argument checks, and returns and assignments of plain values to plain targets: shape
    unpacking, allocations, calls of the given helpers and of the contract's functions."""
    value = getattr(statement, "value", None)
    targets = getattr(statement, "targets", [getattr(statement, "target", None)])
    return isinstance(statement, (ast.Raise, ast.Pass)) or value is None or (
        _is_plain(value) and all(t is None or _is_plain(t) for t in targets))


def _simple_statements(body):
    for statement in body:
        if isinstance(statement, (ast.For, ast.While, ast.If, ast.With)):
            yield from _simple_statements(statement.body + statement.orelse)
        else:
            yield statement


def _answer_lines(fn):
    """The statements of a function (an ast.FunctionDef) that carry its answer."""
    return [s for s in _simple_statements(fn.body) if not _is_bookkeeping(s)]


def characteristic_forms(fn):
    """{canonical form: source line} for the characteristic lines of a function (ast.FunctionDef)."""
    forms = {}
    for statement in _answer_lines(fn):
        value = statement.value
        parts = [statement, *(value.elts if isinstance(value, ast.Tuple) else [value])]
        for part in parts:
            if _size(part) >= MIN_NODES and (part is statement or not _is_plain(part)):
                forms[canonical(part)] = ast.unparse(statement)
    return forms


def _pieces(text):
    """Python fragments of a markdown cell: fenced blocks whole and line by line, inline spans."""
    for symbol, python in PROSE_TO_PYTHON.items():
        text = text.replace(symbol, python)
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    outside = re.sub(r"```.*?```", "", text, flags=re.S)
    for block in blocks:
        yield block
        yield from block.splitlines()
    yield from re.findall(r"`([^`\n]+)`", outside)


def _trees(pieces):
    """The parseable pieces, each as an ast.Module; a line that does not parse is tried again
    without what follows a `->` (prose such as `x[a:b]    -> (H_out, W_out, C, M)`)."""
    for piece in pieces:
        for candidate in (piece.strip(), piece.split("->")[0].strip()):
            try:
                yield ast.parse(candidate)
                break
            except SyntaxError:
                continue


def _all_forms(trees):
    """Canonical forms of every statement and every sub-expression of `trees`."""
    return {canonical(node) for tree in trees for node in ast.walk(tree)
            if isinstance(node, (ast.stmt, ast.expr))}


def release_forms(nb):
    """(forms of the markdown and demo cells, exact statements of the given cells)."""
    prose, given = [], []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            prose.extend(_trees(_pieces(cell.source)))
        elif DEMO_TAG in tags:
            prose.extend(_trees([cell.source]))
        elif GIVEN_TAG in tags:
            given.extend(_trees([cell.source]))
    exact = {canonical(node, rename=False) for tree in given for node in ast.walk(tree)
             if isinstance(node, ast.stmt)}
    return _all_forms(prose), exact


def leaks(fn, nb):
    """The characteristic lines of `fn` (an ast.FunctionDef) that the notebook `nb` shows
    outside its answer cells."""
    prose, given = release_forms(nb)
    found = {line for form, line in characteristic_forms(fn).items() if form in prose}
    found |= {ast.unparse(s) for s in _answer_lines(fn)
              if _size(s) >= MIN_NODES and canonical(s, rename=False) in given}
    return sorted(found)


def solution_functions(assignment):
    """{name: ast.FunctionDef} of the answer cells of solutions/<assignment>, with their bodies."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    graded = {g.function for g in ASSIGNMENTS[assignment]}
    found = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in graded:
            found.update((n.name, n) for n in ast.parse(cell.source).body
                         if isinstance(n, ast.FunctionDef) and n.name == meta["grade_id"])
    assert set(found) == graded, f"solutions/{assignment}: answer cells {sorted(found)}, grades {sorted(graded)}"
    return found


def course(fn):
    """The ast.FunctionDef of a course function (tools.notebooks.functions)."""
    return ast.parse(fn.source).body[0]


def _markdown_notebook(*sources, demo=None, given=None):
    cells = [nbformat.v4.new_markdown_cell(s) for s in sources]
    for source, tag in ((demo, DEMO_TAG), (given, GIVEN_TAG)):
        if source is not None:
            cell = nbformat.v4.new_code_cell(source)
            cell.metadata["tags"] = [tag]
            cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


# --------------------------------------------------------------------------- the detector itself
def test_every_graded_function_has_characteristic_lines():
    for assignment in ASSIGNMENTS:
        for name, fn in solution_functions(assignment).items():
            assert characteristic_forms(fn), f"{name}: no characteristic line, the check would be empty"


def test_the_old_prose_of_a3_and_a4_is_caught():
    """The texts issue 12 quoted: a3's "layer in three lines", a4's col2im and §4 step list."""
    three_lines = _markdown_notebook("""
## 3. The layer in three lines

```
X_col   = im2col(x, f, stride, pad)                        # (f·f·C, H_out·W_out·M)
out_mat = w.reshape(K, -1) @ X_col + b[:, None]            # (K, H_out·W_out·M)
out     = out_mat.reshape(K, H_out, W_out, M).transpose(1, 2, 0, 3)
```
""")
    assert leaks(course(functions.CONV_FORWARD_IM2COL), three_lines) == [
        "out = out_mat.reshape(K, H_out, W_out, M).transpose(1, 2, 0, 3)"]
    col2im_text = _markdown_notebook("""
```
cols = X_col.reshape(f, f, C, H_out, W_out, M)
```
""", "2. `dout_mat = dout.transpose(2, 0, 1, 3).reshape(K, -1)`")
    assert leaks(course(functions.COL2IM), col2im_text) == ["cols = X_col.reshape(f, f, C, H_out, W_out, M)"]
    assert leaks(course(functions.CONV_BACKWARD_IM2COL), col2im_text) == [
        "dout_mat = dout.transpose(2, 0, 1, 3).reshape(K, -1)"]


def test_renamed_and_unicode_prose_is_caught_and_unrelated_code_is_not():
    renamed = _markdown_notebook("holds `x` in the middle: `x_pad[p : p + H, p : p + W, :, :] = x`")
    assert leaks(course(functions.ZERO_PAD), renamed) == ["x_pad[pad:pad + H, pad:pad + W, :, :] = x"]
    crop = _markdown_notebook("```\nout = full[f − 1 :: stride,  f − 1 :: stride]\n```",
                              "flipped along both spatial axes, `w[:, ::-1, ::-1, :]`, and not along")
    assert leaks(course(functions.CONV_FORWARD_FFT), crop) == ["flipped = w[:, ::-1, ::-1, :]",
                                                               "out = full[f - 1::stride, f - 1::stride]"]
    unrelated = _markdown_notebook("`np.arange(12).reshape(3, 4)` and `print(x.shape)`",
                                   demo="y = np.zeros((3, 4))\nprint(np.abs(y - 1).max())")
    assert all(leaks(course(fn), unrelated) == [] for fn in functions.ALL)


def test_given_code_is_compared_with_names_kept():
    """a4 hands over im2col, whose strided grid col2im reuses under another name."""
    im2col = functions.IM2COL.source
    assert leaks(course(functions.COL2IM), _markdown_notebook(given=im2col)) == []
    target = "target = x_pad[u:u + stride * H_out:stride, v:v + stride * W_out:stride]"
    assert leaks(course(functions.COL2IM), _markdown_notebook(given=target)) == [target]


# --------------------------------------------------------------------------- the release notebooks
@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_release_shows_no_answer_line_of_its_graded_functions(assignment):
    nb = nbformat.read(ROOT / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    found = {name: leaks(fn, nb) for name, fn in solution_functions(assignment).items()}
    assert not any(found.values()), (
        f"notebooks/{assignment} shows answer lines outside the answer cells: "
        + "; ".join(f"{name}: {lines}" for name, lines in found.items() if lines))
