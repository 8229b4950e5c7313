# make run:  set up (if needed), then resynthesize and continue the bundled example.
# make test: set up (if needed), then run the test suite.
VENV := .venv
PY := $(VENV)/bin/python
MODEL ?= default

.PHONY: run test setup bench clean

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

setup: $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) -m textless example --model $(MODEL) --out out/example

test: $(VENV)/.installed
	$(PY) -m pytest -q -n 2 -p no:cacheprovider

bench: $(VENV)/.installed
	$(PY) bench/encode.py && $(PY) bench/ulm.py && $(PY) bench/vocoder.py && $(PY) bench/tacotron.py && $(PY) bench/abx.py

clean:
	rm -rf out .pytest_cache
