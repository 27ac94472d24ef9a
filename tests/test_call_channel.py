"""The call channel: every verdict comes from data the grader reads itself, and replies are bounded.

Attacks are written as a student would: cells that patch the child's own reply path, write frames
of their own to the reply pipe (found in /proc/self/fd), cut the shared memory their arguments
live in, hold and free memory around a measured call, or return far more than asked.
"""
import io
from pathlib import Path

import numpy as np
import pytest

from autograder import contract, reference, replies
from autograder.cases import ALEXNET_CONV1, GRID, MEMORY_CASE
from autograder.extract import Cell
from autograder.graders import Failed, check_not_mutated
from autograder.sandbox import SandboxStudent
from autograder.student import (BadReturn, StudentCrash, StudentError, StudentException,
                                _status_bytes)

HONEST = """
import numpy as np

def honest(x):
    return x + 1
"""

# Cells a student can write: the reply pipe and the shared memory file, found in /proc/self/fd;
# the sequence number of the current call, learnt by wrapping the runner's own read_message.
TOOLS = """
import fcntl, os, stat, struct, sys

runner = sys.modules["__main__"]
last = {}
_read_message = runner.read_message

def spying_read_message(fd):
    header, blobs = _read_message(fd)
    last.update(header)
    return header, blobs

runner.read_message = spying_read_message

def reply_pipe():
    for name in os.listdir("/proc/self/fd"):
        try:
            fd = int(name)
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and \\
                    fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                return fd
        except OSError:
            pass

def shared_memory():
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("/memfd:"):
                return int(name)
        except OSError:
            pass

def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]

def forge(parts, raw=False):
    '''Write frames of our own on the reply pipe: each of `parts` is latin-1 text (a frame, where
    SEQ stands for this call's number) or an int (a frame length and no frame); `raw` writes
    the one text as it is.'''
    if raw:
        data = parts.encode("latin-1")
    else:
        data = b""
        for part in parts:
            if isinstance(part, int):
                data += struct.pack(">Q", part)
            else:
                part = part.encode("latin-1").replace(b"SEQ", str(last["seq"]).encode())
                data += struct.pack(">Q", len(part)) + part
    write_all(reply_pipe(), data)
    return 1.0
"""


def cage(*cells, **kwargs):
    kwargs.setdefault("call_timeout", 5.0)
    kwargs.setdefault("notebook_timeout", 30.0)
    return SandboxStudent([HONEST, *cells], **kwargs)


def honest_call_works(student):
    x = np.arange(4.0)
    np.testing.assert_array_equal(student.call("honest", x), x + 1)


def grader_memory_growth(action):
    """(what `action()` returned or raised, how far this process's resident size rose above
    where it was when the action started, in bytes)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_bytes("VmRSS")
    try:
        outcome = action()
    except StudentError as e:
        outcome = e
    return outcome, _status_bytes("VmHWM") - before


# ------------------------------------------------------------------------------ arguments after
MUTATE_AND_LIE = TOOLS + """
import numpy as np

_send_message, _encode = runner.send_message, runner.encode
pristine = {}

def lying_send_message(fd, header, blobs=()):
    if "value" in header:   # claim the arguments came back as they were given
        blobs = list(blobs)
        header = dict(header, args_after=[_encode(a, blobs) for a in pristine["args"]],
                      kwargs_after={})
    _send_message(fd, header, blobs)

def lying_encode(value, blobs, *args, **kwargs):
    if isinstance(value, np.ndarray) and "args" in pristine:
        value = pristine["args"][0] if value.shape == pristine["args"][0].shape else value
    return _encode(value, blobs, *args, **kwargs)

runner.send_message = lying_send_message
runner.encode = lying_encode

def zero_pad(x, pad):
    pristine["args"] = (x.copy(), pad)
    x *= 2                                # modifies the grader's input...
    padded = np.pad(x / 2, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    forge(['{"seq": SEQ, "ok": true, "value": {"j": 1}, "args_after": [], "blobs": 0}'])
    return padded                         # ...and every report the child makes says otherwise
"""


def test_a_mutation_is_seen_in_memory_the_grader_reads_whatever_the_child_reports():
    case = GRID[2]
    x = case.arrays()[0]
    with cage(MUTATE_AND_LIE) as student:
        result = student.call_full("zero_pad", x, case.pad)
        np.testing.assert_array_equal(result.args_after[0], 2 * x)
        assert result.args_after[1] == case.pad
        with pytest.raises(Failed, match="changed its input x"):
            check_not_mutated(student, "zero_pad", case, None)
        honest_call_works(student)


def test_an_honest_function_keeps_its_arguments():
    code = """
def zero_pad(x, pad):
    return np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))

