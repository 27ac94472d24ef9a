"""The class report's numbers are the results.json files' numbers; its flags come from their data;
the page opens offline and links to every student's feedback page; the CSV is safe to open."""
import csv
import hashlib
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from autograder import class_report
from autograder.contract import ASSIGNMENTS
from autograder.misconceptions import BY_ID

ROOT = Path(__file__).resolve().parents[1]
EMPTY = hashlib.sha256(b"").hexdigest()


def _test(name, score, max_score, output="", misconception=None, kind="correctness", failure=None):
    tags = [f"function:{name.split(':')[0]}", f"kind:{kind}"]
    tags += [f"misconception:{misconception}"] if misconception else []
    tags += [f"failure:{failure}"] if failure else []
    return {"name": name, "score": score, "max_score": max_score, "output": output,
            "visibility": "after_due_date", "tags": tags}


NAIVE = "conv_forward_naive: matches the reference with stride 2, pad 1, H≠W"
PAD = "zero_pad: keeps float32"
SIZE = "conv_output_size: ValueError when the filter does not fit"
ROWS = "im2col: rows in (u, v, c) order"
COLS = "im2col: matches the reference on f = 5"
HOSTILE = '=HYPERLINK("http://evil")<script>alert(1)</script>\x1b[31m\u202e'
SHOWN = HOSTILE.replace("\x1b", r"\x1b").replace("\u202e", r"\u202e")   # as the page prints it
MISSING = "Calling your code failed: the submission defines no function `conv_forward_naive`"
TIMEOUT = "Calling your code failed: `conv_output_size` did not return within 10 s"

# (student folder, assignment folder): (score, tests, extra_data beyond student/assignment/status)
RUN = {
    ("alice", "a1_naive"): (70, [_test(NAIVE, 50, 50), _test(PAD, 10, 10, kind="contract"),
                                 _test(SIZE, 10, 10, kind="robustness")], {}),
    ("bob", "a1_naive"): (10, [
        _test(NAIVE, 0, 50, "your output is the true convolution", "true-convolution"),
        _test(PAD, 10, 10, kind="contract"),
        _test(SIZE, 0, 10, TIMEOUT, kind="robustness", failure="timeout")],
        {"timed_out": ["conv_output_size"]}),
    ("hank", "a1_naive"): (10, [_test(NAIVE, 0, 50, MISSING, failure="missing"),
                                _test(PAD, 0, 10, "the process stopped", kind="contract", failure="crash"),
                                _test(SIZE, 10, 10, kind="robustness")],
                           {"problems": ["cell 4 raised SyntaxError: invalid syntax (line 2)"]}),
    ("carol", "a1_naive"): (0, [], {"reason": "the notebook did not run: SyntaxError in cell 4 "
                                              "<script>alert(1)</script>"}),
    ("frank", "a1_naive"): (0, [], {"reason": "grading took longer than the limit of 600 s per "
                                              "submission and was stopped"}),
    ("erin", "unrecognised"): (0, [], {"reason": "erin.ipynb is not a notebook: it is not valid JSON",
                                       "notebook_sha256": EMPTY}),
    ("alice", "a3_im2col"): (50, [_test(ROWS, 35, 35), _test(COLS, 15, 35, "2 of 3 cases")], {}),
    ("bob", "a3_im2col"): (0, [_test(ROWS, 0, 35, "rows flattened as (c, u, v)", "im2col-row-order"),
                               _test(COLS, 0, 35, "rows flattened as (c, u, v)", "im2col-row-order")], {}),
    ("dave", "a3_im2col"): (35, [_test(ROWS, 0, 35, "flipped kernel", "true-convolution"),
                                 _test(COLS, 35, 35)], {"isolation": "partial"}),
    # folders as the engine names them (engine.student_folder): "%" escapes
    ("gina%20lee", "a3_im2col"): (70, [_test(ROWS, 35, 35), _test(COLS, 35, 35)],
                                  {"student": "gina lee",
                                   "notebook": "/submitted/gina lee/a1_naive/a1_naive.ipynb"}),
    ("%3Dmallory", "a3_im2col"): (70, [_test(ROWS, 35, 35), _test(COLS, 35, 35)],
                                {"student": HOSTILE,
                                 "suspicious": ["blocked import: scipy.signal",
                                                "returned a numpy array subclass"]}),
}


def _write_run(out, run):
    for (folder, assignment), (score, tests, extra) in run.items():
        d = out / folder / assignment
        d.mkdir(parents=True)
        info = {"student": folder, "assignment": assignment, "notebook": f"/sub/{folder}/{assignment}/n.ipynb",
                "isolation": "full", "timed_out": [], "reason": "", **extra}
        info["status"] = "error" if info["reason"] else "graded"
        d.joinpath("results.json").write_text(json.dumps(
            {"score": score, "max_score": 100, "execution_time": 1.0, "output": info["reason"] or "graded",
             "tests": tests, "extra_data": info}))
        d.joinpath("feedback.html").write_text("<!DOCTYPE html><title>feedback</title>")


