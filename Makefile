# Benchmarks (issue 6): `make bench` runs every measurement and writes bench/results.md + plots.
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: bench bench-quick bench-profile

bench:
	$(PYTHON) -m bench

bench-quick:
	$(PYTHON) -m bench --quick --out /tmp/roccogen-bench-quick

bench-profile:
	$(PYTHON) -m bench.profile
