# kubesim — two commands do everything: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/serving-basic.yaml

.PHONY: demo test bench lab schema clean help

help:
	@echo "make demo    create .venv, run the flagship scenario, write its report"
	@echo "make test    run the test suite"
	@echo "make bench   print the benchmark table (also written to bench-results/)"
	@echo "make schema  regenerate scenarios/schema.json"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/kubesim run $(SCENARIO) --out runs/demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m sim.bench

schema: $(STAMP)
	$(VENV)/bin/kubesim schema --out scenarios/schema.json

clean:
	rm -rf runs bench-results .pytest_cache
