"""A batch against hostile submissions (issue 9, items 1, 2, 3, 9, 10; issue 10, item 1).

Each attack is made the way a student would: a notebook, a folder name or a value the student
controls, graded through the scheduler (the stand-in backend of test_engine for most; the real
cage and graders through `python -m autograder grade` in the tests marked slow), checking the
attacker's row AND an honest classmate's row in the same batch.
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from autograder import report


# ---- grades.csv and the terminal (issue 9, item 9) --------------------------------------------
def test_spreadsheet_safe_defuses_formula_cells_only():
    for formula in ("=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert report.spreadsheet_safe(formula) == "'" + formula
    for text in ("ann", "a=b", " =1", "", "1+1"):
        assert report.spreadsheet_safe(text) == text


def test_printable_escapes_what_moves_a_terminal():
    text = "bob\x1b[2J\x1b]0;pwned\x07\u202egnp.exe\r\x00\ud800\nnext\tcol"
    shown = report.printable(text)
    assert shown == "bob\\x1b[2J\\x1b]0;pwned\\x07\\u202egnp.exe\\r\\x00\\ud800\\nnext\tcol"
    assert report.printable(text, keep_newlines=True).count("\n") == 1
    assert report.printable("Zoë 王") == "Zoë 王"


def test_grades_csv_escapes_formulas_but_not_negative_numbers(tmp_path):
    rows = [{"student": "=cmd|' /C calc'!A0", "assignment": "a1_naive", "score": "-5",
             "max_score": "100", "status": "graded", "reason": "@SUM(1)", "isolation": "full"},
            {"student": "ann\ud800", "assignment": "a1_naive", "score": "100", "max_score": "100",
             "status": "graded", "reason": "", "isolation": "full"}]
    report.write_grades_csv(tmp_path / "grades.csv", rows)
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    by_student = {r["student"]: r for r in got}
    attacker = by_student["'=cmd|' /C calc'!A0"]
    assert attacker["score"] == "-5" and attacker["reason"] == "'@SUM(1)"
    assert by_student["ann\\ud800"]["score"] == "100"


def test_score_table_prints_names_and_notes_escaped():
    rows = [{"student": "eve\x1b[31m\u202e", "assignment": "a1_naive", "score": "0",
             "max_score": "100", "status": "error", "note": "bad\r\nnote\x00"}]
    table = report.score_table(rows)
    assert "\x1b" not in table and "\u202e" not in table and "\r" not in table
    assert "eve\\x1b[31m\\u202e" in table and "bad\\r\\nnote\\x00" in table
    assert len(table.splitlines()) == 3


def test_results_with_lone_surrogates_are_written(tmp_path):
    results = {"score": 0.0, "max_score": 100, "execution_time": 0.0, "output": "x\ud800y",
               "tests": [], "extra_data": {"student": "s\udcff", "assignment": "a1_naive",
                                           "status": "error", "reason": "r\ud800",
                                           "isolation": "full"}}
    report.write_results(tmp_path, results)
    written = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert written["output"] == "x\\ud800y" and written["extra_data"]["student"] == "s\\udcff"
    assert "r\\ud800" in (tmp_path / "feedback.html").read_text(encoding="utf-8")


# ---- the batch against hostile submissions (stand-in backend) ---------------------------------
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from autograder import __main__ as cli  # noqa: E402
from autograder import sandbox, scheduler, submissions  # noqa: E402
from autograder.calls import suspicion  # noqa: E402
from test_engine import FULL, Quiet, notebook, standin, write_nb  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"


def grade(paths, out, standin, **kwargs):  # noqa: F811
    subs = submissions.find_submissions(paths, backend=standin)
    return scheduler.grade_batch(subs, out, backend=standin, stream=Quiet(), **kwargs)


def rows_by_student(out):
    with (out / "grades.csv").open(newline="", encoding="utf-8") as fh:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(fh)}


def results_of(out, student, assignment):
    folder = out / submissions.student_folder(student) / assignment
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


NASTY = "\ud800\x00\x1b[2J\u202eevil\r\n" + "x" * 2**20        # surrogate, NUL, ESC, RTL, 1 MB


def test_hostile_text_and_json_never_stop_the_batch(tmp_path, standin):  # noqa: F811
    src = tmp_path / "submitted"

    def put(student, nb, name="a1_naive.ipynb"):
        path = src / student / "a1_naive" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nb if isinstance(nb, str) else json.dumps(nb), encoding="utf-8",
                        errors="surrogatepass")
        return path

    put("honest", notebook("a1_naive", {}))
    put("raises", notebook("a1_naive", {"zero_pad": f"def zero_pad():\n    raise ValueError({NASTY!r})"}))
    put("returns", notebook("a1_naive", {"zero_pad": f"def zero_pad():\n    return {NASTY!r}"}))
    put("prints", notebook("a1_naive", {}, extra=[f"print({NASTY!r})"]))
    put("loadraise", notebook("a1_naive", {}, extra=[f"raise OSError({NASTY!r})"]))
    put("deep", "[" * 100000 + "]" * 100000)
    put("deepmeta", json.dumps(notebook("a1_naive", {}))[:-1]
        + ', "metadata": ' + "{\"a\": " * 50000 + "1" + "}" * 50000 + "}")
    put("strformat", {**notebook("a1_naive", {}), "nbformat": "4"})
    wrong = notebook("a1_naive", {})
    wrong["cells"][1]["metadata"] = {"nbgrader": "zero_pad", "tags": {"demo": 1}}
    wrong["cells"][2]["source"] = {"not": "text"}
    wrong["cells"].insert(0, "not a cell")
    put("wrongtypes", wrong)
    put("huge", notebook("a1_naive", {}, extra=["s = '" + "y" * 20 * 2**20 + "'"]))
    for name in (b"bad\xffbytes", b"new\nline", b"-rf", b"...", b"n" * 250):
        folder = src / os.fsdecode(name) / "a1_naive"
        folder.mkdir(parents=True)
        (folder / "a1_naive.ipynb").write_text(json.dumps(notebook("a1_naive", {})))
    out = tmp_path / "out"
    rows = grade([src], out, standin, jobs=2)
    table = rows_by_student(out)
    assert len(rows) == len(table) == 14       # "..." is a hidden folder: skipped
    assert table["honest", "a1_naive"]["status"] == "graded"
    assert table["honest", "a1_naive"]["score"] == f"{FULL}"
    for student in ("raises", "returns", "prints", "loadraise", "huge"):
        assert table[student, "a1_naive"]["status"] == "graded", table[student, "a1_naive"]
    # the stand-in's loader trips over it (TypeError): that notebook's error, nobody else's
    assert table["wrongtypes", "a1_naive"]["status"] == "error"
    # (the real loader's words for these are tested in test_extract)
    for student, words in (("deep", "RecursionError"), ("deepmeta", "RecursionError"),
                           ("strformat", "nbformat 4 is not supported")):
        row = [r for (s, _), r in table.items() if s == student][0]
        assert row["status"] == "error" and words in row["reason"], row
    assert table["raises", "a1_naive"]["score"] == "90"
    for name in ("bad\\udcffbytes", "new\nline", "'-rf", "n" * 250):
        assert table[name, "a1_naive"]["score"] == f"{FULL}", name
    for path in out.rglob("results.json"):
        results = json.loads(path.read_text(encoding="utf-8"))
        assert results["extra_data"]["status"] in ("graded", "error")
    raised = results_of(out, "loadraise", "a1_naive")["extra_data"]["problems"]
    assert any(p.startswith("cell raised at load: cell 5: OSError: \\ud800\\x00\\x1b[2J") for p in raised)
    assert all(len(p) < 400 for p in raised)


def test_a_failed_write_is_that_students_error_only(tmp_path, standin, monkeypatch):  # noqa: F811
    for student in ("ann", "zed", "bob"):
        write_nb(tmp_path / "sub" / student / "a2_partial" / "a2_partial.ipynb", notebook("a2_partial", {}))
    real = report.feedback_html

    def breaks_for_zed(results):
        if results["extra_data"]["student"] == "zed":
            raise RuntimeError("feedback page exploded")
        return real(results)
    monkeypatch.setattr(report, "feedback_html", breaks_for_zed)
    out = tmp_path / "out"
    rows = grade([tmp_path / "sub"], out, standin, jobs=2)
    table = rows_by_student(out)
    assert len(rows) == 3
    assert table["ann", "a2_partial"]["score"] == table["bob", "a2_partial"]["score"] == f"{FULL}"
    zed = table["zed", "a2_partial"]
    assert zed["status"] == "error" and "could not write the results" in zed["reason"]
    assert results_of(out, "zed", "a2_partial")["extra_data"]["status"] == "error"
    assert "feedback page exploded" in (out / "grading.log").read_text()


# ---- a submission speaks only for its own student (issue 9, item 2) ---------------------------
def test_a_notebook_nested_in_one_folder_is_never_anothers(tmp_path, standin):  # noqa: F811
    src = tmp_path / "submitted"
    write_nb(src / "bob" / "a3_im2col" / "a3_im2col.ipynb", notebook("a3_im2col", {}))
    flipped = notebook("a3_im2col", {"im2col": "def im2col():\n    return -42"})
    write_nb(src / "mallory" / "a3_im2col" / "a3_im2col.ipynb", flipped)
    write_nb(src / "mallory" / "a3_im2col" / "x" / "bob" / "a3_im2col" / "a3_im2col.ipynb", flipped)
    write_nb(src / "trudy" / "a3_im2col" / "bob" / "a3_im2col" / "a3_im2col.ipynb", flipped)
    out = tmp_path / "out"
    for paths in ([src], [src / "bob", src / "mallory", src / "trudy"],
                  [src / "bob" / "a3_im2col", src / "mallory" / "a3_im2col", src / "trudy" / "a3_im2col"]):
        grade(paths, out, standin, force=True)
        table = rows_by_student(out)
        assert set(table) == {("bob", "a3_im2col"), ("mallory", "a3_im2col"), ("trudy", "a3_im2col")}
        assert table["bob", "a3_im2col"]["status"] == "graded"
        assert table["bob", "a3_im2col"]["score"] == f"{FULL}"
        assert table["mallory", "a3_im2col"]["score"] == "65"
        mallory = results_of(out, "mallory", "a3_im2col")["extra_data"]["problems"]
        assert mallory == ["not graded: x/bob/a3_im2col/a3_im2col.ipynb is in a subfolder of the "
                           "submission folder"]
        trudy = table["trudy", "a3_im2col"]
        assert trudy["status"] == "error" and "no notebook directly in" in trudy["reason"]


def test_names_that_collide_with_outputs_or_each_other_cannot_clash(tmp_path, standin):  # noqa: F811
    src = tmp_path / "submitted"
    students = ["grades.csv", "GRADING.LOG", "class_report.html", "%41", "A", "Zoë", "-rf",
                "=1+1", "a b", "bob"]
    for student in students:
        body = {} if student == "bob" else {"zero_pad": "def zero_pad():\n    return -42"}
        write_nb(src / student / "a1_naive" / "a1_naive.ipynb", notebook("a1_naive", body))
    out = tmp_path / "out"
    grade([src], out, standin)
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(folders) == len(students) and "grades.csv" not in folders
    assert sorted(submissions.student_folder(s) for s in students) == folders
    assert (out / "grades.csv").is_file() and (out / "grading.log").is_file()
    table = rows_by_student(out)
    assert table["bob", "a1_naive"]["score"] == f"{FULL}"
    assert table["'=1+1", "a1_naive"]["score"] == "90"
    for student in students:
        assert results_of(out, student, "a1_naive")["extra_data"]["student"] == student


def test_student_folder_is_injective_and_safe():
    names = ["a", "A", "%41", "%2541", ".", "%2E", "..", "", "%", "-x", "%2Dx", "a/b", "a%2Fb",
             "grades.csv", "%67rades.csv", "Grades.CSV", "\udcff", "\udced\udcb3\udcbf", "ÿ",
             "x" * 300, "x" * 299 + "y", "x" * 120, "x" * 121, "\n", "CON", "nul"]
    folders = [submissions.student_folder(n) for n in names]
    assert len(set(folders)) == len(names)
    for folder in folders:
        assert folder and len(folder) <= submissions.MAX_FOLDER_CHARS and folder not in (".", "..")
        assert not folder.startswith((".", "-")) and folder.lower() not in submissions.RESERVED_NAMES
        assert set(folder) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.%")
    assert submissions.student_folder("ann") == "ann"
    assert submissions.student_folder("j.doe-2") == "j.doe-2"


def test_flat_folder_student_is_the_file_name_and_subfolders_are_students(tmp_path, standin):  # noqa: F811
    inbox = tmp_path / "inbox"
    write_nb(inbox / "ann.ipynb", notebook("a2_partial", {}))
    write_nb(inbox / "grades.csv.ipynb", notebook("a2_partial", {}))
    write_nb(inbox / "dan" / "mine.ipynb", notebook("a2_partial", {}))
    flipped = notebook("a2_partial", {"conv_forward_partial": "def conv_forward_partial():\n    return -42"})
    write_nb(inbox / "cy" / "mine.ipynb", flipped)
    write_nb(inbox / "cy" / "a2" / "ann.ipynb", flipped)            # a second submission of cy's
    write_nb(inbox / "cy" / "a2" / "x" / "ann.ipynb", flipped)      # nested: nobody's
    out = tmp_path / "out"
    grade([inbox], out, standin)
    table = rows_by_student(out)
    assert set(table) == {("ann", "a2_partial"), ("grades.csv", "a2_partial"),
                          ("dan", "a2_partial"), ("cy", "a2_partial")}
    for student in ("ann", "grades.csv", "dan"):
        assert table[student, "a2_partial"]["score"] == f"{FULL}", student
    assert results_of(out, "ann", "a2_partial")["extra_data"]["notebook"].endswith("inbox/ann.ipynb")
    assert results_of(out, "dan", "a2_partial")["extra_data"]["notebook"].endswith("dan/mine.ipynb")
    cy = table["cy", "a2_partial"]
    assert cy["status"] == "error" and "2 notebooks for student cy" in cy["reason"]


# ---- one seed per run, in the staff logs only (issue 9, item 3) -------------------------------
def test_the_runs_seed_reaches_the_graders_and_only_the_staff_logs(tmp_path, standin):  # noqa: F811
    for student in ("ann", "bob"):
        write_nb(tmp_path / "sub" / student / "a4_backward" / "a4_backward.ipynb",
                 notebook("a4_backward", {}))
    out = tmp_path / "out"
    seed = 918273645546372819
    grade([tmp_path / "sub"], out, standin, jobs=2, seed=seed, command="grade sub --seed x")
    for student in ("ann", "bob"):
        log = (out / student / "a4_backward" / "grading.log").read_text()
        assert f"stand-in graders drew their numbers from seed {seed}" in log    # the worker's
        assert f"grading seed: {seed}" in log
    staff = (out / "grading.log").read_text()
    assert f"run started: seed {seed}; command: grade sub --seed x" in staff
    seen_by_students = [p for p in out.rglob("*") if p.is_file() and p.name != "grading.log"]
    assert {p.name for p in seen_by_students} == {"results.json", "feedback.html", "grades.csv"}
    for path in seen_by_students:
        assert str(seed) not in path.read_text(), path
    # a new run draws a new seed; the log keeps a line per run
    grade([tmp_path / "sub"], out, standin, force=True)
    seeds = [line.split("seed ")[1].split(";")[0] for line in
             (out / "grading.log").read_text().splitlines() if "run started" in line]
    assert len(seeds) == 2 and seeds[0] == str(seed) and seeds[1] != seeds[0]
    assert f"from seed {seeds[1]}" in (out / "ann" / "a4_backward" / "grading.log").read_text()


def test_cli_seed_replays_and_must_be_a_number(tmp_path, standin, monkeypatch, capsys):  # noqa: F811
    nb = write_nb(tmp_path / "ann.ipynb", notebook("a5_fft", {}))
    assert cli.main(["grade", str(nb), "--out", str(tmp_path / "out"), "--seed", "42"],
                    backend=standin) == 0
    assert "from seed 42\n" in (tmp_path / "out" / "ann" / "a5_fft" / "grading.log").read_text()
    assert "--seed 42" in (tmp_path / "out" / "grading.log").read_text()
    with pytest.raises(SystemExit) as e:
        cli.main(["grade", str(nb), "--seed", "-1"])
    assert e.value.code == 2 and "non-negative" in capsys.readouterr().err


# ---- isolation: refuse partial, or say so everywhere (issue 10, item 1) ------------------------
def _probe(level):
    return lambda: sandbox.Isolation(level=level, how="none" if level == "partial" else "root",
                                     why="no root and no user namespaces (a test)"
                                     if level == "partial" else "")


def test_partial_isolation_is_refused_unless_allowed(tmp_path, standin, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setattr(sandbox, "probe_isolation", _probe("partial"))
    monkeypatch.setenv("STANDIN_ISOLATION", "partial")
    src = tmp_path / "submitted"
    for student in ("ann", "bob"):
        write_nb(src / student / "a1_naive" / "a1_naive.ipynb", notebook("a1_naive", {}))
    out = tmp_path / "out"
    assert cli.main(["grade", str(src), "--out", str(out)], backend=standin) == 2
    err = capsys.readouterr().err
    assert "cannot be fully isolated" in err and "--allow-partial-isolation" in err
    assert "no root and no user namespaces (a test)" in err and not out.exists()
    assert cli.main(["grade", str(src), "--out", str(out), "--allow-partial-isolation"],
                    backend=standin) == 0
    printed = capsys.readouterr().out
    assert "WARNING: graded with PARTIAL isolation" in printed
    assert printed.count("PARTIAL isolation; all checks passed") == 2       # the table's notes
    table = rows_by_student(out)
    for student in ("ann", "bob"):
        assert table[student, "a1_naive"]["isolation"] == "partial"
        assert table[student, "a1_naive"]["score"] == f"{FULL}"
        results = results_of(out, student, "a1_naive")
        assert results["extra_data"]["isolation"] == "partial"
        assert results["output"].splitlines()[0].startswith("Isolation: PARTIAL.")


def test_full_isolation_grades_without_the_flag_and_a_partial_result_is_not_kept(
        tmp_path, standin, monkeypatch, capsys):  # noqa: F811
    nb = write_nb(tmp_path / "ann.ipynb", notebook("a1_naive", {}))
    out = tmp_path / "out"
    monkeypatch.setattr(sandbox, "probe_isolation", _probe("partial"))
    monkeypatch.setenv("STANDIN_ISOLATION", "partial")
    assert cli.main(["grade", str(nb), "--out", str(out), "--allow-partial-isolation"],
                    backend=standin) == 0
    monkeypatch.setattr(sandbox, "probe_isolation", _probe("full"))
    monkeypatch.setenv("STANDIN_ISOLATION", "full")
    capsys.readouterr()
    assert cli.main(["grade", str(nb), "--out", str(out)], backend=standin) == 0
    printed = capsys.readouterr().out
    assert "kept" not in printed and "PARTIAL" not in printed      # regraded in the full cage
    assert rows_by_student(out)["ann", "a1_naive"]["isolation"] == "full"


# ---- problems and suspicious (PLAN interface 4) ------------------------------------------------
def test_problems_and_suspicious_are_reported(tmp_path, standin):  # noqa: F811
    bodies = {"zero_pad": "def zero_pad():\n    raise PermissionError(30, 'Read-only file system')"}
    extra = ["raise ImportError('`scipy.signal` cannot be imported while grading: the course asks "
             "you to write the convolution yourself')",
             "raise ValueError('just a bug')"]
    write_nb(tmp_path / "sub" / "eve" / "a1_naive" / "a1_naive.ipynb",
             notebook("a1_naive", bodies, extra=extra))
    write_nb(tmp_path / "sub" / "eve" / "a1_naive" / "old" / "a1_naive.ipynb", notebook("a1_naive", {}))
    write_nb(tmp_path / "sub" / "ann" / "a1_naive" / "a1_naive.ipynb", notebook("a1_naive", {}))
    out = tmp_path / "out"
    grade([tmp_path / "sub"], out, standin)
    eve = results_of(out, "eve", "a1_naive")["extra_data"]
    assert eve["problems"][0] == ("not graded: old/a1_naive.ipynb is in a subfolder of the "
                                  "submission folder")
    assert any("cell 5: ImportError" in p for p in eve["problems"])
    assert any("cell 6: ValueError: just a bug" in p for p in eve["problems"])
    assert [s.split(":")[0] for s in eve["suspicious"]] == ["blocked library import",
                                                            "write refused by the cage"]
    assert "`zero_pad`" in eve["suspicious"][1]
    ann = results_of(out, "ann", "a1_naive")["extra_data"]
    assert ann["problems"] == [] and ann["suspicious"] == []


def test_array_subclass_returns_are_suspicious():
    assert suspicion("`im2col` returned a numpy.ndarray subclass x.Liar of dtype float64; "
                     "expected a numpy array") == "returned an array subclass"
    assert suspicion("OSError: [Errno 30] Read-only file system: '/x'") == \
        "write refused by the cage"
    assert suspicion("ValueError: shapes do not match") is None


# ---- through `python -m autograder grade` with the real cage and graders (slow) ---------------
def start_grade(*args):
    """`python -m autograder grade ARGS` (TMPDIR as it is: the cage's uid slots are locked
    there, shared with every other grader on the machine)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade", *map(str, args)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def copy_example(student, assignment, to):
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / student / assignment / f"{assignment}.ipynb", to)
    return to