def scaled(x, shape, scale=1.0):
    return x * scale
"""
    case = GRID[2]
    with cage(code) as student:
        check_not_mutated(student, "zero_pad", case, None)
        y = np.asfortranarray(np.arange(12.0).reshape(3, 4))[:, ::2]   # not C-contiguous
        result = student.call_full("scaled", y, (np.arange(3), 4), scale=np.float32(2))
        np.testing.assert_array_equal(result.value, y * 2)
        after, (shape_array, four) = result.args_after
        np.testing.assert_array_equal(after, y)
        np.testing.assert_array_equal(shape_array, np.arange(3))
        assert four == 4 and result.kwargs_after == {"scale": 2.0}


def test_cutting_or_growing_the_shared_memory_does_not_hurt_the_grader():
    code = TOOLS + """
def cut(x):
    total = float(x.sum())
    os.ftruncate(shared_memory(), 0)
    return total

def grow(x):
    total = float(x.sum())
    try:
        os.ftruncate(shared_memory(), 1 << 40)
    except OSError:                       # beyond the file size limit
        os.ftruncate(shared_memory(), 32 << 20)
    return total

def cut_and_touch(x):
    os.ftruncate(shared_memory(), 0)
    return float(x.sum())                 # SIGBUS in the child, not in the grader
