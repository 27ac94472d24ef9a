"""Notebook -> code to run: recognition, cell selection, and files that cannot be graded."""
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.extract import SubmissionError, load_submission


def answer(name, body="    return 0"):
    return new_code_cell(f"def {name}(*args):\n{body}\n", metadata={"nbgrader": {
        "solution": True, "grade": False, "locked": False, "grade_id": name, "schema_version": 3}})


def test_cell(grade_id, source):
    return new_code_cell(source, metadata={"nbgrader": {
        "solution": False, "grade": True, "locked": True, "points": 5, "grade_id": grade_id,
        "schema_version": 3}})


test_cell.__test__ = False   # a cell builder, not a pytest test


def given(source):
    return new_code_cell(source, metadata={"tags": ["given"], "nbgrader": {
        "solution": False, "grade": False, "locked": True, "grade_id": "imports",
        "schema_version": 3}})


def write(tmp_path, cells, name="sub.ipynb"):
    path = tmp_path / name
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_recognised_from_answer_grade_ids_and_cells_selected(tmp_path):
    cells = [new_markdown_cell("# im2col"),
             given("import numpy as np\nfrom helpers.checks import check_im2col"),
             answer("im2col"),
             test_cell("test_im2col", "check_im2col(im2col)"),
             test_cell("hidden_im2col", "run_hidden_tests('im2col', globals())"),
             answer("conv_forward_im2col"),
             new_code_cell("slow_demo()", metadata={"tags": ["demo"]}),
             new_code_cell("scratch = im2col(1)")]
    sub = load_submission(write(tmp_path, cells))
    assert sub.assignment == "a3_im2col"
    assert [c.index for c in sub.cells] == [1, 2, 5, 7]
    assert [c.grade_id for c in sub.cells] == ["imports", "im2col", "conv_forward_im2col", None]
    assert sub.functions == ("im2col", "conv_forward_im2col")
    assert "check_im2col(im2col)" not in sub.source and "slow_demo" not in sub.source
    assert "scratch = im2col(1)" in sub.source
    assert sub.problems == []


def test_later_assignment_wins_over_given_earlier_functions(tmp_path):
    cells = [given("def conv_output_size(n, f, stride=1, pad=0):\n    return 0\n"),
             answer("conv_backward_naive"), answer("col2im"), answer("conv_backward_im2col")]
    assert load_submission(write(tmp_path, cells)).assignment == "a4_backward"


def test_recognised_by_def_when_metadata_was_lost(tmp_path):
    cells = [new_code_cell("import numpy as np"),
             new_code_cell("def conv_single_step(x_slice, w_k, b_k):\n    return 0.0\n"),
             new_code_cell("from helpers.checks import check_conv_single_step\n"
                           "check_conv_single_step(conv_single_step)"),
             new_code_cell("run_hidden_tests('conv_single_step', globals())"),
             new_code_cell("def check_my_shapes(x):\n    return x.shape\n")]
    sub = load_submission(write(tmp_path, cells))
    assert sub.assignment == "a2_partial"
    assert [c.index for c in sub.cells] == [0, 1, 4]
    assert sub.functions == ("conv_single_step",)


def test_magics_removed_and_cell_magics_skipped(tmp_path):
    cells = [answer("zero_pad"),
             new_code_cell("%matplotlib inline\nimport numpy as np\n!pip install scipy\n"
                           "for _ in range(2):\n    %time zero_pad(1)\nok = 1 != 2\n"),
             new_code_cell("%%timeit\nzero_pad(1)"),
             new_code_cell("x = (1\n     % 2)\n")]
    sub = load_submission(write(tmp_path, cells))
    assert [c.index for c in sub.cells] == [0, 1, 3]
    cleaned = sub.cells[1].source
    assert "%" not in cleaned and "pip" not in cleaned and "ok = 1 != 2" in cleaned
    compile(cleaned, "<test>", "exec")
    assert sub.cells[2].source == "x = (1\n     % 2)\n"   # valid Python is left alone
    assert any("cell 2" in p and "magics" in p for p in sub.problems)
    assert any("cell 3" in p and "%%timeit" in p for p in sub.problems)


def test_duplicate_definitions_are_noted(tmp_path):
    cells = [answer("im2col"), answer("conv_forward_im2col"),
             new_code_cell("def im2col(x, f, stride=1, pad=0):\n    return 1\n")]
    sub = load_submission(write(tmp_path, cells))
    (note,) = sub.problems
    assert "2 cells define `im2col`" in note and "cell 3" in note and "last one is used" in note


def test_not_json(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ this is not json")
    with pytest.raises(SubmissionError, match="not valid JSON"):
        load_submission(path)


def test_json_but_not_a_notebook(tmp_path):
    path = tmp_path / "data.ipynb"
    path.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(SubmissionError, match="not a Jupyter notebook"):
        load_submission(path)


def test_wrong_nbformat(tmp_path):
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "cells": [],
                                "worksheets": [], "metadata": {}}))
    with pytest.raises(SubmissionError, match="version 3 notebook"):
        load_submission(path)


def test_no_contract_function(tmp_path):
    path = write(tmp_path, [new_code_cell("def helper():\n    return 1\n")])
    with pytest.raises(SubmissionError, match="defines none of the course's functions"):
        load_submission(path)


def test_missing_file(tmp_path):
    with pytest.raises(SubmissionError, match="cannot be read"):
        load_submission(tmp_path / "absent.ipynb")
