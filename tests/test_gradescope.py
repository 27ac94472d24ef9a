"""The Gradescope zip: unpacked into a simulated /autograder tree, run_autograder always leaves a
results.json in Gradescope's schema, with the CLI's verdicts."""
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from autograder import gradescope

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"

VISIBILITY = {"enum": ["visible", "hidden", "after_due_date", "after_published"]}
# Gradescope's results.json (its autograder documentation), plus COURSE_SPEC §3's top-level
# max_score; anything else is refused so a typo cannot pass unnoticed.
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "execution_time", "output", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "max_score": {"type": "number", "const": 100},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "score", "max_score", "output", "visibility", "tags"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9_]+: "},
                "number": {"type": "string"},
                "score": {"type": "number", "minimum": 0},
                "max_score": {"type": "number", "minimum": 0},
                "output": {"type": "string"},
                "visibility": VISIBILITY,
                "tags": {"type": "array", "items": {"type": "string"}},
            }}},
    },
}


def _unpack(zip_path, root):
    """Unpack like Gradescope: the zip into ROOT/source, run_autograder copied to ROOT."""
    source = root / "source"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
        for info in zf.infolist():            # zipfile drops permissions: restore them
            mode = info.external_attr >> 16
            if mode:
                os.chmod(source / info.filename, stat.S_IMODE(mode))
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def _run(root, **env):
    done = subprocess.run(["bash", str(root / "run_autograder")], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "AUTOGRADER_ROOT": str(root),
                                            "AUTOGRADER_PYTHON": sys.executable, **env})
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    return results, done


@pytest.fixture(scope="module")
def a1_zip(tmp_path_factory):
    return gradescope.build("a1_naive", tmp_path_factory.mktemp("zip"))


def test_zip_layout(a1_zip):
    with zipfile.ZipFile(a1_zip) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        for script in ("setup.sh", "run_autograder"):
            assert stat.S_IMODE(infos[script].external_attr >> 16) & 0o111, f"{script} not executable"
            assert zf.read(script).startswith(b"#!/usr/bin/env bash\n")
        assert zf.read("requirements.txt") == (ROOT / "requirements.txt").read_bytes()
        setup = zf.read("setup.sh").decode()
        for script in ("setup.sh", "run_autograder"):
            check = subprocess.run(["bash", "-n"], input=zf.read(script), capture_output=True)
            assert check.returncode == 0, check.stderr
    names = set(infos)
    assert {"autograder/reference.py", "autograder/__main__.py", "helpers/__init__.py"} <= names
    assert not any(n.startswith(("solutions/", "notebooks/", "examples/", "tests/")) or
                   "__pycache__" in n for n in names)
    assert "-r /autograder/source/requirements.txt" in setup
    assert "chmod -R go= /autograder/source/autograder" in setup    # graders closed to the cage's uid


def test_unknown_assignment_is_named(tmp_path):
    with pytest.raises(ValueError, match="unknown assignment 'a9'.*a1_naive"):
        gradescope.build("a9", tmp_path)


def test_empty_submission_gets_a_reason_not_a_silent_zero(a1_zip, tmp_path):
    root = _unpack(a1_zip, tmp_path / "autograder")
    (root / "submission" / "notes.txt").write_text("forgot the notebook")
    results, _ = _run(root)
    assert results["score"] == 0 and results["tests"] == []
    assert results["extra_data"]["status"] == "error"
    assert "no notebook (.ipynb) found" in results["output"]


def test_broken_python_still_leaves_a_result(a1_zip, tmp_path):
    root = _unpack(a1_zip, tmp_path / "autograder")
    results, _ = _run(root, AUTOGRADER_PYTHON="/bin/false")
    assert results["score"] == 0 and "not your grade" in results["output"]


def _examples(assignment):
    """alice's and bob's examples (carol's hang on purpose and take minutes to grade)."""
    return sorted(p for p in EXAMPLES.glob(f"*/{assignment}/{assignment}.ipynb")
                  if p.parent.parent.name in ("alice", "bob"))


@pytest.mark.slow
def test_examples_graded_as_the_cli_grades_them(a1_zip, tmp_path):
    """a1 examples through run_autograder; the scores and verdicts are the CLI's."""
    examples = _examples("a1_naive")
    assert len(examples) == 2, examples
    cli = tmp_path / "cli"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade",
                           *(str(p.parent) for p in examples), "--out", str(cli)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr
    for i, notebook in enumerate(examples):
        root = _unpack(a1_zip, tmp_path / f"run{i}" / "autograder")
        shutil.copy(notebook, root / "submission" / "my work.ipynb")   # students rename files
        results, run = _run(root)
        expected = json.loads((cli / notebook.parent.parent.name / "a1_naive" / "results.json").read_text())
        student = notebook.parent.parent.name
        assert results["score"] == expected["score"], (student, run.stderr)
        assert [(t["name"], t["score"]) for t in results["tests"]] == \
               [(t["name"], t["score"]) for t in expected["tests"]], student
        assert results["extra_data"]["status"] == expected["extra_data"]["status"], student
        if os.geteuid() == 0:                # as on Gradescope: the cage dropped root
            assert results["extra_data"]["isolation"] == "full", results["extra_data"]


@pytest.mark.slow
def test_notebook_of_another_assignment_is_refused_by_name(a1_zip, tmp_path):
    root = _unpack(a1_zip, tmp_path / "autograder")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def conv_single_step(x_slice, w_k, b_k):\n    return float((x_slice * w_k).sum() + b_k)\n")])
    nb.cells[0].metadata["nbgrader"] = {"grade": False, "grade_id": "conv_single_step",
                                        "locked": False, "schema_version": 3, "solution": True}
    nbformat.write(nb, str(root / "submission" / "a2_partial.ipynb"))
    results, _ = _run(root)
    assert results["score"] == 0 and results["extra_data"]["status"] == "error"
    assert "grades a1_naive, but the uploaded notebook is a2_partial" in results["output"]