"""
    x = np.arange(1000.0)
    with cage(code) as student:
        result = student.call_full("cut", x)
        assert result.value == x.sum()
        assert result.args_after == (None,)   # what could not be read back counts as changed
        honest_call_works(student)
        result = student.call_full("grow", x)
        np.testing.assert_array_equal(result.args_after[0], x)
        honest_call_works(student)
        with pytest.raises(StudentCrash):
            student.call("cut_and_touch", x)
        honest_call_works(student)


# ------------------------------------------------------------------------------ malformed replies
def npy(array, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue().decode("latin-1")


def npy_header(header, data=""):
    """.npy text with a header of our choosing (`header`: a dict, or raw text) and `data`."""
    buf = io.BytesIO()
    if isinstance(header, dict):
        np.lib.format.write_array_header_1_0(buf, header)
    else:
        buf.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    return buf.getvalue().decode("latin-1") + data


def ok(value_spec, *blobs):
    return ['{"seq": SEQ, "ok": true, "value": %s, "blobs": %d}' % (value_spec, len(blobs)),
            *blobs]


def seq_header(rest):
    return ['{"seq": SEQ, %s}' % rest]


DEEP = 100_000
HOSTILE = {
    # frames that are not the protocol
    "empty header": ([""], False),
    "not JSON": (["nope!"], False),
    "invalid UTF-8": (["\xff\xfe\xfd\xfc"], False),
    "a header cut short": ((40).to_bytes(8, "big").decode("latin-1") + '{"seq": 1', True),
    "a 2 GB header": ([2**31, "{" * 64], False),
    "a JSON array": (["[1, 2, 3]"], False),
    "JSON nested 100000 deep": (["[" * DEEP + "]" * DEEP], False),
    "a value nested 100000 deep": (ok('{"t": [' * DEEP + '{"j": 1}' + ']}' * DEEP), False),
    "a value nested 500 deep": (ok('{"t": [' * 500 + '{"j": 1}' + ']}' * 500), False),
    "a value nested 40 deep": (ok('{"t": [' * 40 + '{"j": 1}' + ']}' * 40), False),
    "NaN in the header": (ok('{"j": NaN}'), False),
    "Infinity in the header": (ok('{"j": -Infinity}'), False),
    "1e999 in the header": (ok('{"j": 1e999}'), False),
    "a 5000-digit int": (ok('{"j": %s}' % ("9" * 5000)), False),
    "an int beyond 64 bits": (ok('{"j": %d}' % 2**64), False),
    "a blob count of a million": (seq_header('"ok": true, "value": {"j": 1}, "blobs": 1000000'),
                                  False),
    "a negative blob count": (seq_header('"ok": true, "value": {"j": 1}, "blobs": -1'), False),
    "a 1 TB blob": (seq_header('"ok": true, "value": {"a": 0}, "blobs": 1') + [2**40], False),
    "a missing blob": (ok('{"a": 3}', npy(np.ones(2))), False),
    "a blob index that is not an int": (ok('{"a": true}', npy(np.ones(2))), False),
    "an unknown tag": (ok('{"q": 1}'), False),
    "two tags": (ok('{"j": 1, "a": 0}', npy(np.ones(2))), False),
    "a value that is not a spec": (ok("[1, 2]"), False),
    "a JSON object as a value": (ok('{"j": {"a": 1}}'), False),
    "a reply to a later call": (['{"seq": 999999999, "ok": true, "value": {"j": 1}, "blobs": 0}'],
                                False),
    "an unknown error": (seq_header('"ok": false, "error": "mystery", "blobs": 0'), False),
    "an exception without a type": (seq_header('"ok": false, "error": "exception", "blobs": 0'),
                                    False),
    # arrays that are not numbers, or not what their header says
    "an object array": (ok('{"a": 0}', npy(np.array([1, "a", None], dtype=object), True)), False),
    "a structured array": (ok('{"a": 0}', npy(np.zeros(3, dtype=[("a", "f8"), ("b", "i4")]))),
                           False),
    "a datetime array": (ok('{"a": 0}', npy(np.array(["2024-01-01"], dtype="datetime64[ns]"))),
                         False),
    "a void array": (ok('{"a": 0}', npy(np.zeros(3, dtype="V8"))), False),
    "a unicode array": (ok('{"a": 0}', npy(np.array(["abc", "de"]))), False),
    "a bytes array": (ok('{"a": 0}', npy(np.array([b"abc"]))), False),
    "fewer bytes than the header says": (ok('{"a": 0}', npy(np.ones(1000))[:-8]), False),
    "more bytes than the header says": (ok('{"a": 0}', npy(np.ones(10)) + "\0" * 8), False),
    "a negative shape": (ok('{"a": 0}', npy_header({"descr": "<f8", "fortran_order": False,
                                                    "shape": (-1,)})), False),
    "a shape of 40 dimensions": (ok('{"a": 0}', npy_header({"descr": "<f8", "fortran_order": False,
                                                            "shape": (1,) * 40}, "\0" * 8)),
                                 False),
    "a .npy header nested deep": (ok('{"a": 0}', npy_header("[" * 9000)), False),
    "a .npy header that is code": (ok('{"a": 0}', npy_header("__import__('os').system('id')")),
                                   False),
    "not .npy at all": (ok('{"a": 0}', "hello world, not an array"), False),
    "a complex scalar": (ok('{"s": 0}', npy(np.complex128(1 + 2j))), False),
    # replies the protocol allows, with what a function cannot return
    "an opaque value": (ok('{"x": "%s"}' % ("a thing " * 10000)), False),
    "lone surrogates in an exception": (seq_header(
        '"ok": false, "error": "exception", "type": "\\ud800Error", "message": "bad \\udfff", '
        '"traceback": "\\udc80", "blobs": 0'), False),
}


@pytest.mark.slow
def test_every_hostile_reply_is_the_functions_failure_and_the_next_call_works():
    with cage(TOOLS) as student:
        for name, (parts, raw) in HOSTILE.items():
            with pytest.raises(StudentError) as verdict:
                student.call("forge", parts, raw)
            message = str(verdict.value)
            message.encode("utf-8")   # printable anywhere: no lone surrogate survives
            if name == "lone surrogates in an exception":
                assert isinstance(verdict.value, StudentException)
                assert "\\ud800Error" in message and "\\udfff" in message, message
            honest_call_works(student)


@pytest.mark.parametrize("code, words", [
    ("def f():\n    t = 1\n    for _ in range(100_000):\n        t = (t,)\n    return t",
     "too deeply nested"),
    ("def f():\n    return 10 ** 5000", "an int of 16610 bits"),
    ("def f():\n    return np.array(['2024-01-01'], dtype='datetime64[ns]')", "datetime64"),
    ("def f():\n    return np.zeros(3, dtype=[('a', 'f8')])", "dtype"),
    ("def f():\n    return np.array(['a', 'b'])", "<U1"),
    ("def f():\n    return '\\ud800'", "builtins.str"),
])
def test_values_that_cannot_be_graded_are_bad_returns(code, words):
    with cage(code) as student:
        with pytest.raises(BadReturn, match=words):
            student.call("f")
        honest_call_works(student)


def test_non_finite_numbers_travel_as_values():
    code = "def f():\n    return float('nan'), float('-inf'), np.float32('inf')"
    with cage(code) as student:
        nan, minus_inf, inf = student.call("f")
    assert np.isnan(nan) and minus_inf == -np.inf and inf == np.inf


def test_a_cell_writing_deep_json_on_the_reply_pipe_is_skipped():
    forge = TOOLS + "write_all(reply_pipe(), struct.pack('>Q', 200_000) + b'[' * 100_000 + " \
                    "b']' * 100_000)"
    with cage(Cell(forge, None, 3), Cell("def after():\n    return 7", None, 4)) as student:
        assert student.load_report.skipped == [3]
        assert student.call("after") == 7


# ------------------------------------------------------------------------------ peak memory
BALLAST = 25 * 2**20   # float64 items: 200 MiB
MIB = 2**20


@pytest.mark.slow
def test_freeing_a_ballast_resetting_the_counter_or_working_early_does_not_hide_the_peak():
    code = f"""
