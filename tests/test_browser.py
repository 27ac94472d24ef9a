"""The pages people open, in a real browser: headless Chromium (Debian's `chromium`, which .ci/run
installs) driven by Playwright through pytest-playwright, never a browser Playwright downloads.

- JupyterLab opens each release notebook with the example answers filled in, runs all its cells
  from the Run menu, and shows every public check passing and no error output.
- A student's feedback page and the class report, made by the real CLI from a graded class,
  fit a 1024 px window (nothing scrolls sideways, even with a 2000-character unbroken line in
  a message) and show the hints of the mistakes the grader diagnosed. Screenshots are kept in
  build/test-artefacts/browser/.

Where Chromium is missing the tests skip and say how to install it; under CI (CI=true) a missing
browser is a failure, since .ci/run installs it.
"""
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.contract import ASSIGNMENTS
from autograder.misconceptions import get as misconception

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ARTEFACTS = ROOT / "build" / "test-artefacts" / "browser"
VIEWPORT = {"width": 1024, "height": 768}
LONG_LINE = "Q" * 2000          # an unbroken line: no space, dash or other break opportunity
EXAMPLES = ROOT / "examples" / "submissions"
REPORTED = "a2_partial"         # the assignment whose feedback and class report are looked at
SERVER_START_S = 120
KERNEL_START_S = 120
RUN_ALL_S = 300

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# --------------------------------------------------------------------------- the browser
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches the system's Chromium; a missing one skips (fails under CI)."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"chromium not installed at {CHROMIUM}: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {reason}")
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url():
    """Every page is local: no base URL (pytest-playwright's own fixture warns under pytest 9)."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


def save_screenshot(page, name, capsys):
    """Full-page PNG under build/test-artefacts/browser/; its path is printed to the terminal."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with capsys.disabled():
        print(f"\n  screenshot: {path}")
    return path


# --------------------------------------------------------------------------- JupyterLab
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_environment(state):
    """The environment of the Lab server and its kernels: every Jupyter, IPython and matplotlib
    folder under `state` (never $HOME), no matplotlib backend forced (the tests' Agg would turn
    every plt.show() into a warning), news and update checks off, every cell kept in the page."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "matplotlib")]:
        env[var] = str(state / sub)
    settings = state / "config" / "lab" / "user-settings" / "@jupyterlab"
    for file, values in [("notebook-extension/tracker", {"windowingMode": "none"}),
                         ("apputils-extension/notification",
                          {"fetchNews": "false", "checkForUpdates": False})]:
        path = settings / f"{file}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return env


class Lab:
    """A JupyterLab server on localhost serving `root`, with a token."""

    def __init__(self, root, state):
        self.root, self.port, self.token = root, free_port(), secrets.token_hex(24)
        self.log = state / "lab.log"
        env = lab_environment(state)
        # matplotlib builds its font cache on first import and says so on stderr: build it now,
        # as any earlier session of the student's would have.
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, check=True)
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                   f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, env=env, cwd=root, stdout=log,
                                            stderr=subprocess.STDOUT)
        self._wait_until_up()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def api(self, path, method="GET"):
        request = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with urllib.request.urlopen(request, timeout=10) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def _wait_until_up(self):
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited {self.process.returncode}:\n{self.log.read_text()}")
            try:
                self.api("status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab not up after {SERVER_START_S} s:\n{self.log.read_text()}")

    def stop_kernels(self):
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def copy_without_outputs(source, destination):
    """The notebook with no outputs or execution counts: whatever the page shows, this run made."""
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, destination)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One Lab server for the five notebooks: alice's answers (the release notebooks with the
    example answers filled in) beside a copy of the student toolkit, as a student's folder is;
    and bob's REPORTED notebook, whose public checks fail."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "helpers", course / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for assignment in ASSIGNMENTS:
        copy_without_outputs(EXAMPLES / "alice" / assignment / f"{assignment}.ipynb",
                             course / f"{assignment}.ipynb")
    copy_without_outputs(EXAMPLES / "bob" / REPORTED / f"{REPORTED}.ipynb", course / f"bob-{REPORTED}.ipynb")
    server = Lab(course, tmp_path_factory.mktemp("lab-state"))
    yield server
    server.stop()


# The status bar says "Python 3 (ipykernel) | Idle" once the kernel has started and is idle
# (a Run All clicked while it says "Initializing" can be lost).
KERNEL_IDLE_JS = "() => /\\| Idle\\b/.test(document.querySelector('#jp-main-statusbar')?.innerText ?? '')"
# A cell that ran shows "[n]:", a running or queued one "[*]:"; Run All stops at a cell that raises.
PROMPTS_JS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim())"""
FINISHED_JS = f"""() => {{
    const prompts = ({PROMPTS_JS})();
    return !prompts.includes('[*]:') && prompts.some(p => /^\\[\\d+\\]:$/.test(p))
        && ({KERNEL_IDLE_JS})();
}}"""


