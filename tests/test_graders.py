"""The hidden graders, run in-process (autograder.runner) on the student answers in
tests/student_answers/: right answers get full marks, each known mistake is caught and tagged
with exactly its id, slow and memoizing answers fail timing only, and the bookkeeping (points,
names, tags, visibility, grader errors) holds. The caged path is tested by the engine's tests."""
import functools
import importlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import cases, contract, misconceptions, reference, runner
from autograder.grading import KINDS, VISIBILITIES
from autograder.contract import TIMING
from autograder.graders import check_speed, inputs, library_convolutions, mismatch
from autograder.incell import kernel_source, run_hidden_tests
from autograder.sandbox import SandboxStudent, reference_sandbox
from autograder.student import (BadReturn, InProcessStudent, StudentCrash, StudentException,
                                StudentTimeout)

ANSWERS = Path(__file__).resolve().parent / "student_answers"
MISTAKES = sorted(p.stem for p in ANSWERS.glob("mistake_*.py"))
CORRECT = ("correct_loops", "correct_vectorized")


def answers(name):
    return importlib.import_module(f"student_answers.{name}")


def student_of(name):
    module = answers(name)
    return InProcessStudent(vars(module), source=Path(module.__file__).read_text(), name=name)


def own_functions(name):
    """The contract functions a module defines itself (not the ones it imports)."""
    module = answers(name)
    return [f for f in reference.__all__
            if getattr(getattr(module, f, None), "__module__", None) == module.__name__]


@functools.cache
def graded(name, assignment, functions=None):
    """Outcomes of one answer module on one assignment (cached: several tests read them)."""
    return runner.run_graders(assignment, student_of(name), functions=functions)


def failures(outcomes):
    return [(o.name, o.status, o.output[:300]) for o in outcomes if o.status != "passed"]


def misconception_tags(outcomes):
    return {t.split(":", 1)[1] for o in outcomes for t in o.tags if t.startswith("misconception:")}


# --------------------------------------------------------------------------- bookkeeping
@pytest.mark.parametrize("assignment", list(contract.ASSIGNMENTS))
def test_reference_scores_100_with_well_formed_outcomes(assignment):
    outcomes = runner.run_graders(assignment, runner.default_reference_student())
    summary = runner.score_summary(outcomes)
    assert failures(outcomes) == []
    assert summary["score"] == summary["max_score"] == 100
    functions = {g.function for g in contract.graded(assignment)}
    for o in outcomes:
        assert o.function in functions
        assert o.name.startswith(f"{o.function}: ") and len(o.name) > len(o.function) + 3
        assert o.visibility in VISIBILITIES and o.kind in KINDS
        assert o.tags[:2] == [f"function:{o.function}", f"kind:{o.kind}"]
        assert all(re.fullmatch(r"(function|kind|misconception):[a-z0-9_\-]+", t) for t in o.tags)
        assert o.visibility == ("visible" if o.public else "after_due_date")
    for g in contract.graded(assignment):
        public = [o for o in outcomes if o.function == g.function and o.public]
        hidden = [o for o in outcomes if o.function == g.function and not o.public]
        assert len(public) == 1 and public[0].max_score == g.visible_points
        assert sum(o.max_score for o in hidden) == pytest.approx(g.hidden_points)
        assert {o.kind for o in hidden} >= {"correctness", "contract"}
    assert len({o.name for o in outcomes}) == len(outcomes), "test names must be unique"


def test_only_requested_functions_and_hidden_tests_run():
    outcomes = runner.run_graders("a1_naive", runner.default_reference_student(),
                                  functions=["zero_pad"], include_public=False)
    assert {o.function for o in outcomes} == {"zero_pad"}
    assert not any(o.public for o in outcomes)
    assert runner.score_summary(outcomes)["max_score"] == 10   # zero_pad's hidden points
    with pytest.raises(ValueError, match="conv_forward_fft"):
        runner.run_graders("a1_naive", runner.default_reference_student(), functions=["conv_forward_fft"])


