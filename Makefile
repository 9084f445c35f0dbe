# Course tasks. `make course` and `make test` each set everything up first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
# the grading sandbox's kernelspec (grading/sandbox.py), which nbgrader's autograde always uses
KERNELSPEC := $(VENV)/share/jupyter/kernels/course-sandbox/kernel.json
# the course's JupyterLab settings (jupyter/overrides.json: no news pop-up, no update check)
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
# a student's working copy of release/ and notebooks/: created once, never overwritten, ignored by git
WORK := work
# notebook folders that exist (a fresh clone may have none yet)
NB_DIRS := $(wildcard source notebooks)
ASSIGNMENTS := $(notdir $(wildcard source/*))

.PHONY: setup course release test test-fast lint format lab bench clean

setup: $(STAMP) $(KERNELSPEC) $(LAB_SETTINGS)

# Re-runs only when the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@
	@echo "setup: $(VENV) is ready ($$($(BIN)/python -c 'import torch; print("torch", torch.__version__)'))"

$(KERNELSPEC): $(STAMP) grading/sandbox.py
	$(BIN)/python -m grading.sandbox --install

$(LAB_SETTINGS): jupyter/overrides.json $(STAMP)
	@mkdir -p $(dir $@)
	cp jupyter/overrides.json $@

## release: regenerate release/ from source/ with nbgrader
release: setup
	@for a in $(ASSIGNMENTS); do \
	  echo "release: generating $$a"; \
	  $(BIN)/nbgrader generate_assignment "$$a" --force --no-db --log-level=WARN; \
	done

## course: the main job: regenerate the assignments, grade the demo submissions, report
course: setup
	PYTHONPATH=tests $(BIN)/python -m harness.demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## test: everything CI checks (three test workers on two cores: the third fills the others' waits for kernels)
test: setup lint
	$(BIN)/python -m pytest -n 3 --dist loadscope --no-loadscope-reorder --durations=15 tests $(NB_DIRS) --nbmake --nbmake-timeout=600

## test-fast: the in-process tests only (no kernel, no nbgrader run, no browser): seconds, for the inner loop
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow" tests --ignore=tests/e2e

## lab: JupyterLab on your working copy of release/ and notebooks/ (copied once; your edits are kept)
lab: setup
	@mkdir -p $(WORK)
	@cp -rn release notebooks $(WORK)/
	@echo "lab: your working copy is $(WORK)/ (new files are copied in from release/; yours are never overwritten)"
	$(BIN)/jupyter lab --notebook-dir=$(WORK)

bench: setup
	$(BIN)/python bench/bench.py

clean:
	rm -rf _course artifacts .pytest_cache .ruff_cache
