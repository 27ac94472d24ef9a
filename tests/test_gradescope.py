"""The Gradescope zip: unpacked into a simulated /autograder tree, run_autograder always leaves a
results.json in Gradescope's schema, with the CLI's verdicts; what students see at once (the
top-level output) speaks only of visible tests; the documented simulation runs as written."""
import json
import math
import os
import re
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
from test_nbgrader_roundtrip import WRONG

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"

VISIBILITY = {"enum": ["visible", "hidden", "after_due_date", "after_published"]}
# Gradescope's results.json (its autograder documentation), plus docs/CONTRACT.md's top-level
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
    assert "upload a1_naive.ipynb and submit again" in results["output"]
    assert "needs a look" not in results["output"]


def test_broken_python_still_leaves_a_result(a1_zip, tmp_path):
    root = _unpack(a1_zip, tmp_path / "autograder")
    results, _ = _run(root, AUTOGRADER_PYTHON="/bin/false")
    assert results["score"] == 0 and "not your grade" in results["output"]


SEED = "20240101"


def _examples(assignment):
    """alice's and bob's examples (carol's hang on purpose and take minutes to grade)."""
    return sorted(p for p in EXAMPLES.glob(f"*/{assignment}/{assignment}.ipynb")
                  if p.parent.parent.name in ("alice", "bob"))


@pytest.mark.slow
def test_examples_graded_as_the_cli_grades_them(a1_zip, tmp_path):
    """a1 examples through run_autograder with the CLI run's seed: the scores and verdicts are the CLI's."""
    examples = _examples("a1_naive")
    assert len(examples) == 2, examples
    cli = tmp_path / "cli"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "--seed", SEED,
                           *(str(p.parent) for p in examples), "--out", str(cli)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr
    for i, notebook in enumerate(examples):
        root = _unpack(a1_zip, tmp_path / f"run{i}" / "autograder")
        shutil.copy(notebook, root / "submission" / "my work.ipynb")   # students rename files
        results, run = _run(root, AUTOGRADER_SEED=SEED)           # the same hidden inputs
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
        "def conv_single_step(x_slice, w, b):\n    return w.reshape(len(w), -1) @ x_slice.ravel() + b\n")])
    nb.cells[0].metadata["nbgrader"] = {"grade": False, "grade_id": "conv_single_step",
                                        "locked": False, "schema_version": 3, "solution": True}
    nbformat.write(nb, str(root / "submission" / "a2_partial.ipynb"))
    results, _ = _run(root)
    assert results["score"] == 0 and results["extra_data"]["status"] == "error"
    assert "grades a1_naive, but the uploaded notebook is a2_partial" in results["output"]
    assert "upload a1_naive.ipynb and submit again" in results["output"]
    assert "needs a look" not in results["output"]


# conv_forward_naive with the kernel flipped: the hidden tests diagnose `true-convolution`.
FLIPPED = WRONG


def _points(values):
    return f"{round(math.fsum(values), 1):g}"


@pytest.mark.slow
def test_output_shown_at_once_reveals_no_hidden_result(a1_zip, tmp_path):
    """A wrong answer whose mistake only hidden tests diagnose: the top-level output (shown before
    the due date) gives the visible checks' points and nothing of the hidden tests' verdicts,
    total or diagnosis; those stay in tests marked after_due_date."""
    root = _unpack(a1_zip, tmp_path / "autograder")
    nb = nbformat.read(str(_examples("a1_naive")[0]), 4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "conv_forward_naive"]
    cell.source = FLIPPED
    nbformat.write(nb, str(root / "submission" / "a1_naive.ipynb"))
    results, _ = _run(root)
    assert results["extra_data"]["status"] == "graded"
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    later = [t for t in results["tests"] if t["visibility"] != "visible"]
    assert visible and later and {t["visibility"] for t in later} == {"after_due_date"}
    hidden_mistakes = {tag.split(":", 1)[1] for t in later for tag in t["tags"]
                       if tag.startswith("misconception:")}
    assert "true-convolution" in hidden_mistakes          # the diagnosis exists, after the due date
    output = results["output"]
    for mistake in hidden_mistakes:
        assert mistake not in output, mistake
    for t in later:
        assert t["name"].split(":", 1)[1].strip() not in output, t["name"]
    hidden_score = _points(t["score"] for t in later)
    assert f"{_points(t['score'] for t in visible)}/{_points(t['max_score'] for t in visible)} points" in output
    assert not re.search(rf"(?<![\d.]){re.escape(hidden_score)}(?![\d.])", output.replace(
        f"worth {_points(t['max_score'] for t in later)} points", "")), output
    assert f"{results['score']:g}" not in output


def _documented_block():
    """The bash block of docs/INSTRUCTORS.md that simulates /autograder, as written there."""
    text = (ROOT / "docs" / "INSTRUCTORS.md").read_text()
    after = text.split("Try the zip locally", 1)[1]
    return re.search(r"```bash\n(.*?)```", after, re.S)[1]


@pytest.mark.slow
def test_documented_simulation_runs_as_written(tmp_path):
    """The commands docs/INSTRUCTORS.md gives for trying the zip locally, run by bash from the
    repository root: they leave a graded results.json in Gradescope's schema."""
    block = _documented_block()
    assert "AUTOGRADER_PYTHON" not in block          # the venv setup.sh builds, not an override
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER_")}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, env=dict(env, TMPDIR=str(tmp_path)))
    assert done.returncode == 0, done.stderr[-3000:]
    (written,) = tmp_path.glob("*/results/results.json")
    results = json.loads(written.read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    assert results["extra_data"]["status"] == "graded" and results["score"] == 100, results["output"]
    assert json.loads(done.stdout[done.stdout.index("{"):]) == results