def test_a_missing_function_fails_every_test_of_it_without_grader_errors():
    outcomes = runner.run_graders("a1_naive", InProcessStudent({}, source=""))
    assert runner.score_summary(outcomes)["score"] == 0
    assert all(o.status == "failed" for o in outcomes)
    hidden = [o for o in outcomes if not o.public and o.function == "zero_pad"]
    assert all("defines no function `zero_pad`" in o.output for o in hidden)


def test_a_student_exception_is_reported_with_its_message_not_a_traceback():
    def zero_pad(x, pad):
        raise IndexError("my bad index 42")
    outcomes = runner.run_graders("a1_naive", InProcessStudent({"zero_pad": zero_pad}),
                                  functions=["zero_pad"], include_public=False)
    assert all(o.status == "failed" for o in outcomes)
    assert "IndexError: my bad index 42" in outcomes[0].output
    assert not any("Traceback" in o.output or "def " in o.output for o in outcomes)


class _BrokenStudent(InProcessStudent):
    """A student object whose calls break inside the grader's side (not a StudentError)."""

    def call_full(self, name, *args, **kwargs):
        raise KeyError("internal")


def test_a_grader_failure_is_an_error_outcome_not_a_silent_zero():
    outcomes = runner.run_graders("a1_naive", _BrokenStudent(vars(reference)),
                                  functions=["zero_pad"], include_public=False)
    assert outcomes and all(o.status == "error" for o in outcomes)
    assert runner.score_summary(outcomes)["errors"] == len(outcomes)
    for o in outcomes:
        assert "could not run this test" in o.output
        assert "Traceback" not in o.output and "KeyError" in o.detail


class _FailingStudent(InProcessStudent):
    """Every call fails with `error`, as the sandbox or the engine's wrappers raise it."""

    def __init__(self, error):
        super().__init__(vars(reference), name="failing")
        self.error = error

    def call_full(self, name, *args, **kwargs):
        raise self.error


def _not_called_again():
    error = StudentTimeout("`zero_pad` was not called again: it already timed out")
    error.kind = "not-called-again"        # what a wrapper says of its own StudentTimeout
    return error


def _failure_tags(outcome):
    return [t for t in outcome.tags if t.startswith("failure:")]


FAILED_CALLS = [(StudentTimeout("`zero_pad` did not return within 10 s"), "timeout"),
                (StudentCrash("the process running your code died (killed by SIGKILL)"), "crash"),
                (StudentException("IndexError", "my bad index 42"), "exception"),
                (BadReturn("`zero_pad` returned a builtins.dict"), "bad-return"),
                (_not_called_again(), "not-called-again")]


@pytest.mark.parametrize("error, kind", FAILED_CALLS, ids=[kind for _, kind in FAILED_CALLS])
def test_a_failed_call_tags_its_kind_of_failure_also_behind_a_public_check(error, kind):
    outcomes = runner.run_graders("a1_naive", _FailingStudent(error), functions=["zero_pad"])
    correctness = [o for o in outcomes if o.kind == "correctness"]
    assert any(o.public for o in correctness) and any(not o.public for o in correctness)
    assert all(_failure_tags(o) == [f"failure:{kind}"] for o in correctness)
    assert all(len(_failure_tags(o)) <= 1 for o in outcomes)


def test_a_wrong_value_is_tagged_as_such_and_a_missing_function_as_missing():
    def zero_pad(x, pad):
        return x + 1.0          # the input, unpadded and off by one
    outcomes = runner.run_graders("a1_naive", InProcessStudent({"zero_pad": zero_pad}),
                                  functions=["zero_pad"])
    correctness = [o for o in outcomes if o.kind == "correctness"]
    assert correctness and all(o.status == "failed" for o in correctness)
    assert all(_failure_tags(o) == ["failure:wrong-value"] for o in correctness)
    missing = runner.run_graders("a1_naive", InProcessStudent({}), functions=["zero_pad"])
    assert all(_failure_tags(o) == ["failure:missing"] for o in missing if o.kind == "correctness")
    passed = runner.run_graders("a1_naive", runner.default_reference_student(), functions=["zero_pad"])
    assert not any(_failure_tags(o) for o in passed)


