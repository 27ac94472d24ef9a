"""The registry of contract functions (autograder/contract.py) is complete and consistent with
the reference, the notebooks, the public checks and the graders; and adding an entry is enough
to get a function's generic grader tests (a throw-away assignment with a toy function, graded
end to end)."""
import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from autograder import config, contract, misconceptions, reference, runner
from autograder.cases import GRID
from autograder.contract import (ASSIGNMENTS, CONTRACT_CASE, FUNCTIONS, TIMING, Assignment,
                                 BadInput, Correctness, Spec, Timing, inputs)
from autograder.graders.generic import add_generic_tests
from autograder.student import InProcessStudent

ROOT = Path(__file__).resolve().parents[1]
GRADERS = ROOT / "autograder" / "graders"
SPECS = list(FUNCTIONS.values())


def _ids(specs):
    return [s.function for s in specs]


# --------------------------------------------------------------------------- complete
def test_every_reference_function_has_exactly_one_entry_with_its_signature():
    assert sorted(FUNCTIONS) == sorted(reference.__all__)
    assert sum(len(specs) for specs in ASSIGNMENTS.values()) == len(FUNCTIONS)
    for s in SPECS:
        assert f"({s.signature})" == str(inspect.signature(getattr(reference, s.function))), s.function


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_points_of_each_assignment_sum_to_the_configured_total(assignment):
    specs = contract.graded(assignment)
    assert specs and all(s.visible_points > 0 and s.hidden_points > 0 for s in specs)
    assert sum(s.points for s in specs) == config.POINTS_PER_ASSIGNMENT


def test_every_assignment_has_a_title_and_a_notebook_module_in_course_order():
    from tools.notebooks import ORDER
    assert ORDER == tuple(a.id for a in contract.COURSE) == tuple(contract.TITLES)
    for a in contract.COURSE:
        assert a.title.strip() and (ROOT / "tools" / "notebooks" / f"{a.id}.py").exists()
        assert (GRADERS / f"test_{a.id}.py").exists()


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="a1_naive"):
        contract.graded("a9")
    with pytest.raises(ValueError, match="conv_forward_fft"):
        contract.spec("conv_forward_slow")
    with pytest.raises(ValueError, match="no inputs defined for 'conv_forward_slow'"):
        inputs("conv_forward_slow", CONTRACT_CASE)
    with pytest.raises(ValueError, match="family must be one of"):
        Spec("f", "x", "y", None, None, 1, 1, "check_f", family="sideways")


# --------------------------------------------------------------------------- consistent
@pytest.mark.parametrize("s", SPECS, ids=_ids(SPECS))
def test_arguments_results_and_bad_inputs_fit_the_reference(s):
    fn = getattr(reference, s.function)
    args = inputs(s.function, CONTRACT_CASE)
    value = fn(*args)
    if isinstance(s.result, tuple):
        assert isinstance(value, tuple) and len(value) == len(s.result)
    else:
        assert not isinstance(value, tuple)
    cases = s.correctness.cases if s.correctness else ()
    for case in cases:
        inspect.signature(fn).bind(*inputs(s.function, case))
    assert s.where(CONTRACT_CASE)
    assert set(s.unchanged) <= set(s.parameters)
    for bad in s.bad_inputs:
        bad_args, words = bad.build()
        with pytest.raises(ValueError):
            fn(*bad_args)
        assert words and bad.name.startswith("ValueError")


@pytest.mark.parametrize("s", [s for s in SPECS if s.same_as], ids=_ids(s for s in SPECS if s.same_as))
def test_a_faster_reference_computes_the_same_values(s):
    assert FUNCTIONS[s.same_as].signature == s.signature
    for case in s.correctness.cases[:4]:
        args = inputs(s.function, case)
        slow, fast = getattr(reference, s.function)(*args), getattr(reference, s.same_as)(*args)
        for a, b in zip(*((v,) if not isinstance(v, tuple) else v for v in (slow, fast))):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_families_are_the_misconception_table_s_and_share_a_signature():
    assert misconceptions.FORWARD is contract.FORWARD and misconceptions.BACKWARD is contract.BACKWARD
    assert contract.FORWARD and contract.BACKWARD
    for family in contract.FAMILIES:
        signatures = {s.signature for s in SPECS if s.family == family}
        assert len(signatures) == 1, (family, signatures)


def test_every_timed_function_has_cases_a_limit_a_hint_and_a_reference():
    timed = [s for s in SPECS if s.timing]
    assert list(TIMING) == [s.function for s in timed] and timed
    for s in timed:
        t = s.timing
        assert t.cases and all(case.H_out > 0 and case.W_out > 0 for case in t.cases)
        assert 0 < t.max_ratio and t.claim and t.hint.endswith(".")
        assert t.reference_function is None or t.reference_function in FUNCTIONS
    for s in SPECS:
        if s.memory:
            assert s.memory.factor > 0 and s.memory.case.col_shape[1] > 0


