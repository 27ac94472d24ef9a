"""Every timing threshold separates with margin (COURSE_SPEC §4, issue 9 item 8): on the graders'
timed cases, through the graders' own harness (autograder.timing: CPU time, interleaved calls,
fresh inputs each repeat, best of config.TIMING_REPEATS), every honest vectorized style in
tests/student_answers/timing_styles.py stays at or under half its function's threshold and every
answer looping over windows, pixels or samples lands at least twice over it. A function timed on
several cases is judged on its worst ratio, as check_speed judges it. The measured table is
printed whether or not pytest captures output."""
import pytest

from autograder import config, runner
from autograder.cases import TIMING
from autograder.graders import inputs
from autograder.student import InProcessStudent
from autograder.timing import time_against_reference
from student_answers.timing_styles import STYLES

# max ratio student / reference for each timed function, and the function it is measured against
LIMITS = {"conv_forward_partial": (1 / config.PARTIAL_MIN_SPEEDUP_VS_NAIVE, "conv_forward_naive"),
          "conv_forward_im2col": (config.IM2COL_MAX_RATIO, None),
          "col2im": (config.IM2COL_MAX_RATIO, None),
          "conv_backward_im2col": (config.IM2COL_MAX_RATIO, None),
          "conv_forward_fft": (config.FFT_MAX_RATIO, None)}


def worst_ratio(function, implementation):
    """The largest best-of-repeats ratio over the cases `function` is timed on."""
    limit, reference_function = LIMITS[function]
    student = InProcessStudent({function: implementation})
    seed = runner.new_seed()
    ratios = []
    for case in TIMING[function]:
        timing = time_against_reference(
            student, runner.default_reference_student(), function,
            lambda k, case=case: inputs(function, case, seed_offset=k, seed=seed),
            max_ratio=limit, reference_function=reference_function)
        ratios.append(timing.ratio)
    return max(ratios), ratios


def verdict(kind, ratio, limit):
    """'ok' when the style is on its side of the threshold with a 2x margin, else why not."""
    if kind == "vectorized":
        return "ok" if ratio <= limit / 2 else f"TOO SLOW for an honest answer (> {limit / 2:g})"
    return "ok" if ratio >= 2 * limit else f"TOO FAST for a loop (< {2 * limit:g})"


def test_the_graders_timed_functions_are_exactly_the_table_s():
    assert set(STYLES) == set(TIMING) == set(LIMITS)
    for function, styles in STYLES.items():
        assert {kind for _, kind, _ in styles} == {"vectorized", "loop"}, function


@pytest.mark.slow
def test_every_threshold_separates_vectorized_from_loop_based_answers_with_margin(capsys):
    rows, bad = [], []
    for function, styles in STYLES.items():
        limit = LIMITS[function][0]
        for style, kind, implementation in styles:
            ratio, per_case = worst_ratio(function, implementation)
            result = verdict(kind, ratio, limit)
            rows.append(f"{function:22} {style:44} {kind:10} {ratio:8.3g} "
                        f"({' / '.join(f'{r:.3g}' for r in per_case)})  limit {limit:g}  {result}")
            if result != "ok":
                bad.append(rows[-1])
    with capsys.disabled():
        print("\nfunction               style                                        kind          "
              "ratio (per timed case)  limit  verdict")
        print("\n".join(rows))
    assert bad == [], "\n".join(bad)
