# Hourglass: `make run` starts the app with a worker and beat; `make test` runs lint and tests.
# Everything installs into this checkout (.venv, node_modules) and is reinstalled only when the
# requirement or lock files change.

PYTHON ?= python3
PORT ?= 8000
# The language of the demo data (en, fr, ko, pl, ro): `make run DEMO_LANGUAGE=ko`.
DEMO_LANGUAGE ?= en
PYTEST_ARGS ?=
CHROMIUM ?= /usr/bin/chromium

VENV := .venv
VENV_PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.DEFAULT_GOAL := help
.PHONY: help check-prereqs check-chromium .venv install messages messages-extract run test fmt bench clean

help:
	@echo "make run    start web (http://127.0.0.1:$(PORT)/), Celery worker and beat, static files collected as in production; Ctrl+C stops all"
	@echo "make test   ruff check, ruff format --check, the import contract, node --check of the JavaScript, the editor's node --test unit tests, then pytest (extra args: PYTEST_ARGS=...)"
	@echo "make fmt    format and fix lint in place"
	@echo "make bench  run every bench/bench_*.py on PostgreSQL and Redis; writes bench/results.json"
	@echo "make clean  remove var/ (SQLite database, Celery queue) and staticfiles/"

# One clear line per missing tool, then a non-zero exit.
check-prereqs:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 || { \
	  echo "Python 3.11+ is missing ('$(PYTHON)' is absent or older): install it with 'sudo apt-get install python3 python3-venv' (Debian 12) or 'brew install python@3.11' (macOS), or pass PYTHON=/path/to/python3.11." >&2; \
	  exit 1; }
	@command -v npm >/dev/null 2>&1 || { \
	  echo "npm is missing: install Node.js 20 with npm, e.g. 'sudo apt-get install npm' (Debian/Ubuntu) or 'brew install node@20' (macOS)." >&2; \
	  exit 1; }
	@command -v msgfmt >/dev/null 2>&1 || { \
	  echo "GNU gettext 'msgfmt' is missing (it compiles the translations): install it with 'sudo apt-get install gettext' (Debian/Ubuntu) or 'brew install gettext' (macOS)." >&2; \
	  exit 1; }
	@command -v dot >/dev/null 2>&1 || { \
	  echo "Graphviz 'dot' is missing: install it with 'sudo apt-get install graphviz' (Debian/Ubuntu) or 'brew install graphviz' (macOS)." >&2; \
	  exit 1; }

# The browser tests drive a system Chromium (never a downloaded one); CHROMIUM names it.
check-chromium:
	@test -x "$(CHROMIUM)" || { \
	  echo "Chromium is missing at '$(CHROMIUM)': install it with 'sudo apt-get install chromium' (Debian) or pass CHROMIUM=/path/to/chromium." >&2; \
	  exit 1; }

$(VENV_PY):
	@echo "==> Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create $(VENV): on Debian/Ubuntu install 'sudo apt-get install python3-venv'." >&2; \
	  rm -rf $(VENV); exit 1; }

$(PY_STAMP): requirements.txt requirements-dev.txt | $(VENV_PY)
	@echo "==> Installing Python requirements into $(VENV)"
	$(VENV_PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package-lock.json
	@echo "==> Installing front-end packages (npm ci)"
	npm ci --no-audit --no-fund
	@touch $@

.venv: $(PY_STAMP)

# The edit page's first script, bundled with the modules it imports (package.json's
# "build"; the test run rebuilds it too when a source is newer, conftest.py).
BUNDLE := var/build/static-view.js
$(BUNDLE): $(NODE_STAMP) $(wildcard static/systemmaps/editor/*.js)
	npm run -s build

install: $(PY_STAMP) $(NODE_STAMP) $(BUNDLE)

# The translations (locale/*/LC_MESSAGES/django.po) compiled for Django to read.
messages: $(PY_STAMP)
	$(VENV_PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

# The app's strings into the catalogues, for translating (README, "Adding a language").
messages-extract: $(PY_STAMP)
	$(VENV_PY) manage.py extract_messages

# `make run` serves the static files as production does: collected with the production
# storage (content-hashed names, gzip copies, the editor's module imports hashed too)
# and served by whitenoise with year-long cache headers on the hashed files. They are
# collected again when a static file, a Python or a front-end package changed; after
# editing a file under static/ while it runs, stop and start `make run`.
RUN_STATIC_STORAGE := hourglass.storage.ManifestStaticFilesStorage
STATIC_STAMP := staticfiles/staticfiles.json

$(STATIC_STAMP): $(PY_STAMP) $(NODE_STAMP) $(BUNDLE) $(shell find static -type f 2>/dev/null)
	STATICFILES_BACKEND=$(RUN_STATIC_STORAGE) $(VENV_PY) manage.py collectstatic --noinput --clear -v 0
	@touch $@

run: check-prereqs install messages $(STATIC_STAMP)
	$(VENV_PY) manage.py migrate --noinput
	$(VENV_PY) manage.py seed_demo --language $(DEMO_LANGUAGE)
	@echo
	@echo "  Hourglass is starting at http://127.0.0.1:$(PORT)/"
	@echo "  Demo login: demo@example.com / hourglass-demo"
	@echo "  Ctrl+C stops the web server, the Celery worker and beat."
	@echo
	exec env HOURGLASS_PORT=$(PORT) STATICFILES_BACKEND=$(RUN_STATIC_STORAGE) $(VENV)/bin/honcho start -f Procfile.dev

# The JavaScript: a syntax check of every file, then the editor's unit tests. The editor's
# files are ES modules under a package.json without "type": Node 20 then guesses the module
# type, and `node --check file.js` passes a module with a syntax error, so they are checked
# as module source on stdin; the classic scripts are checked as they are. Importing them in
# the tests makes Node say each time that it guessed: that one warning is switched off.
test: check-prereqs check-chromium install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	@for f in static/systemmaps/editor/*.js; do \
	  node --input-type=module --check < "$$f" || { echo "node --check: $$f" >&2; exit 1; }; \
	done
	@for f in static/systemmaps/*.js static/hourglass/*.js; do node --check "$$f" || exit 1; done
	node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON --test systemmaps/tests/js/
	CHROMIUM=$(CHROMIUM) $(VENV)/bin/pytest $(PYTEST_ARGS)

fmt: $(PY_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks: every bench/bench_*.py against PostgreSQL (BENCH_DATABASE_URL, created and
# migrated when needed) and Redis (BENCH_CELERY_BROKER_URL); one table of figures beside
# their floors, written to bench/results.json. A failed script fails the run at the end.
bench: check-prereqs check-chromium install
	CHROMIUM=$(CHROMIUM) $(VENV_PY) bench/run_all.py

clean:
	rm -rf var staticfiles
