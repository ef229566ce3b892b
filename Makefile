# The two commands a fresh clone needs: `make run` and `make test`. The rest deploy to AWS.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STATE_DIR ?= .local
FRESH ?=
STAGE ?= dev
TABLE_STACK := openindex-auth-$(STAGE)-table
LIMITS_STACK := openindex-auth-$(STAGE)-client-limits
AUTHORIZER_STACK := openindex-auth-$(STAGE)-authorizer
# The Lambda functions run Python 3.13, and `chalice package`/`deploy` target the Python that
# runs them: so they run from .venv-lambda, built with a 3.13 interpreter (see docs/deploy.md).
LAMBDA_PYTHON ?= $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
	$$p -c '' 2>/dev/null && echo $$p && break; done)
LAMBDA_VENV := .venv-lambda

# Test processes (pytest-xdist): auto is one per CPU; PYTEST_WORKERS=0 runs the tests in this process
PYTEST_WORKERS ?= auto

.PHONY: run expiry-notices test test-fast fuzz load bench deploy package package-example bootstrap index-expiring destroy clean

# chalice packages the Lambda functions with pip and supports pip below 26.3 only.
PIP := pip<26.3

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade '$(PIP)'
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-deploy: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -e '.[dev,deploy]'
	touch $@

$(LAMBDA_VENV)/.installed: pyproject.toml
	@test -n "$(LAMBDA_PYTHON)" || { echo "A Python 3.13 interpreter is needed to package the Lambda functions \
	(python3.13 on PATH, or pyenv install 3.13); or give it: make $(MAKECMDGOALS) LAMBDA_PYTHON=/path/to/python3.13" >&2; exit 2; }
	$(LAMBDA_PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/pip install --quiet --upgrade '$(PIP)'
	$(LAMBDA_VENV)/bin/pip install --quiet -e .
	touch $@

## run: the service on http://127.0.0.1:$(PORT) against an embedded DynamoDB (moto), admin token printed;
## users and tokens are kept in $(STATE_DIR)/ across restarts (FRESH=1: start from scratch)
run: $(VENV)/.installed
	exec $(VENV)/bin/openindex-local --port $(PORT) --state-dir $(or $(STATE_DIR),.local) $(if $(filter 1,$(FRESH)),--fresh)

## expiry-notices: run the daily expiry notices now, against the running make run (events: $(STATE_DIR)/events.jsonl)
expiry-notices: $(VENV)/.installed
	$(VENV)/bin/openindex-expiry-notices --state-dir $(or $(STATE_DIR),.local)

## test: lint (ruff), types (mypy), the layers (import-linter) and the whole test suite (moto-backed, no network, no AWS account)
test: $(VENV)/.installed $(LAMBDA_VENV)/.installed node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict examples/work_items/app.py
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS)

# Spectral, which tests/test_contract.py runs on openapi.yaml (its rules: .spectral.yaml), from the
# npm registry at the locked versions.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## test-fast: lint, types, layers and every test but the slow and end-to-end ones (about a minute on 2 cores)
test-fast: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict examples/work_items/app.py
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m "not slow and not e2e"

## deploy: the table stack (aws cloudformation deploy), then `chalice deploy`, then the REQUEST authorizer,
## the Gateway Responses and throttling, then the per-client limits (a WAF WebACL on the API's stage, a
## stack of its own), then the authorizer's export and invoke permission for other APIs (a stack of its own)
deploy: $(VENV)/.installed-deploy $(LAMBDA_VENV)/.installed
	$(VENV)/bin/aws cloudformation deploy --stack-name $(TABLE_STACK) --template-file infra/table.yaml \
		--parameter-overrides Stage=$(STAGE) --no-fail-on-empty-changeset
	$(PY) -m openindex_ops.deploy set-table-name --stage $(STAGE) --table "$$($(VENV)/bin/aws cloudformation \
		describe-stacks --stack-name $(TABLE_STACK) --output text \
		--query "Stacks[0].Outputs[?OutputKey=='TableName'].OutputValue")"
	$(LAMBDA_VENV)/bin/chalice deploy --stage $(STAGE)
	$(PY) -m openindex_ops.deploy finish-api --stage $(STAGE)
	mkdir -p build
	$(PY) -m openindex_ops.deploy client-limits-template --stage $(STAGE) > build/client-limits-$(STAGE).json
	$(VENV)/bin/aws cloudformation deploy --stack-name $(LIMITS_STACK) --template-file build/client-limits-$(STAGE).json \
		--parameter-overrides $$($(PY) -m openindex_ops.deploy api-stage --stage $(STAGE)) --no-fail-on-empty-changeset
	$(PY) -m openindex_ops.deploy authorizer-template --stage $(STAGE) > build/authorizer-$(STAGE).json
	$(VENV)/bin/aws cloudformation deploy --stack-name $(AUTHORIZER_STACK) --template-file build/authorizer-$(STAGE).json \
		--parameter-overrides $$($(PY) -m openindex_ops.deploy authorizer-arn --stage $(STAGE)) --no-fail-on-empty-changeset

