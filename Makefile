# congdoan — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run demo test test-fast test-dates lint contracts contracts-check asyncapi-validate bench bench-all clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "congdoan needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

## Start the embedded stack (nats-server + four services) in the foreground; Ctrl-C stops it.
run: $(STAMP)
	$(PY) -m runtime.launcher

## The seed plan's year end to end through all four services, with a summary at the end.
demo: $(STAMP)
	$(PY) -m demo $(DEMO_ARGS)

## Run the whole suite (unit, integration on SQLite and PostgreSQL, end-to-end, crash, bad input).
test: lint
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not e2e and not slow" $(PYTEST_ARGS)

## The suite on other days of the year (needs Debian's faketime): no test may depend on today's date.
## An offset, not "@date": with "@" each process's clock starts at that instant when *it* starts, so the
## services started later run minutes behind the tests. Monotonic time is faked too: libfaketime
## 0.9.10 makes every sleep fail with EINVAL under FAKETIME_DONT_FAKE_MONOTONIC.
TEST_DATES ?= 2027-01-01 2027-05-19 2027-11-30 2028-02-29
test-dates: $(STAMP)
	for d in $(TEST_DATES); do \
	  echo "== $$d"; \
	  FAKETIME="+$$(( $$(date -d "$$d 10:00" +%s) - $$(date +%s) ))" \
	  LD_PRELOAD=$$(ls /usr/lib/*/faketime/libfaketime.so.1 | head -1) \
	  $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) || exit 1; \
	done

## Static checks (part of `make test`): architecture boundaries, ruff, mypy.
lint: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy contracts runtime services

## Regenerate JSON Schemas and AsyncAPI documents from the pydantic models.
contracts: $(STAMP)
	$(PY) -m contracts.generate

contracts-check: $(STAMP)
	$(PY) -m contracts.generate --check

asyncapi-validate:
	for f in contracts/asyncapi/*.yaml; do npx --yes @asyncapi/cli@4 validate $$f || exit 1; done

bench: $(STAMP)
	$(PY) -m bench.e2e $(BENCH_ARGS)

## Every benchmark and a table of their last lines (BENCH_ARGS="--quick" to check they run).
bench-all: $(STAMP)
	$(PY) -m bench.all $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache
