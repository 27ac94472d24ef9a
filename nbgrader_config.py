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
