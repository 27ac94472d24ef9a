"""What grading a notebook needs from the rest of the autograder, passed around as one object.

    backend = caged()                                # the real one: extract, sandbox, runner
    grade_batch(subs, out, backend=backend)          # tests pass a stand-in Backend instead

The scheduler hands the Backend to each worker process inside its pickled Job: its fields are
module-level functions and classes, which pickle by reference, so a stand-in works in the
workers as long as its module is importable there.
"""
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable


@dataclass(frozen=True)
class Backend:
    """load_submission(path, data=bytes) -> extract.NotebookCode, or raises SubmissionError.
    student_sandbox(cells, name=, hidden_paths=, scratch_root=, allow_partial=) -> a context
        manager giving the student (sandbox.SandboxStudent: call, call_full, has, source,
        isolation, isolation_note, load_report).
    reference_sandbox(scratch_root=, allow_partial=) -> the same for the reference.
    hidden_paths(*extra) -> the paths every cage hides (the grader's own, plus `extra`).
    run_graders(assignment, student, reference_student=, seed=) -> [runner.TestOutcome]."""
    load_submission: Callable
    SubmissionError: type
    student_sandbox: Callable
    reference_sandbox: Callable
    hidden_paths: Callable
    run_graders: Callable


@lru_cache(maxsize=1)
def caged():
    """The real backend: autograder.extract, autograder.sandbox and autograder.runner (imported
    on first use: the runner brings pytest along)."""
    from autograder.extract import SubmissionError, load_submission
    from autograder.runner import run_graders
    from autograder.sandbox import SandboxStudent, default_hidden_paths, reference_sandbox
    return Backend(load_submission=load_submission, SubmissionError=SubmissionError,
                   student_sandbox=SandboxStudent, reference_sandbox=reference_sandbox,
                   hidden_paths=default_hidden_paths, run_graders=run_graders)
