"""The batch: grading submissions in worker processes that cannot lose work (the parent side).

    subs = find_submissions(["examples/submissions"])      # autograder.submissions
    rows = grade_batch(subs, out="build/grades", jobs=2)    # [grades.csv row], files written

Each submission is graded by autograder.worker in its own `python` process (a fresh interpreter:
nothing a submission does survives into the next), given a pickled worker.Job (the backend
object included). The scheduler runs up to `jobs` workers at a time, kills a worker that
outlives the limit (its whole process group), and turns a worker that died, timed out or wrote
malformed results into an `error` result naming the reason; the batch goes on, also when writing
one submission's files fails. Results are written atomically as each submission finishes; a
rerun keeps a graded result whose notebook bytes and grader version are unchanged (unless
force=True) and regrades the rest. Ctrl-C or SIGTERM stops the workers and removes every
temporary folder. The run's seed is written only to the staff's logs (OUT/grading.log,
OUT/<student>/<assignment>/grading.log).
"""
import json
import os
import pickle
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from autograder import backend as backends
from autograder import report
from autograder.config import SUBMISSION_TIMEOUT_S
from autograder.submissions import UNRECOGNISED
from autograder.worker import Job

TERMINATE_GRACE_S = 3.0          # SIGTERM first (the sandboxes shut down), then SIGKILL
POLL_S = 0.05


# --------------------------------------------------------------------------- the batch
class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, else one line per
    finished submission."""

    def __init__(self, total, stream=None, width=30):
        self.total, self.done, self.errors, self.kept = total, 0, 0, 0
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.tty = self.stream.isatty()

    def finished(self, row):
        self.done += 1
        self.errors += row["status"] == report.ERROR
        self.kept += bool(row.get("kept"))
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        kept = f", kept from an earlier run: {self.kept}" if self.kept else ""
        who = report.printable(f"{row['student']}/{row['assignment']}")[:60]
        text = (f"[{bar}] {self.done}/{self.total} graded, {self.errors} error(s){kept}, "
                f"{time.monotonic() - self.started:.0f}s  {who}")
        if self.tty:
            self.stream.write("\r" + text.ljust(100) + ("\n" if self.done == self.total else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


class Interrupted(KeyboardInterrupt):
    """The batch was stopped by SIGINT (Ctrl-C) or SIGTERM; `signum` says which."""

    def __init__(self, signum):
        self.signum = signal.Signals(signum)
        super().__init__(self.signum.name)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def _signals(handler):
    """SIGINT and SIGTERM handled by `handler` inside the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def _start_worker(job, workdir):
    """A worker process grading `job`, in its own session, in `workdir` (where its sandboxes
    keep their folders too: the batch removes it whatever happens to the worker). The job goes
    down the worker's stdin, never through a file: it is a pickle, and no file a sandbox might
    reach should be able to become code in a worker."""
    job.scratch = str(workdir)
    log = open(workdir / "worker.log", "wb")
    code = "from autograder.worker import main; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, str(workdir / "results.json")],
                            stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                            cwd=workdir, start_new_session=True)
    log.close()
    with proc.stdin:
        proc.stdin.write(pickle.dumps(job))
    return proc


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_workers(procs):
    """SIGTERM each worker's process group (its sandboxes shut down), wait up to
    TERMINATE_GRACE_S for all, then SIGKILL the groups (stragglers included)."""
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + TERMINATE_GRACE_S
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in procs:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()


def _worker_log(workdir):
    return (workdir / "worker.log").read_text(encoding="utf-8", errors="replace")


def _log_tail(workdir, lines=3):
    tail = " | ".join(_worker_log(workdir).strip().splitlines()[-lines:])
    return report.printable(tail)[:500]


def _keep_log(workdir, folder, seed):
    """folder/grading.log, for the staff only: the run's seed and the worker's log (grader
    tracebacks, warnings), control characters escaped."""
    text = f"grading seed: {seed} (replay with --seed {seed})\n"
    text += report.printable(_worker_log(workdir), keep_newlines=True)
    report.write_atomic(folder / "grading.log", text)


def _well_formed(results):
    """Whether `results` has what grades.csv and a rerun read from a results.json."""
    try:
        extra = results["extra_data"]
        return (all(isinstance(results[k], (int, float)) for k in ("score", "max_score"))
                and isinstance(results["output"], str) and isinstance(results["tests"], list)
                and all(isinstance(t, dict) and isinstance(t.get("tags"), list)
                        and isinstance(t.get("score"), (int, float))
                        and isinstance(t.get("max_score"), (int, float)) for t in results["tests"])
                and extra["status"] in (report.GRADED, report.ERROR)
                and isinstance(extra["reason"], str) and isinstance(extra["student"], str))
    except (KeyError, TypeError):
        return False


def _info_of(sub):
    """extra_data of a result the scheduler writes itself (the worker wrote none)."""
    return report.extra_data(sub.notebook, sub.student, sub.assignment, problems=sub.problems,
                             sha256=sub.sha256)


