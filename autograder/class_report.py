"""The class report: one offline HTML page over a whole grading run, and a merged gradebook.

    python -m autograder report OUT_DIR

reads what `python -m autograder grade ... --out OUT_DIR` wrote (OUT_DIR/<student>/<assignment>/
results.json, whose extra_data carries each submission's status and reason) and writes

    OUT_DIR/class_report.html    per assignment: score histogram, pass rate of every test, the most
                                 frequent misconceptions with their hints, submissions that errored,
                                 timed out or crashed; then notebooks no assignment matched.
                                 Charts are embedded PNGs: the page opens offline.
    OUT_DIR/class_gradebook.csv  one row per student, one column per assignment: the score, `error`
                                 when the submission could not be graded, empty when none came in.

A test passed when it earned its full max_score; a test worth 0 points has no pass rate.
"""
import argparse
import base64
import csv
import html
import io
import json
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder import misconceptions
from autograder.assignments import ASSIGNMENTS
from autograder.report import ERROR, GRADED

HTML_NAME = "class_report.html"
CSV_NAME = "class_gradebook.csv"
TOP_MISCONCEPTIONS = 5
HISTOGRAM_BINS = 10

# How a test's or a submission's output says the student's code ran out of time or died
# (autograder.student.StudentTimeout / StudentCrash, and the engine's per-submission limit).
TIMEOUT = re.compile(r"\btim(?:ed|es)?[ -]?out\b|\btimeout\b|\btook longer than\b", re.IGNORECASE)
CRASH = re.compile(r"\b(?:crash(?:ed)?|killed|died|out of memory)\b", re.IGNORECASE)


@dataclass
class Submission:
    """One results.json: the student's name and assignment come from its folder."""
    student: str
    assignment: str
    score: float
    max_score: float
    status: str                      # "graded" or "error"
    reason: str                      # why it could not be graded ("" when graded)
    tests: list = field(default_factory=list)

    def problem(self):
        """(kind, detail) when the submission errored, timed out or crashed, else None."""
        if self.status != GRADED:
            kind = next((k for k, pattern in (("timed out", TIMEOUT), ("crashed", CRASH))
                         if pattern.search(self.reason)), "error")
            return kind, self.reason or "the grader could not grade it"
        for t in self.tests:
            for kind, pattern in (("timed out", TIMEOUT), ("crashed", CRASH)):
                if pattern.search(t.get("output", "")):
                    return kind, f"{t['name']}: {_first_line(t['output'])}"
        return None


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

    @property
    def graded(self):
        return [s for s in self.submissions if s.status == GRADED]

    @property
    def scores(self):
        return [s.score for s in self.graded]

    @property
    def problems(self):
        return [(s, *p) for s in self.submissions if (p := s.problem()) is not None]


def _first_line(text):
    return next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")


def _tag(test, prefix):
    return next((t.split(":", 1)[1] for t in test.get("tags", []) if t.startswith(prefix + ":")), "")


