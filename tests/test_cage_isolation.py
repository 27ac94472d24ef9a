"""The cage's isolation, attacked from inside, as root and as an ordinary user (`nobody`).

Each test runs real cells in real SandboxStudents, started by a grader process running either as
root (separate sandbox uid) or as nobody (a user namespace): both must give "full" isolation and
the same outcome. A grader that can neither be root nor create user namespaces refuses to grade
unless partial isolation is allowed. See tests/nonroot.py for how nobody runs the grader.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest

import nonroot
from autograder import config
from autograder.sandbox import WRITE_BUDGET_BYTES

pytestmark = pytest.mark.slow
USERS = ["root", "nobody"]

# Runs in the grader process: argv[1] is JSON {"cages": [[cell, ...], ...], "calls": [[cage
# index, function name], ...], "together": bool}; a name "peak:f" measures f's peak memory.
# Cells return text through text(str). The cages are used in turn (or all opened at
# once with "together"); prints JSON {"isolation": [...], "errors": [...], "results": [...]}.
GRADER = r"""
import json, os, sys
from autograder.sandbox import SandboxStudent
spec = json.loads(sys.argv[1])
prelude = (f"import os\nGRADER_PID = {os.getpid()}\n"
           "def text(s):\n    import numpy\n"
           "    return numpy.frombuffer(s.encode(), numpy.uint8).copy()\n")
def plain(value):   # text() arrays back to str, tuples to lists, numpy scalars to Python
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if getattr(value, "dtype", None) is not None and value.dtype.kind == "u" and value.ndim == 1:
        return value.tobytes().decode()
    return value.item() if hasattr(value, "item") else value
cages = [SandboxStudent([prelude] + cells, call_timeout=spec.get("timeout", 20.0))
         for cells in spec["cages"]]
out = {"isolation": [], "errors": [], "results": []}
def call(i, name):
    try:
        if name.startswith("peak:"):
            return {"value": cages[i].peak_memory_call(name[5:])[1]}
        return {"value": plain(cages[i].call(name))}
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}"}
if spec["together"]:
    for c in cages:
        c.load_report
for i, name in spec["calls"]:
    out["results"].append(call(i, name))
    if not spec["together"] and all(j != i for j, _ in spec["calls"][len(out["results"]):]):
        cages[i].close()
for c in cages:
    out["isolation"].append(c.isolation)
    out["errors"] += [str(e) for e in c.load_report.errors]
    c.close()
print(json.dumps(out))
"""


def grade_in_cages(user, cages, calls, together=False, timeout=20.0):
    """Run GRADER as `user` ("root" or "nobody") with the venv of tests/nonroot.py."""
    spec = json.dumps({"cages": cages, "calls": calls, "together": together, "timeout": timeout})
    if user == "root":
        done = subprocess.run([str(nonroot.venv()), "-c", GRADER, spec], capture_output=True,
                              text=True, timeout=600, cwd="/tmp")
    else:
        done = nonroot.run(["-c", GRADER, spec])
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["isolation"] == ["full"] * len(cages)
    return out


def values(out):
    got = []
    for result in out["results"]:
        assert "value" in result, result
        got.append(result["value"])
    return got


# ------------------------------------------------------------------------------ processes
SNOOP = """
def snoop():
    seen = sorted(p for p in os.listdir("/proc") if p.isdigit())
    lines = []
    for pid in seen:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            lines.append(f.read().replace(b"\\0", b" ").decode())
    return text(" | ".join(seen)), text(" | ".join(lines)), os.getpid()

def kill_grader():
    import signal
    outcomes = []
    for target in (GRADER_PID, os.getppid(), -1):
        try:
            os.kill(target, signal.SIGKILL)
            outcomes.append("sent")
        except OSError as e:
            outcomes.append(type(e).__name__)
    return text(" ".join(outcomes))
"""


@pytest.mark.parametrize("user", USERS)
def test_the_child_sees_and_signals_only_itself(user):
    out = grade_in_cages(user, [[SNOOP]], [[0, "snoop"], [0, "kill_grader"]])
    (pids, cmdlines, pid), killed = values(out)
    assert pids == "1" and pid == 1                   # its own PID namespace and /proc
    assert cmdlines.startswith(f"{nonroot.venv()} -I -c ")   # only its own command line
    assert "cages = [SandboxStudent" not in cmdlines and "pytest" not in cmdlines   # no grader's
    # The grader's pid does not exist in there, its parent is outside (getppid() is 0: kill(0)
    # and kill(-1) reach only the child itself, which as PID 1 ignores its own SIGKILL).
    assert killed.split()[0] == "ProcessLookupError"


NETWORK_AND_LIMITS = """
import resource, socket, threading

