# Stadtradar: `make demo` (offline pipeline over the recorded snapshot) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DB ?= warehouse/stadtradar.duckdb
SNAPSHOT := tests/snapshot

.PHONY: setup demo test test-lake test-fast lint eval bench screenshots clean

$(BIN)/stadtradar: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(BIN)/stadtradar

setup: $(BIN)/stadtradar

demo: setup
	$(BIN)/stadtradar run --sources sources.yml --db $(DB) --replay $(SNAPSHOT)
	$(BIN)/stadtradar query --db $(DB) "select e.start_date, e.start_time, c.name as city, e.venue, e.name from marts.events e left join marts.cities c using (city_id) order by e.start_date"
	$(BIN)/stadtradar status --db $(DB)
	$(BIN)/stadtradar query --db $(DB) "select c.name, count(*) as articles from marts.article_cities ac join marts.cities c using (city_id) group by all order by articles desc, c.name limit 10"

test: setup
	$(BIN)/ruff check .
	# mypy (about 25 s cold) checks while the tests run: two pytest processes mostly wait on pipeline subprocesses,
	# and an idle one steals queued tests from the other.
	$(BIN)/mypy & mypy=$$!; $(BIN)/pytest -q -n 2 --dist worksteal -m "not lake"; tests=$$?; wait $$mypy; \
		types=$$?; test $$tests -eq 0 && test $$types -eq 0

# The DuckLake tests: the lake's unit tests, and the workers test (PostgreSQL, a Prefect server and three workers;
# about two minutes); .ci/run runs them after `make test`.
test-lake: setup
	$(BIN)/pytest -q -n 2 --dist worksteal -m lake

test-fast: setup  # the unit tests: no pipeline run, no dbt build, no server
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n 2 -m "not e2e"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/run_bench.py $(if $(SIZES),--sizes $(SIZES)) $(if $(SOURCES),--sources $(SOURCES))

# The website's pages in Chromium over the demo warehouse, saved to docs/screenshots/ (shown in the README).
screenshots: setup
	STADTRADAR_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/test_site_browser.py -k "not hostile"

eval: setup
	$(BIN)/python ../shared/eval/run_eval.py --verbose

clean:
	rm -rf dbt/target dbt/logs .pytest_cache