def append_cell(notebook, source):
    """Add a code cell of the student's own at the end of `notebook`."""
    nb = json.loads(notebook.read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None,
                        "outputs": [], "source": source})
    notebook.write_text(json.dumps(nb))


@pytest.mark.slow
def test_real_batch_nested_notebook_and_hostile_names_leave_a_classmate_alone(tmp_path):
    src = tmp_path / "submitted"
    copy_example("alice", "a3_im2col", src / "bob" / "a3_im2col" / "a3_im2col.ipynb")   # honest
    copy_example("bob", "a3_im2col", src / "mallory" / "a3_im2col" / "a3_im2col.ipynb")
    copy_example("bob", "a3_im2col",
                 src / "mallory" / "a3_im2col" / "x" / "bob" / "a3_im2col" / "a3_im2col.ipynb")
    deep = src / "grades.csv" / "a3_im2col" / "a3_im2col.ipynb"
    deep.parent.mkdir(parents=True)
    deep.write_text("[" * 100000 + "]" * 100000)
    odd = src / "=cmd\x1b[2J\u202e" / "a3_im2col" / "a3_im2col.ipynb"
    odd.parent.mkdir(parents=True)
    odd.write_text(json.dumps({"nbformat": "4", "cells": []}))
    out = tmp_path / "out"
    done = start_grade(src, "--out", out, "--jobs", "2")
    stdout, stderr = done.communicate(timeout=900)
    assert done.returncode == 0, stderr[-3000:]
    assert "\x1b" not in stdout and "\u202e" not in stdout and "=cmd\\x1b[2J\\u202e" in stdout
    table = rows_by_student(out)
    assert set(table) == {("bob", "a3_im2col"), ("mallory", "a3_im2col"),
                          ("grades.csv", "a3_im2col"), ("'=cmd\x1b[2J\u202e", "a3_im2col")}
    bob = results_of(out, "bob", "a3_im2col")
    assert table["bob", "a3_im2col"]["status"] == "graded" and bob["score"] == FULL, bob["output"]
    mallory = results_of(out, "mallory", "a3_im2col")
    assert mallory["score"] < FULL
    assert mallory["extra_data"]["problems"] == [
        "not graded: x/bob/a3_im2col/a3_im2col.ipynb is in a subfolder of the submission folder"]
    assert "nested too deeply" in table["grades.csv", "a3_im2col"]["reason"]
    assert 'nbformat version as "4"' in table["'=cmd\x1b[2J\u202e", "a3_im2col"]["reason"]


