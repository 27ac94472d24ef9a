"""Write helpers/data/course_rules.json, what students' helpers read of the course's rules.

    python -m tools.make_student_data [--out PATH]      (`make notebooks` runs it first)

Each fact is declared once on the grader's side, and this file is generated from there:

    misconceptions       autograder/misconceptions.py: id -> description, hint, hints (a
                         function's own hint), functions it shows in, raises (exceptions that
                         point to it)
    tolerances           autograder/student_rules.py: dtype -> [rtol, atol], and adjoint_rtol
    forbidden_libraries  autograder/student_rules.py
    public_checks        autograder/contract.py: check -> the functions it checks
    bad_inputs           autograder/contract.py: function -> the inputs it must refuse with
                         ValueError ([{name, args, text}], an array argument as {shape, fill})
    speedups             autograder/student_rules.py SPEEDUPS with the limits and hints of the
                         timing tests in autograder/contract.py: function -> {baseline,
                         baseline_words, family, case, describe, measured, at_least, look_for}

helpers never import autograder; tests/test_helpers.py checks that the shipped file is what
this tool writes.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

from autograder import contract, misconceptions, student_rules

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "helpers" / "data" / "course_rules.json"
CASE_FIELDS = ("H", "W", "C", "M", "K", "f", "stride", "pad", "seed")


def _misconceptions():
    return {m.id: {"description": m.description, "hint": m.hint, "hints": dict(m.hints),
                   "functions": list(m.functions), "raises": [list(r) for r in m.raises]}
            for m in misconceptions.TABLE}


def _argument(value):
    """A bad input's argument as JSON: numbers and tuples as they are, an array filled with one
    value as {"shape", "fill"} (the only arrays bad inputs are made of)."""
    if isinstance(value, np.ndarray):
        fill = value.flat[0] if value.size else 0.0
        if not np.all(value == fill):
            raise ValueError(f"a bad input's array must hold one value, got {value!r}")
        return {"shape": list(value.shape), "fill": float(fill)}
    if isinstance(value, tuple):
        return [_argument(v) for v in value]
    return value


def _public_checks():
    out = {}
    for function, spec in contract.FUNCTIONS.items():
        out.setdefault(spec.public_check, []).append(function)
    return out


def _bad_inputs():
    out = {}
    for function, spec in contract.FUNCTIONS.items():
        cases = []
        for bad in spec.bad_inputs:
            args, text = bad.build()
            cases.append({"name": bad.name, "args": [_argument(a) for a in args], "text": text})
        if cases:
            out[function] = cases
    return out


def _speedup(entry):
    """One SPEEDUPS entry with the least speed-up the function's timing test accepts: its limit
    is a ratio to `reference_function` (the baseline: at least 1 / max_ratio) or to its own
    reference (as fast as the measured speed-up / max_ratio)."""
    spec = contract.spec(entry.function)
    timing = spec.timing
    if timing.reference_function == entry.baseline:
        at_least = 1 / timing.max_ratio
    else:
        at_least = entry.measured / timing.max_ratio
    return {"baseline": entry.baseline, "baseline_words": entry.baseline_words, "family": spec.family,
            "case": {k: getattr(entry.case, k) for k in CASE_FIELDS}, "describe": entry.case.describe(),
            "measured": entry.measured, "at_least": round(at_least, 3), "look_for": timing.hint}


def build():
    """The contents of course_rules.json, as a dict."""
    return {
        "generated_by": "tools/make_student_data.py (from autograder/misconceptions.py, "
                        "student_rules.py and contract.py): do not edit",
        "misconceptions": _misconceptions(),
        "tolerances": {dtype: list(pair) for dtype, pair in student_rules.TOLERANCES.items()},
        "adjoint_rtol": student_rules.ADJOINT_RTOL,
        "forbidden_libraries": list(student_rules.FORBIDDEN_LIBRARIES),
        "public_checks": _public_checks(),
        "bad_inputs": _bad_inputs(),
        "speedups": {e.function: _speedup(e) for e in student_rules.SPEEDUPS},
    }


def render():
    """course_rules.json's text: the same bytes for the same rules."""
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
