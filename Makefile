# The course's tasks. `make grade` and `make test` are all a newcomer types (README).
# Each creates .venv if missing and installs the pinned dependencies first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Grading, tests and builds keep Jupyter, IPython and matplotlib state under build/state, never in
# $$HOME (`make lab` is the student's own session and keeps their usual settings).
STATE  := $(CURDIR)/build/state
RUN    := env JUPYTER_CONFIG_DIR=$(STATE)/jupyter-config JUPYTER_DATA_DIR=$(STATE)/jupyter-data \
          JUPYTER_RUNTIME_DIR=$(STATE)/jupyter-runtime IPYTHONDIR=$(STATE)/ipython \
          MPLCONFIGDIR=$(STATE)/matplotlib PYDEVD_DISABLE_FILE_VALIDATION=1 $(BIN)/python

.PHONY: setup grade test bench lab notebooks clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# Main job: grade the shipped example submissions and print the score table.
grade: $(STAMP)
	$(RUN) -m autograder grade examples/submissions --out build/grades --force --jobs 2

# The whole test suite (CI runs exactly this through .ci/run).
test: $(STAMP)
	$(RUN) -m pytest

# Timing table of every tier against the bare matrix product (not a test).
bench: $(STAMP)
	$(RUN) -m autograder.bench

# Rebuild solutions/ from tools/notebooks/, regenerate the student release notebooks/ with
# nbgrader, and rebuild the example submissions from the new release.
notebooks: $(STAMP)
	$(RUN) -m tools.build_notebooks
	$(RUN) -m tools.make_examples

# JupyterLab on the student notebooks (state under build/state, not $$HOME).
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root,)

clean:
	rm -rf build .pytest_cache
