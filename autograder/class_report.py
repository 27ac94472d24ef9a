"""The class report: one offline HTML page over a whole grading run, and a merged gradebook.

    python -m autograder report OUT_DIR

reads what `python -m autograder grade ... --out OUT_DIR` wrote (OUT_DIR/<student folder>/
<assignment>/results.json; extra_data carries each submission's true student name, assignment,
status, reason, isolation, timed-out functions, notebook problems and suspicious behaviour) and
writes

    OUT_DIR/class_report.html    a table of students linking to their feedback pages; then per
                                 assignment: score histogram, points and pass rates rolled up by
                                 function and by kind of test (correctness, contract, timing,
                                 memory, robustness), every submission with its isolation, what
                                 timed out, notebook problems and anything suspicious, the most
                                 frequent misconceptions with their hints, the pass rate of every
                                 test; then notebooks no assignment matched. Charts are embedded
                                 PNGs, links are relative: the folder opens offline.
    OUT_DIR/class_gradebook.csv  one row per student, one column per assignment: the score, `error`
                                 when the submission could not be graded, `check` when the notebook
                                 was found in another assignment's folder (graded as what it is,
                                 but not counted without a look), empty when none came in. Text a
                                 spreadsheet would run as a formula is escaped.

Everything comes from results.json data (tags `kind:`, `misconception:`, `failure:`; extra_data),
never from reading message text. A test passed when it earned its full max_score; a test worth
0 points has no pass rate.
"""
import argparse
import base64
import csv
import hashlib
import html
import io
import json
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from autograder import misconceptions
from autograder.contract import ASSIGNMENTS
from autograder.grading import KINDS
from autograder.report import ERROR, GRADED, failure_kind, printable, spreadsheet_safe, tag

HTML_NAME = "class_report.html"
CSV_NAME = "class_gradebook.csv"
FEEDBACK_NAME = "feedback.html"
TOP_MISCONCEPTIONS = 5
HISTOGRAM_BINS = 10
CHECK = "check"                                   # gradebook cell of a misplaced notebook
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()    # extra_data.notebook_sha256 of an empty file


def _strings(value):
    """A list of str from an extra_data field that should be one (None: none)."""
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


@dataclass
class Result:
    """One results.json. `folder` and `found_in` name where it lies (OUT_DIR/<folder>/<found_in>/);
    `student` and `assignment` are what extra_data says (the true name, the assignment graded)."""
    folder: str
    found_in: str
    student: str
    assignment: str
    score: float
    max_score: float
    status: str                      # "graded" or "error"
    reason: str                      # why it could not be graded ("" when graded)
    tests: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def link(self):
        """Its feedback page, relative to OUT_DIR (URL-quoted)."""
        return f"{quote(self.folder)}/{quote(self.found_in)}/{FEEDBACK_NAME}"

    @property
    def isolation(self):
        return str(self.extra.get("isolation") or "")

    @property
    def timed_out(self):
        return _strings(self.extra.get("timed_out"))

    @property
    def suspicious(self):
        return _strings(self.extra.get("suspicious"))

    @property
    def misplaced(self):
        """The assignment folder the notebook was found in when that names another assignment
        (the output folder, or the folder of the submitted notebook), else ""."""
        folders = (self.found_in, Path(str(self.extra.get("notebook") or "")).parent.name)
        return next((f for f in folders if f in ASSIGNMENTS and f != self.assignment), "")

    def missing(self):
        """Functions the notebook did not define (their tests failed as "missing")."""
        found = []
        for t in self.tests:
            function = t["name"].split(":", 1)[0]
            if t["score"] < t["max_score"] and failure_kind(t) == "missing" and function not in found:
                found.append(function)
        return found

    def crashed(self):
        """Functions whose calls crashed the process running them (tests tagged failure:crash)."""
        return sorted({t["name"].split(":", 1)[0] for t in self.tests
                       if t["score"] < t["max_score"] and failure_kind(t) == "crash"})

    def problems(self):
        """What went wrong with the notebook itself, in words, most important first."""
        found = []
        if self.misplaced:
            found.append(f"found in the {self.misplaced} folder but it is {self.assignment}: "
                         f"graded as {self.assignment}, not counted for {self.misplaced}")
        if self.extra.get("notebook_sha256") == EMPTY_SHA256:
            found.append("the notebook file is empty (0 bytes)")
        if self.status != GRADED:
            found.append(f"not graded: {self.reason or 'the grader could not grade it'}")
        found += _strings(self.extra.get("problems"))
        missing = self.missing()
        if missing:
            found.append("missing: " + ", ".join(missing))
        crashed = self.crashed()
        if crashed:
            found.append("crashed: " + ", ".join(crashed))
        return found

    def gradebook_cell(self, digits=4):
        """The score (to `digits` decimals), `error` or `check` (see the module docstring)."""
        if self.status != GRADED:
            return ERROR
        return CHECK if self.misplaced else _fmt(self.score, digits)


