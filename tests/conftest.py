"""Project test configuration: keep Jupyter, IPython and matplotlib state out of $HOME; fixtures
several test files share."""
import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

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


def pytest_collection_modifyitems(config, items):
    """The timing-margin table runs first. In a full run its ratios came out about a third
    higher after the other 950 tests than on a quiet machine (an honest np.add.at backward:
    3.3-4.75x against 2.8-3.5x alone), enough to cross a margin that holds on a fresh machine;
    CI runs it on a fresh machine too, as its first test."""
    items.sort(key=lambda item: item.nodeid.split("::")[0] != "tests/test_timing_thresholds.py")


@pytest.fixture
def no_show(monkeypatch):
    """A helpers plot must neither call plt.show() nor leave a figure open in pyplot."""
    import matplotlib.pyplot as plt

    def refuse(*args, **kwargs):
        raise AssertionError("a helpers plot called plt.show()")
    monkeypatch.setattr(plt, "show", refuse)
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before, "a helpers plot left a figure open in pyplot"
