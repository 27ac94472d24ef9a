"""The program a sandbox child runs: the submission's cells, then calls served over pipes.

Standalone on purpose: the standard library and numpy only, never `autograder` (when the grader
runs as root the child cannot read autograder/). autograder/sandbox.py starts it as

    <venv python> -I -c <this file's source> <request fd> <reply fd> <shared memory fd>

with stdin on /dev/null and stdout/stderr on files the parent reads (and with `--probe` alone to
test whether the cage can be built here: probe_cage), and imports this same module
for the wire format (`frames`, `encode`, `decode`, `load_npy`), so the two sides cannot drift.

Wire format, both ways: a message is a JSON header frame followed by `header["blobs"]` binary
frames; a frame is an 8-byte big-endian length and that many bytes. A value travels as a spec:

    {"j": v}        JSON scalar: None, bool, int (64-bit), finite float or str (exact types only)
    {"a": i}        ndarray of a number dtype; blob i holds its .npy bytes (see load_npy)
    {"s": i}        numpy scalar (or a non-finite float); blob i holds it as a 0-d .npy
    {"m": [offset, shape, dtype]}   parent -> child only: a C-contiguous ndarray in the shared
                    memory file (a memfd the parent owns) at `offset`; the child maps the file and
                    the function gets a writable view of it, so the parent reads the arguments
                    back after the call from memory it owns (whether they were modified)
    {"t": [...]}    tuple of specs ({"l": [...]} for a list)
    {"x": "what"}   child -> parent only: a value that cannot travel, described in words

The conversation:

    parent: {"op": "init", "setup": {...}, "preimport": [modules], "cells": [{"source",
             "grade_id", "index"}, ...]}   (setup: the cage to build, sandbox.SandboxStudent._setup,
             with the library convolutions to refuse, autograder.student_rules's)
    child:  {"fatal": message}      the cage could not be built (no student code has run)
       or:  {"caged": "full" | "partial", "note": why partial}   (before any student code), then,
            once `preimport` is imported, {"clean": true}; the parent reads the child's resident
            size (the baseline of a memory measurement) and answers {"op": "go"}; then
            {"cell": index} before each cell, then
            {"ready": true, "errors": [{"index", "grade_id", "type", "message", "traceback"}],
             "callables": [names]}
    parent: {"op": "call", "seq", "name", "args": [spec], "kwargs": {k: spec}, "shared": size of
             the shared memory file}
    child:  {"seq", "ok": true, "value": spec}
       or:  {"seq", "ok": false, "error": "exception", "type", "message", "traceback"}
       or:  {"seq", "ok": false, "error": "missing"}

Nothing the child says is trusted by the parent: the student's code runs in this process and can
rewrite any of it (or write its own frames to the reply pipe). The parent bounds every reply,
reads the arguments back itself and decides the peak memory from /proc.
"""
import builtins
import ctypes
import io
import json
import linecache
import math
import mmap
import os
import re
import resource
import select
import signal
import struct
import sys
import traceback

import numpy as np

_LENGTH = struct.Struct(">Q")
MESSAGE_CHARS = 2000   # longest exception message the child reports
TRACEBACK_FRAMES = 8   # student frames kept in a traceback
TRACEBACK_CHARS = 8000
MAX_DEPTH = 32         # deepest nesting of tuples a value may have on the wire
NPY_HEADER_BYTES = 10000   # longest .npy header read (numpy's own default limit)
VALUE_KINDS = "biufc"  # dtype kinds an array may have on the wire: numbers and bools
INT64 = (-2**63, 2**63)
CHUNK_BYTES = 2**20    # a strided array is sent in copies of this size


# ------------------------------------------------------------------------------ wire format
def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def frames(header, blobs=()):
    """The bytes of one message, buffer after buffer: the JSON header (with its blob count) and
    the blobs, each a (.npy header, data buffers, data bytes) of _npy."""
    head = json.dumps({**header, "blobs": len(blobs)}).encode()
    yield _LENGTH.pack(len(head))
    yield head
    for npy_head, data, nbytes in blobs:
        yield _LENGTH.pack(len(npy_head) + nbytes)
        yield npy_head
        yield from data


def send_message(fd, header, blobs=()):
    for part in frames(header, blobs):
        _write_all(fd, part)


