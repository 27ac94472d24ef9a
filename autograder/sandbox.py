"""The cage: a submission's code runs in a child process that the grader calls over pipes.

    with SandboxStudent(submission.cells, hidden_paths=default_hidden_paths(out_dir)) as student:
        student.load_report                  -> LoadReport(errors=[CellError(index, grade_id, type,
                                                message, traceback)], stdout, stderr, skipped=[cell
                                                indexes left out after hanging], functions, seconds,
                                                failed="" or why no call can be made)
        student.has("im2col")                -> bool
        student.call("im2col", x, 3, stride=2, pad=1)          -> value
        student.call_full("im2col", x, 3, _timeout=5.0)        -> CallResult(value, args_after,
                                                                  seconds, output, kwargs_after)
        student.peak_memory_call("conv_forward_im2col", x, w, b)  -> (CallResult, peak_extra_bytes)
        student.source                       -> str, all code the submission ran
        student.isolation                    -> "full" or "partial" (+ .isolation_note)

    with reference_sandbox() as ref: ...     # autograder/reference.py in an identical cage

`cells` are extract.Cell objects (or plain source strings). `_timeout` (seconds) is the only
keyword a call keeps for itself; the default is config.CALL_TIMEOUT_S. Errors are the
autograder.student ones: StudentException (the student's exception, with a traceback of the
student's own frames), StudentTimeout, StudentCrash, MissingFunction, BadReturn. After a timeout or
a crash the child is killed and the next call starts a new one (re-running the cells), so later
tests still grade the other functions. SandboxError means the cage itself failed: not the
student's fault, and never a grade.

What crosses back is .npy (read with allow_pickle=False) and JSON only, then
student.clean_value. `seconds` is the parent's wall clock from the request fully sent to the reply
fully read (it includes moving the value and the arguments back, the same for every function
timed this way); nothing the child claims is trusted. `peak_memory_call` measures the child's
VmHWM from /proc after resetting it through /proc/<pid>/clear_refs, once the arguments are in
place; its `seconds` include a handshake and are not for timing.

The child (autograder/child.py) gets a fresh scratch dir as cwd and HOME (removed afterwards), a
clean environment (BLAS pinned to one thread, matplotlib Agg), and the limits of
autograder.config (address space, CPU, file size, processes, no core files), in a new session.
A call that overruns its wall clock kills the child's process group and, when the grader runs as
root, every process of the sandbox's uid. As root the child also gets:

- a private mount namespace (and empty network and IPC namespaces) where `hidden_paths` are
  covered by empty read-only tmpfs (default: the repository's autograder/, solutions/, tests/,
  tools/, examples/, .git/, build/, gradebook.db; add the output dir), /tmp, /var/tmp and
  /dev/shm are fresh small tmpfs, and folders the uid could not enter (e.g. /root holding the
  interpreter) are replaced by a tmpfs exposing only the interpreter, the venv and helpers/;
- its own unprivileged uid (SANDBOX_UID_BASE + a slot held by a lock file, unique among live
  sandboxes of every process), so it cannot signal the grader or another sandbox.

The child gets SIGKILL when the grader thread that started it dies (start and use a sandbox from
a thread that outlives it); a new sandbox on the same uid first kills that uid's leftovers.

Not root, the limits still apply but nothing is hidden, the uid is the grader's own and a process
that escapes the process group with setsid can outlive a timeout: `isolation` is "partial".
"""
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import child as wire
from autograder import config
from autograder.extract import Cell
from autograder.student import (BadReturn, CallResult, MissingFunction, StudentCrash,
                                StudentException, StudentTimeout, clean_value)

REPO = Path(__file__).resolve().parents[1]
HIDDEN_IN_REPO = ("autograder", "solutions", "tests", "tools", "examples", ".git", "build",
                  "gradebook.db")
SANDBOX_UID_BASE = 200000
SLOTS = 1000
FRESH_TMP = ("/tmp", "/var/tmp", "/dev/shm")
TMP_BYTES = 16 * 2**20                          # each fresh /tmp-like tmpfs
SCRATCH_BYTES = 2 * config.CHILD_FILE_BYTES     # the scratch tmpfs (cwd, HOME)
LOAD_ATTEMPTS = 3                               # runs of the cells, skipping a cell that hung
PIPE_BYTES = 2**20                              # <= /proc/sys/fs/pipe-max-size
MAX_HEADER_BYTES = 16 * 2**20
MAX_BLOBS = 4096
_CHILD_SOURCE = Path(wire.__file__).read_text()
_LENGTH = wire._LENGTH