@pytest.mark.parametrize("s", SPECS, ids=_ids(SPECS))
def test_the_public_check_is_what_the_visible_test_cell_calls(s):
    from helpers import checks
    assert callable(getattr(checks, s.public_check))
    given = [name.removeprefix("reference.") for name in s.public_check_with]
    assert all(callable(getattr(reference, name)) for name in given)
    assignment = contract.FUNCTION_TO_ASSIGNMENT[s.function]
    nb = json.loads((ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                == contract.visible_test_id(s.function))
    assert f"{s.public_check}({', '.join([s.function, *given])})" in "".join(cell["source"])


# --------------------------------------------------------------------------- generated tests
def _expected(s):
    """The generic tests an entry asks for: (kind, the start of the test's name)."""
    wanted = [("correctness", "the notebook's public checks")]
    wanted += [("correctness", s.correctness.name.split("{")[0])] if s.correctness else []
    wanted += [("contract", "keeps float32 as float32")] if s.keeps_dtype else []
    wanted += [("contract", f"does not modify {s.unchanged[0]}")] if s.unchanged else []
    wanted += [("robustness", bad.name) for bad in s.bad_inputs]
    wanted += [("contract", "uses no library convolution")] if s.library_check else []
    wanted += [("timing", s.timing.claim)] if s.timing else []
    wanted += [("memory", "peak extra memory")] if s.memory else []
    return wanted


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_every_entry_gets_its_generic_tests_in_the_contract_s_order(assignment):
    outcomes = runner.run_graders(assignment, InProcessStudent({}))      # nothing defined: quick
    assert not [o.name for o in outcomes if o.status == "error"]
    functions = [o.function for o in outcomes]
    assert sorted(set(functions), key=functions.index) == _ids(contract.graded(assignment))
    assert functions == sorted(functions, key=functions.index), "each function's tests together"
    for s in contract.graded(assignment):
        mine = [(o.kind, o.name.removeprefix(f"{s.function}: ")) for o in outcomes
                if o.function == s.function]
        assert mine[0] == ("correctness", "the notebook's public checks")
        for kind, start in _expected(s):
            assert any(k == kind and n.startswith(start) for k, n in mine), (s.function, kind, start)


def test_a_special_test_named_like_a_generic_one_is_refused():
    def test_zero_pad_float32(student):
        pass

    namespace = {"__name__": "graders_clash", "test_zero_pad_float32": test_zero_pad_float32}
    with pytest.raises(ValueError, match="two tests are named test_zero_pad_float32"):
        add_generic_tests(namespace, "a1_naive")


# --------------------------------------------------------------------------- adding an entry
def _double(x):
    """The toy contract function: 2 * x for an array x."""
    if not isinstance(x, np.ndarray):
        raise ValueError(f"x must be an array, got {type(x).__name__}")
    return 2 * x


def check_double(double):
    """The toy's public check."""
    x = np.ones((2, 2, 1, 1))
    assert np.array_equal(double(x), 2 * x), "double(ones) is not twice ones"


TOY = Assignment("toy", "a toy assignment", (
    Spec("double", "x", result="y",
         arguments=lambda case, dtype, seed_offset, seed: (case.arrays(dtype, seed_offset, run_seed=seed)[0],),
         where=lambda case: f"x of shape {case.x_shape}",
         visible_points=10, hidden_points=90, public_check="check_double",
         correctness=Correctness(GRID[:3], "doubles x of shape {case.x_shape}", 4),
         unchanged=("x",),
         bad_inputs=(BadInput("scalar", "ValueError on a number", lambda: ((3.0,), "x = 3.0")),),
         timing=Timing(GRID[1:2], 50.0, "at most 50x the reference's time",
                       "Multiply the whole array at once.")),
))


@pytest.fixture
def toy_course(tmp_path, monkeypatch):
    """The registry with TOY added, its reference and public check, and a graders folder
    whose test_toy.py holds nothing but the generator's call."""
    from helpers import checks
    for s in TOY.functions:
        monkeypatch.setitem(contract.FUNCTIONS, s.function, s)
        monkeypatch.setitem(contract.FUNCTION_TO_ASSIGNMENT, s.function, TOY.id)
    monkeypatch.setitem(contract.ASSIGNMENTS, TOY.id, TOY.functions)
    monkeypatch.setattr(reference, "double", _double, raising=False)
    monkeypatch.setattr(checks, "check_double", check_double, raising=False)
    (tmp_path / "conftest.py").write_text((GRADERS / "conftest.py").read_text())
    (tmp_path / "test_toy.py").write_text("from autograder.graders.generic import add_generic_tests\n"
                                          "add_generic_tests(globals(), 'toy')\n")
    monkeypatch.setattr(runner, "GRADERS", tmp_path)


def _toy_student(body):
    source = f"import numpy as np\n\ndef double(x):\n{body}\n"
    namespace = {}
    exec(source, namespace)
    return InProcessStudent(namespace, source=source)


def test_a_new_entry_is_graded_by_its_generic_tests_alone(toy_course):
    right = _toy_student("    if not isinstance(x, np.ndarray):\n        raise ValueError('x')\n"
                         "    return x * 2")
    outcomes = runner.run_graders("toy", right)
    assert [(o.name, o.output, o.detail) for o in outcomes if o.status != "passed"] == []
    assert runner.score_summary(outcomes)["score"] == 100
    names = [o.name for o in outcomes]
    assert names[0] == "double: the notebook's public checks"
    assert "double: doubles x of shape (7, 9, 3, 2)" in names
    assert {"double: keeps float32 as float32", "double: does not modify x",
            "double: ValueError on a number", "double: uses no library convolution"} <= set(names)
    assert any(n.startswith("double: at most 50x the reference's time on x 7x9x3x2") for n in names)
    assert {o.kind for o in outcomes} == {"correctness", "contract", "robustness", "timing"}

    wrong = runner.run_graders("toy", _toy_student("    x += 1\n    return np.array(x, dtype=np.float64) * 3"))
    failed = {o.name for o in wrong if o.status == "failed"}
    assert {"double: doubles x of shape (7, 9, 3, 2)", "double: does not modify x",
            "double: keeps float32 as float32", "double: ValueError on a number"} <= failed
    assert runner.score_summary(wrong)["score"] == 0
