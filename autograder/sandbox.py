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

Every verdict comes from data the parent reads itself; nothing the child claims is trusted:

- Array arguments travel in a shared memory file the parent owns (a memfd): the function gets
  views of it, and `args_after`/`kwargs_after` are read back from it by the parent after the
  call (None for an array the child cut the file short under: it counts as changed).
- What crosses back is JSON (64-bit ints, finite floats) and .npy of number dtypes, parsed by
  the parent (allow_pickle never), then student.clean_value. Each reply is bounded by
  replies.budget (the bytes the function must return plus a slack) and refused before it is
  read if larger; each array is read once into its own buffer. Whatever is malformed is a
  StudentCrash of that call, never a grader error.
- `seconds` is the parent's wall clock from the request fully sent to the reply fully read (it
  includes moving the value back, the same for every function timed this way).
- `peak_memory_call` runs the cells again in a child of its own, takes that child's resident
  size before any student code runs (PREIMPORT imported), resets its VmHWM through
  /proc/<pid>/clear_refs before sending the request and reads it once the reply is in: neither
  what the child holds, frees or precomputes, nor when it says it is done, can lower the peak.

The child (autograder/child.py) gets a fresh scratch dir as cwd and HOME (removed afterwards), a
clean environment (BLAS pinned to one thread, matplotlib Agg), and the limits of
autograder.config (address space, CPU, file size, processes, no core files).

Full isolation (`isolation` "full"; probe_isolation() says how) is built by the child itself
before any student code, with the kernel's namespaces (no extra program: a TA who is not root can
neither install bubblewrap nor needs to, unprivileged user namespaces need nothing installed):

- as root, new mount, PID, network and IPC namespaces and the sandbox's own unprivileged uid
  (SANDBOX_UID_BASE + a slot held by a lock file, unique among live sandboxes of every process);
  not root, the same namespaces inside a new user namespace where the grader's uid is the only
  uid mapped (child.CAGE_UID inside);
- a fork, so that the student's code runs as PID 1 of its PID namespace (`_Child.pid`, its host
  pid, found by the parent in /proc before any student code runs): it sees only itself in a fresh
  /proc, cannot signal the grader or another sandbox, and killing it ends everything it started;
