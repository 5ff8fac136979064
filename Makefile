# The two commands: `make up` runs the whole platform, `make test` runs the whole test suite.
# Both set up everything they need on a fresh machine first (venv, pip, npm, apt-get).

SHELL := /bin/bash
PY_VERSION ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed
MOBILE_STAMP := mobile/node_modules/.installed
APT_STAMP := $(VENV)/.apt-installed
NUMBA_STAMP := $(VENV)/.numba-warm
# Our own packages byte-compiled too (0.6 s; ~0.5 s off every service process's start where Python may not
# write .pyc files itself, see the uv line below). A source edited later is read from source, as ever.
COMPILE_OURS := $(BIN)/python -m compileall -q -j0 ayka gateway stream_asr diarize agents persistence >/dev/null
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export CREWAI_DISABLE_TELEMETRY := true
export OTEL_SDK_DISABLED := true
export CREWAI_TRACING_ENABLED := false
export PYANNOTE_METRICS_ENABLED := false
export HF_HUB_OFFLINE := 1
export NEXT_TELEMETRY_DISABLED := 1

.PHONY: up test install install-web install-mobile web lint typecheck check-python test-python test-web test-mobile clean

up: install web
	$(COMPILE_OURS)
	$(BIN)/ayka up

# The checks that need no model run side by side, the Python ones as soon as pip is done and the web and
# mobile ones as soon as npm is (on 2 cores the installs wait on the network more than on the CPU); the
# Python suite runs alone afterwards, as its real-time tests expect. The Python install is the longest
# chain here (the npm installs and the web build finish first), so lint, typecheck and the numba warm-up
# each start as soon as the venv is there, side by side.
test:
	$(MAKE) -j3 --output-sync=target check-python test-web test-mobile
	$(MAKE) test-python

check-python: lint typecheck install

install: $(STAMP) $(APT_STAMP) $(NUMBA_STAMP)

# uv installs the pinned set, torch with it, in one go on every core (pip took 3.8 min here, CPU-bound).
# torch is pinned: a range would pull the CUDA build (several GB). uv does not read pip's configuration, so
# pip's find-links (where this machine keeps its CPU build of torch 2.13.0) are handed on to it.
# --compile-bytecode: uv does not byte-compile by default, and where PYTHONDONTWRITEBYTECODE is set (it
# is on this machine, and so in CI here) Python never writes the .pyc files itself: every process that
# imports crewai, pyannote or the gateway would parse their sources again: ~1.3 s more per worker start,
# and one `ayka up` test takes 38.6 s instead of 22.8 s.
# The speaker encoder's first use compiles librosa's numba kernels (26 s here); numba caches them beside
# librosa in the venv, so compile them once at install (beside lint and typecheck in `make test`) rather
# than in the first diarization worker that starts.
$(NUMBA_STAMP): $(STAMP)
	$(BIN)/python -c 'from diarize.embedding import shared_embedder; shared_embedder()'
	touch $@

FIND_LINKS = $(sort $(PIP_FIND_LINKS) $(shell $(PY_VERSION) -m pip config get global.find-links 2>/dev/null))
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY_VERSION) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt uv
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python $(addprefix --find-links ,$(FIND_LINKS)) \
		-c constraints.txt torch==2.13.0 'setuptools<81' -e '.[diarize,agents,test]'
	touch $@

# Debian packages: Chromium for the browser end-to-end test. The stamp is written only once it is there.
$(APT_STAMP):
	@if command -v chromium >/dev/null 2>&1; then echo "chromium present"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium missing: run 'sudo apt-get install chromium' (needed for the browser test), then make again"; exit 1; fi
	@mkdir -p $(VENV) && touch $@

install-web: $(WEB_STAMP)
$(WEB_STAMP): web/package.json
	@if [ -f web/package-lock.json ]; then cd web && npm ci --no-audit --no-fund --loglevel=error; \
	else cd web && npm install --no-audit --no-fund --loglevel=error; fi
	touch $@

install-mobile: $(MOBILE_STAMP)
$(MOBILE_STAMP): mobile/package.json
	@if [ -f mobile/package-lock.json ]; then cd mobile && npm ci --no-audit --no-fund --loglevel=error; \
	else cd mobile && npm install --no-audit --no-fund --loglevel=error; fi
	touch $@

# The web UI is a static export served by the gateway; rebuild only when a source is newer than it.
web: install-web
	@if [ ! -f web/out/index.html ] || [ -n "$$(find web/src web/public web/scripts web/package.json web/package-lock.json web/tsconfig.json web/postcss.config.* web/next.config.* -newer web/out/index.html 2>/dev/null | head -1)" ]; then \
		npm --prefix web run build; else echo "web UI up to date"; fi

lint: $(STAMP)
	$(BIN)/ruff check ayka gateway stream_asr diarize agents persistence tests bench
	$(BIN)/ruff format --check ayka gateway stream_asr diarize agents persistence tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test-web: install-web
	npm --prefix web run lint
	npm --prefix web run typecheck
	npm --prefix web run test
	npm --prefix web run build

test-mobile: install-mobile
	npm --prefix mobile run typecheck
	npm --prefix mobile run test

test-python: install web
	$(COMPILE_OURS)
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) web/node_modules web/out web/.next mobile/node_modules .ayka