def test_input_cover_hides_every_notebook_folder_but_never_what_a_cage_needs():
    needed = {"/opt/venv", "/srv/course/helpers", "/tmp"}
    assert scheduler.input_cover(["/home/ta/course/submitted/bob/a1/a1.ipynb",
                                  "/home/ta/course/submitted/ann/a1/a1.ipynb"], needed) == ["/home/ta"]
    assert scheduler.input_cover(["/srv/course/submitted/bob/a1/a1.ipynb"], needed) == \
        ["/srv/course/submitted"]                      # /srv/course holds helpers/
    assert scheduler.input_cover(["/srv/course/helpers/x.ipynb", "/c.ipynb", "/tmp/class/d.ipynb"],
                                 needed) == ["/c.ipynb", "/srv/course/helpers/x.ipynb", "/tmp/class"]
    assert scheduler.input_cover(["/usr/share/a/b.ipynb"], needed) == ["/usr/share"]   # never /usr


@pytest.mark.slow
def test_a_submission_cannot_read_a_classmates_notebook_while_it_runs():
    """mallory knows where graders keep the class (the source is public) and looks for it from
    her cells; bob's notebook lies world-readable in that folder, outside any temporary folder."""
    course = Path(tempfile.mkdtemp(prefix=".conv-class-", dir=ROOT.parent))
    try:
        os.chmod(course, 0o755)
        src = course / "submitted"
        copy_example("alice", "a1_naive", src / "bob" / "a1_naive" / "a1_naive.ipynb")
        nb = json.loads((EXAMPLES / "alice" / "a1_naive" / "a1_naive.ipynb").read_text())
        nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None,
                            "outputs": [], "source": (
            "import os\n"
            f"_seen = sorted(os.path.join(d, f) for d, _, fs in os.walk({str(src)!r}) for f in fs)\n"
            "raise RuntimeError(f'saw {len(_seen)} notebooks {_seen}')\n")})
        (src / "mallory" / "a1_naive").mkdir(parents=True)
        (src / "mallory" / "a1_naive" / "a1_naive.ipynb").write_text(json.dumps(nb))
        for path in src.rglob("*"):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        out = course / "out"
        done = start_grade(src, "--out", out)
        stdout, stderr = done.communicate(timeout=900)
        assert done.returncode == 0, stderr[-3000:]
        mallory = results_of(out, "mallory", "a1_naive")
        looked = [p for p in mallory["extra_data"]["problems"] if "saw " in p]
        assert looked and "saw 0 notebooks" in looked[0], mallory["extra_data"]["problems"]
        assert results_of(out, "bob", "a1_naive")["score"] == FULL
    finally:
        shutil.rmtree(course, ignore_errors=True)


