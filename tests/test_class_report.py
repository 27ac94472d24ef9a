"""The class report's numbers are the results.json files' numbers; the page opens offline."""
import csv
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder import class_report
from autograder.misconceptions import BY_ID

ROOT = Path(__file__).resolve().parents[1]


def _test(name, score, max_score, output="", misconception=None, kind="correctness"):
    tags = [f"function:{name.split(':')[0]}", f"kind:{kind}"]
    if misconception:
        tags.append(f"misconception:{misconception}")
    return {"name": name, "score": score, "max_score": max_score, "output": output,
            "visibility": "after_due_date", "tags": tags}


NAIVE = "conv_forward_naive: matches the reference with stride 2, pad 1, H≠W"
PAD = "zero_pad: pads only H and W"
SIZE = "conv_output_size: floor rule"
ROWS = "im2col: rows in (u, v, c) order"
COLS = "im2col: matches the reference on f = 5"

RUN = {
    ("alice", "a1_naive"): (100, [_test(NAIVE, 50, 50), _test(PAD, 10, 10), _test(SIZE, 10, 10)]),
    ("bob", "a1_naive"): (55, [
        _test(NAIVE, 0, 50, "your output is the true convolution", "true-convolution"),
        _test(PAD, 10, 10),
        _test(SIZE, 0, 10, "StudentTimeout: conv_output_size timed out after 20 s", kind="robustness")]),
    ("carol", "a1_naive"): (0, []),
    ("frank", "a1_naive"): (0, []),
    ("erin", "unrecognised"): (0, []),
    ("alice", "a3_im2col"): (80, [_test(ROWS, 35, 35), _test(COLS, 15, 35, "2 of 3 cases")]),
    ("bob", "a3_im2col"): (40, [_test(ROWS, 0, 35, "rows flattened as (c, u, v)", "im2col-row-order"),
                               _test(COLS, 0, 35, "rows flattened as (c, u, v)", "im2col-row-order")]),
    ("dave", "a3_im2col"): (65, [_test(ROWS, 0, 35, "flipped kernel", "true-convolution"),
                                _test(COLS, 35, 35)]),
}


REASONS = {
    "carol": "the notebook did not run: SyntaxError in cell 4 <script>alert(1)</script>",
    "frank": "grading took longer than the limit of 600 s per submission and was stopped",
    "erin": "no cell defines a function of any assignment",
}


@pytest.fixture
def run_dir(tmp_path):
    out = tmp_path / "grades"
    for (student, assignment), (score, tests) in RUN.items():
        d = out / student / assignment
        d.mkdir(parents=True)
        reason = REASONS.get(student, "") if not tests else ""
        extra = {"student": student, "assignment": assignment, "status": "error" if reason else "graded",
                 "reason": reason}
        d.joinpath("results.json").write_text(json.dumps(
            {"score": score, "max_score": 100, "execution_time": 1.0, "output": reason or "graded",
             "tests": tests, "extra_data": extra}))
    return out


class _Rows(HTMLParser):
    """Collects the data-* attributes of every element that has any, and every src/href."""

    def __init__(self):
        super().__init__()
        self.data, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        found = {k[5:]: v for k, v in attrs.items() if k.startswith("data-")}
        if found:
            self.data.append(found)
        self.links += [v for k, v in attrs.items() if k in ("src", "href")]


def _parse(page):
    parser = _Rows()
    parser.feed(page.read_text())
    return parser


