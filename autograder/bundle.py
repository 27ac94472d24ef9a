"""The student bundle: the one archive a course hands to its students.

    python -m autograder bundle --out DIR                        ->  DIR/conv-course-student.zip
    python -m autograder bundle --out DIR --assignments a2_partial
                                                  ->  DIR/conv-course-student-a2_partial.zip

The archive's single top folder `conv-course/` holds exactly what a student needs:

    notebooks/<id>/<id>.ipynb   the release notebooks (nbgrader stubs, no hidden tests)
    helpers/                    the public toolkit (gradient check, timing, plots, public checks)
    requirements.txt            the pinned pip environment
    environment.yml             the same pins for conda
    pyproject.toml              a minimal package: `pip install -e .` makes `helpers` importable
    README.md                   how to set up and open JupyterLab

Nothing else: no solutions/, no autograder/ (graders, reference), no tools/. Before anything is
written, every shipped file is scanned and the build refuses (BundleLeak, naming the file and
what leaked) if it holds a solution or hidden-test marker, an import of the grader, or the body
of a function from the reference implementations or from the bundled assignments' answer cells.

Later notebooks give earlier assignments' functions as locked code, so the whole course in one
archive gives away a1's answers in a2's notebook, and is refused. A course that releases one
assignment at a time bundles only it (`--assignments a2_partial`): the earlier answers it gives
are past their due date, and only the bundled assignments' answers count as secret.

`student_package(DIR)` writes the same pyproject.toml and helpers/ on their own: what `make lab`
installs into the student environment (build/student-venv), where `import autograder` fails.
"""
import argparse
import ast
import json
import shutil
import sys
import zipfile
from pathlib import Path

from autograder.contract import ASSIGNMENTS, TITLES, graded

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE_NAME = "conv-course-student.zip"
TOP = "conv-course"

# Strings that only instructor material contains.
LEAK_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
                "### END HIDDEN TESTS", "run_hidden_tests")
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}

STUDENT_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "conv-course-student"
version = "{version}"
description = "Student notebooks and helpers for the convolutional-layer course"
requires-python = ">=3.11,<3.12"

[tool.setuptools]
packages = ["helpers"]

[tool.setuptools.package-data]
helpers = ["data/*.npz", "data/*.json"]
"""

STUDENT_README = """\
# How a convolutional layer is implemented: student notebooks

The course's notebooks, one per assignment, each building on the last; this archive holds:

{table}

You write each function in its answer cell (where it says `# YOUR CODE HERE`), then run the
test cell below it. Those visible checks are a first signal; your instructor grades with more
tests than the notebook shows, so a green check is not yet full marks.

## Set up (once)

You need Python 3.11. In this folder, either with pip:

    python3.11 -m venv .venv
    source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
    pip install -r requirements.txt
    pip install -e .                   # makes `import helpers` work in every notebook

or with conda:

    conda env create -f environment.yml
    conda activate conv-course

## Work

    jupyter lab notebooks/

JupyterLab opens in your browser; open `notebooks/{first}/{first}.ipynb` first. Run the
cells from the top (Run > Run All Cells after a restart is the honest test), fill in every
answer cell, save, and hand in the `.ipynb` file the way your course says (Gradescope upload,
or the Assignments tab of JupyterHub).

## Rules of thumb

- Do not rename functions, change their signatures or delete test cells: the grader looks for
  each function by name in its answer cell.
- Do not import convolutions from scipy, numpy, torch or jax in graded functions; the grader
  recognises them and gives no credit.
- `helpers/` is yours to read: gradient checks, timing and plotting tools.
"""


class BundleLeak(RuntimeError):
    """A file about to ship to students holds instructor material."""


def _function_bodies(tree):
    """{ast dump of a function body without its docstring: function name} for every def in tree."""
    bodies = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                body = body[1:]
            if body:
                bodies[ast.dump(ast.Module(body=body, type_ignores=[]))] = node.name
    return bodies


def _notebook_code(text):
    """The code cells of a notebook's JSON text, as a list of source strings."""
    nb = json.loads(text)
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def _parse(source):
    """AST of a code string; IPython magics and shell lines are blanked first. None if invalid."""
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def secret_bodies(root=ROOT, assignments=tuple(ASSIGNMENTS)):
    """Function bodies students of `assignments` must not receive: the reference (except the
    contract functions of other assignments) and the bundled assignments' solution answers.

    Returns {ast dump of body: "where it comes from"}.
    """
    root = Path(root)
    released = {g.function for a in ASSIGNMENTS if a not in assignments for g in graded(a)}
    secrets = {}
    reference = root / "autograder" / "reference.py"
    if reference.exists():
        for body, name in _function_bodies(ast.parse(reference.read_text())).items():
            if name not in released:
                secrets[body] = f"autograder/reference.py:{name}"
    for nb in sorted(root / "solutions" / a / f"{a}.ipynb" for a in assignments):
        if not nb.exists():
            continue
        for src in _notebook_code(nb.read_text(encoding="utf-8")):
            if "### BEGIN SOLUTION" in src:
                tree = _parse(src.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""))
                for body, name in (_function_bodies(tree) if tree else {}).items():
                    secrets.setdefault(body, f"{nb.relative_to(root)}:{name}")
    return secrets


