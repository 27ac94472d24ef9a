"""The self-learner's command (README, "Who runs what"): `python -m autograder self-check`
grades one's own notebook with the full hidden grader, points at its feedback page and at the
solution notebook, and grades even where the cage cannot fully isolate (saying why that is fine
for one's own work) instead of refusing as `grade` does."""
import json
import subprocess
import sys
from pathlib import Path

from autograder import sandbox, self_check
from autograder.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
ALICE_A3 = ROOT / "examples/submissions/alice/a3_im2col/a3_im2col.ipynb"
BOB_A1 = ROOT / "examples/submissions/bob/a1_naive/a1_naive.ipynb"
CAROL_A4 = ROOT / "examples/submissions/carol/a4_backward/a4_backward.ipynb"


def test_a_right_notebook_scores_full_marks_and_names_its_feedback_and_solution(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "self-check", str(ALICE_A3),
                           "--out", str(tmp_path), "--no-open"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "100/100" in done.stdout
    page = tmp_path / "alice" / "a3_im2col" / "feedback.html"
    assert page.is_file() and f"Feedback: {page}" in done.stdout
    assert str(ROOT / "solutions/a3_im2col/a3_im2col.ipynb") in done.stdout


def test_without_full_isolation_it_grades_anyway_and_says_why(tmp_path, monkeypatch, capsys):
    partial = sandbox.Isolation("partial", "none", "no user namespaces on this test machine")
    monkeypatch.setattr(sandbox, "probe_isolation", lambda: partial)
    assert main(["self-check", str(BOB_A1), "--out", str(tmp_path), "--no-open"]) == 0
    said = capsys.readouterr().out
    assert "not needed for your own work" in said and "no user namespaces" in said
    assert "31.04/100" in said          # bob's a1 as the class batch grades it
    assert (tmp_path / "bob" / "a1_naive" / "feedback.html").is_file()


def test_a_path_that_is_not_a_notebook_is_refused_by_name(tmp_path, capsys):
    assert main(["self-check", str(tmp_path / "mine.py"), "--no-open"]) == 2
    assert "mine.py is not a notebook file" in capsys.readouterr().out


def test_where_the_cage_cannot_run_the_notebook_is_graded_in_process_to_the_same_score(
        tmp_path, monkeypatch, capsys):
    """macOS, say: no cage at all. The same graders and limits give the class batch's scores,
    a hanging function included (carol's seven-loop backward times out)."""
    monkeypatch.setattr(self_check, "cage_can_run", lambda: False)
    monkeypatch.setattr(sandbox, "probe_isolation", lambda: (_ for _ in ()).throw(
        AssertionError("the cage was asked for")))
    for notebook, score in ((BOB_A1, "31.04/100"), (CAROL_A4, "65/100")):
        assert main(["self-check", str(notebook), "--out", str(tmp_path), "--no-open"]) == 0
        said = capsys.readouterr().out
        assert "without the cage (the cage needs Linux" in said and score in said, said
    assert "timed out: conv_backward_naive" in said
    results = json.loads((tmp_path / "carol" / "a4_backward" / "results.json").read_text())
    assert results["extra_data"]["isolation"] == "none"