def code_cells_to_run(notebook):
    """Code cells with code in them (JupyterLab does not send an empty cell to the kernel)."""
    return sum(1 for c in nbformat.read(notebook, as_version=4).cells
               if c.cell_type == "code" and c.source.strip())


def run_all_cells(lab, page, notebook, screenshot, capsys):
    """Open `notebook` in a workspace of its own, wait for its kernel, Run > Run All Cells, wait
    until nothing runs; (cells that ran, texts of the error outputs, text of all outputs)."""
    try:
        page.goto(lab.url(f"lab/workspaces/{notebook.stem}/tree/{notebook.name}"))
        page.wait_for_function(KERNEL_IDLE_JS, timeout=KERNEL_START_S * 1000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        page.wait_for_function(FINISHED_JS, timeout=RUN_ALL_S * 1000)
        save_screenshot(page, screenshot, capsys)
        ran = [p for p in page.evaluate(PROMPTS_JS) if re.fullmatch(r"\[\d+\]:", p)]
        errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        return len(ran), errors.all_inner_texts(), "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    finally:
        lab.stop_kernels()


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS))
def test_jupyterlab_runs_every_release_notebook_without_error(lab, page, assignment, capsys):
    notebook = lab.root / f"{assignment}.ipynb"
    ran, errors, outputs = run_all_cells(lab, page, notebook, f"lab-{assignment}", capsys)
    assert not errors, f"{assignment}: error output:\n" + "\n---\n".join(errors)
    assert ran == code_cells_to_run(notebook), f"{assignment}: Run All stopped after {ran} cells"
    not_passed = [g.function for g in ASSIGNMENTS[assignment] if f"✓ {g.function}:" not in outputs]
    assert not not_passed, f"{assignment}: no passing public check shown for {not_passed}"


def test_jupyterlab_error_output_is_seen(lab, page, capsys):
    """The same run on bob's notebook (his conv_forward_partial forgets the bias) stops at his
    failing public check, and the test sees its error output with the check's message."""
    notebook = lab.root / f"bob-{REPORTED}.ipynb"
    ran, errors, _ = run_all_cells(lab, page, notebook, f"lab-bob-{REPORTED}", capsys)
    assert ran < code_cells_to_run(notebook)
    assert any("AssertionError" in e and "conv_forward_partial: wrong values" in e for e in errors), errors


# --------------------------------------------------------------------------- feedback and report
def grade_cli(*args):
    done = subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def with_long_message_answer(source, destination):
    """Bob's notebook whose conv_single_step raises an error with LONG_LINE as its message."""
    notebook = nbformat.read(source, as_version=4)
    cell = next(c for c in notebook.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "conv_single_step")
    cell.source = f"def conv_single_step(x_slice, w, b):\n    raise ValueError({LONG_LINE!r})\n"
    destination.parent.mkdir(parents=True)
    nbformat.write(notebook, destination)


def results_files(out):
    """{(student, assignment): folder} of every results.json the grader wrote under `out`."""
    found = {}
    for path in out.rglob("results.json"):
        extra = json.loads(path.read_text())["extra_data"]
        found[extra["student"], extra["assignment"]] = path.parent
    return found


