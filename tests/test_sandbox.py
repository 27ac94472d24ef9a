"""The cage: honest calls work, and every attack gains nothing while the grader survives it.

CI runs as root, where the cage is complete (own uid and PID, mount, network and IPC
namespaces); the tests that depend on that assert it rather than skip. The same isolation for a
grader running as an ordinary user (a user namespace) is tested in tests/test_cage_isolation.py.
"""
import os
import time

import numpy as np
import pytest

from autograder import config, reference
from autograder.cases import GRID
from autograder.extract import Cell
from autograder.sandbox import (REPO, SandboxStudent, default_hidden_paths, pids_of_uid,
                                reference_sandbox)
from autograder.student import (BadReturn, MissingFunction, StudentCrash, StudentException,
                                StudentTimeout)

TIMEOUT = 1.5
SLACK = 3.0   # seconds a timeout may overrun on a busy 2-core machine (kill, sweep, reap)

HONEST = """
import numpy as np

def honest(x):
    return x + 1
"""


def cage(*cells, **kwargs):
    kwargs.setdefault("call_timeout", TIMEOUT)
    kwargs.setdefault("notebook_timeout", 10.0)
    return SandboxStudent([HONEST, *cells], **kwargs)


def still_works(student):
    x = np.arange(4.0)
    np.testing.assert_array_equal(student.call("honest", x), x + 1)
    with cage() as fresh:
        np.testing.assert_array_equal(fresh.call("honest", x), x + 1)


@pytest.fixture
def as_root():
    assert os.geteuid() == 0, "the cage's isolation is tested as root (CI runs as root)"
    yield


# ------------------------------------------------------------------------------ happy path
def test_arrays_tuples_kwargs_and_mutation_cross_back():
    code = """
def split(x, scale=1.0):
    x[0, 0] = -1.0
    return x * scale, int(x.shape[0]), float(x.sum())

def shape_of(shape):
    return len(shape) if isinstance(shape, tuple) else -1
"""
    x = np.arange(6.0).reshape(2, 3)
    with cage(code) as student:
        assert student.isolation in ("full", "partial")
        assert student.has("split") and not student.has("absent")
        assert "def split" in student.source
        result = student.call_full("split", x, scale=2.0)
        doubled, rows, total = result.value
        np.testing.assert_array_equal(doubled, np.array([[-2.0, 2, 4], [6, 8, 10]]))
        assert (rows, total) == (2, 14.0) and type(rows) is int
        np.testing.assert_array_equal(result.args_after[0], np.array([[-1.0, 1, 2], [3, 4, 5]]))
        assert result.kwargs_after == {"scale": 2.0}
        assert x[0, 0] == 0.0                      # the grader's own array is untouched
        assert 0 < result.seconds < TIMEOUT
        assert student.call("shape_of", (3, 4, 2, 1)) == 4


def test_cells_run_in_order_and_a_failing_cell_does_not_stop_the_rest():
    cells = [Cell("print('first cell says hi')\nvalue = 1", None, 2),
             Cell("raise RuntimeError('broken cell')", "oops", 4),
             Cell("def later():\n    return value + 1", "later", 6)]
    with cage(*cells) as student:
        report = student.load_report
        assert [(e.index, e.type, e.message) for e in report.errors] == \
            [(4, "RuntimeError", "broken cell")]
        assert "cell 5 (oops)" in str(report.errors[0])
        assert 'cell 5 (oops)' in report.errors[0].traceback
        assert report.stdout == "first cell says hi\n"
        assert student.call("later") == 2


def test_student_exception_shows_only_the_students_frames():
    code = """
def outer(x):
    return inner(x)

def inner(x):
    return np.reshape(x, (7, 7))
"""
    with cage(code) as student:
        with pytest.raises(StudentException) as err:
            student.call("outer", np.arange(3.0))
        assert err.value.exc_type == "ValueError"
        tb = err.value.student_traceback
        assert "in outer" in tb and "in inner" in tb and "np.reshape(x, (7, 7))" in tb
        for runner_word in ("child.py", "<string>", "serve", "numpy/", "site-packages"):
            assert runner_word not in tb
        with pytest.raises(MissingFunction):
            student.call("nowhere")
        still_works(student)


