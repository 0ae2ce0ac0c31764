# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app run
PORT ?= 5000
# The web process runs the jobs itself under `make run` (one machine, nothing else to start).
RUN_SCHEDULER ?= embedded

.PHONY: run test lint venv deps dev-deps translations extract init seed-demo bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements-dev.txt requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.deps $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

# Compiled catalogues are build output: made from translations/*/LC_MESSAGES/messages.po.
translations: $(VENV)/.deps
	$(VENV)/bin/pybabel -q compile -f -d translations -D messages

run: deps translations
	$(FLASK) crm init
	$(FLASK) crm seed --first-run --customers $${CRM_DEMO_CUSTOMERS:-3000} --demo-users --keep-admin-password --password $${CRM_DEMO_PASSWORD:-demo-pass-2026}
	@echo ""
	@echo "  Telecom CRM: http://127.0.0.1:$(PORT)/"
	@echo "  Sign in as 'admin' (password printed by 'crm init' on first run, or CRM_ADMIN_PASSWORD)."
	@echo "  Demo users (manager, sales1, sales2, agent1, agent2, clerk1) use password: $${CRM_DEMO_PASSWORD:-demo-pass-2026}"
	@echo ""
	CRM_SCHEDULER=$${CRM_SCHEDULER:-$(RUN_SCHEDULER)} $(FLASK) run --host 127.0.0.1 --port $(PORT)

# One pytest worker per CPU; a test file stays on one worker (its module fixtures are built once).
# `make test PYTEST_WORKERS=0` runs in one process (easier to debug).
PYTEST_WORKERS ?= auto
test: dev-deps translations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

lint: dev-deps
	$(VENV)/bin/ruff check .

# Refresh the catalogues after changing user-facing strings:
#   make extract      -> translations/messages.pot, merged into zh and en (en msgstr filled from the msgid)
#   translate the new/empty entries in translations/zh/LC_MESSAGES/messages.po
#   make translations -> compiles the .mo files (build output, not committed)
# tests/test_i18n.py reads BABEL_KEYWORDS from here to check the catalogues cover the source.
BABEL_KEYWORDS := -k lazy_gettext -k _l -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2
extract: dev-deps
	$(VENV)/bin/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) --add-comments=TRANSLATORS: --add-location=file \
		--project="Telecom CRM" --version=1.0 --copyright-holder="Telecom CRM" -o translations/messages.pot .
	$(VENV)/bin/pybabel -q update -i translations/messages.pot -d translations -D messages \
		--no-fuzzy-matching --ignore-obsolete
	$(PY) translations/fill_en.py

bench: dev-deps translations
	$(PY) bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
