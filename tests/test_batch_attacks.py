"""A batch against hostile submissions (issue 9, items 1, 2, 3, 9, 10; issue 10, item 1).

Each attack is made the way a student would: a notebook, a folder name or a value the student
controls, graded through the engine (the stand-in backend of test_engine for most; the real
cage and graders through `python -m autograder grade` in the tests marked slow), checking the
attacker's row AND an honest classmate's row in the same batch.
"""
import csv
import json

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