class SandboxError(RuntimeError):
    """The cage itself failed (not the student's code): the submission cannot be graded now."""


@dataclass
class CellError:
    index: int
    grade_id: object
    type: str
    message: str
    traceback: str = ""

    def __str__(self):
        return f"{Cell('', self.grade_id, self.index).label}: {self.type}: {self.message}"


@dataclass
class LoadReport:
    """What happened while the submission's cells ran (the first time)."""
    errors: list = field(default_factory=list)     # CellError per failing, hung or fatal cell
    stdout: str = ""                                # truncated to config.OUTPUT_LIMIT_CHARS
    stderr: str = ""
    skipped: list = field(default_factory=list)    # indexes of cells left out after hanging
    functions: tuple = ()                           # callables the cells defined
    seconds: float = 0.0
    failed: str = ""                                # why no call can be made, or ""


def default_hidden_paths(*extra):
    """The repository's private folders that exist, plus `extra` (e.g. the output dir)."""
    return [str(REPO / p) for p in HIDDEN_IN_REPO if (REPO / p).exists()] + \
           [os.path.realpath(p) for p in extra]


# ------------------------------------------------------------------------------ pipes with deadlines
class _Timeout(Exception):
    pass


class _Gone(Exception):
    """The child closed its end of a pipe (it died, or its code closed the pipe)."""


class _Garbled(_Gone):
    """The child said something that is not the protocol."""


def _wait(fd, deadline, write=False):
    """Return once `fd` can be read (or written); _Timeout at the deadline."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT if write else select.POLLIN)
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not poller.poll(remaining * 1000):
        raise _Timeout()


def _send(fd, parts, deadline):
    try:
        for part in parts:
            view = memoryview(part)
            while view:
                _wait(fd, deadline, write=True)
                view = view[os.write(fd, view):]
    except (BrokenPipeError, BlockingIOError) as e:
        raise _Gone(str(e)) from None


def _recv_exactly(fd, n, deadline):
    chunks = []
    while n:
        _wait(fd, deadline)
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise _Gone("the child closed its pipe")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _recv(fd, deadline):
    """One message from the child, checked for shape and size: (header dict, blobs)."""
    size = _LENGTH.unpack(_recv_exactly(fd, 8, deadline))[0]
    if size > MAX_HEADER_BYTES:
        raise _Garbled(f"a reply header of {size} bytes")
    try:
        header = json.loads(_recv_exactly(fd, size, deadline))
    except ValueError:
        raise _Garbled("a reply that is not JSON") from None
    count = header.get("blobs") if isinstance(header, dict) else None
    if type(count) is not int or not 0 <= count <= MAX_BLOBS:
        raise _Garbled("a malformed reply header")
    blobs = []
    for _ in range(count):
        size = _LENGTH.unpack(_recv_exactly(fd, 8, deadline))[0]
        if size > config.CHILD_MEMORY_BYTES:
            raise _Garbled(f"a reply blob of {size} bytes")
        blobs.append(_recv_exactly(fd, size, deadline))
    return header, blobs


# ------------------------------------------------------------------------------ processes
def _proc_status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.split(":", 1) for line in f if ":" in line)
    except (OSError, ValueError):
        return {}


def _live_pids(match):
    """Pids (not zombies) whose /proc status satisfies `match(status)`."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            status = _proc_status(entry)
            if status and not status.get("State", "").strip().startswith(("Z", "X")) \
                    and match(status):
                pids.append(int(entry))
    return pids


def pids_of_uid(uid):
    """Live processes with `uid` as real, effective, saved or filesystem uid."""
    return _live_pids(lambda s: str(uid) in s.get("Uid", "").split())


