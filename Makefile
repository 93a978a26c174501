# Two commands on a fresh machine: `make render`, then `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TOPOLOGIES := $(wildcard topologies/*.yaml)
# Upstream schemas (Azure type data, Flux CRDs, Cilium values), where this checkout sits
# beside shared/; without them render says what it could not check.
REFERENCE := $(wildcard ../shared/reference)
VERIFY := $(if $(REFERENCE),--bicep-types $(REFERENCE)/bicep-types \
	--crd-schemas $(REFERENCE)/flux --crd-schemas $(REFERENCE)/cilium/crds \
	--cilium-values-schema $(REFERENCE)/cilium/values.schema.json)

.PHONY: render check test bench docs clean

# Recreate the virtualenv when the dependencies change.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# compat: a plain path entry; the default import-hook finder costs every run ~25 ms.
	$(BIN)/python -m pip install --quiet --editable '.[test]' --config-settings editable_mode=compat
	touch $@

## Render every topology in topologies/ into out/ (also regenerates the golden trees).
render: $(INSTALLED)
	$(BIN)/aksmesh render $(VERIFY) $(TOPOLOGIES)

## Fail when out/ is not what render would write.
check: $(INSTALLED)
	$(BIN)/aksmesh check $(VERIFY) $(TOPOLOGIES)

## Run the test suite.
test: $(INSTALLED)
	$(BIN)/python -m pytest -q

## Time validate, plan, render and check on generated topologies.
bench: $(INSTALLED)
	$(BIN)/python scripts/bench.py

## Regenerate docs/diagnostics.md and docs/topology.md from their sources.
docs: $(INSTALLED)
	$(BIN)/python -m generator.docs

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
