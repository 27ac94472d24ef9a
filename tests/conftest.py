"""Project test configuration: keep Jupyter, IPython and matplotlib state out of $HOME."""
import atexit
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_state = Path(tempfile.mkdtemp(prefix="conv-course-state-"))
atexit.register(shutil.rmtree, _state, ignore_errors=True)
for var, sub in [("JUPYTER_CONFIG_DIR", "jupyter-config"), ("JUPYTER_DATA_DIR", "jupyter-data"),
                 ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython"),
                 ("MPLCONFIGDIR", "matplotlib")]:
    os.environ.setdefault(var, str(_state / sub))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def pytest_configure(config):
    """The `browser` marker (--strict-markers): tests that drive headless Chromium."""
    config.addinivalue_line(
        "markers", "browser: drives the system's headless Chromium through Playwright "
                   "(tests/test_browser.py); .ci/run installs it, elsewhere they skip saying why")
