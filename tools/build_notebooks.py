"""Build the course notebooks: solutions/<id>/<id>.ipynb from tools/notebooks/<id>.py, then the
student release notebooks/<id>/<id>.ipynb with `nbgrader generate_assignment`.

    python -m tools.build_notebooks [ids...]      (also `make notebooks`; default: all six)

Run from anywhere; nbgrader runs from the repository root with its Jupyter state in a temporary
folder. Both notebooks are written without outputs and with volatile metadata normalised, so a
rebuild of unchanged sources is byte-identical.
"""
import argparse
import importlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from tools import nbbuild
from tools.notebooks import ORDER

ROOT = Path(__file__).resolve().parents[1]
STATE_VARS = {"JUPYTER_CONFIG_DIR": "jupyter-config", "JUPYTER_DATA_DIR": "jupyter-data",
              "JUPYTER_RUNTIME_DIR": "jupyter-runtime", "IPYTHONDIR": "ipython",
              "MPLCONFIGDIR": "matplotlib"}


def source_notebook(assignment):
    """The solution notebook of `assignment`, built from tools/notebooks/<assignment>.py."""
    module = importlib.import_module(f"tools.notebooks.{assignment}")
    return nbbuild.notebook(assignment, list(module.CELLS))


def normalise(nb):
    """Drop what varies between runs: outputs, execution counts, and any notebook metadata
    beyond the kernelspec and language info the builder sets."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata = {"kernelspec": dict(nbbuild.KERNELSPEC),
                   "language_info": dict(nbbuild.LANGUAGE_INFO)}
    return nb


def write(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    with open(path, "w", encoding="utf-8") as handle:
        nbformat.write(nb, handle)


def state_env(state_dir):
    """The environment for jupyter/nbgrader with every piece of state under `state_dir`."""
    env = dict(os.environ)
    for var, sub in STATE_VARS.items():
        env[var] = str(Path(state_dir) / sub)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # nbgrader runs the `alembic` script of its own environment by name
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate_release(assignment, root=ROOT, env=None):
    """Run `nbgrader generate_assignment` for `assignment` in `root`; return the release path."""
    with tempfile.TemporaryDirectory(prefix="conv-course-nbgrader-") as state:
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
            cwd=root, env=env or state_env(state), capture_output=True, text=True)
    release = Path(root) / "notebooks" / assignment / f"{assignment}.ipynb"
    if result.returncode != 0 or not release.exists():
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed "
                           f"(exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return release


def build(assignment):
    solution = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    write(normalise(source_notebook(assignment)), solution)
    release = generate_release(assignment)
    write(normalise(nbformat.read(release, as_version=4)), release)
    print(f"{assignment}: {solution.relative_to(ROOT)} -> {release.relative_to(ROOT)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", default=list(ORDER), metavar="id",
                        help=f"assignments to build (default: all of {', '.join(ORDER)})")
    args = parser.parse_args(argv)
    unknown = [a for a in args.ids if a not in ORDER]
    if unknown:
        parser.error(f"unknown assignment(s) {', '.join(unknown)}; known: {', '.join(ORDER)}")
    for assignment in args.ids:
        build(assignment)


if __name__ == "__main__":
    main()