def network():
    names = [name for _, name in socket.if_nameindex()]
    outcomes = []
    for address in (("127.0.0.1", 9), ("1.1.1.1", 53)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(b"x", address)
            outcomes.append("sent")
        except OSError as e:
            outcomes.append(e.errno)
        s.close()
    return text(" ".join(names)), tuple(outcomes)

def spawn():
    outcomes = []
    try:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        outcomes.append("forked")
    except OSError as e:
        outcomes.append(type(e).__name__)
    try:
        threading.Thread(target=lambda: None).start()
        outcomes.append("thread")
    except RuntimeError as e:
        outcomes.append("RuntimeError")
    return text(" ".join(outcomes))

def limits():
    return resource.getrlimit(resource.RLIMIT_CPU)[0], resource.getrlimit(resource.RLIMIT_AS)[0]
"""


@pytest.mark.parametrize("user", USERS)
def test_no_network_no_second_process_and_the_limits_hold(user):
    import errno
    out = grade_in_cages(user, [[NETWORK_AND_LIMITS]],
                         [[0, "network"], [0, "spawn"], [0, "limits"]])
    (names, sent), spawned, (cpu, memory) = values(out)
    assert names == "lo" and sent == [errno.ENETUNREACH, errno.ENETUNREACH]   # lo is down
    assert spawned == "BlockingIOError RuntimeError"
    assert [cpu, memory] == [config.CHILD_CPU_SECONDS, config.CHILD_MEMORY_BYTES]


HANG = """
import signal, time
def stuck():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass

def fine():
    return 7
"""


@pytest.mark.parametrize("user", USERS)
def test_a_call_that_never_returns_is_stopped_and_the_next_call_works(user):
    out = grade_in_cages(user, [[HANG]], [[0, "stuck"], [0, "fine"]], timeout=2.0)
    stuck, fine = out["results"]
    assert stuck["error"].startswith("StudentTimeout") and fine == {"value": 7}


# ------------------------------------------------------------------------------ file system
WRITER = """
MARK = "left-by-the-first-submission"

def _candidates():
    folders = {os.getcwd(), os.path.expanduser("~")}
    with open("/proc/self/mountinfo") as f:
        folders |= {line.split()[4] for line in f}
    for top in os.listdir("/"):
        if top in ("proc", "sys"):
            continue
        for root, dirs, _ in os.walk("/" + top):
            folders.add(root)
            if root.count("/") >= 3:
                dirs.clear()
    return sorted(f for f in folders if not f.startswith(("/proc", "/sys")))

def write_everywhere():
    wrote = []
    for folder in _candidates():
        try:
            with open(os.path.join(folder, MARK), "w") as f:
                f.write(MARK)
            wrote.append(folder)
        except OSError:
            pass
    return text(" ".join(wrote))

def look_everywhere():
    return text(" ".join(f for f in _candidates() if os.path.exists(os.path.join(f, MARK))))
"""


def test_writable_places_are_private_and_gone_sequentially_and_concurrently():
    for user in USERS:
        for together in (False, True):
            out = grade_in_cages(user, [[WRITER], [WRITER]],
                                 [[0, "write_everywhere"], [1, "look_everywhere"],
                                  [1, "write_everywhere"]], together=together)
            wrote, found, wrote_again = (re.sub(r"conv-sandbox-student-\w+", "SCRATCH", words)
                                         for words in values(out))
            places = set(wrote.split())
            assert "/tmp/SCRATCH/scratch" in places
            assert {"/tmp", "/var/tmp", "/dev/shm"} <= places
            assert "/run/lock" not in places and "/" not in places
            assert all(p.startswith(("/tmp", "/var/tmp", "/dev/shm")) for p in places), places
            assert found == "", (user, together, found)       # nothing of the first one
            assert set(wrote_again.split()) == places


COURSE_FILES = f"""
def steal():
    outcomes = []
    for action in (lambda: open({str(nonroot.REPO / "autograder" / "reference.py")!r}).read(),
                   lambda: __import__("autograder.reference"),
                   lambda: os.listdir({str(nonroot.REPO / "solutions")!r}),
                   lambda: os.listdir({str(nonroot.REPO / "tests")!r})):
        try:
            outcomes.append(len(action()) >= 0)
        except Exception:
            outcomes.append(False)
    import helpers
    return tuple(outcomes) + (helpers.__name__ == "helpers",)
"""


@pytest.mark.parametrize("user", USERS)
def test_the_course_files_are_out_of_reach_but_helpers_import(user):
    assert values(grade_in_cages(user, [[COURSE_FILES]], [[0, "steal"]])) == \
        [[False, False, False, False, True]]


BUDGET = """
def fill():
    written = 0
    chunk = b"x" * 2**20
    for folder in (".", "/tmp", "/var/tmp", "/dev/shm"):
        for i in range(1000):
            try:
                with open(os.path.join(folder, f"fill{i}"), "wb") as f:
                    for _ in range(16):
                        written += f.write(chunk)
            except OSError:
                break
    return written
"""


@pytest.mark.parametrize("user", USERS)
def test_one_write_budget_for_every_writable_place(user):
    written, = values(grade_in_cages(user, [[BUDGET]], [[0, "fill"]]))
    assert WRITE_BUDGET_BYTES - 2**21 < written <= WRITE_BUDGET_BYTES


# ------------------------------------------------------------------------------ memory counter
COUNTER = """
import ctypes
def reset_counter():
    outcomes = []
    for path in ("/proc/self/clear_refs", f"/proc/self/task/{os.getpid()}/clear_refs"):
        try:
            with open(path, "w") as f:
                f.write("5")
            outcomes.append("reset")
        except OSError as e:
            outcomes.append(type(e).__name__)
    libc = ctypes.CDLL(None, use_errno=True)
    for path in (b"/proc/self/clear_refs", b"/proc"):
        outcomes.append("unmounted" if libc.umount2(path, 2) == 0 else ctypes.get_errno())
    return text(" ".join(map(str, outcomes)))

def allocate():
    import numpy as np
    a = np.ones(5 * 2**20)
    return float(a[-1])
"""


@pytest.mark.parametrize("user", USERS)
def test_the_child_cannot_reset_the_peak_memory_counter(user):
    import errno
    reset, = values(grade_in_cages(user, [[COUNTER]], [[0, "reset_counter"]]))
    first, second, *unmounted = reset.split()
    assert first != "reset" and second != "reset"
    assert unmounted == [str(errno.EPERM)] * 2


HIDE = "import ctypes\nctypes.CDLL(None).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE 0"


@pytest.mark.parametrize("user", USERS)
def test_a_child_that_hides_its_memory_counter_fails_its_own_measurement(user):
    out = grade_in_cages(user, [[COUNTER], [COUNTER, HIDE]],
                         [[0, "peak:allocate"], [1, "peak:allocate"]])
    honest, measured = out["results"]
    assert 0.8 * 40 * 2**20 < honest["value"] < 1.6 * 40 * 2**20
    if user == "root":   # root reads any process's counters
        assert 0.8 * 40 * 2**20 < measured["value"] < 1.6 * 40 * 2**20
    else:                # the student's own failure, not the grader's
        assert measured["error"].startswith("StudentCrash"), measured


# ------------------------------------------------------------------------------ library convolution
LIBRARY = """
import sys
import numpy as np

def honest():
    return float(np.arange(3.0).sum())

def via_scipy():
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "ImportBlocker"]
    import scipy.signal
    return float(scipy.signal.convolve2d([[1.0]], [[2.0]])[0][0])

