# Everything a fresh machine needs, from system packages to a venv with the built JupyterLab
# extension. Every target is idempotent: when nothing changed it returns in about a second.

SHELL := /bin/bash
.DEFAULT_GOAL := test

PYTHON3 ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
# Stamp of the last `pip install -e`; redone when the packaging or the extension sources change.
INSTALLED := $(VENV)/.cocalc-magics-installed
BUILT_LABEXTENSION := cocalc_magics/labextension
LABEXTENSION_SOURCES := $(wildcard labextension/package.json labextension/package-lock.json \
	labextension/tsconfig.json labextension/install.json labextension/src/* labextension/style/* \
	labextension/schema/* jupyter-config/server-config/*)
PYTEST_ARGS ?=

# latexmk + TeX for the LaTeX tests and demo, chromium for the browser test, curl for the published
# examples, openssl for the emulator's --https certificate, bubblewrap for the emulator's per-project sandbox.
SYSTEM_PACKAGES := latexmk texlive-latex-base texlive-latex-recommended lmodern curl chromium openssl bubblewrap

.PHONY: test check lint lint-ts demo system-deps venv labextension build clean distclean

# The whole suite, after the lint: what CI runs.
test: system-deps venv lint
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# The edit loop's fast tier (about a minute): no browser, no load, no fault matrix, no kernels.
check: venv
	$(PYTHON) -m pytest -m "not slow" -q $(PYTEST_ARGS)

# ruff and mypy (configured in pyproject.toml) over the Python, eslint + prettier over the extension.
lint: venv lint-ts
	$(PYTHON) -m ruff check cocalc_magics tests benchmarks
	$(PYTHON) -m mypy

demo: system-deps venv
	$(PYTHON) -m cocalc_magics.demo

# Checks Debian's package database (the commands alone would miss e.g. texlive-latex-recommended).
system-deps:
	@if command -v dpkg-query >/dev/null; then \
		missing=$$(for package in $(SYSTEM_PACKAGES); do \
			dpkg-query -W -f='$${Status}\n' "$$package" 2>/dev/null | grep -qx 'install ok installed' \
				|| echo "$$package"; done); \
	else \
		missing=$$(for command in latexmk curl chromium openssl bwrap; do command -v "$$command" >/dev/null || echo "$$command"; done); \
	fi; \
	missing=$$(echo $$missing); \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "Missing system packages: $$missing" >&2; \
		echo "Install them as root:  apt-get update && apt-get install -y --no-install-recommends $$missing" >&2; \
		exit 1; \
	fi; \
	echo "Installing system packages: $$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null

venv: $(INSTALLED)

$(PYTHON):
	$(PYTHON3) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip

# pip builds the labextension through the hatch-jupyter-builder hook (npm install + npm run
# build:prod in labextension/) and copies it into .venv/share/jupyter/labextensions.
# The old build output is removed first: the hook only compares mtimes of labextension/src.
$(INSTALLED): pyproject.toml $(LABEXTENSION_SOURCES) | $(PYTHON)
	@command -v npm >/dev/null || { echo "npm (Node.js >= 20.19) is needed to build the JupyterLab extension" >&2; exit 1; }
	rm -rf $(BUILT_LABEXTENSION)
	$(PYTHON) -m pip install --quiet -e '.[test]'
	touch $@

# Rebuild the extension now (e.g. after editing labextension/src) and reinstall it into the venv.
labextension:
	rm -f $(INSTALLED)
	$(MAKE) --no-print-directory venv

# eslint + prettier over the extension's TypeScript, CSS and JSON (configured as jupyterlab/extension-template
# has them); node_modules come from the npm install that the venv's build ran.
lint-ts: venv
	cd labextension && npm run --silent lint:check

build: venv
	$(PYTHON) -c 'import build' 2>/dev/null || $(PYTHON) -m pip install --quiet 'build>=1.0'
	rm -rf dist
	$(PYTHON) -m build --outdir dist .

clean:
	rm -rf dist build $(BUILT_LABEXTENSION) labextension/lib labextension/tsconfig.tsbuildinfo \
		.pytest_cache $(INSTALLED)

distclean: clean
	rm -rf $(VENV) labextension/node_modules
