# `make run`: Brickwork on this machine (SQLite and a private Redis unless configured).
# `make test`: lint, then the whole suite on SQLite (the default) and on PostgreSQL (.ci/suite); CI runs this.
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install

run: install
	$(PYTHON) manage.py up

test: install
	bash .ci/services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PYTHON) .ci/suite

install: $(STAMP)

# (Re)installed only when pyproject.toml changes; the venv is rebuilt if its Python is too old.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || { \
		python=$$(bash .ci/find-python) && echo "Creating $(VENV) with $$python" && \
		"$$python" -m venv --clear $(VENV); }
	$(PYTHON) -m pip install --disable-pip-version-check --quiet -e '.[test]'
	@touch $@