def read_message(fd):
    """Blocking read of one message: (header dict, list of blob bytes)."""
    header = json.loads(_read_exactly(fd, _LENGTH.unpack(_read_exactly(fd, 8))[0]))
    blobs = [_read_exactly(fd, _LENGTH.unpack(_read_exactly(fd, 8))[0])
             for _ in range(header.get("blobs", 0))]
    return header, blobs


def _npy(array):
    """`array` as .npy for frames: (header bytes, data buffers, data bytes). The data of a C- or
    Fortran-contiguous array is its own memory (nothing is copied, so sending a result does not
    add to the child's peak memory); a strided array goes as CHUNK_BYTES copies, one at a time."""
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, np.lib.format.header_data_from_array_1_0(array))
    if array.flags.c_contiguous or array.flags.f_contiguous:
        data = [memoryview(np.ravel(array, order="K").view(np.uint8))]
    else:
        data = (chunk.tobytes() for chunk in np.nditer(
            array, flags=["external_loop", "buffered", "zerosize_ok"], order="C",
            buffersize=max(CHUNK_BYTES // array.itemsize, 1)))
    return head.getvalue(), data, array.nbytes


def load_npy(buffer):
    """The ndarray held in the .npy bytes `buffer`, sharing its memory (a bytearray gives a
    writable array; nothing is copied but the header). ValueError unless it is exactly one array
    of a number dtype (VALUE_KINDS: no object, structured, string or datetime dtypes)."""
    view = memoryview(buffer)
    head = io.BytesIO(view[:NPY_HEADER_BYTES + 16])
    version = np.lib.format.read_magic(head)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f".npy version {version}")
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
        np.lib.format.read_array_header_2_0
    shape, fortran, dtype = reader(head, max_header_size=NPY_HEADER_BYTES)
    if dtype.kind not in VALUE_KINDS or dtype.fields or dtype.subdtype:
        raise ValueError(f"an array of dtype {dtype}")
    if len(shape) > 32 or any(type(n) is not int or n < 0 for n in shape):
        raise ValueError(f"an array of shape {shape}")
    count = math.prod(shape)
    if len(view) - head.tell() != count * dtype.itemsize:
        raise ValueError(f"{len(view) - head.tell()} bytes for {count} items of {dtype}")
    array = np.frombuffer(buffer, dtype, count, offset=head.tell())
    return array.reshape(shape, order="F" if fortran else "C")


def describe(value):
    """A value's type in words, as a student would recognise it ("a numpy.ndarray of ...")."""
    kind = type(value)
    words = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(value, np.ndarray):
        if kind is not np.ndarray:
            words = f"numpy.ndarray subclass {words}"
        words += f" of dtype {value.dtype}"
    return f"a {words}"


def _travels(dtype):
    return dtype.kind in VALUE_KINDS and not dtype.fields and not dtype.subdtype


def encode(value, blobs, strict=False, place=None, depth=0):
    """The spec of `value`, appending .npy blobs to `blobs`.

    Arrays must be exactly numpy.ndarray of a number dtype, scalars exactly bool/int/float/str/
    None or numpy number scalars. With `place`, arrays go to shared memory instead: the spec is
    {"m": place(array)}. Anything else becomes {"x": description}, or TypeError if strict.
    """
    kind = type(value)
    if kind in (tuple, list) and depth >= MAX_DEPTH:
        words = "a too deeply nested value"
    elif kind in (tuple, list):
        return {"t" if kind is tuple else "l": [encode(v, blobs, strict, place, depth + 1)
                                                for v in value]}
    elif kind is int and not INT64[0] <= value < INT64[1]:
        words = f"an int of {value.bit_length()} bits"
    elif kind is float and not math.isfinite(value):
        return encode(np.float64(value), blobs, strict, place, depth)
    elif value is None or kind in (bool, int, float, str):
        return {"j": value}
    elif kind is np.ndarray and _travels(value.dtype):
        if place is not None:
            return {"m": place(value)}
        blobs.append(_npy(value))
        return {"a": len(blobs) - 1}
    elif isinstance(value, np.generic) and _travels(value.dtype):
        blobs.append(_npy(np.asarray(value)))
        return {"s": len(blobs) - 1}
    else:
        words = describe(value)
    if strict:
        raise TypeError(f"cannot send {words} to the sandbox")
    return {"x": words}


class Opaque(ValueError):
    """A value the child could not send ({"x": what}); str() is `what`."""


def decode(spec, blobs, shared=None, depth=0):
    """The value of a spec; arrays share the memory of their blob (or of `shared`, the mapped
    shared memory file). Raises Opaque for {"x": what}, ValueError (or another Exception) for a
    malformed spec."""
    if depth > MAX_DEPTH:
        raise ValueError("a value nested too deeply")
    (tag, body), = spec.items()
    if tag == "j":
        if body is not None and type(body) not in (bool, int, float, str):
            raise ValueError(f"a JSON scalar was expected, got {type(body).__name__}")
        return body
    if tag in ("a", "s"):
        if type(body) is not int or not 0 <= body < len(blobs):
            raise ValueError(f"no blob {body!r}")
        array = load_npy(blobs[body])
        return array[()] if tag == "s" else array
    if tag in ("t", "l"):
        items = [decode(s, blobs, shared, depth + 1) for s in body]
        return tuple(items) if tag == "t" else items
    if tag == "m" and shared is not None:
        offset, shape, dtype = body
        return np.ndarray(shape, np.dtype(dtype), buffer=shared, offset=offset)
    if tag == "x":
        raise Opaque(str(body))
    raise ValueError(f"unknown value tag {tag!r}")


# ------------------------------------------------------------------------------ the cage
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET = 0x00020000, 0x08000000, 0x40000000
CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 0x4000, 1 << 18
# Per-mount flags a remount must repeat (a user namespace may not clear those it inherited).
MOUNT_OPTION_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
                      "noatime": 1 << 10, "nodiratime": 1 << 11, "relatime": 1 << 21,
                      "strictatime": 1 << 24}
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522
CAGE_UID = 1000          # the student's uid inside a user namespace (the grader's uid outside)
REFUSED = "library convolution is not allowed"
_REFUSING_INIT = (f"raise ImportError('`{{name}}` cannot be imported while grading: {REFUSED} "
                  "(the course asks you to write the convolution yourself)')\n")


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, options=None):
    enc = (lambda s: None if s is None else os.fsencode(s))
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(options)),
           f"mount {fstype or source} on {target}")