@pytest.fixture
def run_dir(tmp_path):
    out = tmp_path / "grades"
    _write_run(out, RUN)
    return out


class _Rows(HTMLParser):
    """Each element with data-* attributes (its attributes, its text, the links inside it), every
    src/href, and the text of the page."""

    def __init__(self):
        super().__init__()
        self.data, self.links, self.open, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [v for k, v in attrs.items() if k in ("src", "href")]
        found = {k[5:]: v for k, v in attrs.items() if k.startswith("data-")}
        if found:
            found.update(text="", hrefs=[], tag=tag)
            self.data.append(found)
            self.open.append(found)
        for row in self.open:
            row["hrefs"] += [attrs["href"]] if "href" in attrs else []

    def handle_endtag(self, tag):
        if self.open and self.open[-1]["tag"] == tag:
            self.open.pop()

    def handle_data(self, data):
        self.text.append(data)
        for row in self.open:
            row["text"] += data + " "


def _parse(page):
    parser = _Rows()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _section_rows(rows, key):
    """{assignment: [rows having `key`]} in page order (the Students table comes first: None)."""
    found, section = {}, None
    for r in rows:
        section = r.get("assignment", section) if "submissions" in r else section
        if key in r:
            found.setdefault(section, []).append(r)
    return found


def test_numbers_match_the_results(run_dir):
    page, table = class_report.build(run_dir)
    rows = _parse(page).data

    summaries = {r["assignment"]: r for r in rows if "submissions" in r}
    assert summaries["a1_naive"]["submissions"] == "5" and summaries["a1_naive"]["graded"] == "3"
    assert summaries["a1_naive"]["mean"] == "30.00"
    assert summaries["a3_im2col"]["submissions"] == "5" and summaries["a3_im2col"]["mean"] == "45.00"

    tests = {r["test"]: (int(r["passed"]), int(r["total"])) for r in rows if "test" in r}
    assert tests == {NAIVE: (1, 3), PAD: (2, 3), SIZE: (2, 3), ROWS: (3, 5), COLS: (3, 5)}

    counts = [(r["misconception"], r["count"]) for r in rows if "misconception" in r]
    # a1: bob's true-convolution; a3: bob's row order (two tests, one submission), dave's flip
    assert counts == [("true-convolution", "1"), ("im2col-row-order", "1"), ("true-convolution", "1")]

    with table.open(newline="", encoding="utf-8") as fh:
        grid = list(csv.reader(fh))
    assert grid[0] == ["student", *ASSIGNMENTS]
    assert all(len(row) == len(grid[0]) for row in grid)
    filled = {row[0]: {a: cell for a, cell in zip(ASSIGNMENTS, row[1:]) if cell} for row in grid[1:]}
    assert filled == {"alice": {"a1_naive": "70", "a3_im2col": "50"},
                      "bob": {"a1_naive": "10", "a3_im2col": "0"}, "carol": {"a1_naive": "error"},
                      "dave": {"a3_im2col": "35"}, "erin": {}, "frank": {"a1_naive": "error"},
                      "gina lee": {"a3_im2col": "check"}, "hank": {"a1_naive": "10"},
                      "'" + HOSTILE: {"a3_im2col": "70"}}


def test_points_roll_up_by_function_and_by_kind(run_dir):
    page, _ = class_report.build(run_dir)
    rollups = _section_rows(_parse(page).data, "rollup")
    a1 = [(r["rollup"], r["name"], r["mean"], r["max"], r["passed"], r["total"]) for r in rollups["a1_naive"]]
    # graded a1 submissions: alice 50/10/10, bob 0/10/0, hank 0/0/10 (naive, zero_pad, output size)
    assert a1 == [("function", "conv_output_size", "6.67", "10.00", "2", "3"),
                  ("function", "zero_pad", "6.67", "10.00", "2", "3"),
                  ("function", "conv_forward_naive", "16.67", "50.00", "1", "3"),
                  ("kind", "correctness", "16.67", "50.00", "1", "3"),
                  ("kind", "contract", "6.67", "10.00", "2", "3"),
                  ("kind", "robustness", "6.67", "10.00", "2", "3")]
    a3 = {(r["rollup"], r["name"]): (r["mean"], r["passed"], r["total"]) for r in rollups["a3_im2col"]}
    assert a3 == {("function", "im2col"): ("45.00", "6", "10"), ("kind", "correctness"): ("45.00", "6", "10")}


