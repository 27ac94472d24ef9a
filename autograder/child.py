"""The program a sandbox child runs: the submission's cells, then calls served over pipes.

Standalone on purpose: the standard library and numpy only, never `autograder` (when the grader
runs as root the child cannot read autograder/). autograder/sandbox.py starts it as

    <venv python> -I -c <this file's source> <request fd> <reply fd>

with stdin on /dev/null and stdout/stderr on files the parent reads, and imports this same module
for the wire format (`send_message`, `encode`, `decode`), so the two sides cannot drift apart.

Wire format, both ways: a message is a JSON header frame followed by `header["blobs"]` binary
frames; a frame is an 8-byte big-endian length and that many bytes. A value travels as a spec:

    {"j": v}        JSON scalar: None, bool, int, float or str (exact types only)
    {"a": i}        ndarray; blob i holds its .npy bytes (read with allow_pickle=False)
    {"s": i}        numpy scalar; blob i holds it as a 0-d .npy
    {"t": [...]}    tuple of specs ({"l": [...]} for a list)
    {"x": "what"}   child -> parent only: a value that cannot travel, described in words

The conversation:

    parent: {"op": "init", "setup": {...}, "cells": [{"source", "grade_id", "index"}, ...]}
    child:  {"fatal": message}      the cage could not be built (no student code has run)
       or:  {"caged": "full" | "partial", "note": why partial}   (before any student code), then
            {"cell": index} before each cell, then
            {"ready": true, "errors": [{"index", "grade_id", "type", "message", "traceback"}],
             "callables": [names]}
    parent: {"op": "call", "seq", "name", "args": [spec], "kwargs": {k: spec}, "want_args", "arm"}
            with arm, first: child {"armed": seq}, parent {"op": "go"},
                             child {"called": seq}, parent {"op": "send"}
    child:  {"seq", "ok": true, "value": spec, "args_after": [spec], "kwargs_after": {k: spec}}
       or:  {"seq", "ok": false, "error": "exception", "type", "message", "traceback"}
       or:  {"seq", "ok": false, "error": "missing"}

Nothing the child says is trusted by the parent: the student's code runs in this process and can
rewrite any of it.
"""
import builtins
import ctypes
import io
import json
import linecache
import os
import resource
import signal
import struct
import sys
import traceback

import numpy as np

_LENGTH = struct.Struct(">Q")
MESSAGE_CHARS = 2000   # longest exception message the child reports
TRACEBACK_FRAMES = 8   # student frames kept in a traceback

# Library convolutions a graded function must not use (COURSE_SPEC §3, `library-convolution`).
# Defence in depth only: the verdict is the graders' static check of the submission's source.
BLOCKED_MODULES = ("scipy.signal", "scipy.ndimage", "torch", "jax", "tensorflow", "cv2")


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
    """The bytes of one message: the JSON header (with its blob count) and the blobs."""
    head = json.dumps({**header, "blobs": len(blobs)}).encode()
    out = [_LENGTH.pack(len(head)), head]
    for blob in blobs:
        out += [_LENGTH.pack(len(blob)), blob]
    return out


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
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getbuffer()


def describe(value):
    """A value's type in words, as a student would recognise it."""
    kind = type(value)
    words = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(value, np.ndarray):
        if kind is not np.ndarray:
            words = f"numpy.ndarray subclass {words}"
        words += f" of dtype {value.dtype}"
    return words


def encode(value, blobs, strict=False):
    """The spec of `value`, appending .npy blobs to `blobs`.

    Arrays must be exactly numpy.ndarray without object fields, scalars exactly bool/int/float/
    str/None or numpy scalars. Anything else becomes {"x": description}, or TypeError if strict.
    """
    kind = type(value)
    if kind in (tuple, list):
        return {"t" if kind is tuple else "l": [encode(v, blobs, strict) for v in value]}
    if value is None or kind in (bool, int, float, str):
        return {"j": value}
    if kind is np.ndarray and not value.dtype.hasobject:
        blobs.append(_npy(value))
        return {"a": len(blobs) - 1}
    if isinstance(value, np.generic) and not value.dtype.hasobject:
        blobs.append(_npy(np.asarray(value)))
        return {"s": len(blobs) - 1}
    if strict:
        raise TypeError(f"cannot send a {describe(value)} to the sandbox")
    return {"x": describe(value)}


def decode(spec, blobs):
    """The value of a spec; arrays are read with allow_pickle=False. Raises on malformed specs."""
    (tag, body), = spec.items()
    if tag == "j":
        if body is not None and type(body) not in (bool, int, float, str):
            raise ValueError(f"a JSON scalar was expected, got {type(body).__name__}")
        return body
    if tag in ("a", "s"):
        array = np.load(io.BytesIO(blobs[body]), allow_pickle=False)
        return array[()] if tag == "s" else array
    if tag in ("t", "l"):
        items = [decode(s, blobs) for s in body]
        return tuple(items) if tag == "t" else items
    raise ValueError(f"unknown value tag {tag!r}")


# ------------------------------------------------------------------------------ the cage
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET = 0x00020000, 0x08000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 0x4000, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, options=None):
    enc = (lambda s: None if s is None else os.fsencode(s))
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(options)),
           f"mount {fstype or source} on {target}")


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


