"""The course's rules as helpers read them: helpers/data/course_rules.json, generated from the
graders' side by tools/make_student_data.py (helpers never import autograder).

    rules()["misconceptions"]["true-convolution"]["hint"]
    rules()["tolerances"]["float64"]            # [rtol, atol]
    rules()["speedups"]["conv_forward_im2col"]  # what helpers.timing.report_speedup expects

tools/make_student_data.py's docstring lists every key.
"""
import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def rules():
    """course_rules.json, as a dict (read once)."""
    return json.loads(resources.files("helpers").joinpath("data", "course_rules.json")
                      .read_text(encoding="utf-8"))