def batch_folders(pid):
    """The autograder-batch-* folders named on the command lines of `pid`'s child processes
    (its workers: <batch>/<worker>/results.json)."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found |= {Path(arg).parents[1] for arg in (proc / "cmdline").read_text().split("\0")
                          if "/autograder-batch-" in arg and arg.endswith("results.json")}
        except (OSError, IndexError, ValueError):
            pass
    return sorted(found)


def _processes_mentioning(text):
    """Pids of live processes whose command line or environment contains `text`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(text.encode() in (proc / part).read_bytes() for part in ("cmdline", "environ")):
                found.append(int(proc.name))
        except OSError:
            pass
    return found


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_leaves_nothing_behind_and_says_how_to_resume(tmp_path, sig):
    src = tmp_path / "submitted"
    for i in range(2):          # carol's functions hang: the batch is long enough to stop
        copy_example("carol", "a1_naive", src / f"carol{i}" / "a1_naive" / "a1_naive.ipynb")
    copy_example("alice", "a1_naive", src / "alice" / "a1_naive" / "a1_naive.ipynb")
    out = tmp_path / "out"
    run = start_grade(src, "--out", out, "--jobs", "2", "--force")
    deadline, sandboxes = time.monotonic() + 120, []
    while not sandboxes and time.monotonic() < deadline:
        time.sleep(0.1)
        batches = batch_folders(run.pid)
        sandboxes = [p for b in batches for p in b.glob("*/conv-sandbox-*")]
    assert sandboxes and run.poll() is None, "no sandbox started"
    # the workers got their jobs down a pipe: no pickle lies where a sandbox might reach it
    assert [p for b in batches for p in b.rglob("*.pickle")] == []
    run.send_signal(sig)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 128 + sig, stderr[-2000:]
    assert f"stopped by {sig.name}" in stderr
    assert "To resume, run the same command without --force" in stderr
    resume = stderr.split("without --force:\n")[1].strip()
    assert resume.startswith("python -m autograder grade ") and "--force" not in resume
    assert str(src) in resume and "--jobs 2" in resume
    assert [b for b in batches if b.exists()] == []        # its conv-sandbox-* folders with it
    time.sleep(0.5)
    assert [pid for b in batches for pid in _processes_mentioning(str(b))] == []  # no worker, no cage
    assert f"run interrupted ({sig.name})" in (out / "grading.log").read_text()