@dataclass
class Rollup:
    """Points and checks of one function or one kind of test, over the graded submissions."""
    name: str
    points: list                     # points earned per submission
    max_points: float                # points available per submission
    passed: int = 0
    total: int = 0

    @property
    def mean(self):
        return statistics.fmean(self.points) if self.points else 0.0


@dataclass
class TestStat:
    name: str
    function: str
    kind: str
    max_score: float
    passed: int = 0
    total: int = 0

    @property
    def rate(self):
        return self.passed / self.total if self.total and self.max_score > 0 else None


@dataclass
class AssignmentSummary:
    assignment: str
    submissions: list
    tests: list                      # TestStat, in the order the grader reports them
    misconceptions: list             # (id, submissions showing it, description, hint), most frequent first
    functions: list                  # Rollup per function, in the assignment's order
    kinds: list                      # Rollup per kind of test, in grading.KINDS order

    @property
    def graded(self):
        return [s for s in self.submissions if s.status == GRADED]

    @property
    def scores(self):
        return [s.score for s in self.graded]


def _read(path):
    """The Result of one results.json; ValueError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        extra = data["extra_data"]
        sub = Result(path.parent.parent.name, path.parent.name, str(extra["student"]),
                         str(extra["assignment"]), float(data["score"]), float(data["max_score"]),
                         extra["status"], str(extra.get("reason") or ""), list(data["tests"]), extra)
        for t in sub.tests:
            t["name"], t["score"], t["max_score"] = str(t["name"]), float(t["score"]), float(t["max_score"])
            t.setdefault("tags", [])
            t.setdefault("output", "")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"{path} is not a grader's results.json: {type(e).__name__} {e}") from None
    if sub.status not in (GRADED, ERROR):
        raise ValueError(f"{path}: unknown status {sub.status!r} (expected {GRADED} or {ERROR})")
    return sub


def load(out_dir):
    """Every submission under out_dir, sorted by assignment (unrecognised ones last), then student."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"no such grading output folder: {out_dir}")
    subs = [_read(path) for path in sorted(out_dir.glob("*/*/results.json"))]
    if not subs:
        raise FileNotFoundError(f"no <student>/<assignment>/results.json under {out_dir}")
    order = list(ASSIGNMENTS)
    return sorted(subs, key=lambda s: (order.index(s.assignment) if s.assignment in order
                                       else len(order), s.student, s.folder))


def _explained(misconception_id):
    """(what the mistake is, the hint) from autograder.misconceptions."""
    entry = misconceptions.BY_ID.get(misconception_id)
    return (entry.description, entry.hint) if entry else ("(not in autograder.misconceptions)", "")


def _rollups(graded, names, key):
    """[Rollup] for each of `names` (in order, those that have tests): `key(test)` names the
    function or kind a test counts for."""
    rollups = []
    for name in names:
        points, top, passed, total = [], 0.0, 0, 0
        for s in graded:
            mine = [t for t in s.tests if key(t) == name]
            points.append(sum(t["score"] for t in mine))
            top = max(top, sum(t["max_score"] for t in mine))
            passed += sum(t["score"] >= t["max_score"] for t in mine)
            total += len(mine)
        if total:
            rollups.append(Rollup(name, points, top, passed, total))
    return rollups


def _function_of(test):
    return tag(test, "function") or test["name"].split(":", 1)[0]


