"""Fixtures of the hidden graders.

- `student`: the submission (autograder.student's interface), as given to
  autograder.runner.run_graders;
- `reference_student`: a student-like object running the reference, timed through the same
  harness as `student`;
- `reference`: the module autograder.reference;
- `seed`: the run's seed, which decides every hidden number (autograder.runner.run_graders draws
  a fresh one per grading run); None means the published numbers of the case table.

Run directly (`pytest autograder/graders/test_a1_naive.py`), the graders grade the reference
itself on the published numbers: every test should pass, which is how an instructor checks a
new test.
"""
import pytest

from autograder import reference as reference_module
from autograder.runner import SESSION_KEY, default_reference_student


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "grades(function, kind, name, weight, visibility, public): what a hidden "
                   "grader test grades (autograder.grading.grades)")


def _session(request):
    return request.config.stash.get(SESSION_KEY, None)


@pytest.fixture
def student(request):
    session = _session(request)
    return session.student if session else default_reference_student()


@pytest.fixture
def reference_student(request):
    session = _session(request)
    return session.reference_student if session else default_reference_student()


@pytest.fixture
def reference():
    return reference_module


@pytest.fixture
def seed(request):
    session = _session(request)
    return session.seed if session else None