def via_getattr():
    return float(getattr(np, "con" + "volve")([1.0, 2.0], [1.0])[0])

def via_internals():
    import numpy._core._multiarray_umath as m
    return float(m.correlate2(np.ones(3), np.ones(2), 0)[0])

def via_correlate():
    return float(np.correlate([1.0, 2.0], [1.0])[0])
"""


@pytest.mark.parametrize("user", USERS)
def test_a_library_convolution_is_refused_however_reached(user, fake_scipy):
    out = grade_in_cages(user, [[LIBRARY]], [[0, "via_scipy"], [0, "via_getattr"],
                                             [0, "via_internals"], [0, "via_correlate"],
                                             [0, "honest"]])
    *refused, honest = out["results"]
    for result in refused:
        assert "library convolution is not allowed" in result.get("error", ""), result
    assert honest == {"value": 3.0}


@pytest.fixture(scope="module")
def fake_scipy():
    """A package named scipy (with a convolve2d) in the venv the grader runs from."""
    package = os.path.join(nonroot.site_packages(), "scipy")
    os.makedirs(package, exist_ok=True)
    with open(os.path.join(package, "__init__.py"), "w") as f:
        f.write("")
    with open(os.path.join(package, "signal.py"), "w") as f:
        f.write("import numpy as np\n\ndef convolve2d(a, b):\n    return np.ones((1, 1)) * 2\n")
    subprocess.run(["chmod", "-R", "a+rX", package], check=True)
    # Outside the cage the package works: the cage is what refuses it.
    outside = "import scipy.signal\nscipy.signal.convolve2d(1, 1)"
    check = subprocess.run([str(nonroot.venv()), "-c", outside], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    yield package


def test_the_import_blocker_names_the_rule():
    out = grade_in_cages("root", [["import torch"]], [])
    assert "library convolution is not allowed" in out["errors"][0]


# ------------------------------------------------------------------------------ no cage possible
REFUSAL = r"""
import json
from autograder.sandbox import IsolationUnavailable, SandboxStudent, probe_isolation
out = {"probe": probe_isolation().how}
try:
    SandboxStudent(["x = 1"])
    out["strict"] = "graded"
