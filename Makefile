# Atende: `make run` serves the whole product; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export DJANGO_SETTINGS_MODULE ?= atende.config.settings.dev
# Keep compiled bytecode in the venv and the tree even where the environment turns it off: without it every
# process (web, worker, scheduler, each test subprocess) compiles Django, SciPy and the rest from source at start.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run install install-test test test-only lint messages bench bench-peer clean

# scripts/venv-install.sh creates the venv and installs with uv (seconds), falling back to pip.
$(VENV)/.installed: pyproject.toml requirements.lock scripts/venv-install.sh
	bash scripts/venv-install.sh $(VENV) $(PYTHON)
	@touch $@

# The compiled catalogs (*.mo, not in git) follow the .po files: a pull that changes a translation recompiles them.
$(VENV)/.catalogs: $(VENV)/.installed $(wildcard atende/locale/*/LC_MESSAGES/*.po)
	$(BIN)/python -m atende.core.i18n
	@touch $@

install: $(VENV)/.installed $(VENV)/.catalogs

$(VENV)/.installed-test: $(VENV)/.installed
	bash scripts/venv-install.sh $(VENV) $(PYTHON) test
	@touch $@

install-test: $(VENV)/.installed-test
	@bash scripts/ensure-test-servers.sh

# The system checks run once, in serve (they import every URLconf, with scikit-learn and pysaml2 behind it).
run: install
	$(BIN)/atende migrate --noinput -v 0 --skip-checks
	$(BIN)/atende seed
	@echo "Atende: http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and scheduler)"
	PORT=$(PORT) $(BIN)/atende serve --port $(PORT)

test: install-test test-only

# The suite runs on every core (pytest-xdist); TEST_WORKERS=0 runs it in this one process (easier to debug).
TEST_WORKERS ?= auto
test-only: $(VENV)/.catalogs
	DJANGO_SETTINGS_MODULE=atende.config.settings.test $(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

messages: install
	cd atende && ../$(BIN)/atende makemessages -l pt_BR --ignore 'static/*' && ../$(BIN)/atende makemessages -d djangojs -l pt_BR
	$(BIN)/python -m atende.core.i18n

bench: install-test
	$(BIN)/python bench/run.py

bench-peer: install-test
	$(BIN)/python bench/peer.py

clean:
	rm -rf $(VENV) $(VENV)-uv var/static
