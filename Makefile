# wuye: `make demo` installs and serves the demo, `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYS_PACKAGES := chromium fonts-noto-cjk fonts-wqy-zenhei poppler-utils
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install sysdeps demo serve test test-pg lint messages bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# System packages for PDFs (CJK fonts), pdftotext and the browser tests. As root they are
# installed; otherwise the one command to run is printed.
sysdeps:
	@missing=""; for p in $(SYS_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "missing system packages; run: sudo apt-get install -y$$missing"; \
	fi

# The demo's ID numbers are encrypted with a key derived from SECRET_KEY (WUYE_DEMO); production
# sets FIELD_ENCRYPTION_KEY or refuses to start.
demo bench: export WUYE_DEMO = 1
demo: install
	-@$(MAKE) --no-print-directory sysdeps
	@mkdir -p var
	@date +%s.%N > var/demo.started
	$(BIN)/wuye migrate --no-input
	$(BIN)/wuye seed-demo --url http://$(HOST):$(PORT)/ --since "$$(cat var/demo.started)"
	@echo "starting the background worker, the scheduler and the web server on http://$(HOST):$(PORT)/"
	@$(BIN)/wuye db_worker --queue-name '*' > var/worker.log 2>&1 & echo $$! > var/worker.pid
	@$(BIN)/wuye schedule > var/scheduler.log 2>&1 & echo $$! > var/scheduler.pid
	@trap 'kill $$(cat var/worker.pid) $$(cat var/scheduler.pid) 2>/dev/null' EXIT INT TERM; \
	DEBUG=$${DEBUG:-true} $(BIN)/wuye runserver $(HOST):$(PORT) --noreload

test: install
	-@$(MAKE) --no-print-directory sysdeps
	$(BIN)/pytest -n 2 --dist loadfile $(ARGS)

# The same suite against PostgreSQL on 127.0.0.1:5432 (a fresh test database).
test-pg: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wuye} $(BIN)/pytest -n 2 --dist loadfile $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/bandit -q -c pyproject.toml -r wuye -ll -ii

messages: install
	cd wuye && ../$(BIN)/wuye makemessages -l zh_Hans -l zh_Hant -l en --no-obsolete --ignore '*/tests/*'
	$(BIN)/python -m wuye.core.i18n_sync
	cd wuye && ../$(BIN)/wuye compilemessages

bench: install
	$(BIN)/python -m bench W1 --units 100000

clean:
	rm -rf $(VENV) var/*.sqlite3*