def long_message_results(results, student, status):
    """A copy of `results` for `student` with LONG_LINE in every message a page may show."""
    copy = json.loads(json.dumps(results))
    copy["output"] += f"\n{LONG_LINE}"
    for test in copy["tests"]:
        test["output"] += f"\n{LONG_LINE}"
    extra = copy["extra_data"]
    extra.update(student=student, status=status, reason=LONG_LINE if status != "graded" else "")
    for key in ("problems", "suspicious"):
        extra[key] = [LONG_LINE]
    return copy


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """A class graded by the real CLI: alice's and bob's REPORTED notebooks, and `longline`'s
    (bob's with conv_single_step raising a 2000-character message); then two results.json with
    that line in every message (one graded, one error) and the class report over all five."""
    submissions, out = tmp_path_factory.mktemp("submitted"), tmp_path_factory.mktemp("graded")
    for student in ("alice", "bob"):
        shutil.copytree(EXAMPLES / student / REPORTED, submissions / student / REPORTED)
    bob = EXAMPLES / "bob" / REPORTED / f"{REPORTED}.ipynb"
    with_long_message_answer(bob, submissions / "longline" / REPORTED / f"{REPORTED}.ipynb")
    grade_cli("grade", submissions, "--out", out, "--jobs", "2")

    folders = results_files(out)
    bobs = json.loads((folders["bob", REPORTED] / "results.json").read_text())
    for student, status in (("longgraded", "graded"), ("longerror", "error")):
        folder = out / student / REPORTED
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(long_message_results(bobs, student, status)))
    grade_cli("report", out)
    return out, results_files(out)


def diagnosed_hints(results_folder):
    """The hint of every misconception the grader tagged in a results.json (from the table of
    known mistakes, not from the page)."""
    results = json.loads((results_folder / "results.json").read_text())
    ids = {tag.split(":", 1)[1] for t in results["tests"] for tag in t["tags"]
           if tag.startswith("misconception:")}
    assert ids, f"{results_folder}: no diagnosed misconception to look for"
    return {i: misconception(i).hint for i in sorted(ids)}


# What a 1024 px window shows past its right edge: the page's own width, and every element whose
# content is wider than its box (a <pre> that scrolls sideways hides the end of its lines).
OVERFLOW_JS = """() => {
    const doc = document.documentElement;
    const sideways = [...document.querySelectorAll('body *')]
        .filter(el => getComputedStyle(el).overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
        .map(el => `<${el.tagName.toLowerCase()} class="${el.className}">: ${el.scrollWidth} px of content in ${el.clientWidth} px`);
    return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, sideways: sideways.slice(0, 5)};
}"""


def assert_fits_the_window(page, what):
    """No horizontal overflow, as the page opens and with every <details> opened."""
    for state in ("as opened", "every <details> open"):
        if state != "as opened":
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        seen = page.evaluate(OVERFLOW_JS)
        assert seen["scrollWidth"] <= seen["clientWidth"], f"{what} ({state}) is wider than the window: {seen}"
        assert not seen["sideways"], f"{what} ({state}) has content that scrolls sideways: {seen['sideways']}"


def assert_hints_visible(page, hints, what):
    for mid, hint in hints.items():
        assert page.get_by_text(hint).filter(visible=True).count(), f"{what}: hint of {mid} not visible: {hint!r}"


def open_page(page, path):
    assert path.is_file(), f"{path} was not written"
    page.goto(path.as_uri())
    page.wait_for_load_state("load")


def test_feedback_page_fits_the_window_and_shows_the_hints(graded_class, page, capsys):
    _, folders = graded_class
    open_page(page, folders["bob", REPORTED] / "feedback.html")
    save_screenshot(page, f"feedback-bob-{REPORTED}", capsys)
    assert_hints_visible(page, diagnosed_hints(folders["bob", REPORTED]), "bob's feedback")
    assert_fits_the_window(page, "bob's feedback")


def test_feedback_page_wraps_a_2000_character_line(graded_class, page, capsys):
    _, folders = graded_class
    open_page(page, folders["longline", REPORTED] / "feedback.html")
    assert "Q" * 200 in page.locator("body").inner_text(), "the long message is not on the page"
    save_screenshot(page, f"feedback-longline-{REPORTED}", capsys)
    assert_fits_the_window(page, "longline's feedback")


def test_class_report_fits_the_window_and_shows_the_hints(graded_class, page, capsys):
    out, folders = graded_class
    open_page(page, out / "class_report.html")
    assert "Q" * 200 in page.locator("body").inner_text(), "no long message on the class report"
    save_screenshot(page, "class-report", capsys)
    assert_hints_visible(page, diagnosed_hints(folders["bob", REPORTED]), "class report")
    assert_fits_the_window(page, "class report")
