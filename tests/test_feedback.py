"""feedback.html as a student reads it: each diagnosed mistake explained once with the checks it was
seen in, a timeout shown as it happened with the checks it stopped listed under it, the largest
difference of a wrong array before the previews, long lines wrapped, and every string from the
submission escaped. Results are hand-written in results.json's schema, plus one real grading."""
import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder import report
from autograder.misconceptions import BY_ID

ROOT = Path(__file__).resolve().parents[1]
FLIP = BY_ID["true-convolution"]
DIAGNOSIS = f" This looks like a known mistake: {FLIP.description}. Hint: {FLIP.hint}."


def _test(name, score, max_score, output="", kind="correctness", mistake=None,
          visibility="after_due_date", failure=None):
    tags = [f"function:{name.split(':')[0]}", f"kind:{kind}"]
    tags += [f"misconception:{mistake}"] if mistake else []
    tags += [f"failure:{failure}"] if failure else []
    return {"name": name, "number": "1.1", "score": score, "max_score": max_score,
            "output": output, "visibility": visibility, "tags": tags}


def _results(tests, student="ann", status="graded", reason=""):
    return {"score": sum(t["score"] for t in tests), "max_score": 100, "execution_time": 1.0,
            "output": "ran", "tests": tests,
            "extra_data": {"student": student, "assignment": "a1_naive", "status": status,
                           "reason": reason, "notebook": "n.ipynb", "isolation": "full",
                           "timed_out": [], "timing": {}}}


class _Page(HTMLParser):
    """The text inside each element of interest: <pre> blocks, the mistake, timeout and problems
    boxes, and the <style> sheet."""

    def __init__(self, page):
        super().__init__()
        self.pres, self.style, self.stack = [], "", []
        self.boxes = {"mistake": [], "timeout": [], "problems": []}
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class", "")
        self.stack.append((tag, cls, []))

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, cls, text = self.stack.pop()
            joined = "".join(text)
            if self.stack:
                self.stack[-1][2].append(joined)
            if open_tag == "pre":
                self.pres.append(joined)
            if open_tag == "style":
                self.style = joined
            if cls in self.boxes:
                self.boxes[cls].append(joined)
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][2].append(data)


def _flip_case(k):
    return _test(f"conv_forward_naive: matches the reference on case {k}", 0, 2,
                 f"On case {k}: out has the right shape (2, 2, 1, 1) but differs from the expected "
                 f"values by up to {k}.5 (e.g. at out[0, 0, 0, 0]: expected 1, got 2)." + DIAGNOSIS,
                 mistake="true-convolution")


def test_a_mistake_seen_in_ten_checks_is_explained_once_with_its_cases():
    tests = [_flip_case(k) for k in range(10)] + [_test("conv_forward_naive: shapes", 5, 5)]
    page = report.feedback_html(_results(tests))
    parsed = _Page(page)
    hint = html.escape(FLIP.hint)
    assert page.count(hint) == 1 and page.count(html.escape(FLIP.description)) == 1
    (box,) = parsed.boxes["mistake"]
    assert "true-convolution" in box and "Seen in 10 failed checks" in box
    assert all(f"matches the reference on case {k}" in box for k in range(10))
    # every case still says what it got, without the repeated explanation
    for k in range(10):
        (detail,) = [p for p in parsed.pres if p.startswith(f"On case {k}:")]
        assert detail.endswith("expected 1, got 2).") and "Hint" not in detail


def test_checks_failing_with_the_same_message_share_one_item():
    raised = "Calling your code failed: ValueError: operands could not be broadcast together"
    tests = [_test(f"zero_pad: pads case {k}", 0, 1, raised) for k in range(4)]
    tests.append(_test("zero_pad: keeps float32", 0, 1, "got float64", kind="contract"))
    page = report.feedback_html(_results(tests))
    assert page.count("operands could not be broadcast together") == 1
    assert "4 checks failed the same way" in page
    assert all(f"pads case {k}" in page for k in range(4))
    assert "got float64" in page and "Failed (5)" in page