# --------------------------------------------------------------------------- right answers
@pytest.mark.parametrize("name", CORRECT)
@pytest.mark.parametrize("assignment", list(contract.ASSIGNMENTS))
def test_correct_alternatives_get_full_marks(name, assignment):
    outcomes = graded(name, assignment)
    assert failures(outcomes) == []
    assert runner.score_summary(outcomes)["score"] == 100


def _timed_functions(assignment):
    return tuple(f for f in TIMING if contract.FUNCTION_TO_ASSIGNMENT[f] == assignment)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["slow_loops", "memo_by_content"])
@pytest.mark.parametrize("assignment", sorted({contract.FUNCTION_TO_ASSIGNMENT[f] for f in TIMING}))
def test_slow_and_memoizing_answers_fail_timing_and_keep_every_other_point(name, assignment):
    outcomes = graded(name, assignment, _timed_functions(assignment))
    timing = [o for o in outcomes if o.kind == "timing"]
    assert len(timing) == len(_timed_functions(assignment))
    assert all(o.status == "failed" and o.score == 0 for o in timing)
    assert all("took" in o.output and "faster" in o.output or "time of" in o.output for o in timing)
    assert failures([o for o in outcomes if o.kind != "timing"]) == []


def test_a_fast_wrong_answer_fails_timing():
    outcomes = graded("mistake_missing_bias", "a3_im2col", ("conv_forward_im2col",))
    timing = [o for o in outcomes if o.kind == "timing"]
    assert [o.status for o in timing] == ["failed"]
    assert "timed run" in timing[0].output and "must also be right" in timing[0].output


def test_memory_is_measured_and_a_student_without_the_probe_is_an_error():
    ok = [o for o in graded("correct_vectorized", "a3_im2col") if o.kind == "memory"]
    assert [o.status for o in ok] == ["passed"]

    class NoProbe:
        source = ""

        def __init__(self):
            self._inner = student_of("correct_vectorized")
            self.has, self.call, self.call_full = self._inner.has, self._inner.call, self._inner.call_full

    outcomes = runner.run_graders("a3_im2col", NoProbe(), functions=["conv_forward_im2col"])
    memory = [o for o in outcomes if o.kind == "memory"]
    assert [o.status for o in memory] == ["error"] and memory[0].score == 0
    assert "peak_memory_call" in memory[0].output


def test_a_memory_hungry_answer_fails_the_memory_test():
    def conv_forward_im2col(x, w, b, stride=1, pad=0):
        X_col = reference.im2col(x, w.shape[1], stride, pad)
        K = w.shape[0]
        wasteful = [X_col.copy() for _ in range(5)]        # five extra copies of X_col held at once
        out = (w.reshape(K, -1) @ wasteful[-1]).reshape(K, *reference_sizes(x, w, stride, pad))
        return out.transpose(1, 2, 0, 3) + b[:, None]

    def reference_sizes(x, w, stride, pad):
        f = w.shape[1]
        return ((x.shape[0] + 2 * pad - f) // stride + 1, (x.shape[1] + 2 * pad - f) // stride + 1,
                x.shape[3])

    outcomes = runner.run_graders("a3_im2col", InProcessStudent({"conv_forward_im2col": conv_forward_im2col}),
                                  functions=["conv_forward_im2col"], include_public=False)
    memory = [o for o in outcomes if o.kind == "memory"]
    assert [o.status for o in memory] == ["failed"]
    assert "X_col" in memory[0].output and "at most 4x" in memory[0].output
    assert all(o.status == "passed" for o in outcomes if o.kind != "memory")


@pytest.mark.slow
def test_correct_answers_pass_timing_while_another_process_loads_the_cpu():
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        for _ in range(3):
            for name in CORRECT:
                student = student_of(name)
                for function in TIMING:
                    check_speed(student, runner.default_reference_student(), function,
                                seed=runner.new_seed())
    finally:
        busy.kill()
        busy.wait()


# --------------------------------------------------------------------------- known mistakes
def _mistake_runs(name):
    functions = own_functions(name)
    return [graded(name, a, tuple(f for f in functions if contract.FUNCTION_TO_ASSIGNMENT[f] == a))
            for a in sorted({contract.FUNCTION_TO_ASSIGNMENT[f] for f in functions})]


