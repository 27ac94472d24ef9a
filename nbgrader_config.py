"""nbgrader configuration: solutions/ is the source directory, notebooks/ the student release.

Run nbgrader commands from the repository root. Autograding is caged unless
CONV_PRACTICE_IN_KERNEL=1 (below).
"""
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

ROOT = Path(__file__).resolve().parent

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

# Every autograde is caged (`nbgrader autograde`, formgrader's Autograde button, the API; see
# autograder/nbgrader_bridge.py): nbgrader's Execute step is replaced by CagedVerdicts, which reads
# (or, if missing, makes) the caged grader's results.json of each submitted notebook, so no student
# code runs in an nbgrader kernel. Results live in build/nbgrader-caged/<assignment>/ unless
# CONV_CAGED_RESULTS names another folder. CONV_PRACTICE_IN_KERNEL=1 keeps nbgrader's own Execute,
# for practice rounds only: student code then shares the kernel with the hidden tests.
if os.environ.get("CONV_PRACTICE_IN_KERNEL") != "1":
    if str(ROOT) not in sys.path:      # the course's grader, whatever directory nbgrader runs in
        sys.path.insert(0, str(ROOT))
    from autograder.nbgrader_bridge import DEFAULT_RESULTS, caged_autograde_preprocessors
    c.Autograde.autograde_preprocessors = caged_autograde_preprocessors()
    c.CagedVerdicts.results_dir = os.environ.get("CONV_CAGED_RESULTS", DEFAULT_RESULTS)