- every mount read-only; the writable places (scratch, /tmp, /var/tmp, /dev/shm) private to the
  child, in one tmpfs of WRITE_BUDGET_BYTES, gone when it ends; `hidden_paths` covered by empty
  tmpfs (default: the repository's autograder/, solutions/, tests/, tools/, examples/, .git/,
  build/, gradebook.db; add the output dir); folders other users could not enter (e.g. /root
  holding the interpreter; not root, also the grader's home) replaced by a tmpfs exposing only
  the interpreter, the venv and helpers/; installed library-convolution packages (scipy, torch,
  ...) replaced by a package that refuses to be imported; /proc/<pid>/clear_refs covered, so the
  peak-memory counter the parent resets and reads through the host's /proc is out of its reach;
- no network (only a loopback interface, down), no capability left, no new privileges; it stays
  dumpable so the parent (same uid when not root) can read and reset its memory counters.

numpy's convolve/correlate (and the compiled functions behind them) raise "library convolution is
not allowed" in every child. The child gets SIGKILL when the grader thread that started it dies
(start and use a sandbox from a thread that outlives it); as root a new sandbox on the same uid
first kills that uid's leftovers.

Where neither root nor user namespaces are available, SandboxStudent raises IsolationUnavailable
(what to do in its message) unless allow_partial=True: then `isolation` is "partial" (with
`isolation_note` saying why): only the limits apply, nothing is hidden, the child shares the
grader's uid, processes and network, and a process that escapes the process group with setsid
can outlive a timeout.
"""
import fcntl
import functools
import json
import pwd
import math
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

import numpy as np

from autograder import child as wire
from autograder import config, replies
from autograder.extract import Cell, as_cells
from autograder.student_rules import BLOCKED_MODULES
from autograder.student import (BadReturn, CallResult, MissingFunction, StudentCrash,
                                StudentException, StudentTimeout, clean_value)

REPO = Path(__file__).resolve().parents[1]
HIDDEN_IN_REPO = ("autograder", "solutions", "tests", "tools", "examples", ".git", "build",
                  "gradebook.db")
SANDBOX_UID_BASE = 200000
SLOTS = 1000
SLOT_LOCKS = "/run/conv-course-sandbox-slots"   # root only: slots are used only as root
FRESH_TMP = ("/tmp", "/var/tmp", "/dev/shm")
# Everything the child may write, in all its writable places together (scratch, FRESH_TMP): one
# tmpfs of this size behind them all. Here rather than in config.py (the graders' file).
WRITE_BUDGET_BYTES = 2 * config.CHILD_FILE_BYTES
LOAD_ATTEMPTS = 3                               # runs of the cells, skipping a cell that hung
PIPE_BYTES = 2**20                              # <= /proc/sys/fs/pipe-max-size
MAX_HEADER_BYTES = 4 * 2**20                    # the JSON header of any message from the child
MAX_BLOBS = 4096
# What an honest notebook imports, loaded in a measuring child before any student code (the
# memory they take is part of its clean baseline, not of the call measured).
PREIMPORT = ("matplotlib.pyplot", "IPython.display",
             *sorted(f"helpers.{p.stem}" for p in (REPO / "helpers").glob("*.py")
                     if p.stem != "__init__"))
# Installed packages holding the forbidden library convolutions: covered inside the cage, so
# that even code removing the child's import blocker cannot load them (jaxlib: jax's compiled half).
LIBRARY_PACKAGES = (*dict.fromkeys(m.split(".")[0] for m in BLOCKED_MODULES), "jaxlib")
_CHILD_SOURCE = Path(wire.__file__).read_text()
_LENGTH = wire._LENGTH


class SandboxError(RuntimeError):
    """The cage itself failed (not the student's code): the submission cannot be graded now."""


class IsolationUnavailable(SandboxError):
    """Full isolation is impossible here and partial isolation was not allowed."""


@dataclass(frozen=True)
class Isolation:
    """How caged the children of this grader are: `level` "full" or "partial"; `how` "root",
    "user-namespace" or "none"; `why` (when partial) why, and what to do about it."""
    level: str
    how: str
    why: str = ""


PARTIAL_ADVICE = ("run the grader as root, or enable unprivileged user namespaces (e.g. sysctl "
                  "user.max_user_namespaces=15000, or kernel.unprivileged_userns_clone=1, or the "
                  "AppArmor rule that restricts them), or pass --allow-partial-isolation to grade "
                  "anyway with only the resource limits (a submission can then read the course "
                  "files, see other processes and use the network)")


@functools.lru_cache(maxsize=None)
def probe_isolation():
    """The Isolation this grader's sandboxes get (probed once per process). Not root, a
    throw-away child really builds the cage's namespaces (user, mount, PID, network, IPC),
    mounts a /proc and drops its capabilities."""
    if os.geteuid() == 0:
        return Isolation("full", "root")
    # One BLAS thread, as in a real child: a process with threads cannot enter a user namespace.
    probe = subprocess.run([sys.executable, "-I", "-c", _CHILD_SOURCE, "--probe"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                           env={"PATH": "/usr/bin:/bin", **config.PINNED_THREADS})
    if probe.returncode == 0:
        return Isolation("full", "user-namespace")
    error = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
    return Isolation("partial", "none",
                     f"not root, and user namespaces are not available here ({error}): the "
                     "cage has no private file system, PID namespace or network; "
                     + PARTIAL_ADVICE)


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


class _TooLarge(_Garbled):
    """A reply larger than the budget of its call (refused before it was read)."""


def _recv_into(fd, buffer, deadline):
    """Fill `buffer` (a bytearray) from `fd`: the bytes are read once, into their final place."""
    view, got = memoryview(buffer), 0
    while got < len(view):
        _wait(fd, deadline)
        n = os.readv(fd, [view[got:]])
        if not n:
            raise _Gone("the child closed its pipe")
        got += n
    return buffer


def _frame_length(fd, deadline):
    return _LENGTH.unpack(_recv_into(fd, bytearray(8), deadline))[0]


def _json_int(text):
    value = int(text) if len(text) <= 20 else None
    if value is None or not wire.INT64[0] <= value < wire.INT64[1]:
        raise ValueError(f"an integer of {len(text)} digits")
    return value


def _json_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:30]}")
    return value


def _json_constant(name):
    raise ValueError(f"the number {name}")


def _parse_header(data):
    """The JSON header of a message: a dict with a blob count, 64-bit ints and finite floats
    only; _Garbled otherwise (including nesting too deep for the parser)."""
    try:
        header = json.loads(data, parse_int=_json_int, parse_float=_json_float,
                            parse_constant=_json_constant)
    except (ValueError, RecursionError) as e:
        raise _Garbled(f"a reply header that is not valid JSON ({type(e).__name__})") from None
    count = header.get("blobs") if isinstance(header, dict) else None
    if type(count) is not int or not 0 <= count <= MAX_BLOBS:
        raise _Garbled("a malformed reply header")
    return header


def _recv(fd, deadline, budget=MAX_HEADER_BYTES):
    """One message from the child: (header dict, blobs as bytearrays). Each frame's length is read
    first and the message refused (_TooLarge) as soon as its frames add up to more than `budget`
    bytes, before the frame itself is read: a reply never grows the grader by more than that."""
    left = budget
    blobs = []
    size = _frame_length(fd, deadline)
    if size > min(left, MAX_HEADER_BYTES):
        raise _TooLarge(f"a reply header of {size} bytes")
    header = _parse_header(_recv_into(fd, bytearray(size), deadline))
    left -= size
    for _ in range(header["blobs"]):
        size = _frame_length(fd, deadline)
        if size > left:
            raise _TooLarge(f"a reply of more than {budget - left + size} bytes, where at most "
                            f"{budget} were expected")
        left -= size
        blobs.append(_recv_into(fd, bytearray(size), deadline))
    return header, blobs


def _text(value, limit):
    """Untrusted text from the child, cut to `limit` characters, with lone surrogates escaped (so
    it can be written to any UTF-8 file or JSON)."""
    return str(value)[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


# ------------------------------------------------------------------------------ processes
def _proc_status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.split(":", 1) for line in f if ":" in line)
    except (OSError, ValueError):
        return {}


def _live_pids(match, among=None):
    """Pids (not zombies) whose /proc status satisfies `match(status)`, of all or of `among`."""
    pids = []
    for entry in os.listdir("/proc") if among is None else map(str, among):
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
    """(slot, lock fd): a sandbox uid no live sandbox of any process holds.

    The lock files live at one fixed path (SLOT_LOCKS), whatever TMPDIR a grading process has:
    two graders with different temporary folders must never hand out the same uid."""
    folder = Path(SLOT_LOCKS)
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != 0 or folder.stat().st_mode & 0o077:
        raise SandboxError(f"{folder} must be a folder only root can write (owner root, mode 700)")
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


def _hung_up(fd):
    """Whether every writer of the pipe `fd` has closed it."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return any(events & select.POLLHUP for _, events in poller.poll(0))


def _let_end(child, seconds=0.5):
    """The student's process closed its pipe (it is exiting): give it, then the process waiting
    for it, a moment to end, so that the exit status is the student's, not our SIGKILL."""
    end = time.monotonic() + seconds
    while _live_pids(lambda s: True, [child.pid]) and time.monotonic() < end:
        time.sleep(0.005)
    try:
        child.proc.wait(timeout=max(end - time.monotonic(), 0.05))
    except subprocess.TimeoutExpired:
        pass


def _student_pid(pid):
    """The host pid of the one child of process `pid` (the process that runs the student's code,
    PID 1 of its namespace), read from /proc by the trusted side; `pid` itself if it has none."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(p) for p in f.read().split()]
    except OSError:   # a kernel without CONFIG_PROC_CHILDREN
        children = _live_pids(lambda s: s.get("PPid", "").strip() == str(pid))
    return children[0] if len(children) == 1 else pid


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


class _SharedArgs:
    """The shared memory file (a memfd the parent owns) through which a call's array arguments
    travel: the parent writes each array at an aligned offset, the child maps the file and gives
    the function views of it, and after the call the parent reads the arrays back with pread,
    never through a mapping of its own (a child that shrinks the file cannot SIGBUS the grader).

        specs = [shared.place(a) for a in arrays]   # [offset, shape, dtype str] each
        shared.write() -> size of the file;  shared.read_back(i) -> array i as it is now, or None
    """
    ALIGN = 64

    def __init__(self):
        self.fd = os.memfd_create("conv-sandbox-arguments", os.MFD_CLOEXEC)
        self.size = 0
        self.placed = []   # (offset, array) of the current call, in the order placed

    def place(self, array):
        end = self.placed[-1][0] + self.placed[-1][1].nbytes if self.placed else 0
        offset = -(-end // self.ALIGN) * self.ALIGN
        self.placed.append((offset, np.ascontiguousarray(array)))
        return [offset, list(array.shape), array.dtype.str]

    def write(self):
        """Put the placed arrays in the file (grown as needed, and back to its size if the
        child changed it); the file's size."""
        if self.placed:
            offset, last = self.placed[-1]
            self.size = max(self.size, offset + last.nbytes)
        os.ftruncate(self.fd, self.size)
        for offset, array in self.placed:
            data = memoryview(array.reshape(-1).view(np.uint8))
            while data:
                written = os.pwrite(self.fd, data, offset)
                data, offset = data[written:], offset + written
        return self.size

    @property
    def nbytes(self):
        return sum(array.nbytes for _, array in self.placed)

    def read_back(self, index):
        """Placed array `index` as the file holds it now; None if the child cut the file short."""
        offset, array = self.placed[index]
        buffer = bytearray(array.nbytes)
        if array.nbytes and os.preadv(self.fd, [buffer], offset) != array.nbytes:
            return None
        return np.frombuffer(buffer, array.dtype).reshape(array.shape)

    def clear(self):
        self.placed = []

    def close(self):
        os.close(self.fd)


class _Child:
    """One running child: its process, pipe ends, output files, and what its cells reported.
    `pid` is the host pid of the process running the student's code; `clean_bytes` its resident
    size before any student code ran (see _take_clean)."""

    def __init__(self, proc, request_fd, reply_fd, out_paths, shared):
        self.proc, self.request_fd, self.reply_fd = proc, request_fd, reply_fd
        self.pid = proc.pid
        self.shared = shared
        self.clean_bytes = None
        self.clean_problem = "the child reported no clean baseline"
        self.stopped = False
        self.out_paths = out_paths
        self.isolation, self.isolation_note = "partial", ""
        self.callables = frozenset()
        self.errors = []

    def take_ready(self, ready):
        """Read the child's (untrusted) `ready` message: callables and per-cell errors."""
        def text(value, limit=wire.MESSAGE_CHARS):
            return _text(value, limit)
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
                 allow_partial=False, call_timeout=config.CALL_TIMEOUT_S,
                 notebook_timeout=config.NOTEBOOK_TIMEOUT_S):
        self.name = name
        self.cells = as_cells(cells)
        self.source = "\n\n".join(c.source for c in self.cells)
        self.call_timeout = call_timeout
        self.notebook_timeout = notebook_timeout
        self.hidden_paths = default_hidden_paths() if hidden_paths is None else \
            [os.path.realpath(p) for p in hidden_paths]
        self.root = os.geteuid() == 0
        probed = probe_isolation()
        if probed.level != "full" and not allow_partial:
            raise IsolationUnavailable(f"cannot grade in a full cage: {probed.why}")
        self.caged = probed.level == "full"
        self.isolation, self.isolation_note = probed.level, probed.why
        self._dir = Path(tempfile.mkdtemp(prefix=f"conv-sandbox-{name}-", dir=scratch_root))
        self._scratch = self._dir / "scratch"
        self._scratch.mkdir()
        (self._dir / "stage").mkdir()   # where the child mounts its write budget
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

    def _env(self, measure=False):
        """The child's whole environment. Only a child that measures peak memory gets big
        arrays straight from mmap and back on free (so VmHWM sees each allocation); elsewhere
        that costs every large allocation its page faults, in the reference's timed calls as
        in the student's, and squeezes the timing ratios towards 1."""
        scratch = str(self._scratch)
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch,
                "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
                "MPLCONFIGDIR": os.path.join(scratch, ".matplotlib"),
                **({"MALLOC_MMAP_THRESHOLD_": "131072"} if measure else {}),
                **config.PINNED_THREADS}

    def _setup(self):
        limits = {"AS": config.CHILD_MEMORY_BYTES, "CPU": config.CHILD_CPU_SECONDS,
                  "FSIZE": config.CHILD_FILE_BYTES, "CORE": 0,
                  "NPROC": config.CHILD_PROCESSES}
        if not self.caged:   # NPROC counts every process of the uid, here the grader's own
            limits["NPROC"] += len(pids_of_uid(os.getuid()))
        expose = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix,
                                                        sys.exec_prefix, REPO / "helpers")})
        userns = self.caged and not self.root
        # In a user namespace the child has the grader's own uid: cover the grader's home too.
        home = os.path.realpath(pwd.getpwuid(os.getuid()).pw_dir)
        return {"isolate": self.caged, "userns": userns, "uid": self.uid, "parent": os.getpid(),
                "scratch": str(self._scratch), "stage": str(self._dir / "stage"),
                "hide": self.hidden_paths, "expose": expose, "fresh_tmp": list(FRESH_TMP),
                "mask": [home] if userns and home != "/" and not wire._under(str(self._dir), home)
                else [],
                "write_bytes": WRITE_BUDGET_BYTES, "limits": limits,
                "partial_note": self.isolation_note, "blocked_modules": list(BLOCKED_MODULES),
                "library_packages": list(LIBRARY_PACKAGES)}

    def _spawn(self, cells, deadline, measure=False):
        """Start a child and run `cells`; the _Child. _LoadStopped if a cell hangs or kills it.
        With `measure`, the child imports PREIMPORT before its clean baseline is taken."""
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        shared = _SharedArgs()
        out_paths = [self._dir / "stdout.txt", self._dir / "stderr.txt"]
        with open(out_paths[0], "wb") as out, open(out_paths[1], "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _CHILD_SOURCE, str(request_r), str(reply_w),
                 str(shared.fd)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                pass_fds=(request_r, reply_w, shared.fd),
                cwd=self._scratch, env=self._env(measure), start_new_session=True)
        os.close(request_r)
        os.close(reply_w)
        for fd in (request_w, reply_r):   # fewer, larger writes for big arrays
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        os.set_blocking(request_w, False)
        child = _Child(proc, request_w, reply_r, out_paths, shared)
        current, indexes = None, {c.index for c in cells}
        try:
            _send(request_w, wire.frames({
                "op": "init", "setup": self._setup(), "preimport": PREIMPORT if measure else [],
                "cells": [{"source": c.source, "grade_id": c.grade_id, "index": c.index}
                          for c in cells]}), deadline)
            header, _ = _recv(reply_r, deadline)
            if "caged" not in header:   # the only messages sent before student code runs
                raise SandboxError(f"the sandbox could not start: {header.get('fatal', header)}")
            child.isolation = "full" if header["caged"] == "full" else "partial"
            child.isolation_note = str(header.get("note", ""))
            if self.caged:   # still before any student code: it waits for our "go"
                child.pid = _student_pid(proc.pid)
            while True:
                header, _ = _recv(reply_r, deadline)
                if "cell" in header:
                    if header["cell"] not in indexes:
                        raise _Garbled("a report of a cell that does not exist")
                    current = header["cell"]
                elif header.get("clean") is True and current is None:
                    _take_clean(child, deadline)
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
        """End `child`: PID 1 of its PID namespace (which ends every process in it), its process
        group, and (as root) every process of the sandbox uid; not caged, its descendants."""
        os.close(child.request_fd)
        if gently:
            try:
                child.proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        if child.pid != child.proc.pid and _hung_up(child.reply_fd):
            _let_end(child)
        strays = set() if self.caged else _descendants(child.proc.pid)
        _kill_all([child.pid])
        try:
            os.killpg(child.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _kill_all(strays)
        if self.root:
            _sweep_uid(self.uid)
        child.proc.wait()
        os.close(child.reply_fd)
        child.shared.close()

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
        """(CallResult, peak extra bytes) of one call made in a child started for this
        measurement alone (then stopped): its resident high-water mark (reset by the parent
        before the request is sent, read once the reply is in) minus its clean baseline (its
        resident size once caged, with PREIMPORT imported and no student code run yet) and
        minus the bytes of the arguments. What the submission's code holds before the call,
        frees, or resets cannot lower it. The child serving the other calls is left alone: the
        measuring one belongs to a sandbox of its own (own uid, scratch and output files)
        running the same cells."""
        if self.load_report.failed:
            raise StudentCrash(self._report.failed)
        measurer = SandboxStudent([c for c in self.cells if c.index not in self._skip],
                                  f"{self.name}-memory", scratch_root=self._dir.parent,
                                  hidden_paths=self.hidden_paths, allow_partial=True,
                                  call_timeout=self.call_timeout,
                                  notebook_timeout=self.notebook_timeout)
        try:
            try:
                child = measurer._spawn(measurer.cells, time.monotonic() + self.notebook_timeout,
                                        measure=True)
            except _LoadStopped as e:
                cell = next(c for c in self.cells if c.index == e.index)
                raise StudentCrash(f"to measure the memory of `{name}`, the notebook's code ran "
                                   f"again in a new process, and {cell.label} {e.words}") from None
            try:
                return measurer._call_in(child, name, args, kwargs, _timeout, want_args=True,
                                         measure=True)
            finally:
                measurer._drop(child)
        finally:
            measurer.close()

    def _call(self, name, args, kwargs, timeout, want_args):
        return self._call_in(self._ready_child(), name, args, kwargs, timeout, want_args)

    def _call_in(self, child, name, args, kwargs, timeout, want_args, measure=False):
        """(CallResult, peak extra bytes or None) of one call in `child`. The reply may take at
        most replies.budget bytes; the arguments after the call are read back from the shared
        memory file (want_args), never taken from the child."""
        if name not in child.callables:
            raise MissingFunction(f"the submission defines no function `{name}`")
        timeout = self.call_timeout if timeout is None else timeout
        self._seq += 1
        child.shared.clear()
        blobs = []
        request = {"op": "call", "seq": self._seq, "name": name,
                   "args": [wire.encode(a, blobs, strict=True, place=child.shared.place)
                            for a in args],
                   "kwargs": {k: wire.encode(v, blobs, strict=True, place=child.shared.place)
                              for k, v in kwargs.items()},
                   "shared": child.shared.write()}
        parts = wire.frames(request, blobs)
        budget = replies.budget(name, args, kwargs)
        offsets = child.offsets()
        deadline = time.monotonic() + timeout
        peak = None
        if measure and child.clean_bytes is None:
            raise SandboxError(f"peak memory cannot be measured here: {child.clean_problem}")
        try:
            if measure:   # before the child has the arguments: all it does with them counts
                _reset_peak(child.pid)
            cpu_start = _cpu_seconds(child.pid)
            _send(child.request_fd, parts, deadline)
            start = time.perf_counter()
            reply, reply_blobs = self._recv_reply(child, deadline, budget)
            seconds = time.perf_counter() - start
            cpu = _cpu_seconds(child.pid) - cpu_start
            if measure:
                peak = max(_status_bytes(child.pid, "VmHWM") - child.clean_bytes
                           - child.shared.nbytes, 0)
        except _Timeout:
            self._drop(child)
            raise StudentTimeout(f"`{name}` did not return within {timeout:g} s") from None
        except _TooLarge as e:
            self._drop(child)
            raise StudentCrash(f"`{name}` sent back a reply larger than expected for its result "
                               f"({e}); the process running the submission was stopped") from None
        except _Garbled as e:
            self._drop(child)
            raise StudentCrash(f"while running `{name}`, the process running the submission sent "
                               f"a reply that is not the protocol ({e}); it was stopped") from None
        except _Gone:
            words = _signal_words(self._drop(child))
            raise StudentCrash(f"while running `{name}`, the process running the submission "
                               f"{words}") from None
        except _Unmeasurable as e:
            self._drop(child)
            raise StudentCrash(f"the memory of `{name}` could not be measured: the grader could "
                               f"not reset the peak-memory counter of the process running it "
                               f"({e}), as it could before the submission's code ran: that code "
                               "made its own process unmeasurable") from None
        output = child.output_since(offsets)
        value = self._decode_reply(child, name, reply, reply_blobs)
        args_after, kwargs_after = (), {}
        if want_args:
            arrays = (child.shared.read_back(i) for i in range(len(child.shared.placed)))
            args_after = tuple(_after(a, arrays) for a in args)
            kwargs_after = {k: _after(v, arrays) for k, v in kwargs.items()}
        return CallResult(value, args_after, seconds, output, kwargs_after, cpu), peak

    def _recv_reply(self, child, deadline, budget):
        """The child's reply to the current call. Replies to earlier calls (left in the pipe by
        code that wrote frames of its own) are skipped; each is bounded by `budget`."""
        while True:
            reply, blobs = _recv(child.reply_fd, deadline, budget)
            seq = reply.get("seq")
            if not (type(seq) is int and seq < self._seq):
                return reply, blobs

    def _drop(self, child):
        """Stop `child` (after a timeout or a crash, or a measurement done) unless it is stopped
        already; its exit status."""
        if self._child is child:
            self._child = None
        if not child.stopped:
            child.stopped = True
            self._stop(child)
        return child.proc.returncode

    def _decode_reply(self, child, name, reply, blobs):
        """The value of the child's reply (StudentException, MissingFunction or BadReturn as it
        says); whatever is malformed in it is a StudentCrash, and `child` is stopped."""
        what = f"`{name}`"
        try:
            if reply.get("seq") != self._seq:
                raise ValueError("a reply to another call")
            if not reply.get("ok"):
                if reply.get("error") == "missing":
                    raise MissingFunction(f"the submission defines no function `{name}`")
                if reply.get("error") == "exception":
                    raise StudentException(_text(reply["type"], 100),
                                           _text(reply["message"], wire.MESSAGE_CHARS),
                                           _text(reply["traceback"], config.OUTPUT_LIMIT_CHARS))
                raise ValueError("an unknown error reply")
            return clean_value(wire.decode(reply["value"], blobs), what)
        except wire.Opaque as e:
            raise BadReturn(f"{what} returned {_text(e, 200)}; "
                            "expected a numpy array, a number, or a tuple of them") from None
        except (MissingFunction, StudentException, BadReturn):
            raise
        except Exception as e:   # whatever the child sent is untrusted; a bad reply is a crash
            self._drop(child)
            raise StudentCrash(f"the process running `{name}` sent a reply that is not the "
                               f"protocol ({type(e).__name__}: {_text(e, 200)})") from None


class _Unmeasurable(Exception):
    """The parent could not reset or read the child's peak memory counter."""


def _status_bytes(pid, key):
    """A memory figure (VmRSS, VmHWM) of process `pid`, read by the parent from /proc."""
    value = _proc_status(pid).get(key)
    if value is None:
        raise _Gone(f"no {key} for process {pid}")
    return int(value.split()[0]) * 1024


def _reset_peak(pid):
    """Reset the peak resident size (VmHWM) of `pid` to its current resident size."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError as e:
        raise _Unmeasurable(f"writing /proc/{pid}/clear_refs: {e}") from None


def _take_clean(child, deadline):
    """The child is caged, PREIMPORT is imported and no student code has run: take its resident
    size as the clean baseline of a memory measurement, check that its peak-memory counter can be
    reset, and let it go on to the cells."""
    try:
        _reset_peak(child.pid)
        child.clean_bytes = _status_bytes(child.pid, "VmRSS")
    except _Unmeasurable as e:
        child.clean_problem = f"the grader cannot reset a child's peak-memory counter ({e})"
    _send(child.request_fd, wire.frames({"op": "go"}), deadline)


def _after(value, arrays):
    """An argument as it is after the call: each array the next of `arrays` (read back from the
    shared memory file, in the order placed), anything else as sent (the child gets a copy)."""
    if type(value) is np.ndarray:
        return next(arrays)
    if type(value) in (tuple, list):
        return type(value)(_after(v, arrays) for v in value)
    return value


def reference_sandbox(allow_partial=False, **kwargs):
    """A SandboxStudent running autograder/reference.py as its one cell (same harness as a
    student, for timing)."""
    from autograder import reference
    return SandboxStudent([Cell(Path(reference.__file__).read_text(), None, 0)],
                          name="reference", allow_partial=allow_partial, **kwargs)