import os, sys
ballast = np.ones({BALLAST})

def heavy():
    work = np.ones({BALLAST})
    return float(work[-1])

def ballast_swap():
    global ballast
    ballast = None                        # free 200 MiB held before the call...
    total = heavy()                       # ...use them...
    ballast = np.ones({BALLAST})          # ...and take them back
    return total

def reset_counter():
    total = heavy()
    for path in ("/proc/self/clear_refs", f"/proc/{{os.getpid()}}/clear_refs"):
        try:
            with open(path, "w") as f:
                f.write("5")
        except OSError:
            pass
    return total

# The runner decodes the arguments before it calls the function: do the work there, keep only
# the answer, and let the function itself return it at no cost.
runner = sys.modules["__main__"]
_arguments, answers = runner._arguments, {{}}

def working_arguments(request, blobs, shared_fd):
    args, kwargs = _arguments(request, blobs, shared_fd)
    if request["name"] == "precomputed":
        answers["now"] = heavy()
    return args, kwargs

runner._arguments = working_arguments

def precomputed():
    return answers["now"]
"""
    with cage(code) as student:
        peaks = {name: student.peak_memory_call(name)
                 for name in ("heavy", "ballast_swap", "reset_counter", "precomputed")}
        honest_call_works(student)
    for name, (result, peak) in peaks.items():
        assert result.value == 1.0
        assert peak > 0.9 * 8 * BALLAST, (name, peak)


def test_an_honest_im2col_shows_about_its_x_col():
    case = MEMORY_CASE
    x = case.arrays()[0]
    x_col = case.col_shape[0] * case.col_shape[1] * x.itemsize
    source = Path(reference.__file__).read_text()
    with cage(source) as student:
        result, peak = student.peak_memory_call("im2col", x, case.f, case.stride, case.pad)
    np.testing.assert_array_equal(result.value, reference.im2col(x, case.f, case.stride, case.pad))
    assert 0.9 * x_col < peak < 1.5 * x_col + 4 * MIB, peak / x_col


def test_the_measured_call_runs_in_a_fresh_child():
    code = """
calls = []
def count():
    calls.append(1)
    return len(calls)
"""
    with cage(code) as student:
        assert student.call("count") == 1
        result, _ = student.peak_memory_call("count")
        assert result.value == 1                # the measuring child ran the cells afresh
        assert student.call("count") == 2       # and the serving child was left alone


def test_a_process_made_unmeasurable_is_the_students_failure():
    code = """
import ctypes
def hide():
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)    # PR_SET_DUMPABLE 0
    return 1
"""
    with cage(code) as student:
        try:
            result, peak = student.peak_memory_call("hide")
        except StudentCrash as e:   # the grader could not reset the counter: the student's doing
            assert "could not be measured" in str(e)
        else:                       # or the grader still could (as root): measured as usual
            assert result.value == 1 and peak < 8 * MIB
        honest_call_works(student)


# ------------------------------------------------------------------------------ reply budget
@pytest.mark.parametrize("function", sorted(contract.FUNCTIONS))
def test_expected_bytes_are_what_the_reference_returns(function):
    entry = contract.FUNCTIONS[function]
    cases = entry.correctness.cases if entry.correctness else contract.GRID[:6]
    for case in cases[:6]:
        args = contract.inputs(function, case)
        value = getattr(reference, function)(*args)
        returned = sum(a.nbytes for a in (value if isinstance(value, tuple) else (value,))
                       if isinstance(a, np.ndarray))
        assert replies.expected_bytes(function, args, {}) == returned, case
    x, w, b = GRID[1].arrays()
    assert replies.expected_bytes("conv_forward_im2col", (x, w, b), {"stride": 2, "pad": 1}) == \
        reference.conv_forward_im2col(x, w, b, stride=2, pad=1).nbytes


def test_the_budget_lets_wrong_answers_through_and_stays_bounded():
    x, w, b = GRID[3].arrays()
    expected = replies.expected_bytes("conv_forward_naive", (x, w, b, 1, 0), {})
    assert replies.budget("conv_forward_naive", (x, w, b, 1, 0), {}) == 4 * expected + MIB
    huge = np.empty((2**27,))     # 1 GiB of arguments, of a function outside the contract
    assert replies.budget("mystery", (huge,), {}) == huge.nbytes + 256 * MIB
    assert replies.budget("conv_forward_naive", (x, w, b, 0, 0), {}) == \
        4 * (x.nbytes + w.nbytes + b.nbytes) + MIB   # stride 0: bounded by the arguments


def test_a_reply_far_larger_than_expected_is_refused_before_it_is_read():
    code = TOOLS + """