def test_reference_sandbox_runs_the_reference():
    case = GRID[1]
    x, w, b = case.arrays()
    with reference_sandbox(call_timeout=20.0) as ref:
        assert ref.has("im2col") and "def conv_forward_fft" in ref.source
        got = ref.call("conv_forward_im2col", x, w, b, case.stride, case.pad)
    np.testing.assert_allclose(got, reference.conv_forward_naive(x, w, b, case.stride, case.pad))


def test_peak_memory_call_sees_a_known_allocation():
    code = """
def allocate(n):
    a = np.ones(n)
    return float(a[-1])
"""
    n = 5 * 2**20   # 40 MiB of float64
    with cage(code) as student:
        result, peak = student.peak_memory_call("allocate", n)
        assert result.value == 1.0
        assert 0.8 * 8 * n < peak < 1.6 * 8 * n
        _, small = student.peak_memory_call("allocate", 10)
        assert small < 4 * 2**20


def test_library_convolution_imports_are_refused():
    with cage("import torch", "import jax.numpy") as student:
        for error in student.load_report.errors:
            assert error.type == "ImportError"
            assert "cannot be imported while grading" in error.message
            assert "library convolution is not allowed" in error.message
        assert len(student.load_report.errors) == 2


# ------------------------------------------------------------------------------ cheating
def test_patching_numpy_in_the_child_does_not_reach_the_grader():
    code = """
import numpy.testing
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True

def wrong(x):
    return np.zeros_like(x)
"""
    x = np.arange(1.0, 5.0)
    with cage(code) as student:
        got = student.call("wrong", x)
    assert not np.allclose(got, x)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(got, x)


@pytest.mark.parametrize("code, words", [
    ("class Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
     "def f(x):\n    return np.zeros(3).view(Liar)", "subclass"),
    ("def f(x):\n    return np.array([1, 'a', None], dtype=object)", "dtype object"),
    ("class Yes(int):\n    def __eq__(self, other):\n        return True\n"
     "def f(x):\n    return Yes(3)", "Yes"),
    ("def f(x):\n    return (x, {'a': 1})", "dict"),
    ("def f(x):\n    x + 1", "NoneType"),
])
def test_values_that_could_lie_are_refused(code, words):
    with cage(code) as student:
        with pytest.raises(BadReturn, match=words):
            student.call("f", np.ones(3))
        still_works(student)


def test_fake_verdicts_and_floods_of_output_stay_in_the_cage(capfd):
    code = """
print("All tests passed! Score: 100/100")
def noisy(x):
    print("PASSED " * 400_000)
    import sys; sys.stderr.write("E" * 2_000_000)
    return x
"""
    with cage(code) as student:
        result = student.call_full("noisy", np.ones(2))
        assert "Score: 100/100" in student.load_report.stdout
    assert len(result.output) < 2 * config.OUTPUT_LIMIT_CHARS + 200
    assert "more bytes of output cut" in result.output
    out, err = capfd.readouterr()
    assert "PASSED" not in out + err and "Score" not in out + err