def _kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _descendants(root):
    parents = {}
    for pid in _live_pids(lambda s: True):
        parents[pid] = int(_proc_status(pid).get("PPid", "0") or 0)
    found, frontier = set(), {root}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def _sweep_uid(uid, seconds=5.0):
    """SIGKILL every process of `uid` until none is left (a fork bomb keeps forking for a while)."""
    end = time.monotonic() + seconds
    while (pids := pids_of_uid(uid)) and time.monotonic() < end:
        _kill_all(pids)
        time.sleep(0.005)
    return pids


def _memory_kb(pid, key):
    return int(_proc_status(pid).get(key, "0 kB").split()[0])


def _read_output(path, offset):
    """The text written to `path` after `offset`, cut to config.OUTPUT_LIMIT_CHARS."""
    limit = config.OUTPUT_LIMIT_CHARS
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            f.seek(offset)
            data = f.read(min(max(size - offset, 0), limit))
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    if size - offset > limit:
        text += f"\n[... {size - offset - limit} more bytes of output cut]"
    return text


def _acquire_slot():
    """(slot, lock fd): a sandbox uid no live sandbox of any process holds."""
    folder = Path(tempfile.gettempdir()) / "conv-course-sandbox-slots"
    folder.mkdir(mode=0o700, exist_ok=True)
    for slot in range(SLOTS):
        fd = os.open(folder / f"{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return slot, fd
    raise SandboxError(f"all {SLOTS} sandbox uids are in use")


def _signal_words(returncode):
    if returncode is None:
        return "stopped answering"
    if returncode >= 0:
        return f"exited with status {returncode} (os._exit, or the interpreter gave up)"
    name = signal.Signals(-returncode).name
    why = {"SIGKILL": " (out of memory, or killed)", "SIGXCPU": " (CPU time limit)",
           "SIGSEGV": " (a crash inside native code)"}.get(name, "")
    return f"was killed by {name}{why}"


def _cpu_seconds(pid):
    """CPU time the process `pid` has run, all its threads, read by the trusted side from
    /proc/<pid>/task/*/schedstat (nanoseconds; the child can neither fake nor hide it, and it
    cannot fork, config.CHILD_PROCESSES). Raises _Gone when the process has vanished."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        raise _Gone("exited") from None
    return total / 1e9


class _Child:
    """One running child: its process, pipe ends, output files, and what its cells reported."""

    def __init__(self, proc, request_fd, reply_fd, out_paths):
        self.proc, self.request_fd, self.reply_fd = proc, request_fd, reply_fd
        self.out_paths = out_paths
        self.isolation, self.isolation_note = "partial", ""
        self.callables = frozenset()
        self.errors = []

    def take_ready(self, ready):
        """Read the child's (untrusted) `ready` message: callables and per-cell errors."""
        def text(value, limit=wire.MESSAGE_CHARS):
            return str(value)[:limit]
        try:
            self.callables = frozenset(text(n, 200) for n in ready.get("callables", ()))
            self.errors = [CellError(int(e["index"]), e.get("grade_id") and text(e["grade_id"], 200),
                                     text(e["type"], 100), text(e["message"]),
                                     text(e.get("traceback", ""), config.OUTPUT_LIMIT_CHARS))
                           for e in ready.get("errors", ())]
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise _Garbled(f"a malformed report of the cells ({type(e).__name__})") from None

    def offsets(self):
        return [os.path.getsize(p) for p in self.out_paths]

    def output_since(self, offsets):
        return "".join(_read_output(p, o) for p, o in zip(self.out_paths, offsets))


class _LoadStopped(Exception):
    def __init__(self, index, words):
        super().__init__(words)
        self.index, self.words = index, words


# ------------------------------------------------------------------------------ the student
class SandboxStudent:
    """A submission in a caged child process (see the module docstring)."""

    def __init__(self, cells, name="student", *, scratch_root=None, hidden_paths=None,
                 call_timeout=config.CALL_TIMEOUT_S, notebook_timeout=config.NOTEBOOK_TIMEOUT_S):
        self.name = name
        self.cells = [c if isinstance(c, Cell) else Cell(str(c), None, i) for i, c in enumerate(cells)]
        self.source = "\n\n".join(c.source for c in self.cells)
        self.call_timeout = call_timeout
        self.notebook_timeout = notebook_timeout
        self.hidden_paths = default_hidden_paths() if hidden_paths is None else \
            [os.path.realpath(p) for p in hidden_paths]
        self.root = os.geteuid() == 0
        self.isolation = "full" if self.root else "partial"
        self.isolation_note = "" if self.root else \
            "the grader is not running as root: no private mount namespace or separate uid"
        self._dir = Path(tempfile.mkdtemp(prefix=f"conv-sandbox-{name}-", dir=scratch_root))
        self._scratch = self._dir / "scratch"
        self._scratch.mkdir()
        self._slot, self._slot_fd = _acquire_slot() if self.root else (None, None)
        self.uid = SANDBOX_UID_BASE + self._slot if self.root else os.getuid()
        if self.root:
            _sweep_uid(self.uid)   # leftovers of a grader that died holding this slot
            os.chown(self._scratch, self.uid, self.uid)
        self._child = None
        self._report = None
        self._skip = set()
        self._seq = 0

    # -------------------------------------------------------------- life cycle
    def __enter__(self):
        self.load_report
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Stop the child and everything it started; remove the scratch dir; free the uid."""
        if self._child:
            self._stop(self._child, gently=True)
            self._child = None
        if self.root:
            _sweep_uid(self.uid)
        shutil.rmtree(self._dir, ignore_errors=True)
        if self._slot_fd is not None:
            os.close(self._slot_fd)
            self._slot_fd = None

    def __del__(self):
        if getattr(self, "_slot_fd", None) is not None:
            self.close()

    def _env(self):
        scratch = str(self._scratch)
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch,
                "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
                "MPLCONFIGDIR": os.path.join(scratch, ".matplotlib"),
                # big arrays straight from mmap and back on free, so VmHWM sees each allocation
                "MALLOC_MMAP_THRESHOLD_": "131072", **config.PINNED_THREADS}

    def _setup(self):
        limits = {"AS": config.CHILD_MEMORY_BYTES, "CPU": config.CHILD_CPU_SECONDS,
                  "FSIZE": config.CHILD_FILE_BYTES, "CORE": 0,
                  "NPROC": config.CHILD_PROCESSES}
        if not self.root:   # NPROC counts every process of the uid, here the grader's own
            limits["NPROC"] += len(pids_of_uid(os.getuid()))
        expose = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix,
                                                        sys.exec_prefix, REPO / "helpers")})
        return {"isolate": self.root, "uid": self.uid, "parent": os.getpid(),
                "scratch": str(self._scratch),
                "hide": self.hidden_paths, "expose": expose, "fresh_tmp": list(FRESH_TMP),
                "tmp_bytes": TMP_BYTES, "scratch_bytes": SCRATCH_BYTES, "limits": limits,
                "partial_note": self.isolation_note}

    def _spawn(self, cells, deadline):
        """Start a child and run `cells`; the _Child. _LoadStopped if a cell hangs or kills it."""
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        out_paths = [self._dir / "stdout.txt", self._dir / "stderr.txt"]
        with open(out_paths[0], "wb") as out, open(out_paths[1], "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _CHILD_SOURCE, str(request_r), str(reply_w)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, pass_fds=(request_r, reply_w),
                cwd=self._scratch, env=self._env(), start_new_session=True)
        os.close(request_r)
        os.close(reply_w)
        for fd in (request_w, reply_r):   # fewer, larger writes for big arrays
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        os.set_blocking(request_w, False)
        child = _Child(proc, request_w, reply_r, out_paths)
        current, indexes = None, {c.index for c in cells}
        try:
            _send(request_w, wire.frames({"op": "init", "setup": self._setup(), "cells": [
                {"source": c.source, "grade_id": c.grade_id, "index": c.index} for c in cells]}),
                deadline)
            header, _ = _recv(reply_r, deadline)
            if "caged" not in header:   # the only messages sent before student code runs
                raise SandboxError(f"the sandbox could not start: {header.get('fatal', header)}")
            child.isolation = "full" if header["caged"] == "full" else "partial"
            child.isolation_note = str(header.get("note", ""))
            while True:
                header, _ = _recv(reply_r, deadline)
                if "cell" in header:
                    if header["cell"] not in indexes:
                        raise _Garbled("a report of a cell that does not exist")
                    current = header["cell"]
                elif header.get("ready"):
                    child.take_ready(header)
                    return child
        except (_Timeout, _Gone) as e:
            timed_out = isinstance(e, _Timeout)
            self._stop(child)
            if current is None:
                raise SandboxError(f"the sandbox's interpreter did not start "
                                   f"({_signal_words(proc.returncode)}): "
                                   f"{_read_output(out_paths[1], 0)}") from None
            raise _LoadStopped(current, f"did not finish within {self.notebook_timeout:g} s"
                               if timed_out else f"ended the process (which "
                                                 f"{_signal_words(proc.returncode)})") from None
        except BaseException:
            self._stop(child)
            raise

    def _load(self):
        """Run the cells in a new child, skipping cells that hang or kill it (at most
        LOAD_ATTEMPTS runs). Records the first LoadReport; sets self._child or report.failed."""
        stopped = []
        start = time.monotonic()
        for _ in range(LOAD_ATTEMPTS):
            cells = [c for c in self.cells if c.index not in self._skip]
            try:
                child = self._spawn(cells, time.monotonic() + self.notebook_timeout)
                break
            except _LoadStopped as e:
                self._skip.add(e.index)
                cell = next((c for c in self.cells if c.index == e.index), Cell("", None, e.index))
                stopped.append(CellError(e.index, cell.grade_id, "CellStopped",
                                         f"the cell {e.words}; it was skipped"))
        else:
            child = None
        if self._report is None:
            self._report = LoadReport(
                errors=sorted(stopped + (child.errors if child else []), key=lambda e: e.index),
                stdout=_read_output(child.out_paths[0], 0) if child else "",
                stderr=_read_output(child.out_paths[1], 0) if child else "",
                skipped=sorted(self._skip),
                functions=tuple(sorted(child.callables)) if child else (),
                seconds=time.monotonic() - start,
                failed="" if child else "the notebook's code never finished running ("
                                        + "; ".join(map(str, stopped)) + ")")
            if child:
                self.isolation, self.isolation_note = child.isolation, child.isolation_note
        self._child = child

    def _stop(self, child, gently=False):
        """End `child`, its process group and (as root) every process of the sandbox uid."""
        os.close(child.request_fd)
        if gently:
            try:
                child.proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        strays = set() if self.root else _descendants(child.proc.pid)
        try:
            os.killpg(child.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _kill_all(strays)
        if self.root:
            _sweep_uid(self.uid)
        child.proc.wait()
        os.close(child.reply_fd)

    @property
    def load_report(self):
        """The LoadReport of running the cells (runs them now if no child ran yet)."""
        if self._report is None:
            self._load()
        return self._report

    def _ready_child(self):
        if self._child is None:
            if self.load_report.failed:
                raise StudentCrash(self._report.failed)
            self._load()
            if self._child is None:
                raise StudentCrash("the notebook's code no longer finishes running after a crash")
        return self._child

    # -------------------------------------------------------------- calls
    def has(self, name):
        return name in self.load_report.functions

    def call(self, name, /, *args, _timeout=None, **kwargs):
        return self._call(name, args, kwargs, _timeout, want_args=False)[0].value

    def call_full(self, name, /, *args, _timeout=None, **kwargs):
        return self._call(name, args, kwargs, _timeout, want_args=True)[0]

    def peak_memory_call(self, name, /, *args, _timeout=None, **kwargs):
        """(CallResult, peak extra bytes): the child's VmHWM during the call minus its resident
        size once the arguments were in place."""
        return self._call(name, args, kwargs, _timeout, want_args=True, arm=True)

    def _call(self, name, args, kwargs, timeout, want_args, arm=False):
        child = self._ready_child()
        if name not in child.callables:
            raise MissingFunction(f"the submission defines no function `{name}`")
        timeout = self.call_timeout if timeout is None else timeout
        self._seq += 1
        blobs = []
        request = {"op": "call", "seq": self._seq, "name": name, "want_args": want_args,
                   "arm": arm, "args": [wire.encode(a, blobs, strict=True) for a in args],
                   "kwargs": {k: wire.encode(v, blobs, strict=True) for k, v in kwargs.items()}}
        parts = wire.frames(request, blobs)
        offsets = child.offsets()
        deadline = time.monotonic() + timeout
        peak = None
        try:
            cpu_start = _cpu_seconds(child.proc.pid)
            _send(child.request_fd, parts, deadline)
            start = time.perf_counter()
            if arm:
                peak = self._measure_peak(child, deadline)
            reply, reply_blobs = _recv(child.reply_fd, deadline)
            seconds = time.perf_counter() - start
            cpu = _cpu_seconds(child.proc.pid) - cpu_start
        except _Timeout:
            self._lose_child()
            raise StudentTimeout(f"`{name}` did not return within {timeout:g} s") from None
        except _Garbled as e:
            self._lose_child()
            raise StudentCrash(f"while running `{name}`, the process running the submission sent "
                               f"a reply that is not the protocol ({e}); it was stopped") from None
        except _Gone:
            words = _signal_words(self._lose_child())
            raise StudentCrash(f"while running `{name}`, the process running the submission "
                               f"{words}") from None
        output = child.output_since(offsets)
        result = self._decode_reply(name, reply, reply_blobs)
        value, args_after, kwargs_after = result
        return CallResult(value, args_after, seconds, output, kwargs_after, cpu), peak

    def _measure_peak(self, child, deadline):
        pid = child.proc.pid
        self._expect(child, "armed", deadline)
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError as e:
            raise _Gone(f"cannot reset the child's peak memory ({e})") from None
        baseline = _memory_kb(pid, "VmRSS")
        _send(child.request_fd, wire.frames({"op": "go"}), deadline)
        self._expect(child, "called", deadline)
        peak = _memory_kb(pid, "VmHWM")
        _send(child.request_fd, wire.frames({"op": "send"}), deadline)
        return max(peak - baseline, 0) * 1024

    def _expect(self, child, key, deadline):
        header, _ = _recv(child.reply_fd, deadline)
        if header.get(key) != self._seq:
            raise _Garbled(f"a reply out of turn where `{key}` was due")

    def _lose_child(self):
        """Kill the current child after a timeout or crash; return its exit status."""
        child, self._child = self._child, None
        self._stop(child)
        return child.proc.returncode

    def _decode_reply(self, name, reply, blobs):
        what = f"`{name}`"
        try:
            if reply.get("seq") != self._seq:
                raise ValueError("a reply to another call")
            if not reply.get("ok"):
                if reply.get("error") == "missing":
                    raise MissingFunction(f"the submission defines no function `{name}`")
                if reply.get("error") == "exception":
                    raise StudentException(str(reply["type"])[:100],
                                           str(reply["message"])[:wire.MESSAGE_CHARS],
                                           str(reply["traceback"])[:config.OUTPUT_LIMIT_CHARS])
                raise ValueError("an unknown error reply")
            opaque = _opaque(reply["value"])
            if opaque:
                raise BadReturn(f"{what} returned a {opaque}; "
                                "expected a numpy array, a number, or a tuple of them")
            value = clean_value(wire.decode(reply["value"], blobs), what)
            args_after = tuple(wire.decode(s, blobs) for s in reply.get("args_after", ()))
            kwargs_after = {k: wire.decode(s, blobs)
                            for k, s in reply.get("kwargs_after", {}).items()}
        except (MissingFunction, StudentException, BadReturn):
            raise
        except Exception as e:   # whatever the child sent is untrusted; a bad reply is a crash
            self._lose_child()
            raise StudentCrash(f"the process running `{name}` sent a reply that is not the "
                               f"protocol ({type(e).__name__}: {str(e)[:200]})") from None
        return value, args_after, kwargs_after


def _opaque(spec):
    """The description of the first value in `spec` that could not travel, or None."""
    if isinstance(spec, dict) and "x" in spec:
        return str(spec["x"])[:200]
    if isinstance(spec, dict) and ("t" in spec or "l" in spec):
        return next(filter(None, map(_opaque, spec.get("t", spec.get("l")))), None)
    return None


def reference_sandbox(**kwargs):
    """A SandboxStudent running autograder/reference.py as its one cell (same harness as a
    student, for timing)."""
    from autograder import reference
    return SandboxStudent([Cell(Path(reference.__file__).read_text(), None, 0)],
                          name="reference", **kwargs)