def zero_pad(x, pad):
    return np.zeros(100 * x.size)

def claim(n):
    write_all(reply_pipe(), struct.pack(">Q", n) + b"{" * 64)
    return 1
"""
    x = np.ones((64, 64, 4, 4))
    with cage(code) as student:
        budget = replies.budget("zero_pad", (x, 0), {})
        error, growth = grader_memory_growth(lambda: student.call("zero_pad", x, 0))
        assert isinstance(error, StudentCrash) and "larger than expected" in str(error)
        assert growth < budget, growth
        error, growth = grader_memory_growth(lambda: student.call("claim", 2**31))
        assert isinstance(error, StudentCrash) and "larger than expected" in str(error)
        assert growth < replies.budget("claim", (2**31,), {})
        honest_call_works(student)


def test_an_a6_reply_is_bounded_by_its_registry_shape_not_by_its_arguments():
    """max_pool_forward(x, 2, 2) must return a quarter of x: a reply twice the size of x (which
    the arguments' bytes alone would have let through) is refused unread, and the next call
    works; a reply of the right size but float64 for float32 input still gets through, so
    the graders can say what is wrong."""
    code = """
def max_pool_forward(x, pool=2, stride=2):
    return np.zeros(2 * x.size)

def cnn_forward(x, w1, b1, w2, b2, pad=0, pool=2):
    return np.zeros((w2.shape[0], x.shape[3]))          # float64 for float32 inputs
"""
    x = np.ones((128, 128, 4, 4))                        # 2 MiB: the quarter is 0.5 MiB
    assert replies.budget("max_pool_forward", (x, 2, 2), {}) == x.nbytes // 4 + \
        3 * x.nbytes // 4 + MIB < 2 * x.nbytes
    with cage(code) as student:
        error, growth = grader_memory_growth(lambda: student.call("max_pool_forward", x, 2, 2))
        assert isinstance(error, StudentCrash) and "larger than expected" in str(error)
        assert growth < replies.budget("max_pool_forward", (x, 2, 2), {})
        honest_call_works(student)
        args = contract.inputs("cnn_forward", contract.FUNCTIONS["cnn_forward"].correctness.cases[0],
                               dtype=np.float32)
        assert student.call("cnn_forward", *args).dtype == np.float64


def test_a_step_reply_is_bounded_by_its_k_values():
    """conv_single_step returns K numbers: a reply of 8 MiB for a window of a few hundred bytes is
    refused unread and the next call works; K values in the wrong dtype still get through, for
    the graders to name."""
    code = """
def conv_single_step(x_slice, w, b):
    if x_slice.dtype == np.float32:
        return np.zeros(w.shape[0])                      # float64 for float32 inputs
    return np.zeros(1 << 20)
"""
    case = contract.FUNCTIONS["conv_single_step"].correctness.cases[0]
    args = contract.inputs("conv_single_step", case)
    assert replies.budget("conv_single_step", args, {}) < (1 << 20) * 8
    with cage(code) as student:
        error, growth = grader_memory_growth(lambda: student.call("conv_single_step", *args))
        assert isinstance(error, StudentCrash) and "larger than expected" in str(error)
        assert growth < replies.budget("conv_single_step", args, {})
        honest_call_works(student)
        got = student.call("conv_single_step", *contract.inputs("conv_single_step", case, dtype=np.float32))
        assert got.dtype == np.float64 and got.shape == (args[1].shape[0],)


@pytest.mark.slow
def test_an_alexnet_sized_x_col_comes_back_read_once():
    case = ALEXNET_CONV1.with_(M=8)
    x = case.arrays()[0]
    expected = reference.im2col(x, case.f, case.stride, case.pad)
    source = Path(reference.__file__).read_text()
    with cage(source, call_timeout=30.0) as student:
        got, growth = grader_memory_growth(
            lambda: student.call("im2col", x, case.f, case.stride, case.pad))
    np.testing.assert_array_equal(got, expected)
    assert growth < 1.25 * expected.nbytes, growth / expected.nbytes
