# The two commands of the README:  make demo  and  make test.
# Each one sets up everything it needs on a fresh machine first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test test-fast
setup: $(VENV)/.installed
	@bash scripts/system-packages

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

demo: setup
	$(PY) -m autograder demo

test: setup
	@bash scripts/system-packages --test
	$(PY) -m pytest

# the inner loop: the vocabulary, the reference, the checks modules and the unit tests (under a minute)
test-fast: setup
	$(PY) -m pytest -q -m "not slow"