def _bind(source, target, flags=0):
    """Bind `source` (a path, or an open O_PATH fd) on `target`, then remount it with `flags`."""
    if isinstance(source, int):
        source = f"/proc/self/fd/{source}"
    _mount(source, target, None, MS_BIND | MS_REC)
    _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | flags)


def _write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def _under(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _first_closed_ancestor(path):
    """The shallowest folder above `path` that other users may not enter, or None."""
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts)):
        folder = "/" + "/".join(parts[:depth])
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def _mount_points():
    """(mount point, per-mount options) of every mount this process sees."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4])
            yield point, fields[5].split(",")


def _read_only_everywhere():
    """Remount every mount read-only (in this mount namespace only): nothing the child writes
    outside its own fresh tmpfs can persist or reach another submission."""
    for point, options in _mount_points():
        flags = sum({MOUNT_OPTION_FLAGS.get(o, 0) for o in options})
        try:
            _mount(None, point, None, MS_BIND | MS_REMOUNT | MS_RDONLY | flags)
        except OSError:
            if os.access(point, os.W_OK):   # reachable and writable: refuse to go on
                raise


def _unshare(setup):
    """New mount, network, IPC and PID namespaces (and, not root, a user namespace in which the
    grader's uid is CAGE_UID, the only uid mapped)."""
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID
    _check(_libc.unshare(flags | (CLONE_NEWUSER if setup["userns"] else 0)), "unshare")
    if setup["userns"]:
        _write_file("/proc/self/setgroups", "deny")
        _write_file("/proc/self/uid_map", f"{CAGE_UID} {uid} 1")
        _write_file("/proc/self/gid_map", f"{CAGE_UID} {gid} 1")


def _split():
    """Fork once into the new PID namespace. The new process (PID 1 there) returns; this one
    closes every descriptor but stdout/stderr, waits for it and ends the same way it did."""
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
        os.close(alive_w)
        if select.select([alive_r], [], [], 0)[0]:   # the waiting process is already gone
            os._exit(1)
        os.close(alive_r)
        os.setsid()   # its own process group: kill(0, ...) cannot reach the waiting process
        return
    os.closerange(3, alive_w)   # alive_w stays open while this process lives
    os.closerange(alive_w + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    status = os.waitpid(pid, 0)[1]
    if os.WIFSIGNALED(status):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status))


