# energyopt developer tasks.  `make run` and `make test` are the two set-up
# commands of the README: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   ?= demo_out

.PHONY: run test lint format bench clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# Re-install when the project metadata changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[test,dev,cluster]"
	touch $@ $(VENV)/.installed-run

venv: $(VENV)/.installed-run

## run: install and run the main job on the built-in demo plant
run: $(VENV)/.installed-run
	$(BIN)/energyopt demo --plant steelworks --out $(DEMO) --days 7 --force
	$(BIN)/energyopt check $(DEMO)/plant.toml --data $(DEMO)/history.h5
	$(BIN)/energyopt inspect $(DEMO)/history.h5

## test: install with the test extra and run the whole suite
test: $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

## lint: ruff (check + format check), mypy (all four packages), import-linter layering
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: speed and quality measurements (not part of the test run)
bench: $(VENV)/.installed-test
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

## installer: PyInstaller bundle and Linux .deb into dist/ (installs the dist extra)
.PHONY: installer installer-test
$(VENV)/.installed-dist: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[dist]"
	touch $@ $(VENV)/.installed-run

installer: $(VENV)/.installed-dist
	$(BIN)/python installers/build.py

## installer-test: install the .deb, smoke-test it as an unprivileged user, purge (root)
installer-test: installer
	$(BIN)/python installers/linux/installer_test.py

## screenshots: the app's main views under Xvfb into docs/screenshots/ (needs xvfb, xauth,
## fonts-wqy-microhei; about 3 min)
.PHONY: screenshots
screenshots: $(VENV)/.installed-run
	$(BIN)/python scripts/screenshots.py --out docs/screenshots

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache $(DEMO)
