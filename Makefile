# Two commands: `make run` and `make test`. Everything else is a step they take.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck contracts unit bench report-screenshot console-screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sereno serve --config sereno.yaml

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy
	# bench/ingest.py is a script whose name would shadow the ingest package: checked alone.
	$(BIN)/mypy bench

contracts: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck contracts unit

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

# A sample day's daily report as report.png (and report.html) to look at; needs chromium.
report-screenshot: $(STAMP)
	$(BIN)/python bench/report_screenshot.py --out report.png

# PNGs of the console's main pages into docs/img/ for the README; needs chromium.
console-screenshots: $(STAMP)
	$(BIN)/python -m tests.console.screenshots --out docs/img

clean:
	rm -rf $(VENV) data .mypy_cache .pytest_cache .ruff_cache
