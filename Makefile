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

# As root, the suite runs twice where the sandbox's mode matters: all of it as root (the root mode),
# then the sandbox, hostile and entry-point tests as the unprivileged user nn-grader (the rootless mode;
# scripts/unprivileged.py makes the user, its venv and a copy of the checkout it can read). Both always
# run; the target fails if either failed.
test: setup
	@bash scripts/system-packages --test
	@status=0; $(PY) -m pytest || status=$$?; \
	$(PY) scripts/unprivileged.py test || status=$$?; \
	exit $$status

# the inner loop: the vocabulary, the reference, the checks modules and the unit tests (under a minute)
test-fast: setup
	$(PY) -m pytest -q -m "not slow"