def test_the_largest_difference_comes_before_the_previews_of_first_values():
    message = ("conv_forward_naive: wrong values in out\n"
               "  tried:    the 3x3 input with the 2x2 kernel\n"
               "  expected: shape (2, 2, 1, 1), values [38., 48., 68., 78.]\n"
               "  got:      shape (2, 2, 1, 1), values [38., 48., 68., 64.]\n"
               "  max abs error 14 at index (1, 1, 0, 0): expected 78, got 64\n"
               "  likely mistake: the output is the flipped-kernel convolution")
    page = report.feedback_html(_results([_test("conv_forward_naive: public checks", 0, 20, message)]))
    (shown,) = _Page(page).pres[:1]
    lines = shown.splitlines()
    assert lines[2] == "  max abs error 14 at index (1, 1, 0, 0): expected 78, got 64"
    assert lines[3] == "  expected: shape (2, 2, 1, 1), first values [38., 48., 68., 78.]"
    assert lines[4] == "  got:      shape (2, 2, 1, 1), first values [38., 48., 68., 64.]"
    assert '<span class="worst">  max abs error 14 at index (1, 1, 0, 0)' in page


def test_the_largest_difference_comes_before_previews_around_it():
    """The public checks' current previews name the index they show values around."""
    message = ("conv_forward_naive: wrong values in out\n"
               "  tried:    the lecture's layer\n"
               "  expected: shape (4, 4, 6, 1), values around index (2, 1, 3, 0) [..., 1., 2., 3., 4., 5., ...]\n"
               "  got:      shape (4, 4, 6, 1), values around index (2, 1, 3, 0) [..., 1., 2., 13., 4., 5., ...]\n"
               "  max abs error 10 at index (2, 1, 3, 0): expected 3, got 13")
    page = report.feedback_html(_results([_test("conv_forward_naive: public checks", 0, 20, message)]))
    lines = _Page(page).pres[0].splitlines()
    assert lines[2] == "  max abs error 10 at index (2, 1, 3, 0): expected 3, got 13"
    assert lines[3].startswith("  expected: shape (4, 4, 6, 1), values around index (2, 1, 3, 0) [")
    assert "first values" not in page


KNOCK_ON = ("Calling your code failed: `conv_forward_naive` was not called again: it already "
            "timed out (no return within 10 s) earlier in this grading")


def _hang(visibility):
    return [_test("conv_forward_naive: the notebook's public checks", 0, 20,
                  "conv_forward_naive: raised StudentTimeout: `conv_forward_naive` did not return "
                  "within 10 s\n  tried:    the 3x3 input", visibility=visibility, failure="timeout"),
            *(_test(f"conv_forward_naive: later case {k}", 0, 2, KNOCK_ON, failure="not-called-again")
              for k in range(6)),
            _test("conv_forward_naive: uses no library convolution", 3, 3, kind="contract")]


def test_a_timeout_is_shown_as_it_happened_with_the_checks_it_stopped_under_it():
    page = report.feedback_html(_results(_hang("visible")))
    parsed = _Page(page)
    (box,) = parsed.boxes["timeout"]
    assert "did not return within 10 s" in box
    assert "Not run after the timeout: 6 checks" in box
    assert all(f"later case {k}" in box for k in range(6))
    assert "was not called again" not in page             # the knock-on is not a failure of its own
    assert "Failed (" not in page and "Passed (1)" in page


def test_knock_ons_of_a_hidden_timeout_say_why_once():
    page = report.feedback_html(_results(_hang("hidden")))
    (box,) = _Page(page).boxes["timeout"]
    assert page.count("was not called again") == 1 and "was not called again" in box
    assert "Not run after the timeout: 6 checks" in box
    assert "did not return" not in page and "0 of 1 further hidden checks passed" in page


def test_the_failure_tag_alone_decides_the_kind_of_failure():
    assert report.failure_kind(_test("zero_pad: case", 0, 1, "the child stopped answering",
                                     failure="timeout")) == "timeout"
    untagged = _test("zero_pad: case", 0, 1, KNOCK_ON)     # words are never read
    assert report.failure_kind(untagged) == ""
    page = report.feedback_html(_results([untagged]))
    assert _Page(page).boxes["timeout"] == [] and "Failed (1)" in page


