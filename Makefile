# Two commands on a fresh machine: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
PORT   ?= 8501
HOST   ?= 127.0.0.1

.PHONY: run test lint bench catalogue

# Re-install only when requirements.txt changed (the stamp carries its hash).
$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# dashboard/server.py serves the app plus the routes that set and clear the sign-in cookie (issue 8 §2);
# it listens on this machine only unless told otherwise (`make run HOST=0.0.0.0`).
run: $(STAMP)
	$(VENV)/bin/streamlit run dashboard/server.py --server.address $(HOST) --server.port $(PORT)

# The browser test drives Debian's chromium (never a downloaded browser build).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# Lint and types first: CI runs exactly this target (issue 9 §7): ruff, mypy strict on services/ and db/
# (files and settings in pyproject.toml), then the tests.
test: $(STAMP) $(CHROMIUM)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m bench

# Words (issue 9 §6): add the keys the code uses to both catalogues, then compile the .mo files the app reads.
catalogue: $(STAMP)
	$(PY) -m tools.catalogue
