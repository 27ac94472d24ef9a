"""The Gradescope autograder of one assignment.

    python -m autograder gradescope a3_im2col --out DIR   ->  DIR/a3_im2col-gradescope.zip

Upload the zip as the assignment's autograder (Ubuntu 22.04 base image). Gradescope unpacks it
into /autograder/source and runs `setup.sh` once, as root: Python 3.11 and a venv with the
course's pinned requirements and the course installed as in development (`pip install -e`). For
every submission it runs `run_autograder`, which grades the notebooks in /autograder/submission
with the CLI's caged grader (`python -m autograder grade`) and writes
/autograder/results/results.json. Gradescope runs it as root, so the cage (autograder.sandbox)
runs the student's code under an unprivileged uid of its own, in a mount namespace where the
graders are hidden; setup.sh also closes autograder/ to every other user.

The zip holds:

    setup.sh, run_autograder              the two scripts Gradescope runs
    autograder/, helpers/                 the grader and the public helpers (never shown to students)
    requirements.txt, pyproject.toml      the pins setup.sh installs

Whatever happens, results.json is written: a submission that cannot be graded (no notebook, a
notebook of another assignment, two candidates, a grader failure) gets score 0 and an `output`
that says why in words and what to upload, never a silent 0. Gradescope shows the top-level
`output` at once, so it speaks only of the visible tests and of what the student must fix; the
hidden tests keep their `after_due_date` visibility (their verdicts and diagnosed mistakes appear
after the due date). `AUTOGRADER_ROOT` (default /autograder) moves the whole tree, so the scripts
run unchanged against a simulated /autograder (docs/INSTRUCTORS.md, tested).
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from autograder import report
from autograder.contract import graded
from autograder.submissions import UNRECOGNISED

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("autograder", "helpers")
SOURCE_FILES = ("requirements.txt", "pyproject.toml")
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
# Seconds the scheduler may spend on one submission: under Gradescope's own default limit of 600 s,
# so a hang becomes our `error` result with its reason instead of Gradescope's bare timeout.
GRADE_TIMEOUT_S = 540
# Set to a run's seed (printed in the instructors' output of that run) to grade with the same
# hidden inputs again; unset, every submission gets a fresh seed.
SEED_ENV = "AUTOGRADER_SEED"

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04).
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3.11 python3.11-venv
python3.11 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --no-cache-dir --disable-pip-version-check \\
    -r /autograder/source/requirements.txt
/autograder/venv/bin/python -m pip install --no-cache-dir --disable-pip-version-check \\
    --no-deps -e /autograder/source
# Student code runs under the cage's own unprivileged uid: it may reach helpers/ and the venv,
# never the graders and the reference (even where the container forbids mount namespaces).
chmod 711 /autograder/source
chmod -R go= /autograder/source/autograder
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission of {assignment}. It always leaves a results.json.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
export PYTHONPATH="$ROOT/source" PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg
cd "$ROOT/source"
"$PY" -m autograder.gradescope run {assignment} --root "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  mkdir -p "$ROOT/results"
  printf '%s\\n' '{{"score": 0, "execution_time": 0, "tests": [], "output": "The autograder failed before it could grade this submission (exit status '"$status"'). This is not your grade: please tell the course staff."}}' \\
    > "$ROOT/results/results.json"
fi
"""


def source_files(root=ROOT):
    """[(path, name inside the zip)] of the course files the autograder needs."""
    root = Path(root)
    files = [(root / name, name) for name in SOURCE_FILES]
    for folder in SOURCE_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not SKIPPED_PARTS & set(rel.parts) and path.suffix != ".pyc":
                files.append((path, rel.as_posix()))
    return files


def build(assignment, out_dir, root=ROOT):
    """Write DIR/<assignment>-gradescope.zip; returns its path. ValueError for an unknown id."""
    graded(assignment)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / f"{assignment}-gradescope.zip"
    scripts = {"setup.sh": SETUP_SH, "run_autograder": RUN_AUTOGRADER.format(assignment=assignment)}
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16          # executable once unpacked
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
        for path, name in source_files(root):
            zf.write(path, name)
    return archive


def _refusal(reason, assignment, started):
    """results.json for a submission that could not be graded: status error and the reason."""
    return report.error_results(reason, info={"student": "gradescope", "assignment": assignment},
                                execution_time=time.monotonic() - started)


def _total(points):
    """Points summed exactly and written as people write them: 27, 13.2."""
    return f"{round(math.fsum(points), 1):g}"


def _visible_summary(tests):
    """Lines about the visible tests only, and how many hidden tests wait for the due date."""
    shown = [t for t in tests if t["visibility"] == "visible"]
    later = [t for t in tests if t["visibility"] != "visible"]
    points = {}
    for t in shown:
        points.setdefault(t["name"].split(":", 1)[0], []).append(t)
    per_function = "; ".join(f"{f} {_total(t['score'] for t in ts)}/"
                             f"{_total(t['max_score'] for t in ts)}"
                             for f, ts in points.items())
    passed = sum(t["score"] >= t["max_score"] for t in shown)
    lines = [f"Visible checks: {passed} of {len(shown)} passed, "
             f"{_total(t['score'] for t in shown)}/"
             f"{_total(t['max_score'] for t in shown)} points ({per_function})."]
    if later:
        lines.append(f"Hidden tests: {len(later)} more, worth "
                     f"{_total(t['max_score'] for t in later)} points; their "
                     "results appear after the due date.")
    return lines