def _collect(sub, proc, workdir, seconds, timed_out, timeout):
    """results.json content of a finished (or killed) worker, speaking for `sub`'s student."""
    if timed_out:
        return report.error_results(
            f"grading took longer than the limit of {timeout:g} s per submission and was stopped",
            info=_info_of(sub), execution_time=seconds)
    try:
        results = json.loads((workdir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        code = proc.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        tail = _log_tail(workdir)
        return report.error_results(
            f"the grading process {how} before writing results" + (f" ({tail})" if tail else ""),
            info=_info_of(sub), execution_time=seconds)
    if not _well_formed(results):
        return report.error_results("the grading process wrote malformed results",
                                    info=_info_of(sub), execution_time=seconds)
    results["extra_data"]["student"] = sub.student
    if results["extra_data"].get("assignment") not in (sub.assignment, UNRECOGNISED):
        return report.error_results("the notebook changed while it was being graded; grade again",
                                    info=_info_of(sub), execution_time=seconds)
    results["extra_data"]["assignment"] = sub.assignment
    timing = results["extra_data"].setdefault("timing", {})
    if isinstance(timing, dict):
        timing["worker_seconds"] = round(seconds, 4)
    return results


def _note(results, kept=False):
    extra = results["extra_data"]
    if extra["status"] == report.ERROR:
        note = extra["reason"]
    else:
        failed = sum(t["score"] < t["max_score"] for t in results["tests"])
        mistakes = report.misconceptions(results["tests"])
        note = f"{failed} check(s) failed" if failed else "all checks passed"
        note += f"; mistakes: {', '.join(mistakes)}" if mistakes else ""
        hung = extra.get("timed_out")
        note += f"; timed out: {', '.join(map(str, hung))}" if hung else ""
    if extra.get("isolation") == "partial":
        note = "PARTIAL isolation; " + note
    return note + ("; kept from an earlier run (--force regrades)" if kept else "")


def _row(results, kept=False):
    return {**report.csv_row(results), "note": _note(results, kept), "kept": kept}


def _previous(sub, out, allow_partial):
    """The graded results.json an earlier run left for `sub`, if it can stand: same notebook
    bytes (SHA-256), same grader version, same student, full isolation unless partial is
    allowed now; else None (errors are always retried)."""
    try:
        results = json.loads((sub.folder(out) / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not _well_formed(results):
        return None
    extra = results["extra_data"]
    same = (extra["status"] == report.GRADED and extra["student"] == report.safe_text(sub.student)
            and extra.get("notebook_sha256") == sub.sha256 != ""
            and extra.get("grader_version") == report.grader_version()
            and (extra.get("isolation") != "partial" or allow_partial))
    return results if same else None


class _Batch:
    """The output side of one grade_batch run: rows, files, the staff log, the progress bar.
    Nothing here raises because of one submission: a failure to write its files becomes its
    error row (the traceback in OUT/grading.log)."""

    def __init__(self, out, total, stream):
        self.out, self.rows = out, []
        self.progress = Progress(total, stream)

    def staff_log(self, text):
        """Append `text` (escaped, time-stamped) to OUT/grading.log; never raises."""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            with open(self.out / "grading.log", "a", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(f"{stamp} {report.printable(text, keep_newlines=True)}\n")
        except OSError as e:
            print(f"grade: cannot write {self.out / 'grading.log'}: {e}", file=sys.stderr)

    def done(self, sub, results, kept=False):
        if not kept:
            results = self._write(sub, results)
        try:
            row = _row(results, kept)
        except Exception:
            self.staff_log(f"no row for {sub.student}/{sub.assignment}:\n{traceback.format_exc()}")
            row = {"student": sub.student, "assignment": sub.assignment, "score": "0",
                   "max_score": "100", "status": report.ERROR, "isolation": "",
                   "reason": "the grader could not read its own results", "note": "", "kept": False}
            row["note"] = row["reason"]
        self.rows.append(row)
        self.write_csv()
        self.progress.finished(row)

    def _write(self, sub, results):
        try:
            report.write_results(sub.folder(self.out), results)
            return results
        except Exception as e:
            self.staff_log(f"writing the results of {sub.student}/{sub.assignment} failed:\n"
                           f"{traceback.format_exc()}")
            failed = report.error_results(
                f"the grader could not write the results ({type(e).__name__}); details in the "
                "staff's grading log", info=_info_of(sub))
            try:
                report.write_atomic(sub.folder(self.out) / "results.json",
                                    json.dumps(report.safe_data(failed)))
            except Exception:
                pass
            return failed

    def write_csv(self):
        try:
            report.write_grades_csv(self.out / "grades.csv", self.rows)
        except Exception:
            self.staff_log(f"writing grades.csv failed:\n{traceback.format_exc()}")

    def keep_log(self, workdir, sub, seed):
        try:
            _keep_log(workdir, sub.folder(self.out), seed)
        except Exception:
            self.staff_log(f"keeping the log of {sub.student}/{sub.assignment} failed:\n"
                           f"{traceback.format_exc()}")


def _needed_by_cages():
    """Folders a cage must still see: the interpreter and venv, helpers/, the temporary folder
    (the sandboxes' own folders live there)."""
    from autograder.sandbox import REPO
    return {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                         REPO / "helpers", tempfile.gettempdir())}


def input_cover(notebooks, needed):
    """The folders (or files) that hide every graded notebook from every cage, so no submission
    can read a classmate's notebook while it runs: each notebook's folder, raised to its parent
    while that parent holds nothing in `needed` and is not a top-level folder; a notebook whose
    own folder holds something needed is hidden alone. Nested entries are dropped.

        input_cover(["/home/ta/course/submitted/bob/a1/a1.ipynb"], {"/opt/venv"}) -> ["/home/ta"]
    """
    def holds(folder):
        return any(os.path.commonpath([folder, n]) == folder for n in needed)

    cover = set()
    for notebook in notebooks:
        path = os.path.realpath(notebook)
        folder = os.path.dirname(path)
        if holds(folder):
            cover.add(path)
            continue
        while os.path.dirname(os.path.dirname(folder)) not in (os.sep, os.path.dirname(folder)) \
                and not holds(os.path.dirname(folder)):
            folder = os.path.dirname(folder)
        cover.add(folder)
    return sorted(c for c in cover
                  if not any(o != c and os.path.commonpath([c, o]) == o for o in cover))


def _run_workers(queue, batch, jobs, timeout, seed):
    """Grade the (Submission, Job) pairs of `queue`, up to `jobs` workers at once, each result
    to `batch` as it comes; on any exit (Ctrl-C, SIGTERM) the running workers are stopped and
    the temporary folders removed, with further signals ignored meanwhile."""
    with tempfile.TemporaryDirectory(prefix="autograder-batch-", ignore_cleanup_errors=True) as scratch:
        running = []      # (sub, proc, workdir, start)
        try:
            while queue or running:
                while queue and len(running) < jobs:
                    sub, job = queue.pop(0)
                    workdir = Path(tempfile.mkdtemp(dir=scratch))
                    running.append((sub, _start_worker(job, workdir), workdir, time.monotonic()))
                for entry in list(running):
                    sub, proc, workdir, start = entry
                    seconds = time.monotonic() - start
                    timed_out = proc.poll() is None and seconds > timeout
                    if proc.poll() is None and not timed_out:
                        continue
                    if timed_out:
                        _stop_workers([proc])
                    running.remove(entry)
                    results = _collect(sub, proc, workdir, seconds, timed_out, timeout)
                    batch.keep_log(workdir, sub, seed)
                    batch.done(sub, results)
                time.sleep(POLL_S)
        finally:
            with _signals(signal.SIG_IGN):
                _stop_workers([proc for _, proc, _, _ in running])
                shutil.rmtree(scratch, ignore_errors=True)


def new_seed():
    """A fresh seed for a grading run (runner.new_seed, imported only when needed)."""
    from autograder import runner
    return runner.new_seed()


def grade_batch(subs, out, jobs=1, force=False, timeout=SUBMISSION_TIMEOUT_S, backend=None,
                stream=None, seed=None, allow_partial=False, command=None):
    """Grade `subs` (from find_submissions) into `out` with `backend` (default: the real one,
    backend.caged()); returns the grades.csv rows (+ "note", "kept").

    Up to `jobs` workers run at once; each submission's results.json and feedback.html are
    written as soon as it finishes, and grades.csv after every submission. A graded result of
    an earlier run is kept when its notebook and the grader are unchanged, unless `force`
    (_previous). One `seed` (new_seed() if None) decides the hidden numbers of every
    submission; it goes to OUT/grading.log with `command` and to each submission's
    grading.log, never to what students see. SIGINT and SIGTERM stop the workers, remove the
    temporary folders and raise Interrupted. The progress bar goes to `stream` (default stderr).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    backend = backend or backends.caged()
    seed = new_seed() if seed is None else seed
    report.grader_version.cache_clear()        # once per run: the code as this run finds it
    batch = _Batch(out, len(subs), stream)
    batch.staff_log(f"run started: seed {seed}; command: "
                    f"{command if command is not None else shlex.join(sys.argv)}")
    queue = []
    hide = input_cover([sub.notebook for sub in subs], _needed_by_cages())
    for sub in subs:
        previous = None if force else _previous(sub, out, allow_partial)
        if previous is not None:
            batch.done(sub, previous, kept=True)
        elif sub.problem:
            batch.done(sub, report.error_results(sub.problem, info=_info_of(sub)))
        else:
            queue.append((sub, Job(str(sub.notebook.resolve()), sub.student, str(out.resolve()),
                                   backend, seed, allow_partial, sub.problems, hide=hide)))
    try:
        with _signals(_raise_interrupted):
            _run_workers(queue, batch, jobs, timeout, seed)
    except KeyboardInterrupt as e:       # Interrupted, or Ctrl-C before the handler was set
        batch.staff_log(f"run interrupted ({getattr(e, 'signum', signal.SIGINT).name}) after "
                        f"{len(batch.rows)} of {len(subs)} submissions")
        raise
    if not subs:
        batch.write_csv()
    batch.staff_log(f"run finished: {len(batch.rows)} submissions")
    return batch.rows
