"""nbgrader configuration: solutions/ is the source directory, notebooks/ the student release.

Run nbgrader commands from the repository root. The course root is exported to every kernel
nbgrader starts (CONV_COURSE_ROOT) so hidden test cells can import the graders.
"""
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("CONV_COURSE_ROOT", str(ROOT))

c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.course_id = "conv-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'gradebook.db'}"

# Release notebooks carry no outputs; students get clean stubs.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A cell may run this long before its kernel is interrupted (nbgrader's default is 30 s).
c.Execute.timeout = 120
# Neither a numpy RuntimeWarning nor any other warning on a test cell's stderr may cost the cell
# its points (nbgrader scores any stderr output as a failure); kernels inherit this environment.
os.environ.setdefault("PYTHONWARNINGS", "ignore")

# Feedback never shows hidden tests: empty the hidden cells' outputs (a traceback there can quote
# a grader), then remove their hidden source with nbgrader's ClearHiddenTests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.nbgrader_bridge.ClearHiddenTestOutputs",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Caged scoring (`python -m autograder nbgrader <assignment>`, docs/INSTRUCTORS.md) runs
# `nbgrader autograde` with CONV_CAGED_RESULTS set: no student code runs in an nbgrader kernel;
# the grade cells' outputs and scores come from the caged grader's results.json files.
if os.environ.get("CONV_CAGED_RESULTS"):
    from autograder.nbgrader_bridge import caged_autograde_preprocessors
    c.Autograde.autograde_preprocessors = caged_autograde_preprocessors()
    c.CagedVerdicts.results_dir = os.environ["CONV_CAGED_RESULTS"]