def for_students(results, assignment):
    """The results.json Gradescope stores: the top-level `output`, which students see at once,
    tells only the visible tests' outcome and what the student must fix (never a hidden total, a
    hidden verdict or a diagnosed mistake); a submission that could not be graded says why and
    what to upload. Tests, score and extra_data are kept; stdout stays hidden."""
    extra = results.get("extra_data") or {}
    if extra.get("status") == report.GRADED:
        lines = _visible_summary(results["tests"])
        problems = [str(p) for p in extra.get("problems") or []]
        if problems:
            lines += ["Fix these in your notebook:", *(f"  - {p}" for p in problems)]
    else:
        lines = [f"Not graded: {extra.get('reason') or 'the grader could not read the submission'}.",
                 f"This is not a grade: upload {assignment}.ipynb and submit again (the notebook "
                 "you worked in, saved after Restart & Run All). If this message stays, tell the "
                 "course staff."]
    return dict(results, output="\n".join(lines), stdout_visibility="hidden")


def grade_submission(root, assignment, python=sys.executable):
    """Grade ROOT/submission for `assignment` and return the results.json dict (not written)."""
    started = time.monotonic()
    root = Path(root)
    notebooks = sorted(p for p in (root / "submission").rglob("*.ipynb")
                       if not SKIPPED_PARTS & set(p.parts))
    if not notebooks:
        return _refusal("no notebook (.ipynb) found in the submission", assignment, started)
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        work, out = Path(tmp) / "submission", Path(tmp) / "out"
        work.mkdir()
        for i, nb in enumerate(notebooks):          # flat copies: one name per notebook
            shutil.copy(nb, work / (nb.name if len(notebooks) == 1 else f"{i}_{nb.name}"))
        os.chmod(tmp, 0o755)
        cmd = [python, "-m", "autograder", "grade", str(work), "--out", str(out),
               "--timeout", str(GRADE_TIMEOUT_S)]
        if os.environ.get(SEED_ENV):                # replay a run whose seed the staff log shows
            cmd += ["--seed", os.environ[SEED_ENV]]
        try:
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                                  timeout=GRADE_TIMEOUT_S + 30)
        except subprocess.TimeoutExpired:
            return _refusal(f"the grader did not finish within {GRADE_TIMEOUT_S + 30} s",
                            assignment, started)
        found = {}
        for path in out.glob("*/*/results.json"):
            found.setdefault(path.parent.name, []).append(json.loads(path.read_text()))
        staff_log = out / "grading.log"          # the run's seed: instructors only (stderr)
        if staff_log.exists():
            sys.stderr.write(staff_log.read_text(errors="replace")[-4000:])
    sys.stderr.write(done.stderr[-4000:])
    mine = found.get(assignment, [])
    if len(mine) == 1:
        return mine[0]
    if len(mine) > 1:
        return _refusal(f"the submission holds {len(mine)} notebooks of {assignment} "
                        f"({', '.join(p.name for p in notebooks)}), and only one can be graded",
                        assignment, started)
    if set(found) == {UNRECOGNISED}:
        return found[UNRECOGNISED][0]                                     # the scheduler says why
    if found:
        found.pop(UNRECOGNISED, None)
        return _refusal(f"this Gradescope assignment grades {assignment}, but the uploaded notebook "
                        f"is {', '.join(sorted(found))}", assignment, started)
    return _refusal(f"the grader produced no result (exit status {done.returncode})",
                    assignment, started)


def run_submission(root, assignment):
    """Grade ROOT/submission and write ROOT/results/results.json (atomically)."""
    data = for_students(grade_submission(root, assignment), assignment)
    report.write_atomic(Path(root) / "results" / "results.json", json.dumps(data, indent=1) + "\n")
    return data


def register(subparsers):
    """Add the `gradescope` subcommand (building the zip) to the CLI's subparsers."""
    p = subparsers.add_parser("gradescope", help="build the Gradescope autograder zip of an assignment",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("assignment", help="assignment id, e.g. a3_im2col")
    p.add_argument("--out", required=True, type=Path, help="folder for <assignment>-gradescope.zip")
    p.set_defaults(func=_run_build)
    return p


def _run_build(args):
    try:
        print(build(args.assignment, args.out))
    except ValueError as e:
        print(f"gradescope: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    """`python -m autograder gradescope <assignment> --out DIR`, standalone."""
    parser = argparse.ArgumentParser(prog="python -m autograder")
    register(parser.add_subparsers(required=True))
    args = parser.parse_args(["gradescope", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


def run_main(argv=None):
    """`python -m autograder.gradescope run <assignment> --root R`: what run_autograder calls."""
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope run")
    parser.add_argument("assignment")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")))
    args = parser.parse_args(argv)
    data = run_submission(args.root, args.assignment)
    print(f"{args.assignment}: {data['score']} / {data.get('max_score', 100)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(sys.argv[2:]) if sys.argv[1:2] == ["run"] else main())