def summarize(subs):
    """[AssignmentSummary] for every assignment that has at least one submission."""
    summaries = []
    for assignment, graded_functions in ASSIGNMENTS.items():
        mine = [s for s in subs if s.assignment == assignment]
        if not mine:
            continue
        stats, seen = {}, Counter()
        graded = [s for s in mine if s.status == GRADED]
        for s in graded:
            ids = set()
            for t in s.tests:
                st = stats.setdefault(t["name"], TestStat(t["name"], _function_of(t),
                                                          tag(t, "kind"), t["max_score"]))
                st.total += 1
                st.passed += t["score"] >= t["max_score"]
                if t["score"] < t["max_score"] and tag(t, "misconception"):
                    ids.add(tag(t, "misconception"))
            seen.update(ids)
        top = [(mid, n, *_explained(mid)) for mid, n in
               sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_MISCONCEPTIONS]]
        functions = _rollups(graded, [g.function for g in graded_functions], _function_of)
        kinds = _rollups(graded, KINDS, lambda t: tag(t, "kind"))
        summaries.append(AssignmentSummary(assignment, mine, list(stats.values()), top,
                                           functions, kinds))
    return summaries


def histogram_png(scores, max_score=100.0):
    """A base64 PNG of the score histogram (HISTOGRAM_BINS equal bins over [0, max_score])."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 2.6), dpi=100)
    ax.hist(scores, bins=HISTOGRAM_BINS, range=(0, max_score), color="#4c72b0", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("submissions")
    ax.set_xlim(0, max_score)
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(x, digits=4):
    """A score as people write it: up to `digits` decimals (4 in the CSV, 1 on the page), no
    exponent."""
    return f"{round(x, digits):g}"


CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; color: #222;
       overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; max-width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
td.free { overflow-wrap: anywhere; min-width: 8em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.rate { white-space: nowrap; }
td ul { margin: 0; padding-left: 1.1em; }
img { max-width: 100%; }
.bar { display: inline-block; height: 0.8em; background: #4c72b0; }
.low .bar { background: #c44e52; }
.partial, .flag { color: #b00020; font-weight: bold; }
section { border-top: 2px solid #4c72b0; margin-top: 2em; }
"""


def _h(text):
    """Text from a submission or a results.json for HTML: control and format characters shown
    escaped, then HTML-escaped."""
    return html.escape(printable(text), quote=True)


def _list(items):
    return "<ul>" + "".join(f"<li>{_h(i)}</li>" for i in items) + "</ul>" if items else ""


def _linked(sub, text, out_dir):
    """`text` linking to the submission's feedback page (plain text when the page is not there)."""
    if (Path(out_dir) / sub.folder / sub.found_in / FEEDBACK_NAME).is_file():
        return f'<a href="{html.escape(sub.link, quote=True)}">{_h(text)}</a>'
    return _h(text)


def _students(subs, out_dir):
    """The table of students: one row each, one column per assignment, each cell the gradebook's
    value linking to that feedback page, with a mark when something needs a look."""
    rows = {}
    for s in subs:
        rows.setdefault((s.student, s.folder), {})[s.assignment] = s
    head = "".join(f'<th><a href="#{a}">{a}</a></th>' for a in ASSIGNMENTS)
    parts = [f"<h2>Students</h2><table><tr><th>student</th>{head}<th>other</th></tr>"]
    for (student, folder), mine in sorted(rows.items()):
        cells = []
        for a in ASSIGNMENTS:
            s = mine.get(a)
            if s is None:
                cells.append("<td></td>")
                continue
            flag = (' <span class="flag" title="see the assignment\'s table">!</span>'
                    if s.problems() or s.suspicious or s.isolation == "partial" else "")
            cells.append(f'<td class="num" data-cell="{_h(folder)}/{a}">'
                         f"{_linked(s, s.gradebook_cell(1), out_dir)}{flag}</td>")
        others = [s for a, s in mine.items() if a not in ASSIGNMENTS]
        other = ", ".join(_linked(s, s.found_in, out_dir) for s in others)
        parts.append(f'<tr data-student="{_h(student)}"><td class="free">{_h(student)}</td>{"".join(cells)}'
                     f"<td>{other}</td></tr>")
    parts.append("</table>")
    return "\n".join(parts)


