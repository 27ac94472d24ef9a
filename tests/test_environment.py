"""The setup is what the README promises: one set of pins, and `make test` / `make grade` / CI
running through the project's .venv."""
import os
import re
import shlex
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
import yaml  # PyYAML: required by jupyter-events, hence by the pinned jupyterlab

ROOT = Path(__file__).resolve().parents[1]


def normalize(name):
    """PEP 503 name: case-insensitive, runs of -_. are one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements_pins():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)", line)
        assert match, f"requirements.txt: {line!r} is not pinned as name==version"
        pins[normalize(match[1])] = match[2]
    return pins


def environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def environment_pins():
    """Conda pins (name=version) and the pip: section's pins (name==version), python/pip left out."""
    pins, pip_section = {}, []
    for dep in environment()["dependencies"]:
        if isinstance(dep, dict):
            pip_section += dep["pip"]
            continue
        name, _, version = dep.partition("=")
        if name in ("python", "pip"):
            continue
        assert re.fullmatch(r"[0-9][A-Za-z0-9.+!-]*", version), f"environment.yml: {dep!r} is not pinned"
        pins[normalize(name)] = version
    for dep in pip_section:
        if dep.startswith("-e"):
            continue
        name, sep, version = dep.partition("==")
        assert sep, f"environment.yml pip section: {dep!r} is not pinned as name==version"
        assert normalize(name) not in pins, f"{name} is pinned both by conda and by pip"
        pins[normalize(name)] = version
    return pins


def test_requirements_and_environment_pin_the_same_versions():
    req, env = requirements_pins(), environment_pins()
    assert req, "requirements.txt pins nothing"
    assert req == env, {n: (req.get(n), env.get(n)) for n in req.keys() | env.keys() if req.get(n) != env.get(n)}


def test_environment_installs_the_project_and_the_same_python():
    env = environment()
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section
    assert "nbval" in {normalize(d.partition("==")[0]) for d in pip_section}
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    requires = re.search(r'requires-python\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text())[1]
    assert python == "python=3.11" and requires == ">=3.11,<3.12", (python, requires)


def test_installed_packages_are_the_pinned_ones():
    wrong = {}
    for name, version in requirements_pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"pinned vs installed: {wrong}"


def test_ci_runs_make_test():
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK), ".ci/run is not executable"
    commands = [line.strip() for line in script.read_text().splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert any(re.fullmatch(r"set -\w*e\w*( -o pipefail)?|set -euo pipefail", c) for c in commands), commands
    assert commands[-1] == "make test", commands


def make_dry_run(target):
    """The commands `make TARGET` would run, variables expanded, nothing executed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    done = subprocess.run(["make", "--no-print-directory", "-n", target], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [shlex.split(line) for line in done.stdout.splitlines() if line.strip()]


def runs_venv_python(commands, module_args):
    """True when some command runs `.venv/bin/python -m <module_args...>`."""
    for words in commands:
        for at, word in enumerate(words):
            if word in (".venv/bin/python", str(ROOT / ".venv" / "bin" / "python")) \
                    and words[at + 1:at + 1 + len(module_args)] == module_args:
                return True
    return False


@pytest.mark.parametrize("target, module_args", [("test", ["-m", "pytest"]),
                                                  ("grade", ["-m", "autograder", "grade"]),
                                                  ("bench", ["-m", "autograder.bench"])])
def test_make_targets_run_through_the_venv(target, module_args):
    commands = make_dry_run(target)
    assert runs_venv_python(commands, module_args), f"make {target} runs {commands}"


def test_make_test_keeps_jupyter_state_in_the_repository():
    commands = [w for w in make_dry_run("test") if "pytest" in w]
    settings = dict(word.split("=", 1) for word in commands[0] if re.fullmatch(r"[A-Z_]+=.*", word))
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        assert var in settings and Path(settings[var]).is_relative_to(ROOT), (var, settings.get(var))



def test_make_lab_starts_jupyter_from_the_student_environment():
    """`make lab` builds build/student-venv (the notebooks' libraries at requirements.txt's pins
    and the helpers-only student package, never the grader) and starts JupyterLab from it in
    notebooks/ with no PYTHONPATH: the repository root is on no kernel's path."""
    commands = make_dry_run("lab")
    student_python = "build/student-venv/bin/python"
    lab = [w for w in commands if any(word.endswith("/jupyter") for word in w)]
    assert len(lab) == 1, commands
    (words,) = lab
    jupyter = next(word for word in words if word.endswith("/jupyter"))
    assert jupyter == str(ROOT / "build" / "student-venv" / "bin" / "jupyter"), words
    assert words[:3] == ["cd", "notebooks", "&&"] and words[words.index(jupyter) + 1] == "lab", words
    assert ["-u", "PYTHONPATH"] == words[words.index("env") + 1:words.index("env") + 3], words
    assert not any(".venv" in word or "PYTHONPATH=" in word for word in words), words

    installs = [w for w in commands if w[:4] == [student_python, "-m", "pip", "install"]]
    assert [w for w in installs if "--no-deps" in w and "./build/student-package" in w], installs
    (pins,) = [w for w in installs if "-r" in w]
    assert pins[pins.index("-r") + 1] == "build/student-package/requirements.txt"
    (grep,) = [w for w in commands if w[:2] == ["grep", "-E"]]
    chosen = {n: v for n, v in requirements_pins().items() if re.match(grep[2], f"{n}==")}
    assert set(chosen) == {"numpy", "matplotlib", "jupyterlab", "notebook", "ipykernel"}, chosen
    assert any("student_package" in word for w in commands for word in w), commands
