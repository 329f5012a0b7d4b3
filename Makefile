# The two README commands: `make synth` and `make test`. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
CDK := node_modules/.bin/cdk
# No AWS account is needed anywhere: tools that insist on a region get a dummy one.
export AWS_DEFAULT_REGION ?= us-east-1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1
export SAGEMAKER_SKIP_TELEMETRY := 1
# Let Python cache bytecode of what each run imports: installing compiles nothing (seconds instead of minutes),
# and the first import of aws-cdk-lib and the sagemaker SDK writes the cache once.
unexport PYTHONDONTWRITEBYTECODE
CDK_FLAGS := --no-notices --no-version-reporting --ci
CONTEXT ?=

.PHONY: synth test test-lowest lint bench lock images regions clean setup cost prices pipeline

setup: $(VENV)/.installed node_modules/.installed

# Reinstall only when a pin changed. uv (pinned) installs the pinned set in seconds.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-test.txt constraints.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(PY) -r requirements-dev.txt -c constraints.txt
	$(UV) pip install --quiet --python $(PY) --no-deps --no-build-isolation -e .
	$(PY) tools/precompile.py
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	rm -rf cdk.out
	$(CDK) synth $(CDK_FLAGS) --quiet $(CONTEXT)
	$(PY) tools/lint_templates.py cdk.out

# One worker per core (at most 4); a module's tests stay on one worker, which synthesizes once for all of them.
test: setup
	$(PY) -m pytest -n auto --maxprocesses 4 --dist loadfile

# The whole suite on the lowest releases pyproject.toml allows, in a venv of its own. Transitive
# dependencies resolve freely there: it checks the floors, not a reproducible set. (The image-table
# check is left out: the table is generated from the pinned SDK.)
LOWEST := .venv-lowest
$(LOWEST)/.installed: requirements-lowest.txt requirements-test.txt pyproject.toml $(VENV)/.installed
	test -x $(LOWEST)/bin/python || $(PYTHON) -m venv $(LOWEST)
	$(UV) pip install --quiet --python $(LOWEST)/bin/python -r requirements-lowest.txt -r requirements-test.txt
	$(UV) pip install --quiet --python $(LOWEST)/bin/python --no-deps --no-build-isolation -e .
	touch $@

test-lowest: $(LOWEST)/.installed
	$(LOWEST)/bin/python -m pytest -n auto --maxprocesses 4 --dist loadfile \
		--deselect tests/test_images.py::test_table_was_generated_from_the_installed_sdk

lint: setup
	$(PY) tools/lint_templates.py cdk.out

bench: setup
	$(PY) bench/synth.py
	$(PY) bench/drift_checker.py --repeat 5
	$(PY) bench/quality_checker.py --repeat 3

# Regenerate the region image table from the installed sagemaker SDK.
images: setup
	$(PY) tools/generate_images.py

# Regenerate the table of resource types each commercial region lacks from the installed cfn-lint.
regions: setup
	$(PY) tools/generate_regions.py

# Re-render the course pipeline of the reference configurations with the installed sagemaker SDK, so their
# synth imports no SDK (after changing the pipeline's code, the SDK pin or the default configuration).
pipeline: setup
	$(PY) tools/generate_pipeline.py

# The monthly cost estimate of the configured stages (all of them unless CONTEXT selects some), priced from a
# price book the library does not ship: make cost [CONTEXT="-c stage=prod"] [PRICES=prices.json] [REGION=eu-west-1]
PRICES ?= prices.json
cost: $(VENV)/.installed
	$(PY) tools/cost_report.py --prices $(PRICES) $(if $(REGION),--region $(REGION)) $(CONTEXT)

# Write or refresh one region of the price book from the AWS Price List API (needs AWS credentials allowed
# pricing:GetProducts; the only target that calls AWS): make prices REGION=eu-west-1 [PRICES=prices.json]
prices: $(VENV)/.installed
	$(PY) tools/fetch_prices.py --region $(or $(REGION),$(AWS_DEFAULT_REGION)) --output $(PRICES)

# Re-resolve every transitive pin from requirements-dev.txt in a throwaway venv.
lock:
	rm -rf /tmp/mlops-cdk-lock && $(PYTHON) -m venv /tmp/mlops-cdk-lock
	/tmp/mlops-cdk-lock/bin/pip install --quiet -r requirements-dev.txt
	{ echo "# Every installed package, pinned: pip freeze of a clean install of requirements-dev.txt."; \
	  echo "# Regenerate with: make lock"; /tmp/mlops-cdk-lock/bin/pip freeze; } > constraints.txt
	$(MAKE) setup && $(PY) tools/precompile.py --write

clean:
	rm -rf cdk.out .pytest_cache
