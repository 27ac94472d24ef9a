"""docs/CONTRACT.md says what the code does: its tables are read here and compared with the code
(functions and signatures, result fields, grades.csv columns, statuses, kinds, visibilities,
misconception ids, thresholds), and the README and docs never send a reader outside the clone."""
import inspect
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder import config, grading, misconceptions, reference, report
from autograder.contract import ASSIGNMENTS, FUNCTIONS

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "docs" / "CONTRACT.md"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def sections():
    """{heading: text} of the contract's `## ` sections."""
    parts = re.split(r"^## (.+)$", CONTRACT.read_text(), flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2])}


def tables(section):
    """Every markdown table of a section, as lists of body rows (lists of cells)."""
    found, rows = [], None
    for line in sections()[section].splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if rows is None:
                rows = []                                   # header row
            elif not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
        elif rows is not None:
            found.append(rows)
            rows = None
    return found


def code(cell):
    """The text between the first pair of backticks of a cell."""
    match = re.search(r"`([^`]+)`", cell)
    assert match, f"no `code` in table cell {cell!r}"
    return match[1]


def first_column(section, table=0):
    return [code(row[0]) for row in tables(section)[table]]


def test_functions_are_the_graded_ones_with_the_contracts_and_references_signatures():
    rows = [(code(assignment), code(signature)) for assignment, signature, _ in tables("Functions")[0]]
    graded = [(a, g.function) for a, gs in ASSIGNMENTS.items() for g in gs]
    assert [(a, s.split("(", 1)[0]) for a, s in rows] == graded
    for _, written in rows:
        name = written.split("(", 1)[0]
        assert written == f"{name}({FUNCTIONS[name].signature})"
        assert written == f"{name}{inspect.signature(getattr(reference, name))}"
    assert sorted(name for _, name in graded) == sorted(reference.__all__)


def test_misconception_ids_are_the_graders():
    assert first_column("Known mistakes") == list(misconceptions.IDS)


def test_thresholds_and_limits_are_configs():
    rows = tables("Thresholds and limits")[0]
    for setting, value, _ in rows:
        name = code(setting)
        assert hasattr(config, name), f"docs/CONTRACT.md names {name}, which config.py does not define"
        assert float(value) == getattr(config, name), f"{name}: the contract says {value}, config.py {getattr(config, name)}"
    thresholds = {n for n in vars(config) if re.search(r"_RATIO$|_SPEEDUP_|_MEMORY_FACTOR$", n)}
    assert thresholds and thresholds <= {code(r[0]) for r in rows}, thresholds


def test_results_fields_are_the_ones_written():
    top, test, kinds, visibilities, statuses = tables("results.json")
    written = report.error_results("a reason", info={"student": "s", "assignment": "a1_naive"})
    assert {code(r[0]) for r in top} == set(written)
    outcome = SimpleNamespace(name="im2col: a check", function="im2col", kind="correctness", tags=[],
                              score=1, max_score=1, output="", visibility="after_due_date")
    assert {code(r[0]) for r in test} == set(report.gradescope_test(outcome, "1.1"))
    assert [code(r[0]) for r in kinds] == list(grading.KINDS)
    assert [code(r[0]) for r in visibilities] == list(grading.VISIBILITIES)
    assert {code(r[0]) for r in statuses} == {report.GRADED, report.ERROR}
    assert {"status", "reason"} <= set(written["extra_data"])


def test_grades_csv_columns_are_the_ones_written():
    assert first_column("grades.csv") == list(report.CSV_COLUMNS)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_point_only_inside_the_clone(doc):
    text = doc.read_text()
    outside = [name for name in ("COURSE_SPEC", "FIELD_NOTES", "../shared") if name in text]
    assert not outside, f"{doc.name} points outside the repository: {outside}"
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if re.match(r"[a-z]+:", target):                   # https:, mailto: ...
            continue
        path = (doc.parent / target).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"{doc.name}: link {target} leads nowhere in the clone"


def test_readme_and_architecture_point_to_the_contract():
    for doc in (ROOT / "README.md", ROOT / "docs" / "ARCHITECTURE.md"):
        assert "CONTRACT.md" in doc.read_text(), f"{doc.name} does not point to docs/CONTRACT.md"
