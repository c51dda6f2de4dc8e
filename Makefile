# Atrium — the two commands first: `make run` starts the platform, `make test` runs every test.
# Everything else is a thin wrapper over cargo; see `make help`.

CARGO ?= cargo
# The subgraphs and their `make run` ports, from the one list (services/subgraphs.list).
SUBGRAPHS := $(shell awk '$$1 !~ /^\#/ && NF {print $$1 ":" $$2}' services/subgraphs.list)
SERVICES := $(foreach s,$(SUBGRAPHS),$(word 1,$(subst :, ,$(s))))
# Where cargo puts binaries (CARGO_TARGET_DIR moves them).
BIN := $(or $(CARGO_TARGET_DIR),target)/debug
TENANT ?= ridgeline
ROLE ?= csm
CLIENT ?= dashboard
PQ_TENANT ?= platform
MANIFEST ?= schema/persisted/bi-reports.json
# Test parallelism: each system test starts six servers, two cores share them.
TEST_THREADS ?= 2

.PHONY: pq-publish help run token test test-rust lint fmt schema clean-data audit-federation audit-http bench bench-platform bench-events

help: ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: ## Build and start gateway + five services on SQLite (Ctrl-C stops everything)
	$(CARGO) build --bins
	./deploy/run-local.sh

token: ## Print a dev bearer token: make token TENANT=ridgeline ROLE=csm [CLIENT=dashboard]
	@$(CARGO) run -q -p atrium-gateway -- token --tenant $(TENANT) --role $(ROLE) --client $(CLIENT)

test: lint test-rust ## Lint, then every test (PostgreSQL tests run when it is reachable; required when CI=true)

test-rust: ## Every Rust test of the workspace
	@if command -v cargo-nextest >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --test-threads $(TEST_THREADS) --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast -- --test-threads $(TEST_THREADS); \
	fi

lint: ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the workspace
	$(CARGO) fmt --all

schema: ## Export each subgraph's SDL to schema/, compose schema/supergraph.graphql and print the client API schema/api.graphql and schema/admin.graphql
	$(CARGO) build -q $(foreach s,$(SERVICES),-p atrium-$(s)) -p atrium-gateway
	@for s in $(SERVICES); do $(BIN)/atrium-$$s print-schema > schema/$$s.graphql; echo "wrote schema/$$s.graphql"; done
	$(BIN)/atrium-gateway compose \
		$(foreach s,$(SUBGRAPHS),--subgraph $(word 1,$(subst :, ,$(s)))=http://127.0.0.1:$(word 2,$(subst :, ,$(s)))/graphql=schema/$(word 1,$(subst :, ,$(s))).graphql) \
		--output schema/supergraph.graphql
	$(BIN)/atrium-gateway api-schema --supergraph schema/supergraph.graphql --output schema/api.graphql
	$(BIN)/atrium-gateway admin-schema --output schema/admin.graphql

clean-data: ## Delete the local SQLite data and dev signing key under .atrium/
	rm -rf .atrium

pq-publish: ## Publish a manifest: make pq-publish CLIENT=bi [PQ_TENANT=platform|<slug>] MANIFEST=schema/persisted/bi-reports.json
	$(CARGO) run -q -p atrium-gateway -- pq publish --client $(CLIENT) --tenant $(PQ_TENANT) $(MANIFEST)

audit-http: ## GraphQL-over-HTTP audit (graphql-http, needs node + npm) against the gateway and a subgraph
	$(CARGO) test -p atrium-system-tests --test system graphql_over_http -- --nocapture

audit-federation: ## Federation audit against the gateway: make audit-federation AUDIT_DIR=… [PUNISH=1] [SUITE=…]
	./tests/federation-audit/run.sh

bench: ## Load benchmark (release build, wrk, pinned cores); results in target/bench/results.md
	./bench/run.sh

bench-platform: ## Response cache off/on on the real platform (five services, SQLite); target/bench-platform/results.md
	./bench/platform.sh

bench-events: ## Domain event delivery: events/s and p50/p99 latency (PostgreSQL+Redis, SQLite+HTTP); target/bench-events/results.md
	./bench/events.sh
