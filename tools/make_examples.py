"""Build the example submissions from the release notebooks.

    python -m tools.make_examples            # (re)write examples/submissions/
    python -m tools.make_examples --check    # exit 1 if an example differs from what would be built

examples/submissions/<student>/<id>/<id>.ipynb is the release notebook notebooks/<id>/<id>.ipynb
with each answer cell filled in from tools/example_answers/<student>/<id>.py: the body of that
file's function of the same name replaces nbgrader's stub (`# YOUR CODE HERE` /
`raise NotImplementedError()`) under the cell's own signature and docstring, as a student
would; the file's other top-level code (helper functions) goes above the def, in the cell of the
contract function that follows it; so do imports, except those the notebook's own code already
has (`import numpy as np`). Run it after `make notebooks` and the examples follow the notebooks.

The students: alice answers everything correctly; bob makes typical mistakes (a flipped kernel,
a missing bias, `=` in col2im, a padded dx, ...); carol has one function that hangs.
"""
import argparse
import ast
import re
import sys
import textwrap
from pathlib import Path

import nbformat

from autograder.contract import ASSIGNMENTS

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = ROOT / "tools" / "example_answers"
RELEASE = ROOT / "notebooks"
EXAMPLES = ROOT / "examples" / "submissions"
STUB = re.compile(r"^([ \t]*)# YOUR CODE HERE\n\1raise NotImplementedError\(\)[ \t]*$", re.MULTILINE)


def _first_line(node, lines):
    """The first line of a statement, with the comment lines right above it."""
    start = (node.decorator_list[0] if getattr(node, "decorator_list", None) else node).lineno - 1
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    return start


def answer_code(path, functions, known_lines=frozenset()):
    """{function: (helpers, body)} from an answers file: `body` is the function's body without
    its docstring, dedented; `helpers` the top-level code between the previous function and this
    one, leaving out import lines found in `known_lines`. ValueError when a function is missing
    or code follows the last one."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text, filename=str(path))
    parts, pending = {}, []
    for index, node in enumerate(tree.body):
        if index == 0 and _is_docstring(node):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)) and ast.get_source_segment(text, node) in known_lines:
            continue
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            body = node.body[1:] if _is_docstring(node.body[0]) else node.body
            start = _first_line(body[0], lines)
            parts[node.name] = ("\n\n\n".join(pending),
                                textwrap.dedent("\n".join(lines[start:body[-1].end_lineno])))
            pending = []
        else:
            pending.append("\n".join(lines[_first_line(node, lines):node.end_lineno]))
    missing = [f for f in functions if f not in parts]
    if missing or pending:
        raise ValueError(f"{path}: " + (f"no function {', '.join(missing)}" if missing
                                        else "code after the last contract function"))
    return parts


def _is_docstring(node):
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def fill(release_nb, parts):
    """A copy of the release notebook with every answer cell filled from `parts`."""
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        helpers, body = parts[meta["grade_id"]]
        match = STUB.search(cell.source)
        if match is None:
            raise ValueError(f"answer cell {meta['grade_id']} has no nbgrader stub to replace")
        code = textwrap.indent(body, match.group(1))
        source = cell.source[:match.start()] + code + cell.source[match.end():]
        cell.source = f"{helpers}\n\n\n{source}" if helpers else source
    return nb


def build(students=None):
    """{path: notebook text} of every example whose release notebook exists, and the list of
    assignments whose release notebook is missing."""
    students = students or sorted(p.name for p in ANSWERS.iterdir() if p.is_dir())
    built, missing = {}, []
    for assignment, entries in ASSIGNMENTS.items():
        release = RELEASE / assignment / f"{assignment}.ipynb"
        if not release.exists():
            missing.append(assignment)
            continue
        release_nb = nbformat.read(release, as_version=4)
        functions = [g.function for g in entries]
        known = frozenset(line.strip() for cell in release_nb.cells if cell.cell_type == "code"
                          and not cell.metadata.get("nbgrader", {}).get("solution")
                          for line in cell.source.splitlines())
        for student in students:
            parts = answer_code(ANSWERS / student / f"{assignment}.py", functions, known)
            nb = fill(release_nb, parts)
            built[EXAMPLES / student / assignment / f"{assignment}.ipynb"] = nbformat.writes(nb) + "\n"
    return built, missing


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.make_examples", description=__doc__.split("\n\n")[1])
    parser.add_argument("--check", action="store_true",
                        help="compare examples/submissions with what would be built; write nothing")
    args = parser.parse_args(argv)
    built, missing = build()
    stale = [p for p, text in built.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)} (run python -m tools.make_examples)")
    else:
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(built[path], encoding="utf-8")
        print(f"{len(built)} example submissions, {len(stale)} rewritten, in {EXAMPLES.relative_to(ROOT)}")
    for assignment in missing:
        print(f"no release notebook notebooks/{assignment}/{assignment}.ipynb: run `make notebooks`",
              file=sys.stderr)
    return 1 if missing or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
