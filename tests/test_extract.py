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
             new_code_cell("def conv_single_step(x_slice, w, b):\n    return np.zeros(len(w))\n"),
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


# ---- notebook JSON of any shape: a NotebookCode or a SubmissionError, nothing else (issue 9.1)
GOOD_ANSWER = {"cell_type": "code", "source": "def zero_pad(x, pad):\n    return x\n",
               "metadata": {"nbgrader": {"grade_id": "zero_pad", "solution": True}}}


def _nb(*cells, **top):
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                       "cells": [GOOD_ANSWER, *cells], **top})


@pytest.mark.parametrize("cell", [
    "not a cell", 42, None, [1, 2], {"cell_type": ["code"]},
    {"cell_type": "code", "source": 7},
    {"cell_type": "code", "source": ["x = 1\n", 2, None]},
    {"cell_type": "code", "source": {"a": 1}},
    {"cell_type": "code", "source": "", "metadata": "tags"},
    {"cell_type": "code", "source": "", "metadata": {"nbgrader": ["grade_id"]}},
    {"cell_type": "code", "source": "", "metadata": {"nbgrader": {"grade_id": ["zero_pad"],
                                                                 "solution": True}}},
    {"cell_type": "code", "source": "", "metadata": {"nbgrader": {"grade_id": {"a": 1},
                                                                 "grade": True}}},
    {"cell_type": "code", "source": "", "metadata": {"tags": 5}},
    {"cell_type": "code", "source": "", "metadata": {"tags": [["demo"], {"x": 1}, "demo"]}},
    {"cell_type": "code", "source": "-" * 200000 + "1\n%magic"},
    {"cell_type": "code", "source": "x = '" + "\ud800\x00\u202e" * 1000 + "'"},
])
def test_cells_of_any_shape_never_break_loading(tmp_path, cell):
    path = tmp_path / "odd.ipynb"
    path.write_text(_nb(cell), encoding="utf-8", errors="surrogatepass")
    sub = load_submission(path)
    assert sub.assignment == "a1_naive" and "zero_pad" in sub.functions


def test_cell_whose_source_is_not_text_is_named_and_not_run(tmp_path):
    path = tmp_path / "odd.ipynb"
    path.write_text(_nb({"cell_type": "code", "source": ["print(1)\n", 2]}))
    sub = load_submission(path)
    assert sub.problems == ["cell 2 has a source that is not text and was not run"]
    assert "print(1)" not in sub.source


@pytest.mark.parametrize("text, message", [
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ('{"nbformat": 4, "cells": [{"metadata": ' + "[" * 100000 + "]" * 100000 + "}]}",
     "nested too deeply"),
    (json.dumps({"nbformat": "4", "cells": []}), 'nbformat version as "4"'),
    (json.dumps({"nbformat": True, "cells": []}), "nbformat version as true"),
    (json.dumps({"nbformat": 4, "cells": {"0": GOOD_ANSWER}}), "not a Jupyter notebook"),
    (json.dumps([GOOD_ANSWER]), "not a Jupyter notebook"),
    ('"just a string"', "not a Jupyter notebook"),
])
def test_malformed_json_is_a_submission_error(tmp_path, text, message):
    path = tmp_path / "bad.ipynb"
    path.write_text(text)
    with pytest.raises(SubmissionError, match=message):
        load_submission(path)


def test_not_utf8_and_oversized_are_submission_errors(tmp_path):
    path = tmp_path / "latin.ipynb"
    path.write_bytes(_nb().encode().replace(b"zero_pad(x", b"zero_pad(\xe9"))
    with pytest.raises(SubmissionError, match="not UTF-8"):
        load_submission(path)
    from autograder import extract
    huge = tmp_path / "huge.ipynb"
    huge.write_text(_nb({"cell_type": "markdown", "source": "x" * (extract.MAX_NOTEBOOK_BYTES + 1)}))
    with pytest.raises(SubmissionError, match=f"notebooks over {extract.MAX_NOTEBOOK_BYTES // 2**20} MB"):
        load_submission(huge)


def test_duplicate_keys_are_noted_and_the_last_one_used(tmp_path):
    path = tmp_path / "dup.ipynb"
    decoy = json.dumps([{"cell_type": "code", "source": "def im2col(x, f):\n    return x\n",
                         "metadata": {"nbgrader": {"grade_id": "im2col", "solution": True}}}])
    path.write_text(_nb()[:-1] + f', "cells": {decoy}}}')
    sub = load_submission(path)
    assert sub.assignment == "a3_im2col"
    assert any("keys given twice" in p and "'cells'" in p for p in sub.problems)


def test_bytes_given_are_what_is_read(tmp_path):
    path = tmp_path / "on-disk.ipynb"
    path.write_text("not a notebook")
    assert load_submission(path, data=_nb().encode()).assignment == "a1_naive"