except IsolationUnavailable as e:
    out["strict"] = str(e)
with SandboxStudent(["def f():\n    return 1"], allow_partial=True) as s:
    out["partial"] = [s.call("f"), s.isolation, s.isolation_note]
print(json.dumps(out))
"""


def test_without_root_or_user_namespaces_grading_refuses_unless_partial_is_allowed():
    done = nonroot.run(["-c", REFUSAL], user_namespaces=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["probe"] == "none"
    for advice in ("root", "user namespaces", "--allow-partial-isolation"):
        assert advice in out["strict"]
    value, isolation, note = out["partial"]
    assert (value, isolation) == (1, "partial") and "user namespaces" in note
    normal = nonroot.run(["-c", REFUSAL.replace('SandboxStudent(["x = 1"])', "pass")])
    assert json.loads(normal.stdout.strip().splitlines()[-1])["probe"] == "user-namespace"


# ------------------------------------------------------------------------------ end to end
TRICKS = {
    "patch_numpy": "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
                   "np.testing.assert_allclose = lambda *a, **k: None\n",
    "os_exit": "import os\nos._exit(0)\n",
    "wrong_and_patched": "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
                         "np.testing.assert_allclose = lambda *a, **k: None\n"
                         "zero_pad = lambda x, pad: np.zeros((1,))\n",
    "read_reference": "import os\nSTOLEN = open(os.path.join(os.path.dirname(os.__file__), '..',"
                      " '..', '..', 'autograder', 'reference.py')).read()\n",
    "write_run_lock": "open('/run/lock/answers.txt', 'w').write('shared')\n",
    "snoop_cmdline": "import os\nSEEN = [open(f'/proc/{p}/cmdline').read() for p in "
                     "os.listdir('/proc') if p.isdigit()]\n",
}


def _trick_notebooks(folder):
    """One copy of alice's a1_naive per trick, the trick appended to the zero_pad answer cell,
    in nbgrader's <student>/<assignment>/ layout."""
    source = nonroot.REPO / "examples" / "submissions" / "alice" / "a1_naive" / "a1_naive.ipynb"
    for name, trick in TRICKS.items():
        nb = nbformat.read(source, as_version=4)
        cell = next(c for c in nb.cells
                    if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "zero_pad")
        cell.source = cell.source + "\n\ntry:\n" + "".join(
            f"    {line}\n" for line in trick.splitlines()) + "except Exception:\n    pass\n"
        target = folder / name / "a1_naive"
        target.mkdir(parents=True)
        nbformat.write(nb, target / "a1_naive.ipynb")


def _scores(out):
    scores = {}
    for results in out.rglob("results.json"):
        data = json.loads(results.read_text())
        extra = data.get("extra_data", {})
        scores[extra.get("student", results.parent.parent.name)] = (data.get("score"),
                                                                    extra.get("isolation"))
    return scores


@pytest.fixture
def shared_folder():
    """A temporary folder nobody may read and write (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="conv-course-e2e-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_nonroot_grader_gives_the_tricks_the_same_scores_as_root(shared_folder):
    submissions = shared_folder / "submitted"
    _trick_notebooks(submissions)
    subprocess.run(["chmod", "-R", "a+rwX", str(shared_folder)], check=True)
    runs = {}
    for user in USERS:
        out = shared_folder / f"out-{user}"
        args = ["-m", "autograder", "grade", str(submissions), "--out", str(out)]
        if user == "root":
            done = subprocess.run([str(nonroot.venv()), *args], capture_output=True, text=True,
                                  timeout=900, cwd="/tmp")
        else:
            done = nonroot.run(args, timeout=900)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        runs[user] = _scores(out)
    print(runs)
    assert set(runs["root"]) == set(TRICKS)
    assert all(isinstance(score, (int, float)) for score, _ in runs["root"].values())
    assert runs["root"]["wrong_and_patched"][0] < runs["root"]["patch_numpy"][0]
    assert runs["root"] == runs["nobody"]
    assert {isolation for _, isolation in runs["root"].values()} == {"full"}