def test_students_link_to_their_feedback_pages(run_dir):
    page, _ = class_report.build(run_dir)
    parsed = _parse(page)
    cells = {r["cell"]: r for r in parsed.data if "cell" in r}
    assert cells["gina%20lee/a3_im2col"]["hrefs"] == ["gina%2520lee/a3_im2col/feedback.html"]
    assert cells["bob/a1_naive"]["text"].split()[0] == "10"
    assert cells["carol/a1_naive"]["text"].split()[0] == "error"
    feedback = [h for h in parsed.links if h.endswith("feedback.html")]
    # every submission's page is linked from the Students table and from its assignment's table
    assert len(feedback) == 2 * len(RUN)
    assert all((run_dir / unquote(h)).is_file() for h in feedback)
    assert all(not h.startswith(("/", "http", "file:")) for h in feedback)


def _flags(run_dir):
    page, _ = class_report.build(run_dir)
    return {(section, r["student"]): r for section, rows in
            _section_rows(_parse(page).data, "problems").items() for r in rows}


def test_notebook_problems_come_from_the_results(run_dir):
    flags = _flags(run_dir)
    gina = flags["a3_im2col", "gina lee"]["text"]
    assert "found in the a1_naive folder but it is a3_im2col" in gina
    erin = flags["unrecognised", "erin"]["text"]
    assert "the notebook file is empty" in erin
    hank = flags["a1_naive", "hank"]["text"]
    assert "cell 4 raised SyntaxError" in hank and "missing: conv_forward_naive" in hank
    assert "crashed: zero_pad" in hank and "missing: none" not in hank
    carol = flags["a1_naive", "carol"]
    assert carol["status"] == "error" and "not graded: the notebook did not run" in carol["text"]
    assert "conv_output_size" in flags["a1_naive", "bob"]["text"]             # timed out, from data
    clean = [k for k, r in flags.items() if r["problems"] == "0"]
    assert sorted(clean) == sorted([("a1_naive", "alice"), ("a1_naive", "bob"), ("a3_im2col", "alice"),
                                    ("a3_im2col", "bob"), ("a3_im2col", "dave"), ("a3_im2col", SHOWN)])


def test_isolation_and_suspicious_behaviour_are_shown_plainly(run_dir):
    flags = _flags(run_dir)
    assert flags["a3_im2col", "dave"]["isolation"] == "partial"
    assert flags["a3_im2col", "alice"]["isolation"] == "full"
    mallory = flags["a3_im2col", SHOWN]
    assert mallory["suspicious"] == "2"
    assert "blocked import: scipy.signal" in mallory["text"] and "array subclass" in mallory["text"]
    page = (run_dir / class_report.HTML_NAME).read_text(encoding="utf-8")
    assert re.search(r'<p class="partial"[^>]*>Isolation: PARTIAL for 1 submission\(s\): '
                     r"dave \(a3_im2col\)", page)


def test_page_shows_hints_opens_offline_and_escapes_student_text(run_dir):
    page, _ = class_report.build(run_dir)
    text = page.read_text(encoding="utf-8")
    for mid in ("true-convolution", "im2col-row-order"):
        assert BY_ID[mid].hint.replace("&", "&amp;").replace("<", "&lt;") \
            .replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#x27;") in text
    links = _parse(page).links
    assert all(l.startswith(("data:image/png;base64,", "#")) or l.endswith("/feedback.html")
               for l in links), links
    assert sum(l.startswith("data:image/png") for l in links) == 2          # one histogram each
    assert "<script>" not in text and "&lt;script&gt;alert(1)" in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", text)
    assert r"\x1b[31m\u202e" in text


def test_long_names_and_messages_wrap(run_dir):
    page, _ = class_report.build(run_dir)
    css = re.search(r"<style>(.*?)</style>", page.read_text(encoding="utf-8"), re.S).group(1)
    rules = dict(re.findall(r"([a-z][\w ,.#-]*?)\s*\{([^}]*)\}", css))
    assert "overflow-wrap: anywhere" in rules["body"] and "overflow-wrap: anywhere" in rules["td.free"]
    assert "overflow-x" not in css


def test_gradebook_cells_a_spreadsheet_would_run_are_escaped(tmp_path):
    names = ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "plain"]
    _write_run(tmp_path / "g", {(f"s{i}", "a1_naive"): (5, [_test(PAD, 5, 10)], {"student": n})
                                 for i, n in enumerate(names)})
    _, table = class_report.build(tmp_path / "g")
    with table.open(newline="", encoding="utf-8") as fh:
        first = sorted(row[0] for row in list(csv.reader(fh))[1:])
    assert first == sorted(["'=1+1", "'+cmd", "'-2", "'@SUM(A1)", "'\tx", "plain"])


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


