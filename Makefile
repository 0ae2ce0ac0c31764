# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app run
PORT ?= 5000
export CRM_SCHEDULER ?= embedded

.PHONY: run test lint venv deps dev-deps translations init seed-demo bench clean

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
	$(VENV)/bin/pybabel compile -f -d translations -D messages >/dev/null

run: deps translations
	$(FLASK) crm init
	$(FLASK) crm seed --first-run --customers $${CRM_DEMO_CUSTOMERS:-3000} --demo-users --password $${CRM_DEMO_PASSWORD:-demo-pass-2026}
	@echo ""
	@echo "  Telecom CRM: http://127.0.0.1:$(PORT)/"
	@echo "  Sign in as 'admin' (password printed by 'crm init' on first run, or CRM_ADMIN_PASSWORD)."
	@echo "  Demo users (manager, sales1, sales2, agent1, agent2, clerk1) use password: $${CRM_DEMO_PASSWORD:-demo-pass-2026}"
	@echo ""
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: dev-deps translations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: dev-deps
	$(VENV)/bin/ruff check .

# Refresh the catalogues after changing user-facing strings.
extract: dev-deps
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o translations/messages.pot .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

bench: dev-deps translations
	$(PY) bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