def shipped_files(root=ROOT, assignments=tuple(ASSIGNMENTS)):
    """[(source path, path inside the archive)] of every file copied from the course tree."""
    root = Path(root)
    missing = [a for a in assignments if not (root / "notebooks" / a / f"{a}.ipynb").exists()]
    if missing:
        raise FileNotFoundError(f"release notebooks missing under {root / 'notebooks'}: "
                                f"{', '.join(missing)} (run `make notebooks` first)")
    files = [(root / name, name) for name in ("requirements.txt", "environment.yml")]
    for folder in ["helpers", *(f"notebooks/{a}" for a in assignments)]:
        files += _tree(root, folder)
    return files


def _tree(root, folder):
    """[(source path, path relative to root)] of the files under root/folder that ship."""
    files = []
    for path in sorted((root / folder).rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not SKIPPED_PARTS & set(rel.parts) \
                and path.suffix not in SKIPPED_SUFFIXES and not path.name.startswith("."):
            files.append((path, rel.as_posix()))
    return files


def _checked(entries, secrets):
    """`entries` [(path inside the archive, bytes)], each text file scanned (BundleLeak)."""
    for arc, data in entries:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue                      # binary data (helpers/data/*.npz): nothing to parse
        scan(arc, text, secrets)
    return entries


def _pyproject(root):
    return ("pyproject.toml", STUDENT_PYPROJECT.format(version=_version(root)).encode())


def student_package(dest, root=ROOT):
    """Write the student package into `dest` (emptied first): the bundle's pyproject.toml and
    helpers/, scanned like the bundle. `pip install DEST` makes `helpers` importable and nothing
    else. Returns dest."""
    root, dest = Path(root), Path(dest)
    entries = _checked([(arc, src.read_bytes()) for src, arc in _tree(root, "helpers")]
                       + [_pyproject(root)], secret_bodies(root))
    shutil.rmtree(dest, ignore_errors=True)
    for arc, data in entries:
        (dest / arc).parent.mkdir(parents=True, exist_ok=True)
        (dest / arc).write_bytes(data)
    return dest


def scan(name, text, secrets):
    """Raise BundleLeak if the shipped file `name` with contents `text` leaks instructor material."""
    for marker in LEAK_MARKERS:
        if marker in text:
            raise BundleLeak(f"{name} contains {marker!r}: instructor material must not ship")
    if name.endswith(".ipynb"):
        codes = _notebook_code(text)
    elif name.endswith(".py"):
        codes = [text]
    else:
        return
    for code in codes:
        tree = _parse(code)
        if tree is None:
            continue
        for node in ast.walk(tree):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(m == "autograder" or m.startswith("autograder.") for m in modules):
                raise BundleLeak(f"{name} imports the grader ({', '.join(modules)}); "
                                 "students do not receive autograder/")
        for body, fn in _function_bodies(tree).items():
            if body in secrets:
                raise BundleLeak(f"{name}: function `{fn}` has the body of {secrets[body]}; "
                                 "if that assignment is past due, bundle only the assignments "
                                 "being released (--assignments)")


def _readme(assignments):
    table = "\n".join(f"- `notebooks/{a}/{a}.ipynb`: {TITLES[a]}" for a in assignments)
    return STUDENT_README.format(table=table, first=assignments[0])


def _version(root):
    import tomllib
    return tomllib.loads((Path(root) / "pyproject.toml").read_text())["project"]["version"]


def build(out_dir, root=ROOT, assignments=None):
    """Scan and write the student archive of `assignments` (default: all, in course order);
    returns its path. Raises BundleLeak before writing, ValueError for an unknown id."""
    root = Path(root)
    for a in assignments or ():
        graded(a)                             # ValueError naming the known ids
    chosen = tuple(a for a in ASSIGNMENTS if not assignments or a in assignments)
    secrets = secret_bodies(root, chosen)
    entries = [(arc, src.read_bytes()) for src, arc in shipped_files(root, chosen)]
    entries = _checked(entries + [("README.md", _readme(chosen).encode()), _pyproject(root)], secrets)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / (ARCHIVE_NAME if chosen == tuple(ASSIGNMENTS) else
                         ARCHIVE_NAME.replace(".zip", f"-{'-'.join(chosen)}.zip"))
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for arc, data in entries:
            zf.writestr(f"{TOP}/{arc}", data)
    return archive


def register(subparsers):
    """Add the `bundle` subcommand to the CLI's subparsers."""
    p = subparsers.add_parser("bundle", help="build the archive handed to students",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, type=Path, help="folder for conv-course-student*.zip")
    p.add_argument("--assignments", nargs="+", metavar="ID", default=None,
                   help="bundle only these assignments (one release at a time); default: all")
    p.set_defaults(func=run)
    return p


def run(args):
    try:
        archive = build(args.out, assignments=args.assignments)
    except (BundleLeak, FileNotFoundError, ValueError) as e:
        print(f"bundle: {e}", file=sys.stderr)
        return 1
    print(archive)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder")
    register(parser.add_subparsers(required=True))
    args = parser.parse_args(["bundle", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