def _writable_space(setup):
    """One tmpfs of setup["write_bytes"] (the total write budget) mounted on setup["stage"],
    with a folder for each place the child may write; {place: O_PATH fd of its folder}, and
    under "locked" an empty file nobody may write."""
    stage = setup["stage"]
    _mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0755,size={setup['write_bytes']}")
    places = {}
    for i, place in enumerate(["scratch", *setup["fresh_tmp"]]):
        folder = os.path.join(stage, str(i))
        os.mkdir(folder, 0o700 if place == "scratch" else 0o777)
        if place == "scratch" and not setup["userns"]:
            os.chown(folder, setup["uid"], setup["uid"])
        else:
            os.chmod(folder, 0o1777)
        places[place] = os.open(folder, os.O_PATH)
    locked = os.path.join(stage, "locked")
    os.close(os.open(locked, os.O_CREAT | os.O_WRONLY, 0))
    places["locked"] = os.open(locked, os.O_PATH)
    return places


def _library_folders(packages):
    """Folders of the library `packages` installed where this interpreter imports from."""
    return sorted({os.path.realpath(os.path.join(entry, name))
                   for entry in sys.path if os.path.basename(entry) in ("site-packages",
                                                                         "dist-packages")
                   for name in packages if os.path.isdir(os.path.join(entry, name))})


def _refuse_package(folder):
    """Cover a library package with a read-only tmpfs whose __init__ refuses to be imported."""
    _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k")
    _write_file(os.path.join(folder, "__init__.py"),
                _REFUSING_INIT.format(name=os.path.basename(folder)))
    _mount(None, folder, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
           "mode=0755,size=64k")


def _mask(folder, exposed, writable_fd):
    """Cover `folder` with its writable place (the fd of a folder in the write budget), or else
    an empty read-only tmpfs; then bind the `exposed` paths below it back, read-only."""
    handles = [(path, os.open(path, os.O_PATH)) for path in exposed]
    if writable_fd is None:
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=1m")
    else:
        _bind(writable_fd, folder)
    for path, fd in handles:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
        _bind(fd, path, MS_RDONLY)
        os.close(fd)
    if writable_fd is None:
        _mount(None, folder, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
               | MS_NOEXEC)


def _lock_clear_refs(locked_fd):
    """Bind an unwritable empty file over every clear_refs of this PID namespace's /proc, so the
    child cannot reset the peak-memory counter the grader reads (through the host's /proc)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        targets = [f"/proc/{pid}/clear_refs"] + [f"/proc/{pid}/task/{tid}/clear_refs"
                                                 for tid in os.listdir(f"/proc/{pid}/task")]
        for target in targets:
            _bind(locked_fd, target, MS_RDONLY | MS_NOEXEC)


def _isolate(setup):
    """Build the cage's file system in this (new) mount namespace, as PID 1 of a new PID
    namespace: every mount read-only; a fresh read-only /proc; the writable places (scratch,
    /tmp, /var/tmp, /dev/shm) private and in one write budget; folders the sandbox could not
    enter replaced by a tmpfs exposing only the interpreter, venv and helpers; hidden paths and
    library packages covered."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _read_only_everywhere()
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    places = _writable_space(setup)
    masks = {folder: [] for folder in setup["fresh_tmp"] if os.path.isdir(folder)}
    closed = {folder for folder in setup["mask"] if os.path.isdir(folder)}
    masks.update({folder: [] for folder in closed})
    for path in setup["expose"]:
        home = next((m for m in sorted(masks, key=len) if _under(path, m)), None) \
            or _first_closed_ancestor(path)
        if home is not None:
            masks.setdefault(home, []).append(path)
    for folder in sorted(masks, key=len):
        _mask(folder, masks[folder], places.get(folder))
    for path in setup["hide"]:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "mode=000,size=4k")
        elif os.path.exists(path):
            _bind("/dev/null", path, MS_RDONLY)
    for folder in _library_folders(setup["library_packages"]):
        _refuse_package(folder)
    os.makedirs(setup["scratch"], exist_ok=True)
    _bind(places["scratch"], setup["scratch"])
    _lock_clear_refs(places["locked"])
    _mount(None, "/proc", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
           | MS_NOEXEC)
    for fd in places.values():
        os.close(fd)