def load(out_dir):
    """Every submission under out_dir, sorted by assignment (unrecognised ones last), then student."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"no such grading output folder: {out_dir}")
    subs = []
    for path in sorted(out_dir.glob("*/*/results.json")):
        try:
            data = json.loads(path.read_text())
            extra = data["extra_data"]
            sub = Submission(path.parent.parent.name, path.parent.name, float(data["score"]),
                             float(data["max_score"]), extra["status"], extra.get("reason", ""),
                             data["tests"])
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path} is not a grader's results.json: {type(e).__name__} {e}") from None
        if sub.status not in (GRADED, ERROR):
            raise ValueError(f"{path}: unknown status {sub.status!r} (expected {GRADED} or {ERROR})")
        subs.append(sub)
    if not subs:
        raise FileNotFoundError(f"no <student>/<assignment>/results.json under {out_dir}")
    order = list(ASSIGNMENTS)
    return sorted(subs, key=lambda s: (order.index(s.assignment) if s.assignment in order
                                       else len(order), s.student))


def _explained(misconception_id):
    """(what the mistake is, the hint) from autograder.misconceptions."""
    entry = misconceptions.BY_ID.get(misconception_id)
    return (entry.description, entry.hint) if entry else ("(not in autograder.misconceptions)", "")


def summarize(subs):
    """[AssignmentSummary] for every assignment that has at least one submission."""
    summaries = []
    for assignment in ASSIGNMENTS:
        mine = [s for s in subs if s.assignment == assignment]
        if not mine:
            continue
        stats, seen = {}, Counter()
        for s in (s for s in mine if s.status == GRADED):
            ids = set()
            for t in s.tests:
                st = stats.setdefault(t["name"], TestStat(t["name"], _tag(t, "function"),
                                                          _tag(t, "kind"), float(t["max_score"])))
                st.total += 1
                st.passed += float(t["score"]) >= float(t["max_score"])
                if float(t["score"]) < float(t["max_score"]) and _tag(t, "misconception"):
                    ids.add(_tag(t, "misconception"))
            seen.update(ids)
        top = [(mid, n, *_explained(mid)) for mid, n in
               sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_MISCONCEPTIONS]]
        summaries.append(AssignmentSummary(assignment, mine, list(stats.values()), top))
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


def _fmt(x):
    """A score as the CSV and the tables show it: up to 4 significant decimals, no exponent."""
    return f"{round(x, 4):g}"


CSS = """
body { font-family: sans-serif; margin: 2em; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: 0.8em; background: #4c72b0; }
.low .bar { background: #c44e52; }
section { border-top: 2px solid #4c72b0; margin-top: 2em; }
"""


def _section(summary):
    a = summary.assignment
    scores = summary.scores
    e = html.escape
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

    parts.append("<h3>Submissions that errored, timed out or crashed</h3>")
    if summary.problems:
        parts.append("<table><tr><th>student</th><th>what happened</th><th>detail</th></tr>")
        for s, kind, detail in summary.problems:
            parts.append(f'<tr data-problem="{e(kind)}" data-student="{e(s.student)}">'
                         f'<td>{e(s.student)}</td><td>{e(kind)}</td><td>{e(detail)}</td></tr>')
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")

    parts.append("<h3>Most frequent misconceptions</h3>")
    if summary.misconceptions:
        parts.append("<table><tr><th>misconception</th><th>submissions</th><th>the mistake</th>"
                     "<th>hint given to the student</th></tr>")
        for mid, n, description, hint in summary.misconceptions:
            parts.append(f'<tr data-misconception="{e(mid)}" data-count="{n}"><td><code>{e(mid)}'
                         f'</code></td><td class="num">{n}</td><td>{e(description)}</td>'
                         f'<td>{e(hint)}</td></tr>')
        parts.append("</table>")
    else:
        parts.append("<p>No known mistake recognised.</p>")

    parts.append("<h3>Pass rate of every test</h3><table><tr><th>test</th><th>kind</th>"
                 "<th>points</th><th>passed</th><th>pass rate</th></tr>")
    for t in summary.tests:
        rate = t.rate
        cell = ("&mdash;" if rate is None else
                f'<span class="bar" style="width:{100 * rate:.0f}px"></span> {100 * rate:.0f}%')
        low = ' class="low"' if rate is not None and rate < 0.5 else ""
        parts.append(f'<tr{low} data-test="{e(t.name)}" data-passed="{t.passed}" data-total="{t.total}">'
                     f'<td>{e(t.name)}</td><td>{e(t.kind)}</td><td class="num">{t.max_score:.3g}</td>'
                     f'<td class="num">{t.passed}/{t.total}</td><td>{cell}</td></tr>')
    parts.append("</table></section>")
    return "\n".join(parts)


def _unrecognised(subs):
    """A section listing submissions under a folder that is no assignment (nothing matched)."""
    if not subs:
        return ""
    rows = "".join(f'<tr data-problem="unrecognised" data-student="{html.escape(s.student)}">'
                   f'<td>{html.escape(s.student)}</td><td>{html.escape(s.assignment)}</td>'
                   f'<td>{html.escape(s.reason)}</td></tr>' for s in subs)
    return ('<section id="unrecognised"><h2>Notebooks no assignment matched</h2><table><tr>'
            f'<th>student</th><th>folder</th><th>reason</th></tr>{rows}</table></section>')


def render_html(summaries, unrecognised=(), title="Class report"):
    body = "\n".join(_section(s) for s in summaries) + _unrecognised(unrecognised)
    nav = " · ".join(f'<a href="#{s.assignment}">{s.assignment}</a>' for s in summaries)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
            f'</title><style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>'
            f'<p>{nav} · gradebook: <code>{CSV_NAME}</code></p>\n{body}\n</body></html>\n')


def write_gradebook(subs, path):
    """One row per student, one column per assignment (score, `error`, or empty).

    Unrecognised notebooks have no column; their student still gets a row."""
    cells = {(s.student, s.assignment): _fmt(s.score) if s.status == GRADED else ERROR for s in subs}
    with Path(path).open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", *ASSIGNMENTS])
        for student in sorted({s.student for s in subs}):
            writer.writerow([student, *(cells.get((student, a), "") for a in ASSIGNMENTS)])


def build(out_dir):
    """Write the report and the merged gradebook into out_dir; returns their paths."""
    subs = load(out_dir)
    page, table = Path(out_dir) / HTML_NAME, Path(out_dir) / CSV_NAME
    others = [s for s in subs if s.assignment not in ASSIGNMENTS]
    page.write_text(render_html(summarize(subs), others), encoding="utf-8")
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
