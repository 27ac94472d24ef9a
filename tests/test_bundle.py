"""The student bundle ships notebooks and helpers, and refuses to ship instructor material."""
import ast
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import bundle
from autograder.contract import ASSIGNMENTS

ROOT = Path(__file__).resolve().parents[1]

STUB = "def {name}(x, pad):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
SOLUTION = ("def {name}(x, pad):\n    ### BEGIN SOLUTION\n"
            "    grown = [(pad, pad), (pad, pad), (0, 0), (0, 0)]\n"
            "    return __import__('numpy').pad(x, grown)\n    ### END SOLUTION\n")


def _notebook(path, code):
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title"),
                                         nbformat.v4.new_code_cell(code)])
    nbformat.write(nb, str(path))


@pytest.fixture
def course(tmp_path):
    """A small course tree: the real reference, pins and helpers; stub notebooks; one solution."""
    root = tmp_path / "course"
    (root / "autograder").mkdir(parents=True)
    shutil.copy(ROOT / "autograder" / "reference.py", root / "autograder")
    for name in ("pyproject.toml", "requirements.txt", "environment.yml"):
        shutil.copy(ROOT / name, root)
    shutil.copytree(ROOT / "helpers", root / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for a in ASSIGNMENTS:
        _notebook(root / "notebooks" / a / f"{a}.ipynb", STUB.format(name="pad_it"))
    _notebook(root / "solutions" / "a1_naive" / "a1_naive.ipynb", SOLUTION.format(name="pad_it"))
    return root


def _names(archive):
    with zipfile.ZipFile(archive) as zf:
        return set(zf.namelist())


def test_clean_course_builds_with_exactly_the_student_files(course, tmp_path):
    archive = bundle.build(tmp_path / "out", root=course)
    names = _names(archive)
    top = {n.split("/")[1] for n in names}
    assert top == {"notebooks", "helpers", "requirements.txt", "environment.yml",
                   "pyproject.toml", "README.md"}
    assert {f"conv-course/notebooks/{a}/{a}.ipynb" for a in ASSIGNMENTS} <= names
    with zipfile.ZipFile(archive) as zf:
        readme = zf.read("conv-course/README.md").decode()
        pyproject = tomllib.loads(zf.read("conv-course/pyproject.toml").decode())
        assert zf.read("conv-course/requirements.txt") == (ROOT / "requirements.txt").read_bytes()
    assert "jupyter lab notebooks/" in readme and "pip install -e ." in readme
    assert pyproject["tool"]["setuptools"]["packages"] == ["helpers"]


@pytest.mark.parametrize("leak, where, message", [
    ("# ### BEGIN SOLUTION\nx = 1\n", "notebook", "BEGIN SOLUTION"),
    ("### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS\n", "notebook", "HIDDEN TESTS"),
    ("from autograder.incell import something_else\n", "helper", "imports the grader"),
    ("import autograder.reference as r\n", "notebook", "imports the grader"),
    # a solution body under another name, with other comments and formatting
    ("def given_padding(x, pad):\n    grown = [(pad, pad), (pad, pad), (0, 0), (0, 0)]  # given\n"
     "    return __import__('numpy').pad(x, grown)\n", "notebook", "solutions/a1_naive"),
], ids=["solution-marker", "hidden-tests", "helper-imports-grader", "notebook-imports-grader",
        "solution-body"])
def test_leaks_are_refused(course, tmp_path, leak, where, message):
    target = (course / "helpers" / "leaky.py" if where == "helper"
              else course / "notebooks" / "a3_im2col" / "a3_im2col.ipynb")
    if where == "helper":
        target.write_text(leak)
    else:
        _notebook(target, leak)
    with pytest.raises(bundle.BundleLeak, match=message):
        bundle.build(tmp_path / "out", root=course)
    assert not (tmp_path / "out" / bundle.ARCHIVE_NAME).exists()


def test_one_release_may_give_past_answers_but_not_its_own(course, tmp_path):
    """a3's notebook giving a1's answer is fine in a bundle of a3 alone, never with a1 in it."""
    given = "def given_padding(x, pad):\n" + SOLUTION.split("### BEGIN SOLUTION\n")[1] \
        .replace("    ### END SOLUTION\n", "")
    _notebook(course / "notebooks" / "a3_im2col" / "a3_im2col.ipynb", given)
    archive = bundle.build(tmp_path / "out", root=course, assignments=["a3_im2col"])
    assert archive.name == "conv-course-student-a3_im2col.zip"
    names = _names(archive)
    assert "conv-course/notebooks/a3_im2col/a3_im2col.ipynb" in names
    assert not any("a1_naive" in n for n in names)
    with pytest.raises(bundle.BundleLeak, match="given_padding"):
        bundle.build(tmp_path / "out", root=course, assignments=["a1_naive", "a3_im2col"])
    _notebook(course / "solutions" / "a3_im2col" / "a3_im2col.ipynb", SOLUTION.format(name="pad3"))
    with pytest.raises(bundle.BundleLeak, match="solutions/a3_im2col"):
        bundle.build(tmp_path / "out", root=course, assignments=["a3_im2col"])
    with pytest.raises(ValueError, match="unknown assignment 'a9'"):
        bundle.build(tmp_path / "out", root=course, assignments=["a9"])


def test_reference_body_in_a_helper_is_refused(course, tmp_path):
    """The body of reference.im2col, pasted into a helper under a new name and docstring."""
    tree = ast.parse((ROOT / "autograder" / "reference.py").read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "im2col")
    fn.name, fn.body[0] = "patches", ast.Expr(ast.Constant("Handy patches."))
    (course / "helpers" / "tools.py").write_text("import numpy as np\n\n" + ast.unparse(fn))
    with pytest.raises(bundle.BundleLeak, match=r"helpers/tools.py: function `patches` has the "
                                                r"body of autograder/reference.py:im2col"):
        bundle.build(tmp_path / "out", root=course)


def test_missing_release_notebook_is_named(course, tmp_path):
    (course / "notebooks" / "a4_backward" / "a4_backward.ipynb").unlink()
    with pytest.raises(FileNotFoundError, match="a4_backward"):
        bundle.build(tmp_path / "out", root=course)


def _reference_bodies(functions):
    """ast dumps of the reference bodies (docstring dropped) of `functions` and of its private
    helpers, computed here, not by autograder.bundle."""
    tree = ast.parse((ROOT / "autograder" / "reference.py").read_text())
    bodies = set()
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        if fn.name in functions or fn.name.startswith("_"):
            body = fn.body[1:] if ast.get_docstring(fn) else fn.body
            bodies.add(ast.dump(ast.Module(body=body, type_ignores=[])))
    return bodies


def _defs(path):
    """Every function definition in a .py file or a notebook's code cells."""
    text = path.read_text()
    sources = ([text] if path.suffix == ".py" else
               ["".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code"])
    for src in sources:
        clean = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines())
        yield from (n for n in ast.walk(ast.parse(clean)) if isinstance(n, ast.FunctionDef))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_real_release_bundle_unpacked_holds_no_instructor_material(tmp_path, assignment):
    """The CLI builds one release's archive; unpacked, it installs and hides every answer."""
    run = subprocess.run([sys.executable, "-m", "autograder", "bundle", "--out", str(tmp_path),
                          "--assignments", assignment],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    (archive,) = tmp_path.glob("*.zip")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path / "unpacked")
    unpacked = tmp_path / "unpacked" / "conv-course"
    files = [p for p in unpacked.rglob("*") if p.is_file()]
    rels = {p.relative_to(unpacked).as_posix() for p in files}
    assert not any(r.startswith(("autograder/", "solutions/", "tools/", "examples/")) for r in rels)
    assert {n for n in rels if n.startswith("notebooks/")} == {f"notebooks/{assignment}/{assignment}.ipynb"}
    assert "helpers/__init__.py" in rels

    mine = {g.function for g in ASSIGNMENTS[assignment]}
    secrets = _reference_bodies(mine)
    for path in files:
        if path.suffix not in (".py", ".ipynb", ".md", ".txt", ".yml", ".toml"):
            continue
        text = path.read_text()
        for marker in ("### BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "run_hidden_tests"):
            assert marker not in text, f"{path} holds {marker}"
        if path.suffix in (".py", ".ipynb"):
            for fn in _defs(path):
                body = fn.body[1:] if ast.get_docstring(fn) else fn.body
                assert ast.dump(ast.Module(body=body, type_ignores=[])) not in secrets, \
                    f"{path}: {fn.name} is a reference body"
                if fn.name in mine and path.suffix == ".ipynb":     # the student's task: a stub
                    assert "NotImplementedError" in ast.unparse(fn), f"{path}: {fn.name} is answered"

    # the minimal pyproject installs `helpers` (with its data) and nothing else: setuptools
    # builds the package from it, and the built copy is the one Python imports
    lib = tmp_path / "lib"
    built = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q",
                            "build_py", "--build-lib", str(lib)],
                           cwd=unpacked, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert sorted(p.name for p in lib.iterdir()) == ["helpers"]
    assert list((lib / "helpers" / "data").glob("*.npz"))
    where = subprocess.run([sys.executable, "-c", "import helpers; print(helpers.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(lib)}, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert where.stdout.strip() == str(lib / "helpers" / "__init__.py"), where.stderr


def test_whole_course_bundle_is_refused_while_later_notebooks_give_earlier_answers():
    """a2's notebook gives a1's functions as locked code: all five at once would hand out a1's
    answers, so the default bundle refuses and names the file and the answer."""
    with pytest.raises(bundle.BundleLeak, match=r"notebooks/a[2-5]_\w+/a[2-5]_\w+\.ipynb: function "
                                                r"`\w+` has the body of solutions/a[1-4]_"):
        bundle.build(Path("/nonexistent-never-written"))


def _student_env(tmp_path):
    """A venv like the students' (`make lab`, the hub image): a fresh venv of the base
    interpreter, and the student package from bundle.student_package built by setuptools from
    its own pyproject straight into the venv's site-packages (offline). Returns its python."""
    package = bundle.student_package(tmp_path / "package")
    venv = tmp_path / "student-venv"
    made = subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv",
                           "--without-pip", str(venv)], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, timeout=60).stdout.strip()
    built = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q",
                            "build_py", "--build-lib", site],
                           cwd=package, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    return python


def test_student_environment_has_helpers_and_never_the_grader(tmp_path):
    """In the students' environment, started where `make lab` starts JupyterLab (notebooks/,
    no PYTHONPATH), `helpers` imports from the installed package and `autograder` (the graders,
    the reference) does not import at all."""
    python = _student_env(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    probe = ("import importlib.util, json, helpers\n"
             "print(json.dumps({'helpers': helpers.__file__, 'autograder': "
             "[importlib.util.find_spec(m) is not None for m in ('autograder', 'solutions')]}))")
    for cwd in (ROOT / "notebooks", ROOT / "notebooks" / "a1_naive"):
        done = subprocess.run([str(python), "-c", probe], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        seen = json.loads(done.stdout)
        assert Path(seen["helpers"]).is_relative_to(tmp_path / "student-venv"), seen
        assert seen["autograder"] == [False, False], seen
        for module in ("autograder", "autograder.reference"):
            imported = subprocess.run([str(python), "-c", f"import {module}"], cwd=cwd, env=env,
                                      capture_output=True, text=True, timeout=60)
            assert imported.returncode != 0 and "No module named 'autograder'" in imported.stderr
