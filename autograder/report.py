"""What grading leaves on disk (docs/CONTRACT.md): results.json, feedback.html, grades.csv.

    DIR/<student>/<assignment>/results.json   Gradescope's schema, one per submission
    DIR/<student>/<assignment>/feedback.html  the same verdicts for the student, self-contained
    DIR/grades.csv                            student, assignment, score, max_score, status,
                                              reason, isolation

(<student> is submissions.student_folder of the name.) results.json: top level `score`,
`max_score`, `execution_time`, `output`, `tests`, plus `extra_data` (extra_data below: student,
assignment, status `graded`/`error`, reason, notebook, isolation, timed_out, timing, problems,
suspicious, notebook_sha256, grader_version) which Gradescope keeps but does not show; partial
isolation is the first line of `output`. Each test has `name` ("<function>: ..."), `number`,
`score`, `max_score`, `output`, `visibility` and `tags` (`function:<name>`, `kind:<kind>`,
`misconception:<id>`, `failure:<kind of failure>`). A submission that could not be graded has
status `error`, score 0, the reason at the top of `output`, and possibly no tests: never a
silent zero.

Every text a student sees passes `scrub`, which drops lines of the hidden graders' source and
traceback frames inside the grader, and the HTML escapes everything that came from a submission.
Files are written atomically (temporary file + os.replace), so an interrupted run never leaves
half a results.json behind. Student strings are made safe in one place: `safe_text`/`safe_data`
for files and JSON (lone surrogates escaped), `printable` for terminals and logs (control and
bidirectional characters escaped), `spreadsheet_safe` for CSV text cells (no formulas).
"""
import csv
import hashlib
import html
import io
import json
import math
import os
import re
import tempfile
import unicodedata
from functools import lru_cache
from pathlib import Path

from autograder.contract import ASSIGNMENTS
from autograder.config import POINTS_PER_ASSIGNMENT

GRADERS_DIR = Path(__file__).resolve().parent / "graders"
CSV_COLUMNS = ("student", "assignment", "score", "max_score", "status", "reason", "isolation")
CSV_TEXT_CELL_CHARS = 2000   # a reason longer than this is cut in grades.csv (results.json has it all)
GRADED, ERROR = "graded", "error"
HIDDEN_LINE = "[grader line hidden]"
_MIN_GRADER_LINE = 12        # shorter grader lines ("return", "else:") are too common to hide