def test_a_link_to_a_classmates_notebook_is_not_graded(tmp_path, standin):  # noqa: F811
    src = tmp_path / "submitted"
    bob = write_nb(src / "bob" / "a2_partial" / "a2_partial.ipynb", notebook("a2_partial", {}))
    (src / "mallory" / "a2_partial").mkdir(parents=True)
    (src / "mallory" / "a2_partial" / "a2_partial.ipynb").symlink_to(bob)
    out = tmp_path / "out"
    grade([src], out, standin)
    table = rows_by_student(out)
    assert table["bob", "a2_partial"]["score"] == f"{FULL}"
    mallory = table["mallory", "a2_partial"]
    assert mallory["status"] == "error" and "symbolic links are not graded" in mallory["reason"]
    assert results_of(out, "mallory", "a2_partial")["extra_data"]["problems"] == [
        "not graded: a2_partial.ipynb is a symbolic link"]


def test_a_name_that_is_not_utf8_is_kept_by_a_rerun(tmp_path, standin):  # noqa: F811
    src = tmp_path / "submitted"
    write_nb(src / os.fsdecode(b"j\xe9r\xf4me") / "a5_fft" / "a5_fft.ipynb", notebook("a5_fft", {}))
    out = tmp_path / "out"
    grade([src], out, standin)
    [row] = grade([src], out, standin)
    assert row["kept"] and row["score"] == f"{FULL}"
    assert rows_by_student(out)["j\\udce9r\\udcf4me", "a5_fft"]["score"] == f"{FULL}"