@pytest.mark.parametrize("name", MISTAKES)
def test_each_mistake_is_caught_and_tagged_with_exactly_its_id(name):
    mistake = name.removeprefix("mistake_").replace("_", "-")
    assert mistake in misconceptions.IDS
    for outcomes in _mistake_runs(name):
        assert misconception_tags(outcomes) == {mistake}, failures(outcomes)
        tagged = [o for o in outcomes if f"misconception:{mistake}" in o.tags]
        assert all(o.status == "failed" and o.score == 0 for o in tagged)
        hint = misconceptions.get(mistake).hint
        assert all(hint in o.output for o in tagged)
        assert runner.score_summary(outcomes)["score"] < runner.score_summary(outcomes)["max_score"]


def test_every_misconception_has_an_answer_module():
    assert {m.removeprefix("mistake_").replace("_", "-") for m in MISTAKES} == set(misconceptions.IDS)


def test_a_wrong_value_names_its_largest_difference_with_its_neighbours_on_the_last_axis():
    expected = np.arange(2 * 3 * 8, dtype=np.float64).reshape(2, 3, 8)
    got = expected.copy()
    got[0, 0, 0] += 0.5                        # the first difference, not the largest
    got[1, 2, 6] = -1.0                        # 1*24 + 2*8 + 6 = 46 -> -1: the largest
    text = mismatch(expected, got, "out")
    assert "by up to 47 (largest at out[1, 2, 6]: expected 46, got -1; " in text
    # five values around index 6 along the last axis, kept inside the axis (3..7, not 4..8)
    assert text.endswith("out[1, 2, 3:8]: expected [43, 44, 45, 46, 47], "
                         "got [43, 44, 45, -1, 47])"), text
    assert "e.g." not in text and "out[0, 0, 0]" not in text
    short = mismatch(np.zeros(2), np.array([0.0, np.nan]), "db")
    assert short.endswith("(largest at db[1]: expected 0, got nan; db[0:2]: expected [0, 0], "
                          "got [0, nan])")
    single = mismatch(np.zeros((2, 1)), np.array([[0.0], [3.0]]), "dx")
    assert single.endswith("(largest at dx[1, 0]: expected 0, got 3)")


# --------------------------------------------------------------------------- static inspection
@pytest.mark.parametrize("source, used", [
    ("import scipy.signal\ndef f(x):\n    return scipy.signal.correlate(x, x)\n", ["scipy.signal"]),
    ("from scipy import signal as sg\ndef f(x):\n    return sg.convolve2d(x, x)\n", ["scipy.signal"]),
    ("from scipy.ndimage import correlate as c\ndef f(x):\n    return c(x, x)\n", ["scipy.ndimage"]),
    ("import numpy as np\ndef f(x):\n    return np.convolve(x, x)\n", ["numpy.convolve"]),
    ("def f(x):\n    import torch.nn.functional as F\n    return F.conv2d(x, x)\n", ["torch"]),
    ("import jax.numpy as jnp\ndef g(x):\n    return jnp.convolve(x, x)\ndef f(x):\n    return g(x)\n", ["jax"]),
    ("%timeit 1\nimport numpy as np\ndef f(x):\n    return np.correlate(x, x)\n", ["numpy.correlate"]),
    ("import numpy as np\nimport scipy.signal\ndef f(x):\n    return np.fft.rfft2(x)\n", []),
    ("import numpy as np\ndef f(x):\n    return np.einsum('ij,ij->', x, x)\n", []),
])
def test_library_convolution_is_found_through_aliases_and_helpers(source, used):
    assert library_convolutions(source, "f") == used