## package: one SAM/CloudFormation stack (table, functions, authorizer and its export, IAM) in build/package-$(STAGE)
package: $(VENV)/.installed $(LAMBDA_VENV)/.installed
	mkdir -p build
	$(PY) -m openindex_ops.deploy merge-template --stage $(STAGE) > build/merge-$(STAGE).json
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(LAMBDA_VENV)/bin/chalice package --stage $(STAGE) \
		--merge-template build/merge-$(STAGE).json build/package-$(STAGE)
	$(LAMBDA_VENV)/bin/python -m openindex_ops.bytecode build/package-$(STAGE)/deployment.zip

## package-example: the example service (examples/work_items/) as its own stack, attaching this stage's
## exported authorizer, in build/example-$(STAGE) (deploy it after this service's stack of the same stage)
package-example: $(VENV)/.installed $(LAMBDA_VENV)/.installed
	mkdir -p build
	$(PY) -m openindex_ops.deploy example-merge-template --stage $(STAGE) > build/example-merge-$(STAGE).json
	cd examples/work_items && AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(CURDIR)/$(LAMBDA_VENV)/bin/chalice \
		package --stage $(STAGE) --merge-template $(CURDIR)/build/example-merge-$(STAGE).json $(CURDIR)/build/example-$(STAGE)

## bootstrap: the first admin of a deployed stage: EMAIL=… prints their invite (PAT=1: an admin PAT)
bootstrap: $(VENV)/.installed
	@test -n "$(EMAIL)" || { echo "usage: make bootstrap STAGE=$(STAGE) EMAIL=you@example.com [PAT=1]" >&2; exit 2; }
	$(VENV)/bin/openindex-bootstrap --email "$(EMAIL)" \
		--table "$$($(PY) -m openindex_ops.deploy stage-env --stage $(STAGE) TABLE_NAME)" \
		--app-url "$$($(PY) -m openindex_ops.deploy stage-env --stage $(STAGE) APP_URL)" $(if $(PAT),,--invite)

## index-expiring: put a deployed stage's PATs stored before expiry notices into the expiry index (once, after deploying them)
index-expiring: $(VENV)/.installed
	$(PY) -m openindex_ops.expiry_index --table "$$($(PY) -m openindex_ops.deploy stage-env --stage $(STAGE) TABLE_NAME)"

## destroy: delete the authorizer's export, the per-client limits, the API and functions, then the table stack (the table itself is
## retained: see README)
destroy: $(VENV)/.installed-deploy $(LAMBDA_VENV)/.installed
	$(VENV)/bin/aws cloudformation delete-stack --stack-name $(AUTHORIZER_STACK)
	$(VENV)/bin/aws cloudformation wait stack-delete-complete --stack-name $(AUTHORIZER_STACK)
	$(VENV)/bin/aws cloudformation delete-stack --stack-name $(LIMITS_STACK)
	$(VENV)/bin/aws cloudformation wait stack-delete-complete --stack-name $(LIMITS_STACK)
	$(LAMBDA_VENV)/bin/chalice delete --stage $(STAGE)
	$(VENV)/bin/aws cloudformation delete-stack --stack-name $(TABLE_STACK)

clean:
	rm -rf $(VENV) $(LAMBDA_VENV) .pytest_cache build node_modules

## fuzz: Schemathesis against the live local stack, many examples per operation (make test runs a few)
fuzz: $(VENV)/.installed
	$(PY) -m openindex_ops.fuzz --max-examples $${EXAMPLES:-200}

## load: N concurrent clients for a fixed time against the local stack (CLIENTS=8 SECONDS=20)
load: $(VENV)/.installed
	$(PY) -m openindex_ops.load --clients $${CLIENTS:-8} --seconds $${SECONDS:-20}

## bench: the authorizer's cost as ratios against the floor; a table, and JSON in bench/results/
bench: $(VENV)/.installed
	$(PY) -m openindex_ops.bench