def _rollup_table(title, rollups, what):
    parts = [f"<h3>{title}</h3><table><tr><th>{what}</th><th>mean points</th><th>of</th>"
             "<th>checks passed</th><th>pass rate</th></tr>"]
    for r in rollups:
        rate = r.passed / r.total
        parts.append(f'<tr data-rollup="{what}" data-name="{_h(r.name)}" data-mean="{r.mean:.2f}" '
                     f'data-max="{r.max_points:.2f}" data-passed="{r.passed}" data-total="{r.total}">'
                     f'<td>{_h(r.name)}</td><td class="num">{r.mean:.1f}</td>'
                     f'<td class="num">{_fmt(r.max_points, 1)}</td><td class="num">{r.passed}/{r.total}'
                     f'</td><td class="rate">{_bar(rate)}</td></tr>')
    parts.append("</table>")
    return "\n".join(parts)


def _bar(rate):
    return f'<span class="bar" style="width:{100 * rate:.0f}px"></span> {100 * rate:.0f}%'


def _submission_rows(subs, out_dir):
    parts = ["<h3>Submissions</h3><table><tr><th>student</th><th>score</th><th>isolation</th>"
             "<th>timed out</th><th>notebook problems</th><th>suspicious</th></tr>"]
    for s in subs:
        isolation = (f'<span class="partial">{_h(s.isolation)}</span>' if s.isolation == "partial"
                     else _h(s.isolation or "—"))
        parts.append(
            f'<tr data-student="{_h(s.student)}" data-status="{_h(s.status)}" '
            f'data-isolation="{_h(s.isolation)}" data-problems="{len(s.problems())}" '
            f'data-suspicious="{len(s.suspicious)}"><td class="free">{_linked(s, s.student, out_dir)}</td>'
            f'<td class="num">{_h(s.gradebook_cell(1))}</td><td>{isolation}</td>'
            f"<td>{_h(', '.join(s.timed_out))}</td><td class=\"free\">{_list(s.problems())}</td>"
            f"<td class=\"free\">{_list(s.suspicious)}</td></tr>")
    parts.append("</table>")
    return "\n".join(parts)


def _section(summary, out_dir):
    a = summary.assignment
    scores = summary.scores
    parts = [f'<section id="{a}"><h2>{a}</h2>',
             f'<p data-assignment="{a}" data-submissions="{len(summary.submissions)}" '
             f'data-graded="{len(scores)}" data-mean="{statistics.fmean(scores) if scores else 0:.2f}">'
             f'{len(summary.submissions)} submissions, {len(scores)} graded'
             + (f'; mean {statistics.fmean(scores):.1f}, median {statistics.median(scores):.1f}, '
                f'min {min(scores):.1f}, max {max(scores):.1f} (of {summary.submissions[0].max_score:g})'
                if scores else "") + ".</p>"]
    if scores:
        parts.append(f'<img alt="histogram of {a} scores" src="data:image/png;base64,'
                     f'{histogram_png(scores, summary.submissions[0].max_score)}">')
    if summary.functions:
        parts.append(_rollup_table("Points by function", summary.functions, "function"))
        parts.append(_rollup_table("Points by kind of test", summary.kinds, "kind"))
    parts.append(_submission_rows(summary.submissions, out_dir))

    parts.append("<h3>Most frequent misconceptions</h3>")
    if summary.misconceptions:
        parts.append("<table><tr><th>misconception</th><th>submissions</th><th>the mistake</th>"
                     "<th>hint given to the student</th></tr>")
        for mid, n, description, hint in summary.misconceptions:
            parts.append(f'<tr data-misconception="{_h(mid)}" data-count="{n}"><td><code>{_h(mid)}'
                         f'</code></td><td class="num">{n}</td><td>{_h(description)}</td>'
                         f'<td>{_h(hint)}</td></tr>')
        parts.append("</table>")
    else:
        parts.append("<p>No known mistake recognised.</p>")

    parts.append("<h3>Pass rate of every test</h3><table><tr><th>test</th><th>kind</th>"
                 "<th>points</th><th>passed</th><th>pass rate</th></tr>")
    for t in summary.tests:
        rate = t.rate
        low = ' class="low"' if rate is not None and rate < 0.5 else ""
        parts.append(f'<tr{low} data-test="{_h(t.name)}" data-passed="{t.passed}" data-total="{t.total}">'
                     f'<td class="free">{_h(t.name)}</td><td>{_h(t.kind)}</td><td class="num">{t.max_score:.3g}</td>'
                     f'<td class="num">{t.passed}/{t.total}</td>'
                     f'<td class="rate">{"&mdash;" if rate is None else _bar(rate)}</td></tr>')
    parts.append("</table></section>")
    return "\n".join(parts)