def test_numbers_match_the_results(run_dir):
    page, table = class_report.build(run_dir)
    rows = _parse(page).data

    summaries = {r["assignment"]: r for r in rows if "submissions" in r}
    assert summaries["a1_naive"]["submissions"] == "4" and summaries["a1_naive"]["graded"] == "2"
    assert summaries["a1_naive"]["mean"] == "77.50"
    assert summaries["a3_im2col"]["mean"] == "61.67"

    tests = {r["test"]: (int(r["passed"]), int(r["total"])) for r in rows if "test" in r}
    assert tests == {NAIVE: (1, 2), PAD: (2, 2), SIZE: (1, 2), ROWS: (1, 3), COLS: (1, 3)}

    counts = [(r["misconception"], r["count"]) for r in rows if "misconception" in r]
    # a1: bob's true-convolution; a3: bob's row order (two tests, one submission), dave's flip
    assert counts == [("true-convolution", "1"), ("im2col-row-order", "1"), ("true-convolution", "1")]

    problems = {(r["student"], r["problem"]) for r in rows if "problem" in r}
    assert problems == {("carol", "error"), ("frank", "timed out"), ("bob", "timed out"),
                        ("erin", "unrecognised")}

    with table.open(newline="") as fh:
        grid = list(csv.reader(fh))
    assert grid[0] == ["student", "a1_naive", "a2_partial", "a3_im2col", "a4_backward", "a5_fft"]
    assert grid[1:] == [["alice", "100", "", "80", "", ""], ["bob", "55", "", "40", "", ""],
                        ["carol", "error", "", "", "", ""], ["dave", "", "", "65", "", ""],
                        ["erin", "", "", "", "", ""], ["frank", "error", "", "", "", ""]]


def test_page_shows_hints_opens_offline_and_escapes_student_text(run_dir):
    page, _ = class_report.build(run_dir)
    text = page.read_text()
    for mid in ("true-convolution", "im2col-row-order"):
        assert BY_ID[mid].hint.replace("&", "&amp;").replace("<", "&lt;") \
            .replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#x27;") in text
    links = _parse(page).links
    assert links and all(l.startswith(("data:image/png;base64,", "#")) for l in links), links
    assert sum(l.startswith("data:image/png") for l in links) == 2          # one histogram each
    assert "<script>" not in text and "&lt;script&gt;alert(1)" in text


def test_errors_name_the_problem(tmp_path, run_dir):
    with pytest.raises(FileNotFoundError, match="no such grading output folder"):
        class_report.build(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no <student>/<assignment>/results.json"):
        class_report.build(tmp_path / "empty")
    (run_dir / "gina" / "a1_naive").mkdir(parents=True)
    (run_dir / "gina" / "a1_naive" / "results.json").write_text('{"score": 3, "tests": []}')
    with pytest.raises(ValueError, match=r"gina/a1_naive/results.json is not a grader's results.json"):
        class_report.build(run_dir)


# carol's examples hang on purpose and take minutes to grade: the engine's own tests cover them
QUICK_EXAMPLES = ["examples/submissions/alice", "examples/submissions/bob"]


@pytest.mark.slow
def test_report_on_the_graded_examples(tmp_path):
    """Grade shipped examples, report, and recount every pass rate from the results.json files."""
    out = tmp_path / "grades"
    for cmd in (["grade", *QUICK_EXAMPLES, "--out", str(out), "--jobs", "2"], ["report", str(out)]):
        done = subprocess.run([sys.executable, "-m", "autograder", *cmd], cwd=ROOT,
                              capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, done.stderr
    results = {(p.parent.parent.name, p.parent.name): json.loads(p.read_text())
               for p in out.glob("*/*/results.json")}
    with (out / "grades.csv").open(newline="") as fh:
        status = {(r["student"], r["assignment"]): r["status"] for r in csv.DictReader(fh)}
    assert len(results) == 10 and set(results) == set(status)

    expected = {}
    for key, res in results.items():
        if status[key] != "graded":
            continue
        for t in res["tests"]:
            p, n = expected.get((key[1], t["name"]), (0, 0))
            expected[(key[1], t["name"])] = (p + (t["score"] >= t["max_score"]), n + 1)
    rows = _parse(out / class_report.HTML_NAME).data
    section, shown = None, {}
    for r in rows:
        section = r.get("assignment", section)
        if "test" in r:
            shown[(section, r["test"])] = (int(r["passed"]), int(r["total"]))
    assert shown == expected

    with (out / class_report.CSV_NAME).open(newline="") as fh:
        grid = {r["student"]: r for r in csv.DictReader(fh)}
    for (student, assignment), res in results.items():
        if assignment not in grid[student]:
            continue                               # an unrecognised notebook has no column
        cell = grid[student][assignment]
        if status[(student, assignment)] == "error":
            assert cell == "error"
        else:
            assert float(cell) == pytest.approx(res["score"], abs=1e-4)
