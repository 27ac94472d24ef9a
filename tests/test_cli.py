"""`python -m autograder grade`: usage errors, exit status, the score table, reruns, and the
README's main command on the shipped example submissions."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import __main__ as cli
from autograder.contract import FUNCTIONS as SPECS
from test_engine import FULL, FUNCTIONS, check_gradescope, notebook, standin, write_nb  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=1200,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "nowhere", "no such file or folder"),
    (lambda p: (p / "essay.txt").write_text("x") and p / "essay.txt", "not a notebook"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "holds no notebook"),
])
def test_bad_path_exits_2_naming_it(tmp_path, make, message):
    path = make(tmp_path)
    done = run_cli("grade", path, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert str(path) in done.stderr and message in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", [["--jobs", "0"], ["--timeout", "-1"], ["--bogus"]])
def test_bad_options_exit_2(tmp_path, option):
    write_nb(tmp_path / "a.ipynb", notebook("a1_naive", {}))
    done = run_cli("grade", tmp_path / "a.ipynb", *option)
    assert done.returncode == 2 and "usage:" in done.stderr


def test_grading_with_errors_exits_0_and_prints_the_table(tmp_path, standin, capsys):  # noqa: F811
    src = tmp_path / "submitted"
    write_nb(src / "ann" / "a2_partial" / "a2_partial.ipynb", notebook("a2_partial", {}))
    write_nb(src / "bob" / "a2_partial" / "a2_partial.ipynb", notebook(
        "a2_partial", {"conv_forward_partial": "def conv_forward_partial():\n    return -42"}))
    (src / "cat" / "a2_partial").mkdir(parents=True)
    (src / "cat" / "a2_partial" / "a2_partial.ipynb").write_text("not a notebook")
    out = tmp_path / "out"
    assert cli.main(["grade", str(src), "--out", str(out), "--jobs", "2"], backend=standin) == 0
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    assert lines[0].split() == ["student", "assignment", "score", "status", "note"]
    rows = {line.split()[0]: line for line in lines[2:5]}
    flipped = FULL - SPECS["conv_forward_partial"].hidden_points      # its hidden test failed
    assert rows["ann"].split()[1:4] == ["a2_partial", f"{FULL}/{FULL}", "graded"]
    assert rows["bob"].split()[1:4] == ["a2_partial", f"{flipped}/{FULL}", "graded"]
    assert "mistakes: true-convolution" in rows["bob"]
    assert rows["cat"].split()[1:4] == ["a2_partial", f"0/{FULL}", "error"] and "not JSON" in rows["cat"]
    assert "3 submission(s): 2 graded, 1 error(s)" in printed.out
    assert "3/3 graded" in printed.err                          # the progress bar
    with (out / "grades.csv").open() as fh:
        assert [(r["student"], r["status"]) for r in csv.DictReader(fh)] == [
            ("ann", "graded"), ("bob", "graded"), ("cat", "error")]


def test_rerun_keeps_unchanged_results_and_force_regrades(tmp_path, standin, capsys):  # noqa: F811
    nb = write_nb(tmp_path / "ann.ipynb", notebook("a5_fft", {}))
    out = tmp_path / "out"
    assert cli.main(["grade", str(nb), "--out", str(out)], backend=standin) == 0
    capsys.readouterr()
    assert cli.main(["grade", str(nb), "--out", str(out)], backend=standin) == 0
    kept = capsys.readouterr()
    assert f"{FULL}/{FULL}" in kept.out and "kept from an earlier run: 1" in kept.out
    assert "kept from an earlier run: 1" in kept.err                    # the progress bar
    write_nb(nb, notebook("a5_fft", {"conv_forward_fft": "def conv_forward_fft():\n    return 0"}))
    assert cli.main(["grade", str(nb), "--out", str(out)], backend=standin) == 0
    regraded = capsys.readouterr().out
    zero = FULL - SPECS["conv_forward_fft"].hidden_points          # its hidden test failed
    assert f"{zero}/{FULL}" in regraded and "kept" not in regraded
    assert json.loads((out / "ann" / "a5_fft" / "results.json").read_text())["score"] == zero
    assert cli.main(["grade", str(nb), "--out", str(out), "--force"], backend=standin) == 0
    assert "kept" not in capsys.readouterr().out


# ---- the README's main command on the shipped examples (the real cage and graders) ------------
@pytest.fixture(scope="module")
def graded_examples(tmp_path_factory):
    out = tmp_path_factory.mktemp("grades")
    done = run_cli("grade", "examples/submissions", "--out", out, "--jobs", "2", "--force")
    return done, out


@pytest.mark.slow
def test_examples_grade_as_intended(graded_examples):
    done, out = graded_examples
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout.splitlines()
    assert table[0].split() == ["student", "assignment", "score", "status", "note"]
    assert len([ln for ln in table[2:] if ln.split()[:1] in (["alice"], ["bob"], ["carol"])]) == 3 * len(FUNCTIONS)
    with (out / "grades.csv").open() as fh:
        rows = {(r["student"], r["assignment"]): r for r in csv.DictReader(fh)}
    assert len(rows) == 3 * len(FUNCTIONS)
    for assignment in FUNCTIONS:
        results = {s: json.loads((out / s / assignment / "results.json").read_text())
                   for s in ("alice", "bob", "carol")}
        for student, r in results.items():
            check_gradescope(r, assignment)
        alice, bob, carol = results["alice"], results["bob"], results["carol"]
        assert rows["alice", assignment]["status"] == "graded" and alice["score"] == FULL, \
            [t["name"] for t in alice["tests"] if t["score"] < t["max_score"]][:5]
        assert rows["bob", assignment]["status"] == "graded" and bob["score"] < FULL
        # bob's mistakes are named by a misconception id, in every assignment
        assert any(tag.startswith("misconception:") for t in bob["tests"] for tag in t["tags"])
        assert "timed out" in carol["output"].lower()
        if rows["carol", assignment]["status"] == "graded":
            assert carol["score"] < FULL and carol["extra_data"]["timed_out"]
            assert any("timed out" in t["output"] or "did not return" in t["output"]
                       for t in carol["tests"] if t["score"] < t["max_score"])
            # after its timeout a hanging function is not called again: knock-ons tagged so
            assert any("failure:not-called-again" in t["tags"] for t in carol["tests"])


@pytest.mark.slow
def test_example_feedback_shows_no_grader_source(graded_examples):
    _, out = graded_examples
    grader_lines = {ln.strip() for p in (ROOT / "autograder" / "graders").glob("*.py")
                    for ln in p.read_text().splitlines()
                    if len(ln.strip()) >= 25 and not ln.strip().startswith(("#", '"', "'"))}
    pages = sorted(out.glob("*/*/feedback.html"))
    assert len(pages) == 3 * len(FUNCTIONS)
    for page in pages:
        text = page.read_text()
        assert "def test_" not in text and "autograder/graders" not in text, page
        leaked = [ln for ln in grader_lines if ln in text]
        assert leaked == [], (page, leaked[:3])


def test_grading_benchmark_smoke_run():
    from autograder.bench_grading import PARTS
    done = subprocess.run([sys.executable, "-m", "autograder.bench_grading", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["jobs", "submissions", "errors", "wall", "s", "s", "/", "submission"]
    assert lines[1].split()[:3] == ["1", "1", "0"]
    for label, _ in PARTS:
        assert label in done.stdout


def test_every_subcommand_is_reachable_and_grade_skips_the_slow_imports():
    done = run_cli("nbgrader", "--help")
    assert done.returncode == 0 and "assignment" in done.stdout
    for command in ("bundle", "report", "gradescope"):
        assert run_cli(command, "--help").returncode == 0, command
    code = ("import sys; from autograder.__main__ import main\n"
            "code = main(['grade', 'no/such/path'])\n"
            "print(code, 'nbgrader' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["2", "False"]


def test_grade_help_says_how_paths_become_submissions():
    done = run_cli("grade", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for words in ("each subfolder <student>/ belongs to that student",
                  "the one named <folder>.ipynb, else the only one there",
                  "Notebooks in its subfolders and symbolic links to notebooks are never graded",
                  '"Zoë" -> "Zo%C3%AB"', "--allow-partial-isolation", "--seed"):
        assert words in text, words