# --------------------------------------------------------------------------- quiet runs, the kernel path
def test_grading_prints_nothing_even_when_the_student_prints(capfd):
    def zero_pad(x, pad):
        print("debugging output from the student")
        return np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    outcomes = runner.run_graders("a1_naive", InProcessStudent({"zero_pad": zero_pad}),
                                  functions=["zero_pad"])
    assert all(o.status == "passed" for o in outcomes)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_in_kernel_hidden_tests_return_partial_credit_and_print_a_table_without_grader_source(capsys):
    kernel = dict(vars(answers("correct_loops")))
    assert run_hidden_tests("zero_pad", kernel) == 10
    kernel["zero_pad"] = answers("mistake_pads_every_axis").zero_pad
    points = run_hidden_tests("zero_pad", kernel)
    assert 0 < points < 10        # it still does not modify x
    table = capsys.readouterr().out
    assert "FAIL" in table and misconceptions.get("pads-every-axis").hint in table
    assert "zero_pad: does not modify x" in table and "check_matches" not in table
    assert not any(word in table for word in ("Traceback", "def test_", "assert "))


def test_in_kernel_source_comes_from_the_input_history():
    library = answers("mistake_library_convolution")
    kernel = {"In": ["", Path(library.__file__).read_text()],
              "conv_single_step": library.conv_single_step}
    assert "from numpy import correlate as corr" in kernel_source(kernel)
    assert run_hidden_tests("conv_single_step", kernel) < 20
    assert "def conv_output_size" in kernel_source(dict(vars(answers("correct_loops"))))


def test_a_failing_reference_is_a_grader_error_not_the_student_s_fault():
    broken_reference = InProcessStudent({})          # defines nothing: MissingFunction
    outcomes = runner.run_graders("a3_im2col", student_of("correct_vectorized"),
                                  reference_student=broken_reference,
                                  functions=["conv_forward_im2col"], include_public=False)
    timing = [o for o in outcomes if o.kind == "timing"]
    assert [o.status for o in timing] == ["error"]
    assert "could not run" in timing[0].output
    assert all(o.status == "passed" for o in outcomes if o.kind != "timing")


def _graders_dir(tmp_path, monkeypatch, body):
    """A stand-in graders folder holding `body` as test_a1_naive.py (imported afresh)."""
    (tmp_path / "conftest.py").write_text((Path(runner.__file__).parent / "graders" / "conftest.py").read_text())
    (tmp_path / "test_a1_naive.py").write_text(body)
    monkeypatch.setattr(runner, "GRADERS", tmp_path)
    for stale in [m for m in sys.modules if m.split(".")[-1] in ("test_a1_naive", "conftest")
                  and not m.startswith(("autograder.", "tests"))]:
        monkeypatch.delitem(sys.modules, stale)


def test_unmarked_and_crashing_grader_tests_are_errors_and_points_still_total_100(tmp_path, monkeypatch):
    _graders_dir(tmp_path, monkeypatch, (
        "from autograder.grading import grades\n\n"
        "@grades('zero_pad', 'correctness', 'works')\n"
        "def test_fine(student):\n    student.call('zero_pad', __import__('numpy').ones((2, 2, 1, 1)), 1)\n\n"
        "def test_forgot_the_marker(student):\n    pass\n\n"
        "@grades('zero_pad', 'contract', 'has a bug')\n"
        "def test_bug(student):\n    return {}['missing']\n"))
    outcomes = runner.run_graders("a1_naive", runner.default_reference_student())
    by_status = {o.name: o.status for o in outcomes}
    assert by_status["zero_pad: works"] == "passed" and by_status["zero_pad: has a bug"] == "error"
    assert by_status["test_forgot_the_marker"] == "error"
    assert by_status["conv_forward_naive: hidden tests"] == "error"        # none were found
    assert by_status["zero_pad: public checks"] == "error"
    summary = runner.score_summary(outcomes)
    assert summary["max_score"] == 100 and summary["score"] == 5       # half of zero_pad's hidden 10
    assert all("Traceback" not in o.output for o in outcomes)


def test_a_grader_module_that_does_not_import_is_an_error_for_every_function(tmp_path, monkeypatch):
    _graders_dir(tmp_path, monkeypatch, "def broken(:\n")
    outcomes = runner.run_graders("a1_naive", runner.default_reference_student())
    assert outcomes and all(o.status == "error" for o in outcomes)
    assert {o.function for o in outcomes} == {"conv_output_size", "zero_pad", "conv_forward_naive"}
    assert runner.score_summary(outcomes)["max_score"] == 100
    assert "SyntaxError" in outcomes[0].detail


