# Two commands on a fresh machine: `make render`, then `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TOPOLOGIES := $(wildcard topologies/*.yaml)
TEMPLATE_SOURCES := $(shell find generator/templates -type f)
COMPILED_TEMPLATES := generator/compiled_templates.py
# Upstream files `make data` derives generator/data/ and tests/reference/ from (see
# generator/data/README.md): a folder of them (REFERENCE, no default: nothing else reads
# it), kubernetes-validate's schemas, and a git directory or checkout of
# Azure/bicep-types-az for the Azure types REFERENCE lacks.
REFERENCE ?=
KUBERNETES ?=
BICEP_TYPES_AZ ?=

.PHONY: render check test bench docs data templates clean

# Recreate the virtualenv when the dependencies change.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# compat: a plain path entry; the default import-hook finder costs every run ~25 ms.
	$(BIN)/python -m pip install --quiet --editable '.[test]' --config-settings editable_mode=compat
	touch $@

## Render every topology in topologies/ into out/ (also regenerates the golden trees).
render: $(INSTALLED) $(COMPILED_TEMPLATES)
	$(BIN)/aksmesh render $(TOPOLOGIES)

## Fail when out/ is not what render would write.
check: $(INSTALLED)
	$(BIN)/aksmesh check $(TOPOLOGIES)

## Compile generator/templates/ into generator/compiled_templates.py (render does it too;
## test does not, so that a stale committed module fails the suite).
templates: $(COMPILED_TEMPLATES)

$(COMPILED_TEMPLATES): $(TEMPLATE_SOURCES) scripts/compile_templates.py | $(INSTALLED)
	$(BIN)/python scripts/compile_templates.py
	touch $@

## Run the test suite.
test: $(INSTALLED)
	$(BIN)/python -m pytest -q

## Time validate, plan, render and check on generated topologies.
bench: $(INSTALLED)
	$(BIN)/python scripts/bench.py

## Regenerate docs/diagnostics.md, docs/topology.md and the README's list of codes from their
## sources.
docs: $(INSTALLED)
	$(BIN)/python -m generator.docs

## Re-derive the shipped verification data from upstream files (REFERENCE=, KUBERNETES=,
## BICEP_TYPES_AZ=).
data: $(INSTALLED)
	$(if $(REFERENCE),,$(error make data needs REFERENCE=<folder of upstream files>, see generator/data/README.md))
	$(BIN)/python scripts/derive_data.py --reference $(REFERENCE) \
		$(if $(KUBERNETES),--kubernetes $(KUBERNETES)) \
		$(if $(BICEP_TYPES_AZ),--bicep-types-az $(BICEP_TYPES_AZ))

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
