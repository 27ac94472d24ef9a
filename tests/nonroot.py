"""Run Python as an ordinary user (`nobody`), the way a teaching assistant without root grades.

    python = nonroot.venv()                 # a venv any user can execute, built once per session
    nonroot.run(["-c", "print(1)"])          # CompletedProcess, run as nobody:nogroup
    nonroot.run([...], user_namespaces=False)  # ... where user namespaces cannot be created

The project's .venv interpreter lives under /root/.pyenv, which `nobody` cannot execute, so the
venv is made from Debian's /usr/bin/python3.11 in a world-readable temporary folder, with the
packages the cage child and `python -m autograder grade` import (pinned as in requirements.txt)
and a .pth file putting the repository on its path (the cage child runs `python -I`, which
ignores PYTHONPATH). The tests run as root (CI does), so they can switch to `nobody`.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1]


def _reachable(path):
    """Whether other users can enter every folder above `path`."""
    return all(os.stat(p).st_mode & 0o005 == 0o005 for p in path.parents)


def _world_readable_copy(source):
    """A copy of the repository (without .venv, .git, build) in a world-readable temporary
    folder, for a clone that lives where other users cannot enter (e.g. under /root)."""
    folder = Path(tempfile.mkdtemp(prefix="conv-course-repo-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    copy = folder / source.name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".venv", ".git", "build",
                                                                "__pycache__"))
    subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
    return copy


# The repository nobody's grader runs from: this clone, or a copy where nobody can reach it.
REPO = SOURCE if _reachable(SOURCE) else _world_readable_copy(SOURCE)
SYSTEM_PYTHON = "/usr/bin/python3.11"
PACKAGES = ("numpy", "matplotlib", "nbformat", "pytest", "threadpoolctl")   # what `grade` imports
USER, GROUP = "nobody", "nogroup"
NOBODY_UID = 65534
_venv = None


def _pins():
    """`name==version` from requirements.txt for each of PACKAGES."""
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if version and name.strip() in PACKAGES:
            pins[name.strip()] = f"{name.strip()}=={version.strip()}"
    missing = set(PACKAGES) - set(pins)
    assert not missing, f"requirements.txt pins no version of {sorted(missing)}"
    return [pins[p] for p in PACKAGES]


def venv():
    """Path of the interpreter of a venv any user can run (built on first use, removed at exit)."""
    global _venv
    if _venv is None:
        assert os.geteuid() == 0, "tests that run as another user need root (CI runs as root)"
        folder = Path(tempfile.mkdtemp(prefix="conv-course-nonroot-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(folder / "venv")], check=True,
                       capture_output=True)
        python = folder / "venv" / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        *_pins()], check=True, capture_output=True)
        (site_packages(python) / "conv_course_repo.pth").write_text(f"{REPO}\n")
        subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
        _venv = python
    return _venv


def site_packages(python=None):
    """The site-packages folder of `python` (default: the venv's)."""
    python = python or venv()
    return Path(subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                               check=True, capture_output=True, text=True).stdout.strip())


# Started as root: a new user namespace whose uids 0..65535 are the host's, where creating
# further user namespaces is forbidden (user.max_user_namespaces = 0), then nobody, then argv.
_NO_USERNS = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
pid = os.fork()
if pid == 0:
    if libc.unshare(0x10000000) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER)")
    os.write(ready_w, b"."); os.read(go_r, 1)
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    os.setgroups([]); os.setgid(int(sys.argv[1])); os.setuid(int(sys.argv[1]))
    os.execv(sys.argv[2], sys.argv[2:])
os.read(ready_r, 1)
for name in ("uid_map", "gid_map"):
    with open(f"/proc/{pid}/{name}", "w") as f:
        f.write("0 0 65536")
os.write(go_w, b".")
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def run(args, *, user_namespaces=True, cwd="/tmp", env=None, timeout=600):
    """Run the non-root venv's python with `args` as nobody; the CompletedProcess (text output).
    With user_namespaces=False, in a namespace where no user namespace can be created."""
    python = str(venv())
    environment = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8",
                   "MPLBACKEND": "Agg", **(env or {})}
    if user_namespaces:
        command = ["setpriv", f"--reuid={USER}", f"--regid={GROUP}", "--clear-groups",
                   python, *args]
    else:
        command = [sys.executable, "-c", _NO_USERNS, str(NOBODY_UID), python, *args]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=timeout)