def test_grader_files_and_the_output_dir_are_out_of_reach(as_root, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code = f"""
def attempt():
    outcomes = []
    for action in (lambda: open({str(out_dir / 'results.json')!r}, "w").write('{{"score": 100}}'),
                   lambda: open({str(REPO / 'autograder' / 'reference.py')!r}).read(),
                   lambda: __import__("autograder.reference"),
                   lambda: __import__("os").listdir({str(REPO / 'solutions')!r}),
                   lambda: __import__("os").listdir({str(REPO / '.git')!r}),
                   lambda: __import__("os").listdir("/root/.ssh")):
        try:
            action()
            outcomes.append(1)
        except Exception:
            outcomes.append(0)
    return tuple(outcomes)
"""
    with cage(code, hidden_paths=default_hidden_paths(out_dir)) as student:
        assert student.isolation == "full", student.isolation_note
        assert student.call("attempt") == (0, 0, 0, 0, 0, 0)
    assert not (out_dir / "results.json").exists()


def test_helpers_are_importable_in_the_cage():
    with cage("import helpers\ndef where():\n    return len(helpers.__name__)") as student:
        assert student.load_report.errors == [] and student.call("where") == len("helpers")


def test_garbage_on_the_reply_pipe_is_a_crash_not_a_verdict():
    code = """
import os
def forge():
    for fd in range(3, 64):
        try:
            os.write(fd, b"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x05nope!" * 3)
        except OSError:
            pass
    return 1
"""
    with cage(code) as student:
        with pytest.raises(StudentCrash, match="protocol"):
            student.call("forge")
        still_works(student)


def test_a_cell_forging_the_load_report_is_skipped():
    forge = """
import json, os, struct
head = json.dumps({"ready": True, "errors": [{"index": "x"}], "callables": 5, "blobs": 0}).encode()
for fd in range(3, 64):
    try:
        os.write(fd, struct.pack(">Q", len(head)) + head)
    except OSError:
        pass
"""
    with cage(Cell(forge, None, 7), Cell("def after():\n    return 7", None, 8)) as student:
        assert student.load_report.skipped == [7]
        assert student.call("after") == 7
        still_works(student)


# ------------------------------------------------------------------------------ killing the child
def test_os_exit_inside_the_function_is_a_crash():
    with cage("import os\ndef quit_(x):\n    os._exit(3)") as student:
        with pytest.raises(StudentCrash, match="status 3"):
            student.call("quit_", np.ones(2))
        still_works(student)


def test_killing_the_grader_is_not_allowed(as_root):
    # In its own PID namespace the child sees neither the grader nor another sandbox.
    code = f"import os, signal\ndef kill_parent():\n    os.kill({os.getpid()}, signal.SIGKILL)"
    with cage(code) as student:
        with pytest.raises(StudentException, match="ProcessLookupError"):
            student.call("kill_parent")
        with cage() as other:   # nor another sandbox's child
            victim = other._child.pid
            code = f"import os, signal\ndef kill_other():\n    os.kill({victim}, signal.SIGKILL)"
            with cage(code) as killer:
                with pytest.raises(StudentException, match="ProcessLookupError"):
                    killer.call("kill_other")
            assert other.call("honest", np.zeros(1))[0] == 1.0
        still_works(student)


@pytest.mark.parametrize("body", [
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "    while True:\n        pass",
    "time.sleep(10_000)",
])
def test_a_call_that_never_returns_times_out_on_time(body):
    code = f"import signal, time\ndef stuck():\n    {body}"
    with cage(code) as student:
        start = time.monotonic()
        with pytest.raises(StudentTimeout):
            student.call("stuck")
        elapsed = time.monotonic() - start
        assert TIMEOUT <= elapsed < TIMEOUT + SLACK
        still_works(student)


def test_per_call_timeout_override():
    with cage("import time\ndef nap(s):\n    time.sleep(s)\n    return s") as student:
        assert student.call("nap", 0.2, _timeout=5.0) == 0.2
        start = time.monotonic()
        with pytest.raises(StudentTimeout, match="0.5 s"):
            student.call("nap", 30, _timeout=0.5)
        assert time.monotonic() - start < 0.5 + SLACK


def test_the_child_cannot_start_another_process(as_root):
    # No helper process can run beside the child: CPU time read for the child alone covers all
    # the work of a timed call, and nothing can outlive a timeout in the background.
    code = """
import os, time
def escape():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        time.sleep(10_000)
        os._exit(0)
    return pid

def hang():
    time.sleep(10_000)
"""
    with cage(code) as student:
        with pytest.raises(StudentException, match="BlockingIOError|Resource temporarily unavailable"):
            student.call("escape")
        with pytest.raises(StudentTimeout):
            student.call("hang")
        assert pids_of_uid(student.uid) == []
        still_works(student)


def test_cpu_seconds_are_the_childs_own_work_measured_by_the_parent():
    code = """
import time
def spin(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return 0

def nap(seconds):
    time.sleep(seconds)
    return 0
"""
    with cage(code) as student:
        spun = student.call_full("spin", 0.3)
        napped = student.call_full("nap", 0.3)
    assert 0.25 < spun.cpu_seconds < spun.seconds + 0.05
    assert napped.cpu_seconds < 0.1 < 0.25 < napped.seconds


@pytest.mark.slow
def test_a_fork_bomb_is_bounded_and_cleaned_up(as_root):
    code = """
import os
def bomb():
    while True:
        try:
            os.fork()
        except OSError:
            pass
"""
    with cage(code) as student:
        start = time.monotonic()
        with pytest.raises((StudentTimeout, StudentCrash)):
            student.call("bomb")
        assert time.monotonic() - start < TIMEOUT + 3 * SLACK
        assert pids_of_uid(student.uid) == []
        still_works(student)


def test_allocating_100_gb_is_a_clean_memory_error():
    with cage("def hog():\n    return np.ones(100 * 2**30 // 8).sum()") as student:
        with pytest.raises(StudentException, match="MemoryError"):
            student.call("hog")
        still_works(student)


def test_a_cell_that_hangs_is_skipped_and_the_rest_still_grades():
    cells = [Cell("while True:\n    pass", "spin", 3), Cell("def after():\n    return 7", None, 5)]
    with cage(*cells, notebook_timeout=2.0) as student:
        report = student.load_report
        assert report.skipped == [3] and report.errors[0].type == "CellStopped"
        assert student.call("after") == 7


def test_close_removes_scratch_and_frees_the_uid():
    student = cage("import os\ndef here():\n    open('note.txt', 'w').write('x')\n    return 1")
    assert student.call("here") == 1
    folder, uid = student._dir, student.uid
    student.close()
    assert not folder.exists()
    assert pids_of_uid(uid) == []


def test_a_notebook_end_to_end(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.extract import load_submission
    meta = {"nbgrader": {"solution": True, "grade": False, "locked": False,
                         "grade_id": "zero_pad", "schema_version": 3}}
    nb = new_notebook(cells=[
        new_code_cell("import numpy as np\n%matplotlib inline"),
        new_code_cell("def zero_pad(x, pad):\n"
                      "    return np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))\n",
                      metadata=meta),
        new_code_cell("zero_pad(np.ones((2, 2, 1, 1)), 1)", metadata={"tags": ["demo"]})])
    nbformat.write(nb, tmp_path / "a1_naive.ipynb")
    sub = load_submission(tmp_path / "a1_naive.ipynb")
    x = GRID[2].arrays()[0]
    with SandboxStudent(sub.cells, call_timeout=10.0) as student:
        assert student.load_report.errors == [] and student.has("zero_pad")
        np.testing.assert_array_equal(student.call("zero_pad", x, 2), reference.zero_pad(x, 2))


def test_the_child_dies_with_the_grader():
    import subprocess
    import sys
    # The child is busy in the student's loop, so only the parent-death signal can stop it.
    script = ("import os, threading, time\n"
              "from autograder.sandbox import SandboxStudent\n"
              "s = SandboxStudent(['def f():\\n    return 1', 'def spin():\\n    while True: pass'])\n"
              "assert s.call('f') == 1\n"
              "threading.Thread(target=s.call, args=('spin',), daemon=True).start()\n"
              "time.sleep(0.5)\n"
              "print(s._child.pid, flush=True)\n"
              "os._exit(0)\n")
    pid = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True, timeout=60).stdout)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}")