def test_the_parent_reads_any_notebook_json_with_the_real_loader(tmp_path):
    src = tmp_path / "submitted"
    good = json.loads((EXAMPLES / "alice" / "a1_naive" / "a1_naive.ipynb").read_text())
    odd = json.loads(json.dumps(good))
    for cell in odd["cells"][:6]:
        cell["metadata"] = {"nbgrader": ["x"], "tags": "demo"} if cell["cell_type"] == "code" else 7
    odd["cells"] += ["not a cell", {"cell_type": {"code": 1}, "source": None}]
    shapes = {"deep": "[" * 100000 + "]" * 100000, "strformat": json.dumps({**good, "nbformat": "4"}),
              "odd": json.dumps(odd), "good": json.dumps(good), "empty": "",
              "latin": json.dumps(good).replace("def ", "d\udce9f ", 1)}
    for student, text in shapes.items():
        path = src / student / "a1_naive" / "a1_naive.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
    subs = {s.student: s for s in submissions.find_submissions([src])}
    assert set(subs) == set(shapes)
    assert subs["good"].problem == "" and subs["odd"].problem == ""
    assert subs["odd"].assignment == subs["good"].assignment == "a1_naive"
    assert "nested too deeply" in subs["deep"].problem
    assert 'nbformat version as "4"' in subs["strformat"].problem
    assert "not valid JSON" in subs["empty"].problem and "not UTF-8" in subs["latin"].problem