# --------------------------------------------------------------------------- safe text
def safe_text(text):
    """`text` as a str that any UTF-8 file, JSON or terminal takes: lone surrogates (from a
    student's exception message or a non-UTF-8 file name) become the escape `\\udcff`."""
    text = str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_data(value):
    """`value` (JSON-like: dicts, lists, tuples, str, numbers) with every str, keys included,
    passed through safe_text: the one place student strings are made safe to write."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_data(k): safe_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_data(v) for v in value]
    return value


_UNPRINTABLE = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}   # controls, bidi/format, surrogates, private


def printable(text, keep_newlines=False):
    """`text` for a terminal or a log: control characters (ESC, CR, NUL...), bidirectional and
    other format characters (U+202E...) and lone surrogates escaped as \\x1b, \\u202e...;
    newlines kept only if `keep_newlines` (tabs always kept)."""
    keep = "\t\n" if keep_newlines else "\t"
    return "".join(ch if ch in keep or unicodedata.category(ch) not in _UNPRINTABLE
                   else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for ch in str(text))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text):
    """A text cell a spreadsheet shows as text: one starting like a formula (= + - @, tab, CR)
    gets a leading `'`. Only for text cells: a number stays a number."""
    text = safe_text(text)
    return "'" + text if text.startswith(FORMULA_START) else text


# --------------------------------------------------------------------------- scrubbing
@lru_cache(maxsize=1)
def grader_lines():
    """Stripped code lines of autograder/graders/*.py long enough to recognise in an output."""
    lines = set()
    for path in sorted(GRADERS_DIR.glob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if len(text) >= _MIN_GRADER_LINE and not text.startswith("#"):
                lines.add(text)
    return frozenset(lines)


_GRADER_FRAME = re.compile(r'File ".*[/\\]autograder[/\\][^"]*"')


def scrub(text):
    """`text` without grader source: lines quoting autograder/graders/*.py, `def test_` lines and
    traceback frames in the autograder package are replaced by one marker line."""
    hidden = grader_lines()
    kept = []
    for line in str(text).splitlines():
        text_line = line.strip()
        if text_line in hidden or "def test_" in line or _GRADER_FRAME.search(line):
            if not kept or kept[-1] != HIDDEN_LINE:
                kept.append(HIDDEN_LINE)
        else:
            kept.append(line)
    return "\n".join(kept)


# --------------------------------------------------------------------------- extra_data
MAX_NOTES = 50           # problems / suspicious entries kept per submission
NOTE_CHARS = 300         # characters kept of each


@lru_cache(maxsize=1)
def grader_version():
    """SHA-256 of the autograder package's source files (paths and contents), computed once per
    process (scheduler.grade_batch recomputes it per run): a result graded by other grader code
    is not kept by a rerun."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def short(text):
    """`text` printable and cut to NOTE_CHARS: one entry of problems or suspicious."""
    text = printable(text)
    return text if len(text) <= NOTE_CHARS else text[:NOTE_CHARS] + " [cut]"


def _capped(notes):
    """`notes` without repeats, at most MAX_NOTES (then how many more)."""
    unique = list(dict.fromkeys(notes))
    more = len(unique) - MAX_NOTES
    return unique[:MAX_NOTES] + ([f"... and {more} more"] if more > 0 else [])


def extra_data(notebook, student, assignment, *, isolation=None, timing=None, timed_out=(),
               problems=(), suspicious=(), sha256=""):
    """results.json's extra_data but `status` and `reason` (graded_results / error_results add
    them): the notebook, its student (the true name) and assignment, the isolation it ran in,
    the functions that timed out, the worker's timing records, notes on the notebook for the
    student (problems) and for the staff (suspicious), the notebook's SHA-256 and the grader's
    version (what a rerun compares)."""
    return {"student": student, "assignment": assignment, "notebook": str(notebook),
            "isolation": isolation, "timed_out": sorted(timed_out), "timing": timing or {},
            "problems": _capped(problems), "suspicious": _capped(suspicious),
            "notebook_sha256": sha256, "grader_version": grader_version()}


# --------------------------------------------------------------------------- results.json
def gradescope_test(outcome, number):
    """One Gradescope test from a runner TestOutcome (name, function, kind, visibility, tags,
    score, max_score, output). The name gets its "<function>: " prefix and the tags their
    `function:` and `kind:` entries if the outcome lacks them."""
    prefix = f"{outcome.function}:"
    name = outcome.name if outcome.name.startswith(prefix) else f"{prefix} {outcome.name}"
    tags = [f"function:{outcome.function}", f"kind:{outcome.kind}"]
    tags += [t for t in outcome.tags if t not in tags]
    return {"name": name, "number": number, "score": float(outcome.score),
            "max_score": float(outcome.max_score), "output": scrub(outcome.output),
            "visibility": outcome.visibility, "tags": tags}


def numbered_tests(outcomes, assignment):
    """Gradescope tests in the assignment's function order, numbered "<function #>.<test #>"."""
    order = [g.function for g in ASSIGNMENTS[assignment]]
    tests = []
    for fi, function in enumerate(order, start=1):
        mine = [o for o in outcomes if o.function == function]
        tests += [gradescope_test(o, f"{fi}.{ti}") for ti, o in enumerate(mine, start=1)]
    strays = [o for o in outcomes if o.function not in order]
    tests += [gradescope_test(o, f"{len(order) + 1}.{ti}") for ti, o in enumerate(strays, start=1)]
    return tests


def misconceptions(tests):
    """The misconception ids diagnosed in `tests`, in order of first appearance."""
    seen = []
    for t in tests:
        seen += [tag.split(":", 1)[1] for tag in t["tags"]
                 if tag.startswith("misconception:") and tag.split(":", 1)[1] not in seen]
    return seen


def function_scores(tests):
    """{function: (score, max_score)} summed over `tests`, in test order."""
    scores = {}
    for t in tests:
        function = t["name"].split(":", 1)[0]
        got, top = scores.get(function, (0.0, 0.0))
        scores[function] = (got + t["score"], top + t["max_score"])
    return {f: (round(got, 4), round(top, 4)) for f, (got, top) in scores.items()}


def graded_results(tests, *, info, lines, execution_time):
    """results.json of a graded submission. `info`: student, assignment, notebook, isolation,
    timing (goes to extra_data); `lines`: what ran, for the top-level output."""
    score = round(math.fsum(t["score"] for t in tests), 4)
    top = round(math.fsum(t["max_score"] for t in tests), 4)
    per_function = ", ".join(f"{f} {_points(s)}/{_points(m)}"
                             for f, (s, m) in function_scores(tests).items())
    summary = [f"Score: {_points(score)} / {POINTS_PER_ASSIGNMENT} ({per_function})."]
    if top != POINTS_PER_ASSIGNMENT:
        summary.append(f"Warning: the tests add up to {_points(top)} points, not "
                       f"{POINTS_PER_ASSIGNMENT}; the graders need attention.")
    found = misconceptions(tests)
    if found:
        summary.append("Diagnosed mistakes: " + ", ".join(found) + ".")
    summary[:0] = _isolation_lines(info)
    return {"score": score, "max_score": POINTS_PER_ASSIGNMENT,
            "execution_time": round(execution_time, 3),
            "output": scrub("\n".join([*summary, *lines])), "tests": tests,
            "extra_data": {**info, "status": GRADED, "reason": ""}}


def error_results(reason, *, info, lines=(), execution_time=0.0, tests=()):
    """results.json of a submission that could not be graded: score 0, status error, and the
    reason first in `output`. `tests` are whatever verdicts were reached before the failure;
    they are reported but not counted."""
    output = [*_isolation_lines(info), f"Not graded: {reason}",
              "This is a grading error, not a score: the submission needs a look by the course staff.",
              *lines]
    return {"score": 0.0, "max_score": POINTS_PER_ASSIGNMENT,
            "execution_time": round(execution_time, 3), "output": scrub("\n".join(output)),
            "tests": list(tests), "extra_data": {**info, "status": ERROR, "reason": reason}}


PARTIAL_ISOLATION = ("Isolation: PARTIAL. This submission ran without the full cage "
                     "(graded with --allow-partial-isolation): its code could reach the grader's "
                     "files and processes, so this result is not safe for graded work.")


def _isolation_lines(info):
    """The first line of `output` when the submission ran with partial isolation, else none."""
    return [PARTIAL_ISOLATION] if info.get("isolation") == "partial" else []


def _points(value, digits=1):
    """Points as people write them: 100, 37.5, 24.4 (`digits` decimals at most)."""
    return f"{round(value, digits):g}"


# --------------------------------------------------------------------------- files
def write_atomic(path, text):
    """Write `text` to `path` through a temporary file in the same folder and os.replace; a
    lone surrogate is written as its escape, never an error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results(folder, results):
    """results.json and feedback.html of one submission into `folder` (every string safe_text)."""
    results = safe_data(results)
    write_atomic(Path(folder) / "results.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_atomic(Path(folder) / "feedback.html", feedback_html(results))


def csv_row(results):
    """The grades.csv row of a results.json dict (true names, not yet escaped)."""
    extra = results["extra_data"]
    return {"student": extra["student"], "assignment": extra["assignment"],
            "score": _points(results["score"], 2), "max_score": _points(results["max_score"], 2),
            "status": extra["status"], "reason": extra["reason"],
            "isolation": extra.get("isolation") or ""}


TEXT_COLUMNS = ("student", "assignment", "status", "reason", "isolation")


def _csv_cell(column, value):
    """A grades.csv cell: text cells spreadsheet_safe (and cut to CSV_TEXT_CELL_CHARS), numbers
    as they are."""
    if column not in TEXT_COLUMNS:
        return value
    text = str(value)
    if len(text) > CSV_TEXT_CELL_CHARS:
        text = text[:CSV_TEXT_CELL_CHARS] + " [cut]"
    return spreadsheet_safe(text)


def write_grades_csv(path, rows):
    """DIR/grades.csv: one row per submission, sorted by student then assignment."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: (safe_text(r["student"]), r["assignment"])):
        writer.writerow({column: _csv_cell(column, row.get(column, "")) for column in CSV_COLUMNS})
    write_atomic(path, buffer.getvalue())


def score_table(rows):
    """The plain-text table the CLI prints: student, assignment, score/100, status, note; every
    cell `printable` (a name or message cannot move the cursor or reverse the text)."""
    header = ("student", "assignment", "score", "status", "note")
    ordered = sorted(rows, key=lambda r: (safe_text(r["student"]), r["assignment"]))
    body = [tuple(printable(c) for c in (r["student"], r["assignment"],
                                         f"{r['score']}/{r['max_score']}", r["status"],
                                         r.get("note", ""))) for r in ordered]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *body]:
        cells = [str(c).ljust(w) for c, w in zip(row, widths)]
        lines.append("  ".join([*cells, str(row[-1])]).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths) + "  ----")
    return "\n".join(lines)


# --------------------------------------------------------------------------- feedback.html
_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; overflow-wrap: anywhere; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2rem; }
pre { background: #f5f5f5; padding: .6rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.pass { color: #17702f; } .fail { color: #b00020; } .error { background: #fde8e8; padding: .8rem; }
.mistake, .timeout, .problems { border-left: 4px solid #e0a800; background: #fff4d6; padding: .4rem .8rem;
                               margin: .6rem 0; }
.timeout, .problems { border-color: #b00020; background: #fde8e8; }
.worst { font-weight: bold; }
li { margin: .3rem 0; } .points { color: #555; font-size: .9em; }
"""

# helpers.checks' messages: the line naming the largest difference, and the expected/got previews.
_WORST_LINE = re.compile(r"^\s*max abs error .* at index ")
_PREVIEW = re.compile(r"^\s*(?:expected|got):\s+shape \(.*?\), values (?:around index \(.*?\) )?\[")
_FIRST_VALUES = re.compile(r"^(\s*(?:expected|got):\s+shape \(.*?\), )values \[")   # no index: the first


def _e(text):
    """Student-controlled `text` for HTML: control, format and surrogate characters shown
    escaped (\\x1b, \\u202e; newlines and tabs kept), then HTML-escaped."""
    return html.escape(printable(text, keep_newlines=True), quote=True)


def tag(test, prefix):
    """The value of the test's first `<prefix>:<value>` tag, or ""."""
    return next((t.split(":", 1)[1] for t in test["tags"] if t.startswith(prefix + ":")), "")


def _passed(test):
    return test["score"] >= test["max_score"]


def _title(test):
    return test["name"].split(":", 1)[-1].strip()


def failure_kind(test):
    """The kind of failure of a test, from its `failure:<kind>` tag (docs/CONTRACT.md): e.g.
    "timeout" (no return within the call limit), "not-called-again" (a knock-on: the function
    had timed out earlier in the grading and was not called), "missing" (no such function),
    "wrong-value"; "" when it has none (it passed, or a timing or memory measurement failed)."""
    return tag(test, "failure")


def _detail(test, diagnosed=()):
    """The test's output for the student, without the description and hint of a mistake the
    page already explains (once per function): the hidden checks' diagnosis sentence, and the
    visible checks' "likely mistake" line naming one of the `diagnosed` mistakes."""
    from autograder import graders        # the sentence its checks append, to cut it out exactly
    from autograder.misconceptions import BY_ID
    text = test["output"]
    mistake = tag(test, "misconception")
    if mistake in BY_ID:
        text = text.replace(graders.diagnosis_text(mistake), "")
    hints = {m: {BY_ID[m].hint, *BY_ID[m].hints.values()} for m in diagnosed if m in BY_ID}
    if hints:
        text = "\n".join(_shorter_likely_line(line, hints) for line in text.split("\n"))
    return scrub(text).strip()


LIKELY = "  likely mistake: "     # how a visible check (helpers.checks) names a recognised mistake


def _shorter_likely_line(line, hints):
    """A visible check's "likely mistake" line whose hint the page's mistake box already shows,
    shortened to a pointer to that box; any other line as it is."""
    if line.startswith(LIKELY):
        for mistake, texts in hints.items():
            if any(text in line for text in texts):
                return f"{LIKELY}{mistake} (explained above)"
    return line


def _message(text):
    """A check's message as <pre>: the line naming the largest difference ("max abs error ...
    at index ...") moved above the expected/got previews and emphasised; previews that show an
    array's first values (no index named) say so."""
    lines = text.splitlines()
    worst = next((i for i, line in enumerate(lines) if _WORST_LINE.match(line)), None)
    if worst is not None:
        line = lines.pop(worst)
        lines.insert(next((i for i, ln in enumerate(lines) if _PREVIEW.match(ln)), len(lines)), line)
    shown = [f'<span class="worst">{_e(ln)}</span>' if _WORST_LINE.match(ln)
             else _e(_FIRST_VALUES.sub(r"\1first values [", ln)) for ln in lines]
    return "<pre>" + "\n".join(shown) + "</pre>"


def _points_of(tests):
    got = sum(t["score"] for t in tests)
    top = sum(t["max_score"] for t in tests)
    return f'<span class="points">({_points(got)}/{_points(top)})</span>'


def _mark(ok):
    return '<span class="pass">&#10003;</span>' if ok else '<span class="fail">&#10007;</span>'


def _test_item(t):
    """One passed test, or a timing/memory test with what was measured."""
    item = f"<li>{_mark(_passed(t))} {_e(_title(t))} {_points_of([t])}"
    if t["output"] and (not _passed(t) or _is_timing(t)):
        item += _message(_detail(t))
    return item + "</li>"


def _failed_items(tests, diagnosed=()):
    """<li> items of failed tests; tests failing with the same message share one item that
    lists them (ten checks that were not run say so once). `diagnosed`: the mistakes the
    section's boxes already explain."""
    groups = {}
    for t in tests:
        groups.setdefault(_detail(t, diagnosed), []).append(t)
    items = []
    for text, group in groups.items():
        head = (_e(_title(group[0])) if len(group) == 1
                else f"{len(group)} checks failed the same way")
        item = f"<li>{_mark(False)} {head} {_points_of(group)}{_message(text) if text else ''}"
        if len(group) > 1:
            cases = "".join(f"<li>{_e(_title(t))} {_points_of([t])}</li>" for t in group)
            item += f"<details><summary>Which checks</summary><ul>{cases}</ul></details>"
        items.append(item + "</li>")
    return items


def _mistake_box(mistake, tests):
    """The diagnosed mistake, its explanation and hint once, and the checks it was seen in."""
    from autograder.misconceptions import BY_ID
    known = BY_ID.get(mistake)
    explained = (f" &mdash; {_e(known.description)}.<br><strong>Hint:</strong> {_e(known.hint)}."
                 if known else "")
    cases = "".join(f"<li>{_e(_title(t))}</li>" for t in tests)
    return (f'<div class="mistake">Diagnosed mistake: <strong>{_e(mistake)}</strong>{explained}'
            f"<details><summary>Seen in {len(tests)} failed check{'s' * (len(tests) != 1)}"
            f"</summary><ul>{cases}</ul></details></div>")


def _timeout_box(originals, knock_ons):
    """Each timeout as it happened, with the checks not run after it (the function was not called
    again) listed under it rather than as failures of their own."""
    parts = ['<div class="timeout"><strong>Timed out</strong><ul>']
    parts += [f"<li>{_mark(False)} {_e(_title(t))} {_points_of([t])}{_message(_detail(t))}</li>"
              for t in originals]
    if knock_ons:
        if not originals:
            parts.append(f"<li>{_e(_detail(knock_ons[0]))}</li>")
        cases = "".join(f"<li>{_e(_title(t))} {_points_of([t])}</li>" for t in knock_ons)
        parts.append(f"<li><details><summary>Not run after the timeout: {len(knock_ons)} check"
                     f"{'s' * (len(knock_ons) != 1)} {_points_of(knock_ons)}</summary>"
                     f"<ul>{cases}</ul></details></li>")
    return "".join(parts) + "</ul></div>"


def _function_section(function, tests):
    """One contract function: its score, each diagnosed mistake once, timeouts, failed checks
    (same messages merged), timing and memory, passed checks, and a count of hidden ones."""
    shown = [t for t in tests if t["visibility"] != "hidden"]
    hidden = [t for t in tests if t["visibility"] == "hidden"]
    failed = [t for t in shown if not _passed(t) and not _is_timing(t)]
    parts = [f"<section><h2>{_e(function)}: {_points(sum(t['score'] for t in tests))} / "
             f"{_points(sum(t['max_score'] for t in tests))}</h2>"]
    diagnosed = misconceptions(failed)
    for mistake in diagnosed:
        parts.append(_mistake_box(mistake, [t for t in failed if tag(t, "misconception") == mistake]))
    originals = [t for t in failed if failure_kind(t) == "timeout"]
    knock_ons = [t for t in failed if failure_kind(t) == "not-called-again"]
    if originals or knock_ons:
        parts.append(_timeout_box(originals, knock_ons))
    others = [t for t in failed if t not in originals and t not in knock_ons]
    if others:
        parts.append(f"<h3>Failed ({len(others)})</h3><ul>{''.join(_failed_items(others, diagnosed))}</ul>")
    timed = [t for t in shown if _is_timing(t)]
    if timed:
        parts.append(f"<h3>Timing and memory, against the thresholds ({len(timed)})</h3>"
                     f"<ul>{''.join(_test_item(t) for t in timed)}</ul>")
    passed = [t for t in shown if _passed(t) and not _is_timing(t)]
    if passed:
        parts.append(f"<details><summary>Passed ({len(passed)})</summary>"
                     f"<ul>{''.join(_test_item(t) for t in passed)}</ul></details>")
    if hidden:
        ok = sum(_passed(t) for t in hidden)
        parts.append(f"<p>{ok} of {len(hidden)} further hidden checks passed.</p>")
    return "\n".join(parts) + "</section>"


def _is_timing(test):
    return "kind:timing" in test["tags"] or "kind:memory" in test["tags"]


def feedback_html(results):
    """A self-contained page (no scripts, no external resources) of one submission's results.
    Everything from the submission is escaped; long lines wrap (no sideways scrolling)."""
    extra = results["extra_data"]
    title = f"{extra['assignment']}: feedback for {extra['student']}"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{_e(title)}</h1>"]
    if extra["status"] == ERROR:
        parts.append(f'<p class="error"><strong>Not graded:</strong> {_e(extra["reason"])}. '
                     "This is not a score; the course staff will look at your submission.</p>")
    else:
        parts.append(f"<p><strong>Score: {_points(results['score'])} / "
                     f"{_points(results['max_score'])}</strong></p>")
    problems = extra.get("problems") or []
    if problems:
        items = "".join(f"<li>{_e(p)}</li>" for p in problems)
        parts.append(f'<div class="problems"><strong>Problems with your notebook</strong>'
                     f"<ul>{items}</ul></div>")
    by_function = {}
    for t in results["tests"]:
        by_function.setdefault(t["name"].split(":", 1)[0], []).append(t)
    parts += [_function_section(f, tests) for f, tests in by_function.items()]
    parts.append(f"<section><h2>About this run</h2><pre>{_e(scrub(results['output']))}</pre></section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
