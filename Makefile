# The two set-up commands of the README. Each works on a fresh machine with Python 3.11.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install bench lint

$(BIN)/twin: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(BIN)/twin

install: $(BIN)/twin

demo: install
	$(BIN)/twin compare scenarios/hospital/baseline.yaml scenarios/hospital/emergency.yaml --replications 10 \
		--out out/compare-hospital-baseline-vs-hospital-mass-casualty

test: install
	$(BIN)/ruff check twin policies tests bench api visual
	$(BIN)/mypy
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/warehouse_year.py
	$(BIN)/python bench/replications_pool.py
