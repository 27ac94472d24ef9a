"""Hidden test cells call `run_hidden_tests(function, globals())` (nbgrader's in-kernel path).

It runs the hidden graders of `function` (autograder/graders, the same tests the CLI grader
runs, without the public checks the visible cell already ran) against the kernel's own
namespace, prints a short table (test, points, verdict, message) and returns the points
earned, which nbgrader records as the cell's partial credit. A wrong answer never raises: it
earns fewer points. The student's code runs in the kernel itself, so this path is for practice
only: inside `nbgrader autograde` it refuses to score (NotCaged) unless the instructor set
CONV_PRACTICE_IN_KERNEL=1, so an nbgrader that lost the course's caged configuration gives no
hidden points instead of the kernel's verdict.
"""
import inspect
import os

from autograder.contract import FUNCTION_TO_ASSIGNMENT
from autograder.runner import run_graders, score_summary
from autograder.student import InProcessStudent

MESSAGE_CHARS = 400
PRACTICE_ENV = "CONV_PRACTICE_IN_KERNEL"   # "1": in-kernel autograding on purpose, for practice


class NotCaged(RuntimeError):
    """In-kernel hidden tests were asked to score an nbgrader autograde that is not a practice round."""


def kernel_source(namespace):
    """Every cell the kernel ran (IPython's `In`), else the source of its functions."""
    cells = namespace.get("In")
    if isinstance(cells, list) and any(isinstance(c, str) and c.strip() for c in cells):
        return "\n\n".join(c for c in cells if isinstance(c, str))
    parts = []
    for value in list(namespace.values()):
        if inspect.isfunction(value):
            try:
                parts.append(inspect.getsource(value))
            except (OSError, TypeError):
                continue
    return "\n\n".join(parts)


def _groups(outcomes):
    """Outcomes grouped by test (the cases of a parametrized test together), in order."""
    groups = {}
    for o in outcomes:
        groups.setdefault(o.nodeid.split("[", 1)[0] or o.name, []).append(o)
    return list(groups.values())


def _table(outcomes):
    """One line per test (a parametrized test's cases summed), the first failure's message."""
    rows = []
    for group in _groups(outcomes):
        name = group[0].name + (f" (+{len(group) - 1} more cases)" if len(group) > 1 else "")
        passed = sum(o.status == "passed" for o in group)
        verdict = ("ERROR" if any(o.status == "error" for o in group)
                   else "pass" if passed == len(group) else "FAIL")
        if len(group) > 1:
            verdict += f" {passed}/{len(group)}"
        points = f"{sum(o.score for o in group):5.2f} / {sum(o.max_score for o in group):5.2f}"
        first = next((o for o in group if o.status != "passed"), None)
        message = " ".join(first.output.split()) if first else ""
        if len(message) > MESSAGE_CHARS:
            message = message[:MESSAGE_CHARS] + " ..."
        rows.append((name, points, verdict, message))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'test'.ljust(width)}  {'points'.ljust(13)}  verdict"]
    for name, points, verdict, message in rows:
        lines.append(f"{name.ljust(width)}  {points}  {verdict}")
        if message:
            lines.append(f"    {message}")
    return "\n".join(lines)


def run_hidden_tests(function, namespace):
    """Run `function`'s hidden graders on the kernel's namespace; print a table; return points.
    NotCaged inside `nbgrader autograde` (NBGRADER_EXECUTION=autograde) unless PRACTICE_ENV=1."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde" and os.environ.get(PRACTICE_ENV) != "1":
        raise NotCaged("this nbgrader autograde runs student code in its kernel: graded work is "
                       "scored by the caged grader (the course's nbgrader_config.py); set "
                       f"{PRACTICE_ENV}=1 only for a practice round")
    student = InProcessStudent(namespace, source=kernel_source(namespace), name="kernel")
    outcomes = run_graders(FUNCTION_TO_ASSIGNMENT[function], student, functions=[function],
                           include_public=False)
    summary = score_summary(outcomes)
    print(_table(outcomes))
    print(f"{function}: {summary['score']:g} / {summary['max_score']:g} hidden points")
    return summary["score"]