def test_a_passing_timing_test_reports_its_measured_ratio():
    # The feedback shows how close a passing answer came to the threshold, not only that it passed.
    outcomes = runner.run_graders("a5_fft", InProcessStudent(vars(reference)),
                                  functions=["conv_forward_fft"])
    timing = [o for o in outcomes if o.kind == "timing"]
    assert timing and all(o.status == "passed" for o in timing)
    for o in timing:
        assert re.search(r"took [\d.]+ ms and the reference [\d.]+ ms", o.output), o.output
        assert "at most 10x is allowed" in o.output


# --------------------------------------------------------------------------- the run's seed
def _messages(outcomes):
    return [(o.name, o.status, o.score, o.output) for o in outcomes]


def test_the_same_seed_gives_the_same_grade_and_messages_and_another_seed_other_numbers():
    def grade(seed):
        return runner.run_graders("a1_naive", student_of("mistake_true_convolution"), seed=seed)
    first, again, other = grade(12345), grade(12345), grade(54321)
    assert _messages(first) == _messages(again)
    assert [o.score for o in first] == [o.score for o in other]      # same verdicts
    assert _messages(first) != _messages(other)                      # quoting other numbers
    x_run = inputs("zero_pad", cases.GRID[1], seed=12345)[0]
    assert np.array_equal(x_run, inputs("zero_pad", cases.GRID[1], seed=12345)[0])
    assert not np.array_equal(x_run, inputs("zero_pad", cases.GRID[1], seed=54321)[0])
    assert not np.array_equal(x_run, cases.GRID[1].arrays()[0])       # not the published numbers
    assert x_run.shape == cases.GRID[1].x_shape


def test_every_run_draws_a_fresh_seed_unless_given_one():
    assert len({runner.new_seed() for _ in range(20)}) == 20
    runs = [_messages(runner.run_graders("a1_naive", student_of("mistake_true_convolution"),
                                         functions=["conv_forward_naive"])) for _ in range(2)]
    assert runs[0] != runs[1]
    for bad in (-1, 1.5, "42", True):
        with pytest.raises(ValueError, match="seed must be a non-negative integer"):
            runner.run_graders("a1_naive", runner.default_reference_student(), seed=bad)


def _lookup_cells():
    """A submission that pastes the public case table, the contract's timed cases and the
    reference, then answers by lookup."""
    return [Path(cases.__file__).read_text(), f"TIMING = {TIMING!r}",
            Path(reference.__file__).read_text(), (ANSWERS / "lookup_table.py").read_text()]


@pytest.mark.slow
def test_answers_looked_up_from_the_public_source_earn_nothing_on_a_fresh_seed():
    """The lookup answer passes every hidden correctness, timing and memory test on the
    published numbers (what every run used before), and nothing on a run's own seed, while an
    honest submission graded with that seed keeps its 100."""
    seed = runner.new_seed()
    graded_by_lookup = {}
    with reference_sandbox() as ref:
        with SandboxStudent(_lookup_cells(), name="lookup") as student:
            assert student.load_report.errors == []
            for run in (runner.PUBLISHED, seed):
                graded_by_lookup[run] = runner.run_graders("a3_im2col", student, ref, seed=run)
        with SandboxStudent([Path(reference.__file__).read_text()], name="honest") as honest:
            honest_outcomes = runner.run_graders("a3_im2col", honest, ref, seed=seed)
    looked_up = [o for o in graded_by_lookup[runner.PUBLISHED] if not o.public
                 and o.kind in ("correctness", "timing", "memory")]
    assert {o.kind for o in looked_up} == {"correctness", "timing", "memory"}
    assert failures(looked_up) == []
    fresh = graded_by_lookup[seed]
    assert all(o.status == "failed" and o.score == 0 for o in fresh if not o.public), failures(fresh)
    assert runner.score_summary(fresh)["score"] == 0
    assert runner.score_summary(honest_outcomes)["score"] == 100, failures(honest_outcomes)