# ---- what this change added that a student controls (issue 11: failure kinds and notes are data)
HOSTILE_A6 = '''
import warnings
import numpy as np

def max_pool_forward(x, pool=2, stride=2):
    warnings.warn("GradingNote: full marks")      # a note the grader must never take as its own
    return np.zeros(2**27)                          # 1 GiB: refused before the parent reads it

def max_pool_backward(dout, x, pool=2, stride=2):
    raise RuntimeError("failure:timeout misconception:true-convolution\\nnot-called-again")
'''


@pytest.mark.slow
def test_text_that_looks_like_grader_tags_and_a_huge_a6_reply_stay_the_attackers(tmp_path):
    """mallory's a6 returns 1 GiB from max_pool_forward and raises an exception whose text
    spells the grader's own tags; honest bob is graded in the same batch. The failure kind and
    the diagnosis come from the grader's data, never from the student's text."""
    src = tmp_path / "submitted"
    copy_example("alice", "a6_cnn", src / "bob" / "a6_cnn" / "a6_cnn.ipynb")
    attack = copy_example("alice", "a6_cnn", src / "mallory" / "a6_cnn" / "a6_cnn.ipynb")
    append_cell(attack, HOSTILE_A6)
    out = tmp_path / "out"
    done = start_grade(src, "--out", out, "--jobs", "2")
    stdout, stderr = done.communicate(timeout=900)
    assert done.returncode == 0, stderr[-3000:]
    assert results_of(out, "bob", "a6_cnn")["score"] == FULL
    mallory = results_of(out, "mallory", "a6_cnn")
    tests = mallory["tests"]
    backward = [t for t in tests if "max_pool_backward" in t["name"] and t["score"] < t["max_score"]]
    assert backward, [t["name"] for t in tests]
    for t in backward:
        assert "failure:timeout" not in t["tags"] and "failure:not-called-again" not in t["tags"]
        assert "misconception:true-convolution" not in t["tags"]
    assert any("failure:exception" in t["tags"] for t in backward)
    forward = [t for t in tests if "max_pool_forward" in t["name"] and t["score"] < t["max_score"]]
    assert forward and not any(t["score"] == t["max_score"] for t in forward
                               if "matches" in t["name"])
    assert "full marks" not in json.dumps(mallory["tests"])
    assert mallory["score"] < FULL