def _notebook_with_broken_cell(source, target, function):
    """`source` notebook with a syntax error appended to the cell defining `function`."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code"
                and f"def {function}(" in "".join(c["source"]))
    cell["source"] = "".join(cell["source"]) + "\nthis is not python (\n"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(nb), encoding="utf-8")


@pytest.mark.slow
def test_report_flags_odd_notebooks_graded_for_real(tmp_path):
    """An empty file, a notebook in another assignment's folder and one whose cell has a syntax
    error, graded by the CLI: the report says which is which, and the gradebook counts none
    silently."""
    subs, out = tmp_path / "submitted", tmp_path / "grades"
    (subs / "zed" / "a1_naive").mkdir(parents=True)
    (subs / "zed" / "a1_naive" / "a1_naive.ipynb").write_bytes(b"")
    (subs / "yan" / "a1_naive").mkdir(parents=True)
    (subs / "yan" / "a1_naive" / "a1_naive.ipynb").write_bytes(
        (ROOT / "examples/submissions/alice/a2_partial/a2_partial.ipynb").read_bytes())
    _notebook_with_broken_cell(ROOT / "examples/submissions/alice/a2_partial/a2_partial.ipynb",
                               subs / "xia" / "a2_partial" / "a2_partial.ipynb", "conv_single_step")
    for cmd in (["grade", str(subs), "--out", str(out), "--jobs", "2"], ["report", str(out)]):
        done = subprocess.run([sys.executable, "-m", "autograder", *cmd], cwd=ROOT,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr

    flags = {r["student"]: r for rows in _section_rows(_parse(out / class_report.HTML_NAME).data,
                                                       "problems").values() for r in rows}
    assert "the notebook file is empty" in flags["zed"]["text"]
    assert "found in the a1_naive folder but it is a2_partial" in flags["yan"]["text"]
    xia = flags["xia"]["text"]
    assert "SyntaxError" in xia and "missing: conv_single_step" in xia and "missing: none" not in xia
    with (out / class_report.CSV_NAME).open(newline="") as fh:
        grid = {r["student"]: r for r in csv.DictReader(fh)}
    assert grid["zed"]["a1_naive"] == "error"
    assert grid["yan"]["a1_naive"] == "" and grid["yan"]["a2_partial"] in ("check", "error")


# carol's examples hang on purpose and take minutes to grade: the engine's own tests cover them
QUICK_EXAMPLES = ["examples/submissions/alice", "examples/submissions/bob"]


@pytest.mark.slow
def test_report_on_the_graded_examples(tmp_path):
    """Grade shipped examples, report, and recount every pass rate and roll-up from the
    results.json files; every student's row links to a feedback page that exists."""
    out = tmp_path / "grades"
    for cmd in (["grade", *QUICK_EXAMPLES, "--out", str(out), "--jobs", "2"], ["report", str(out)]):
        done = subprocess.run([sys.executable, "-m", "autograder", *cmd], cwd=ROOT,
                              capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, done.stderr
    results = {(p.parent.parent.name, p.parent.name): json.loads(p.read_text())
               for p in out.glob("*/*/results.json")}
    with (out / "grades.csv").open(newline="") as fh:
        status = {(r["student"], r["assignment"]): r["status"] for r in csv.DictReader(fh)}
    assert len(results) == len(QUICK_EXAMPLES) * len(ASSIGNMENTS) and set(results) == set(status)

    expected, functions = {}, {}
    for key, res in results.items():
        if status[key] != "graded":
            continue
        for t in res["tests"]:
            p, n = expected.get((key[1], t["name"]), (0, 0))
            expected[(key[1], t["name"])] = (p + (t["score"] >= t["max_score"]), n + 1)
            function = t["name"].split(":")[0]
            functions[(key[1], function)] = functions.get((key[1], function), 0) + t["score"]
    parsed = _parse(out / class_report.HTML_NAME)
    shown = {(section, r["test"]): (int(r["passed"]), int(r["total"]))
             for section, rows in _section_rows(parsed.data, "test").items() for r in rows}
    assert shown == expected
    means = {(section, r["name"]): float(r["mean"])
             for section, rows in _section_rows(parsed.data, "rollup").items() for r in rows
             if r["rollup"] == "function"}
    graded = {a: sum(1 for (s, b), st in status.items() if b == a and st == "graded")
              for a in {k[1] for k in results}}
    assert means == pytest.approx({k: v / graded[k[0]] for k, v in functions.items()}, abs=0.006)
    feedback = [h for h in parsed.links if h.endswith("feedback.html")]
    assert len(feedback) == 2 * len(results) and all((out / unquote(h)).is_file() for h in feedback)

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