def _mask(folder, exposed, options, writable):
    """Cover `folder` with a fresh tmpfs, then bind the `exposed` paths below it back, read-only."""
    handles = [(path, os.open(path, os.O_PATH)) for path in exposed]
    flags = MS_NOSUID | MS_NODEV | (0 if writable else MS_NOEXEC)
    _mount("tmpfs", folder, "tmpfs", flags, options)
    for path, fd in handles:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    if not writable:
        _mount(None, folder, None, MS_REMOUNT | MS_RDONLY | flags, options)


def _isolate(setup):
    """Private mount (and network, IPC) namespace: hide the grader's files, keep what must run."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    tmp_options = f"mode=1777,size={setup['tmp_bytes']}"
    masks = {folder: [] for folder in setup["fresh_tmp"] if os.path.isdir(folder)}
    closed = set()
    for path in setup["expose"]:
        home = next((m for m in masks if _under(path, m)), None)
        if home is None:
            home = _first_closed_ancestor(path)
            if home is None:
                continue
            closed.add(home)
            masks.setdefault(home, [])
        masks[home].append(path)
    for folder in sorted(masks, key=len):
        writable = folder not in closed
        _mask(folder, masks[folder], tmp_options if writable else "mode=0755,size=1m", writable)
    for path in setup["hide"]:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "mode=000,size=4k")
        elif os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND)
    scratch = setup["scratch"]
    os.makedirs(scratch, exist_ok=True)
    _mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV,
           f"mode=0700,uid={setup['uid']},gid={setup['uid']},size={setup['scratch_bytes']}")


def enter_cage(setup):
    """Isolate (when asked and allowed), set the limits, drop to the sandbox uid, cd to scratch.

    Returns (isolation, note): "full" with a private namespace and the sandbox's own uid, else
    "partial" and why.
    """
    isolation, note = "partial", setup["partial_note"]
    if setup["isolate"]:
        try:
            _isolate(setup)
            isolation, note = "full", ""
        except OSError as e:
            note = (f"running as root, but the private namespace could not be built ({e}): "
                    "the course files are not hidden, student code still runs without root")
            os.makedirs(setup["scratch"], exist_ok=True)
            os.chown(setup["scratch"], setup["uid"], setup["uid"])
    for name, value in setup["limits"].items():
        soft, hard = (value, value + 5) if name == "CPU" else (value, value)
        resource.setrlimit(getattr(resource, "RLIMIT_" + name), (soft, hard))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a too-large file fails to write, not kills
    if setup["isolate"]:   # started as root: give root up, namespace or not
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")
        os.setgroups([])
        os.setgid(setup["uid"])
        os.setuid(setup["uid"])
    # Die with the grader (set after the uid change, which clears it). The parent here is the
    # grader's thread that started this child.
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    if os.getppid() != setup["parent"]:
        os._exit(1)
    os.chdir(setup["scratch"])
    return isolation, note


class ImportBlocker:
    """A meta-path finder refusing library convolutions (see BLOCKED_MODULES)."""

    def find_spec(self, fullname, path=None, target=None):
        for blocked in BLOCKED_MODULES:
            if fullname == blocked or fullname.startswith(blocked + "."):
                raise ImportError(f"`{fullname}` cannot be imported while grading: the course asks "
                                  "you to write the convolution yourself, without a library's")
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
            "traceback": student_traceback(exc.__traceback__)}


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


def serve(namespace, request_fd, reply_fd):
    """Answer call requests until the parent closes the pipe."""
    while True:
        try:
            request, blobs = read_message(request_fd)
        except EOFError:
            return
        seq, name = request["seq"], request["name"]
        args = [decode(s, blobs) for s in request["args"]]
        kwargs = {k: decode(s, blobs) for k, s in request["kwargs"].items()}
        fn = namespace.get(name)
        if not callable(fn):
            send_message(reply_fd, {"seq": seq, "ok": False, "error": "missing"})
            continue
        if request["arm"]:
            send_message(reply_fd, {"armed": seq})
            read_message(request_fd)
        try:
            value = fn(*args, **kwargs)
            failure = None
        except BaseException as e:
            failure = error_record(e)
        _flush()
        if request["arm"]:
            send_message(reply_fd, {"called": seq})
            read_message(request_fd)
        if failure:
            send_message(reply_fd, {"seq": seq, "ok": False, "error": "exception", **failure})
            continue
        out = []
        try:
            reply = {"seq": seq, "ok": True, "value": encode(value, out)}
        except RecursionError:
            reply = {"seq": seq, "ok": True, "value": {"x": "a too deeply nested value"}}
        if request["want_args"]:
            reply["args_after"] = [encode(a, out) for a in args]
            reply["kwargs_after"] = {k: encode(v, out) for k, v in kwargs.items()}
        send_message(reply_fd, reply, out)


def main(argv):
    request_fd, reply_fd = int(argv[1]), int(argv[2])
    init, _ = read_message(request_fd)
    try:
        isolation, note = enter_cage(init["setup"])
    except BaseException as e:
        send_message(reply_fd, {"fatal": f"{type(e).__name__}: {e}"})
        os._exit(1)
    send_message(reply_fd, {"caged": isolation, "note": note})
    sys.meta_path.insert(0, ImportBlocker())
    sys.argv = [""]
    namespace, errors = run_cells(init["cells"], reply_fd)
    callables = sorted(k for k, v in namespace.items() if callable(v) and not k.startswith("__"))
    send_message(reply_fd, {"ready": True, "errors": errors, "callables": callables})
    serve(namespace, request_fd, reply_fd)


if __name__ == "__main__":
    main(sys.argv)