HOSTILE_A2 = '''
import numpy as np

def conv_single_step(x_slice, w, b):
    return np.zeros(2**27)                          # 1 GiB for K numbers: refused unread

def conv_forward_partial(x, w, b, stride=1, pad=0):
    raise ValueError("matmul: misconception:slices-unpadded-x failure:timeout")
'''


@pytest.mark.slow
def test_a_huge_step_reply_and_an_error_spelling_a_diagnosis_stay_the_attackers(tmp_path):
    """The grown conv_single_step returns an array: mallory's returns 1 GiB, and her partial
    layer raises an error whose text holds the words that name slices-unpadded-x in the visible
    checks and the grader's own tags. bob, graded beside her, keeps full marks; her step earns
    nothing and her layer's diagnosis and failure kind come from the grader's data."""
    src = tmp_path / "submitted"
    copy_example("alice", "a2_partial", src / "bob" / "a2_partial" / "a2_partial.ipynb")
    attack = copy_example("alice", "a2_partial", src / "mallory" / "a2_partial" / "a2_partial.ipynb")
    append_cell(attack, HOSTILE_A2)
    out = tmp_path / "out"
    done = start_grade(src, "--out", out, "--jobs", "2")
    stdout, stderr = done.communicate(timeout=900)
    assert done.returncode == 0, stderr[-3000:]
    assert results_of(out, "bob", "a2_partial")["score"] == FULL
    mallory = results_of(out, "mallory", "a2_partial")
    step = [t for t in mallory["tests"] if t["name"].startswith("conv_single_step: one window")]
    layer = [t for t in mallory["tests"] if t["name"].startswith("conv_forward_partial: matches")]
    assert len(step) == len(layer) == 18
    assert all(t["score"] == 0 and "failure:crash" in t["tags"] for t in step)      # refused unread
    assert all(t["score"] == 0 and "failure:exception" in t["tags"] for t in layer)
    for t in mallory["tests"]:
        assert "misconception:slices-unpadded-x" not in t["tags"] and "failure:timeout" not in t["tags"]
    assert mallory["score"] == 0


READS_THE_GRADER = """
try:                        # uncaged, this would swap every answer for the grader's own
    from autograder.reference import *      # noqa: F401,F403
    import autograder.own_code              # noqa: F401
except ImportError:
    pass
"""


@pytest.mark.slow
def test_a_folder_named_no_cage_and_a_notebook_reaching_for_the_grader_stay_in_the_cage(tmp_path):
    """The uncaged path is self-check's alone (autograder/own_code.py): nothing a student
    controls selects it in a class batch. mallory's folder is named `--no-cage` and her bob-like
    a1 imports the grader's reference over her own answers; alice is graded beside her."""
    src = tmp_path / "submitted"
    copy_example("alice", "a1_naive", src / "alice" / "a1_naive" / "a1_naive.ipynb")
    attack = copy_example("bob", "a1_naive", src / "--no-cage" / "a1_naive" / "a1_naive.ipynb")
    append_cell(attack, READS_THE_GRADER)
    out = tmp_path / "out"
    done = start_grade(src, "--out", out, "--allow-partial-isolation")
    stdout, stderr = done.communicate(timeout=900)
    assert done.returncode == 0, stderr[-3000:]
    table = rows_by_student(out)
    assert {row["isolation"] for row in table.values()} <= {"full", "partial"}   # never "none"
    assert results_of(out, "alice", "a1_naive")["score"] == FULL
    mallory = results_of(out, "--no-cage", "a1_naive")
    assert mallory["extra_data"]["isolation"] != "none"
    if sandbox.probe_isolation().level == "full":      # the grader is hidden from her code
        assert mallory["score"] < FULL
        assert mallory["score"] == pytest.approx(31.04, abs=0.01)   # bob's own answers' score