def test_long_lines_wrap_instead_of_scrolling():
    page = report.feedback_html(_results([_test("zero_pad: case", 0, 1, "x" * 5000)]))
    rules = dict(re.findall(r"([a-z][\w ,.#-]*?)\s*\{([^}]*)\}", _Page(page).style))
    assert "white-space: pre-wrap" in rules["pre"] and "overflow-wrap: anywhere" in rules["pre"]
    assert "overflow-wrap: anywhere" in rules["body"]
    assert "overflow-x" not in _Page(page).style and "nowrap" not in _Page(page).style


def test_student_strings_are_escaped_and_control_characters_shown():
    hostile = "<img src=x onerror=alert(1)>\x1b[2J\u202eevil\x00"
    tests = [_test("zero_pad: case", 0, 1, f"Calling your code failed: ValueError: {hostile}"),
             _flip_case(1)]
    tests[1]["output"] += "\n" + hostile
    page = report.feedback_html(_results(tests, student=f"ann{hostile}"))
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", page)
    assert page.count(r"\x1b[2J\u202eevil\x00") == 4        # title, heading, two messages
    assert "<script" not in page and not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)


def test_notebook_problems_come_first():
    results = _results([_test("zero_pad: case", 0, 1, "Calling your code failed: the submission "
                                                      "defines no function `zero_pad`")])
    results["extra_data"]["problems"] = ["cell raised at load: cell 7 (zero_pad): SyntaxError: "
                                         "'(' was never closed <here>"]
    page = report.feedback_html(results)
    (box,) = _Page(page).boxes["problems"]
    assert "Problems with your notebook" in box and "SyntaxError: '(' was never closed <here>" in box
    assert page.index("Problems with your notebook") < page.index("zero_pad: 0 / 1")
    assert "<here>" not in page
    assert "Problems with your notebook" not in report.feedback_html(_results([]))


def test_a_submission_that_was_not_graded_says_so():
    page = report.feedback_html(_results([], status="error",
                                         reason="the notebook <b>was</b> empty"))
    assert "Not graded:" in page and "the notebook &lt;b&gt;was&lt;/b&gt; empty" in page
    assert "Score:" not in page


@pytest.mark.slow
def test_feedback_of_real_gradings(tmp_path):
    """bob flips the kernel in every case, carol's naive layer hangs: each page explains the mistake
    once and shows the timeout once, while results.json repeats them in every check."""
    out = tmp_path / "grades"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade",
                           "examples/submissions/bob/a1_naive", "examples/submissions/carol/a1_naive",
                           "--out", str(out), "--jobs", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr

    bob = json.loads((out / "bob" / "a1_naive" / "results.json").read_text())
    flipped = [t for t in bob["tests"] if "misconception:true-convolution" in t["tags"]]
    assert len(flipped) >= 10 and all(DIAGNOSIS in t["output"] for t in flipped)
    page = (out / "bob" / "a1_naive" / "feedback.html").read_text()
    assert page.count(html.escape(FLIP.hint)) == 1
    # the visible check names the same mistake: its line points at the box instead of repeating it
    assert "likely mistake: true-convolution (explained above)" in page
    (box,) = [b for b in _Page(page).boxes["mistake"] if "true-convolution" in b]
    assert f"Seen in {len(flipped)} failed checks" in box

    carol = json.loads((out / "carol" / "a1_naive" / "results.json").read_text())
    assert carol["extra_data"]["timed_out"] == ["conv_forward_naive"]
    knock_ons = [t for t in carol["tests"] if "was not called again" in t["output"]]
    assert len(knock_ons) >= 10
    page = (out / "carol" / "a1_naive" / "feedback.html").read_text()
    (box,) = _Page(page).boxes["timeout"]
    assert "did not return within" in box
    assert f"Not run after the timeout: {len(knock_ons)} checks" in box
    assert "was not called again" not in page.split("About this run")[0]