def _drop_bounding_set():
    """No capability can be gained again, by any program (call while still holding CAP_SETPCAP)."""
    cap = 0
    while _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


def _drop_capabilities():
    """No capability left (effective, permitted, inheritable), and no way to gain one."""
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    _check(_libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")


def _set_limits(limits):
    for name, value in limits.items():
        soft, hard = (value, value + 5) if name == "CPU" else (value, value)
        resource.setrlimit(getattr(resource, "RLIMIT_" + name), (soft, hard))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a too-large file fails to write, not kills


def _die_with(parent):
    """SIGKILL when the process that started this one dies; exit now if it already has."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    if os.getppid() != parent:
        os._exit(1)


def enter_cage(setup):
    """Build the cage around this process, before any student code. Returns (isolation, note).

    With setup["isolate"] (root, or where user namespaces work): new namespaces, then a fork, so
    that what returns here is PID 1 of its own PID namespace (see _split; the parent finds its
    host pid); the file system of _isolate; the limits; as root the sandbox's own uid; every
    capability dropped; "full". Otherwise only the limits: "partial" and why.
    """
    isolation, note = "partial", setup["partial_note"]
    if setup["isolate"]:
        _die_with(setup["parent"])   # the grader's thread that started this child
        _unshare(setup)
        _split()
        _isolate(setup)
        isolation, note = "full", ""
    _set_limits(setup["limits"])
    if setup["isolate"]:
        _drop_bounding_set()
        if not setup["userns"]:   # root: give root up for the sandbox's own uid
            os.setgroups([])
            os.setgid(setup["uid"])
            os.setuid(setup["uid"])
        _drop_capabilities()
        # The grader (same uid, no capability) must still read /proc/<pid> and write clear_refs.
        _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl")
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    else:
        _die_with(setup["parent"])
    os.chdir(setup["scratch"])
    _refuse_library_convolution()
    return isolation, note


def _refuse_library_convolution():
    """Replace numpy's convolve/correlate, and the compiled functions behind them, wherever a
    module holds them, by functions raising RuntimeError("... library convolution is not
    allowed")."""
    from numpy._core import _multiarray_umath as compiled
    originals = {id(f): name for name, f in [("numpy.convolve", np.convolve),
                                             ("numpy.correlate", np.correlate),
                                             ("correlate", compiled.correlate),
                                             ("correlate2", compiled.correlate2)]}
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or not (module.__name__ or "").startswith("numpy"):
            continue
        for key, value in list(namespace.items()):
            if id(value) in originals:
                namespace[key] = _refusal(f"{module.__name__}.{key}")


def _refusal(name):
    def refused(*args, **kwargs):
        raise RuntimeError(f"`{name}` cannot be used while grading: {REFUSED} "
                           "(the course asks you to write the convolution yourself)")
    refused.__name__ = name.rsplit(".", 1)[-1]
    return refused


def probe_cage():
    """Exit 0 if the cage's namespaces (a user namespace included) can be built here, else print
    why and exit 1: the same calls as enter_cage, in a throw-away process."""
    try:
        _unshare({"userns": True})
        _split()
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        _read_only_everywhere()
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _drop_bounding_set()
        _drop_capabilities()
    except OSError as e:
        print(e, file=sys.stderr)
        os._exit(1)
    os._exit(0)


class ImportBlocker:
    """A meta-path finder refusing the library convolutions of `modules` (dotted names, a module
    and everything under it). Defence in depth only: the verdict is the graders' static check of
    the submission's source."""

    def __init__(self, modules):
        self.modules = tuple(modules)

    def find_spec(self, fullname, path=None, target=None):
        for blocked in self.modules:
            if fullname == blocked or fullname.startswith(blocked + "."):
                raise ImportError(f"`{fullname}` cannot be imported while grading: {REFUSED} "
                                  "(the course asks you to write the convolution yourself)")
        return None


# ------------------------------------------------------------------------------ student code
def cell_filename(cell):
    label = f"cell {cell['index'] + 1}"
    return f"<{label} ({cell['grade_id']})>" if cell.get("grade_id") else f"<{label}>"


def student_traceback(tb):
    """The frames of the student's own cells, formatted; the runner's frames are left out."""
    frames_ = [f for f in traceback.extract_tb(tb) if f.filename.startswith("<cell ")]
    return "".join(traceback.format_list(frames_[-TRACEBACK_FRAMES:]))


def error_record(exc):
    try:
        message = str(exc)
    except BaseException:   # a student's exception whose __str__ raises
        message = "(the exception's message could not be printed)"
    return {"type": type(exc).__name__, "message": message[:MESSAGE_CHARS],
            "traceback": student_traceback(exc.__traceback__)[:TRACEBACK_CHARS]}


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def run_cells(cells, reply_fd):
    """Execute the cells in one namespace, each in its own try; return (namespace, errors)."""
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    errors = []
    for cell in cells:
        send_message(reply_fd, {"cell": cell["index"]})
        filename = cell_filename(cell)
        linecache.cache[filename] = (len(cell["source"]), None,
                                     cell["source"].splitlines(True), filename)
        try:
            exec(compile(cell["source"], filename, "exec"), namespace)
        except BaseException as e:   # SystemExit and KeyboardInterrupt too: the next cell runs
            errors.append({"index": cell["index"], "grade_id": cell.get("grade_id"),
                           **error_record(e)})
        _flush()
    return namespace, errors


def _arguments(request, blobs, shared_fd):
    """The call's (args, kwargs); arrays are views of the shared memory file, mapped afresh for
    each call (the mapping lives as long as the student keeps an argument)."""
    size = request["shared"]
    shared = mmap.mmap(shared_fd, size) if size else None
    return ([decode(s, blobs, shared) for s in request["args"]],
            {k: decode(s, blobs, shared) for k, s in request["kwargs"].items()})


def serve(namespace, request_fd, reply_fd, shared_fd):
    """Answer call requests until the parent closes the pipe."""
    while True:
        try:
            request, blobs = read_message(request_fd)
        except EOFError:
            return
        seq, name = request["seq"], request["name"]
        args, kwargs = _arguments(request, blobs, shared_fd)
        fn = namespace.get(name)
        if not callable(fn):
            send_message(reply_fd, {"seq": seq, "ok": False, "error": "missing"})
            continue
        try:
            value = fn(*args, **kwargs)
            failure = None
        except BaseException as e:
            failure = error_record(e)
        _flush()
        del args, kwargs
        if failure:
            send_message(reply_fd, {"seq": seq, "ok": False, "error": "exception", **failure})
            continue
        out = []
        send_message(reply_fd, {"seq": seq, "ok": True, "value": encode(value, out)}, out)


def _preimport(modules):
    """Import what an honest notebook imports (numpy is already in), before any student code:
    the memory they take is part of the clean baseline, not of a measured call."""
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            pass


def main(argv):
    if argv[1:] == ["--probe"]:
        probe_cage()
    request_fd, reply_fd, shared_fd = int(argv[1]), int(argv[2]), int(argv[3])
    init, _ = read_message(request_fd)
    try:
        isolation, note = enter_cage(init["setup"])
    except BaseException as e:
        send_message(reply_fd, {"fatal": f"{type(e).__name__}: {e}"})
        os._exit(1)
    send_message(reply_fd, {"caged": isolation, "note": note})
    _preimport(init.get("preimport", ()))
    send_message(reply_fd, {"clean": True})
    read_message(request_fd)
    sys.meta_path.insert(0, ImportBlocker(init["setup"]["blocked_modules"]))
    sys.argv = [""]
    namespace, errors = run_cells(init["cells"], reply_fd)
    callables = sorted(k for k, v in namespace.items() if callable(v) and not k.startswith("__"))
    send_message(reply_fd, {"ready": True, "errors": errors, "callables": callables})
    serve(namespace, request_fd, reply_fd, shared_fd)


if __name__ == "__main__":
    main(sys.argv)
