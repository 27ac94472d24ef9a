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

# The students' environment (`make lab`): its own venv with the notebooks' libraries at
# requirements.txt's pins and the student package (helpers only, autograder/bundle.py), never
# this repository's .venv, which holds the grader and its reference.
STUDENT_VENV  := build/student-venv
STUDENT_PKG   := build/student-package
STUDENT_STAMP := $(STUDENT_VENV)/.installed
STUDENT_PINS  := numpy|matplotlib|jupyterlab|notebook|ipykernel

.PHONY: setup grade test bench lab student-env notebooks clean

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
	$(RUN) -m tools.make_student_data
	$(RUN) -m tools.build_notebooks
	$(RUN) -m tools.make_examples

student-env: $(STUDENT_STAMP)

$(STUDENT_STAMP): requirements.txt $(wildcard helpers/*.py helpers/data/*) autograder/bundle.py $(STAMP)
	$(RUN) -c 'from autograder.bundle import student_package; student_package("$(STUDENT_PKG)")'
	grep -E '^($(STUDENT_PINS))==' requirements.txt > $(STUDENT_PKG)/requirements.txt
	test -x $(STUDENT_VENV)/bin/python || $(PYTHON) -m venv $(STUDENT_VENV)
	$(STUDENT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(STUDENT_PKG)/requirements.txt
	$(STUDENT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall ./$(STUDENT_PKG)
	touch $(STUDENT_STAMP)

# JupyterLab on the student notebooks, as a student has it: started from the student venv in
# notebooks/, with no PYTHONPATH, so no kernel can import autograder.
lab: $(STUDENT_STAMP)
	cd notebooks && env -u PYTHONPATH $(CURDIR)/$(STUDENT_VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,)

clean:
	rm -rf build .pytest_cache
