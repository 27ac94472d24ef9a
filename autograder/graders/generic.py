"""The tests every contract function gets from its entry in autograder.contract.

A grader module (test_<assignment>.py) defines only the tests special to its assignment and
ends with

    add_generic_tests(globals(), "<assignment>")

which puts, for each function of the assignment in the contract's order, these pytest tests
into the module (pytest runs a module's tests in that order, and results.json numbers them so):

    test_<f>_public         the notebook's public checks (its visible points)
    test_<f>                correctness on the contract's case grid, one test per case
    (the module's own tests of <f>, in the module's order)
    test_<f>_float32        float32 in, float32 out                    (keeps_dtype)
    test_<f>_no_mutation    the arguments are left unchanged           (unchanged)
    test_<f>_<bad input>    ValueError on each bad input               (bad_inputs)
    test_<f>_no_library     no library convolution in the source       (library_check)
    test_<f>_speed          time against the reference                 (timing)
    test_<f>_memory         peak extra memory against X_col            (memory)

Each with its @grades marker, so the runner scores them like any other grader test.
"""
import pytest

from autograder.cases import case_id
from autograder.contract import CONTRACT_CASE, graded
from autograder.graders import (check_keeps_dtype, check_matches, check_memory,
                                check_no_library_convolution, check_not_mutated, check_speed,
                                check_value_error, run_public_check, timed_cases_text)
from autograder.grading import grades

TIMING_WEIGHT, MEMORY_WEIGHT = 3, 2    # a correctness test's weight is in its contract entry


def _words(names):
    """The names in words: "x, w or b" for ("x", "w", "b")."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _public(s):
    @grades(s.function, "correctness", "the notebook's public checks", public=True,
            visibility="visible")
    def test(student):
        run_public_check(student, s.public_check, s.function, *s.public_check_with)
    return test


def _correctness(s):
    @grades(s.function, "correctness", s.correctness.name, weight=s.correctness.weight)
    @pytest.mark.parametrize("case", s.correctness.cases, ids=case_id)
    def test(student, seed, case):
        check_matches(student, s.function, case, seed=seed)
    return test


def _float32(s):
    @grades(s.function, "contract", "keeps float32 as float32")
    def test(student, seed):
        check_keeps_dtype(student, s.function, CONTRACT_CASE, seed=seed)
    return test


def _no_mutation(s):
    @grades(s.function, "contract", f"does not modify {_words(s.unchanged)}")
    def test(student, seed):
        check_not_mutated(student, s.function, CONTRACT_CASE, seed=seed)
    return test


def _bad_input(s, bad):
    @grades(s.function, "robustness", bad.name)
    def test(student):
        check_value_error(student, s.function, *bad.build())
    return test


def _no_library(s):
    @grades(s.function, "contract", "uses no library convolution")
    def test(student):
        check_no_library_convolution(student, s.function)
    return test


def _speed(s):
    @grades(s.function, "timing", f"{s.timing.claim} on {timed_cases_text(s.function)}",
            weight=TIMING_WEIGHT)
    def test(student, seed, reference_student):
        check_speed(student, reference_student, s.function, seed=seed)
    return test


def _memory(s):
    @grades(s.function, "memory", f"peak extra memory at most {s.memory.factor:g}x its X_col on "
            f"{s.memory.case.describe()}", weight=MEMORY_WEIGHT)
    def test(student, seed):
        check_memory(student, s.function, seed=seed)
    return test


def generic_tests(s, special=()):
    """[(name, test)] of contract entry `s` in order, with `special` [(name, test)] (the grader
    module's own tests of that function) after the correctness tests."""
    f = s.function
    tests = [(f"test_{f}_public", _public(s))]
    if s.correctness:
        tests.append((f"test_{f}", _correctness(s)))
    tests += list(special)
    if s.keeps_dtype:
        tests.append((f"test_{f}_float32", _float32(s)))
    if s.unchanged:
        tests.append((f"test_{f}_no_mutation", _no_mutation(s)))
    tests += [(f"test_{f}_{bad.id}", _bad_input(s, bad)) for bad in s.bad_inputs]
    if s.library_check:
        tests.append((f"test_{f}_no_library", _no_library(s)))
    if s.timing:
        tests.append((f"test_{f}_speed", _speed(s)))
    if s.memory:
        tests.append((f"test_{f}_memory", _memory(s)))
    return tests


def _graded_function(test):
    """The function a test's @grades marker names (None without one)."""
    marks = [m for m in getattr(test, "pytestmark", ()) if m.name == "grades"]
    return marks[0].kwargs["function"] if marks else None


def add_generic_tests(namespace, assignment):
    """Put the tests of `assignment` into a grader module's `namespace` (its globals()), in
    the order of the module docstring: the module's own test_* functions are moved after the
    correctness tests of the function their @grades names (unmarked ones last, where the runner
    reports them as grader errors). ValueError when a generated name is taken."""
    own = {name: namespace.pop(name) for name in [n for n in namespace if n.startswith("test_")]}
    ordered = []
    for s in graded(assignment):
        ordered += generic_tests(s, [(n, t) for n, t in own.items()
                                     if _graded_function(t) == s.function])
    placed = {id(t) for _, t in ordered}
    ordered += [(n, t) for n, t in own.items() if id(t) not in placed]
    for name, test in ordered:
        if name in namespace:
            raise ValueError(f"{assignment}: two tests are named {name}")
        test.__name__ = test.__qualname__ = name
        test.__module__ = namespace["__name__"]
        namespace[name] = test
