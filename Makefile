# kubesim — two commands do everything: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/serving-autoscale.yaml

.PHONY: demo test bench lab schema clean help cluster cluster-down

help:
	@echo "make demo    create .venv, run the flagship scenario, write its report"
	@echo "make test    run the test suite"
	@echo "make bench   print the benchmark table (also written to bench-results/); BENCH_ARGS=--large adds density-5k, BENCH_ARGS=\"--repeat 3\" keeps the fastest of 3, BENCH_ARGS=\"--against HEAD\" compares with a commit"
	@echo "make lab     start JupyterLab on notebooks/ (the teaching labs)"
	@echo "make schema  regenerate scenarios/schema.json"
	@echo "make cluster start a real control plane (etcd, apiserver, scheduler, controller-manager, kwok) on loopback"
	@echo "make cluster-down  stop it"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,lab]"
	@# bytecode ahead of time: where PYTHONDONTWRITEBYTECODE is set, every start would compile it again
	$(PY) -m compileall -q sim labs >/dev/null
	@# the scheduler's compiled loops, cached beside their source so no run waits for the compiler
	$(PY) -c "from sim.scheduler import kernels; kernels.load()"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/kubesim run $(SCENARIO) --out runs/demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m sim.bench $(BENCH_ARGS)

lab: $(STAMP)
	PYTHONPATH=$(CURDIR) $(abspath $(VENV))/bin/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

schema: $(STAMP)
	$(VENV)/bin/kubesim schema --out scenarios/schema.json

clean:
	rm -rf runs bench-results .pytest_cache

# A real control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok) on loopback, built from Go modules into
# ~/.cache/kubesim; see labs/controlplane/README.md.

cluster:
	bash labs/controlplane/cluster.sh up

cluster-down:
	bash labs/controlplane/cluster.sh down