def _unrecognised(subs, out_dir):
    """A section listing submissions under a folder that is no assignment (nothing matched)."""
    if not subs:
        return ""
    return ('<section id="unrecognised"><h2>Notebooks no assignment matched</h2>'
            f'<p data-assignment="unrecognised" data-submissions="{len(subs)}">{len(subs)} '
            "notebook(s), none graded.</p>" + _submission_rows(subs, out_dir) + "</section>")


def _isolation_note(subs):
    """One line on how isolated the grading was; partial isolation named plainly."""
    partial = [s for s in subs if s.isolation == "partial"]
    if not partial:
        return "<p>Isolation: every submission that ran was fully caged.</p>"
    names = ", ".join(f"{s.student} ({s.assignment})" for s in partial)
    return (f'<p class="partial" data-partial="{len(partial)}">Isolation: PARTIAL for '
            f"{len(partial)} submission(s): {_h(names)}. They were graded with "
            "--allow-partial-isolation: their code could reach the grader's files and processes, "
            "so those results are not safe for graded work.</p>")


def render_html(subs, out_dir, title="Class report"):
    """The whole page for the submissions `subs` found in `out_dir`."""
    summaries = summarize(subs)
    others = [s for s in subs if s.assignment not in ASSIGNMENTS]
    body = (_students(subs, out_dir) + "\n".join(_section(s, out_dir) for s in summaries)
            + _unrecognised(others, out_dir))
    nav = " · ".join(f'<a href="#{s.assignment}">{s.assignment}</a>' for s in summaries)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)}</title><style>{CSS}</style></head><body>'
            f'<h1>{html.escape(title)}</h1><p>{nav} · gradebook: <code>{CSV_NAME}</code></p>\n'
            f'{_isolation_note(subs)}\n{body}\n</body></html>\n')


def write_gradebook(subs, path):
    """One row per student, one column per assignment (score, `error`, `check`, or empty); the
    student's name spreadsheet_safe.

    Unrecognised notebooks have no column; their student still gets a row."""
    rows = {}
    for s in subs:
        rows.setdefault((s.student, s.folder), {})[s.assignment] = s.gradebook_cell()
    with Path(path).open("w", newline="", encoding="utf-8", errors="backslashreplace") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", *ASSIGNMENTS])
        for (student, _), cells in sorted(rows.items()):
            writer.writerow([spreadsheet_safe(student), *(cells.get(a, "") for a in ASSIGNMENTS)])


def build(out_dir):
    """Write the report and the merged gradebook into out_dir; returns their paths."""
    subs = load(out_dir)
    page, table = Path(out_dir) / HTML_NAME, Path(out_dir) / CSV_NAME
    page.write_text(render_html(subs, out_dir), encoding="utf-8", errors="backslashreplace")
    write_gradebook(subs, table)
    return page, table


def register(subparsers):
    """Add the `report` subcommand to the CLI's subparsers."""
    p = subparsers.add_parser("report", help="class report (HTML) and merged gradebook of a grading run",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir", type=Path, help="the --out folder of `python -m autograder grade`")
    p.set_defaults(func=run)
    return p


def run(args):
    try:
        for path in build(args.out_dir):
            print(path)
    except (FileNotFoundError, ValueError) as e:
        print(f"report: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder")
    register(parser.add_subparsers(required=True))
    args = parser.parse_args(["report", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
