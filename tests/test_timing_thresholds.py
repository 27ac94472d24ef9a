"""Every timing threshold separates with margin (docs/CONTRACT.md, issue 9 item 8): on the
graders' timed cases, through the caged grader's own path and harness (autograder.timing: CPU
time, interleaved calls, fresh inputs each repeat, best of config.TIMING_REPEATS; the median of
three such measurements), every honest vectorized style in tests/student_answers/timing_styles.py
stays at or under half its function's threshold and every answer looping over windows, pixels or
samples lands at least twice over it. A function timed on several cases is judged on its worst
ratio, as check_speed judges it. The measured table is printed whether or not pytest captures
output."""
from pathlib import Path

import pytest

from autograder import runner
from autograder.contract import FUNCTIONS, TIMING
from autograder.graders import inputs
from autograder.sandbox import SandboxStudent, reference_sandbox
from autograder.timing import time_against_reference
from student_answers.timing_styles import STYLES

# max ratio student / reference for each timed function, and the function it is measured against
# (the registry's timing entries)
LIMITS = {name: (spec.timing.max_ratio, spec.timing.reference_function)
          for name, spec in FUNCTIONS.items() if spec.timing}


# Independent measurements per style and case; their median is the style's ratio. One grading
# run's best-of-repeats ratio wanders (an honest np.add.at backward: 3.3x typically, 4.75x once
# in a full test run); the margins are about where a style lies, not about one draw.
MEASUREMENTS = 3


def worst_ratio(function, student, reference, seed):
    """The largest, over the cases `function` is timed on, of the median of MEASUREMENTS
    best-of-repeats ratios (the grader's own measurement, repeated)."""
    limit, reference_function = LIMITS[function]
    ratios = []
    for case in TIMING[function]:
        draws = sorted(time_against_reference(
            student, reference, function,
            lambda k, case=case: inputs(function, case, seed_offset=k, seed=seed),
            max_ratio=limit, reference_function=reference_function).ratio
            for _ in range(MEASUREMENTS))
        ratios.append(draws[len(draws) // 2])
    return max(ratios), ratios


ANSWERS = Path(__file__).resolve().parent / "student_answers"


def _module_cell(name, source):
    """A cell that makes `source` importable as `name` inside the cage (tests/ is hidden there)."""
    return (f"import sys, types\n_m = types.ModuleType({name!r})\nexec({source!r}, _m.__dict__)\n"
            f"sys.modules[{name!r}] = _m\n")


def caged_style(function, index):
    """A SandboxStudent whose `function` is STYLES[function][index], built from the answer
    modules' source exactly as a notebook's cells would define it."""
    cells = ["import sys, types\nsys.modules['student_answers'] = types.ModuleType('student_answers')\n"]
    for name in ("correct_loops", "correct_vectorized", "slow_loops"):
        cells.append(_module_cell(f"student_answers.{name}", (ANSWERS / f"{name}.py").read_text())
                     + f"sys.modules['student_answers'].{name} = _m\n")
    cells.append(_module_cell("timing_styles", (ANSWERS / "timing_styles.py").read_text())
                 + f"{function} = _m.STYLES[{function!r}][{index}][2]\n")
    return SandboxStudent(cells)


def verdict(kind, ratio, limit):
    """'ok' when the style is on its side of the threshold with a 2x margin, else why not."""
    if kind == "vectorized":
        return "ok" if ratio <= limit / 2 else f"TOO SLOW for an honest answer (> {limit / 2:g})"
    return "ok" if ratio >= 2 * limit else f"TOO FAST for a loop (< {2 * limit:g})"


def test_the_graders_timed_functions_are_exactly_the_table_s():
    assert set(STYLES) == set(TIMING) == set(LIMITS)
    for function, styles in STYLES.items():
        assert {kind for _, kind, _ in styles} == {"vectorized", "loop"}, function


def _table(capsys, where, measure):
    """Measure every style with `measure(function, index, implementation) -> (ratio, per
    case)`, print the table, and return the rows that miss their margin."""
    rows, bad = [], []
    for function, styles in STYLES.items():
        limit = LIMITS[function][0]
        for index, (style, kind, implementation) in enumerate(styles):
            ratio, per_case = measure(function, index, implementation)
            result = verdict(kind, ratio, limit)
            rows.append(f"{function:22} {style:44} {kind:10} {ratio:8.3g} "
                        f"({' / '.join(f'{r:.3g}' for r in per_case)})  limit {limit:g}  {result}")
            if result != "ok":
                bad.append(rows[-1])
    with capsys.disabled():
        print(f"\n{where}:\nfunction               style                                        "
              "kind          ratio (per timed case)  limit  verdict")
        print("\n".join(rows))
    return bad


@pytest.mark.slow
def test_every_threshold_separates_with_margin_in_the_real_cage(capsys):
    """The table through the caged grader's own path: each style defined by notebook-like
    cells in a SandboxStudent, timed against reference_sandbox(), so the call channel's cost
    (which lands on both sides and pulls ratios towards 1) is included. Every measurement runs
    in fresh processes: timed inside the long-lived test process, after hundreds of other
    tests, the same in-process table once put np.add.at's honest col2im at 5.3x."""
    seed = runner.new_seed()
    with reference_sandbox() as reference:
        def measure(function, index, implementation):
            with caged_style(function, index) as student:
                assert not student.load_report.errors, student.load_report.errors
                return worst_ratio(function, student, reference, seed)
        bad = _table(capsys, "in the cage (SandboxStudent against reference_sandbox)", measure)
    assert bad == [], "\n".join(bad)
