# Two commands set up everything on a fresh machine: `make run` (the window) and `make test`.
# torch is pinned through constraints.txt: an unpinned torch pulls a multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run train test test-all bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	# --no-compile: Python compiles what it imports on first use; compiling all of torch up front took 48 s
	# of a 71 s fresh install here
	$(BIN)/python -m pip install --quiet --no-compile -c constraints.txt -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/studio

train: $(STAMP)
	$(BIN)/studio train

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python tests/benchmarks/bench_train.py
	$(BIN)/python tests/benchmarks/bench_task_train.py --task classify
	$(BIN)/python tests/benchmarks/bench_task_train.py --task mlm
	$(BIN)/python tests/benchmarks/bench_task_train.py --task tag
	$(BIN)/python tests/benchmarks/bench_dpo.py
	$(BIN)/python tests/benchmarks/bench_classify.py
	$(BIN)/python tests/benchmarks/bench_generate.py
	$(BIN)/python tests/benchmarks/bench_tokenize.py
	$(BIN)/python tests/benchmarks/bench_startup.py
	$(BIN)/python tests/benchmarks/bench_ui_training.py
	$(BIN)/python tests/benchmarks/bench_playground.py
	$(BIN)/python tests/benchmarks/bench_attention.py
	$(BIN)/python tests/benchmarks/bench_runs_list.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
