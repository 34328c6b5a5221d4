# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: run test test-unit lint format histories install messages bench bench-matching bench-reports bench-hotspot chaos prism twilio-sim clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# setuptools warns at length that an editable install is editable: nothing to act on.
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## The whole system on one machine: Temporal dev server, migrations, worker, API.
run: install
	$(PY) scripts/run.py

## Prism (Twilio's OpenAPI mock, for the contract tests) into .tools/, from the npm registry.
prism:
	-bash tests/contract/install_prism.sh

## The whole test suite. scripts/test_env.py first sets up what it needs (Chromium, npm and
## Prism, PostgreSQL: TEST_DATABASE_ADMIN_URL, the local cluster or an embedded server).
## PYTEST_ARGS="-k dispatch -x" passes arguments to pytest.
test: install
	$(PY) scripts/test_env.py $(PYTEST_ARGS)

## The pure, fast tests only (the state machine and friends): no server, database or browser.
test-unit: install
	$(PY) -m pytest -m unit -q

## The local Twilio simulator on its own (make run will start it when no Twilio account is set).
twilio-sim: install
	$(PY) -m twilio_sim --port 8091 --auth-token $${TWILIO_AUTH_TOKEN:-dev-token} \
		--voice-url http://127.0.0.1:8000/api/twilio/inbound/voice \
		--sms-url http://127.0.0.1:8000/api/twilio/inbound/sms

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) -m scripts.layers

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## The pages' message catalogs: collect every string (templates, page scripts, error texts)
## into api/web/locale/messages.pot and merge it into the zh_CN and en catalogs; then
## translate the new entries in api/web/locale/en/LC_MESSAGES/messages.po.
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k N_ --add-location=file --sort-output \
		--no-wrap --project four-orders -o api/web/locale/messages.pot .
	$(VENV)/bin/pybabel update -i api/web/locale/messages.pot -d api/web/locale \
		--no-fuzzy-matching --no-wrap --ignore-obsolete

## Re-record the replay histories after a deliberate (versioned) workflow change.
histories: install
	rm -rf tests/histories
	RECORD_HISTORIES=1 $(PY) -m pytest tests/workflows -k 'not replay' -q

## The lifecycle benchmark against bare Temporal (not part of `make test`); see bench/run.py.
bench: install
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m bench.run $(BENCH_ARGS)

## Candidate ranking among 10,000 volunteers on PostgreSQL and SQLite (target < 50 ms).
bench-matching: install
	$(PY) -m bench.matching $(BENCH_ARGS)

## The overview and exports over 1,000,000 orders on PostgreSQL (targets < 1 s / < 3 s).
bench-reports: install
	$(PY) -m bench.reports $(BENCH_ARGS)

## Twenty lifecycles for one busy volunteer at concurrency 10: time, deadlocks, counters.
bench-hotspot: install
	$(PY) -m bench.hotspot $(BENCH_ARGS)

## The fault suite: 300 lifecycles while every process is killed, PostgreSQL stopped and
## Twilio failing; nothing lost or doubled (bench/chaos.py). CHAOS_ARGS="--n 100" for less.
chaos: install
	$(PY) -m bench.chaos $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) data .tools .pytest_cache .mypy_cache .ruff_cache
