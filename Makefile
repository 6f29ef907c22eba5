# Tally. The two commands you need: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CARGO_TERM_COLOR ?= never
# One target directory, one feature set for every build (custom-protocol embeds ui/dist in the app).
APP_FEATURES := --features tally/custom-protocol
HUB_ADDR ?= 127.0.0.1:8787
DEMO_DIR ?= $(HOME)/.local/share/tally-demo-hub
CLUSTER_ADDR ?= 127.0.0.1:8790
CLUSTER_DIR ?= $(HOME)/.local/share/tally-cluster

.PHONY: help deps deps-test ui run cluster hub test test-rust test-postgres test-console test-ui test-e2e test-protocol-example test-bundle test-supply-chain lint fmt bindings bundle bench bench-quick bench-cluster bench-flood bench-deps bench-client clean

help:
	@echo "make run    build everything, start a demo hub and open the app signed in as alice"
	@echo "make test   every test: formatting, clippy, Rust, UI (unit + Chromium), end to end"
	@echo "make cluster  PostgreSQL + Redis + three hubs behind HAProxy on $(CLUSTER_ADDR); make run CLUSTER=1 opens the app on it"
	@echo "make bundle build the .deb package"
	@echo "make bench  Tally vs Socket.IO benchmarks (rewrites docs/BENCHMARKS.md); make bench-quick: smoke run"
	@echo "make bench-cluster  one hub vs the cluster, side by side (its section of docs/BENCHMARKS.md); QUICK=1: smoke run"

deps:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

# ui/dist is rebuilt only when the UI's sources changed (a rewrite would make cargo rebuild the app).
UI_SOURCES := $(shell find ui/src ui/public -type f 2>/dev/null) ui/index.html ui/package.json ui/package-lock.json ui/vite.config.ts ui/vite.console.config.ts ui/console/index.html ui/svelte.config.js ui/tsconfig.json

ui: deps ui/dist/index.html ui/dist-console/index.html

ui/dist/index.html: $(UI_SOURCES)
	@cd ui && npm run --silent build

# The operators' console (npm run build makes both; this only when the console alone is missing).
ui/dist-console/index.html: $(UI_SOURCES)
	@cd ui && npx vite build -c vite.console.config.ts

# The same packages, features and targets as `make test` builds, so either command reuses the other's
# build (cargo unifies features per build: building two packages alone would compile a different tree).
run: ui
	cargo build --workspace --all-targets $(APP_FEATURES)
ifeq ($(CLUSTER),1)
	@scripts/cluster.sh "$(CLUSTER_ADDR)" "$(CLUSTER_DIR)" -- sh -c 'scripts/open-app.sh "$$TALLY_CLUSTER_URL"'
else
	@scripts/run-demo.sh "$(HUB_ADDR)" "$(DEMO_DIR)"
endif

# The distributed deployment on this machine: PostgreSQL, Redis, three hubs and HAProxy on CLUSTER_ADDR.
cluster:
	cargo build --workspace --all-targets $(APP_FEATURES)
	@scripts/cluster.sh "$(CLUSTER_ADDR)" "$(CLUSTER_DIR)"

hub:
	cargo run --bin tally-hub -- --demo --bind $(HUB_ADDR) --data-dir $(DEMO_DIR)

lint: ui
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets $(APP_FEATURES) -- -D warnings
	cd ui && npm run --silent check && npm run --silent lint

test: deps-test ui lint test-supply-chain test-ui test-rust test-console test-postgres test-protocol-example test-bundle
	@echo "make test: all suites passed"

test-ui:
	cd ui && npm run --silent test && npm run --silent test:browser

# Rust unit and integration tests (hub, client, protocol, app IPC), inside a desktop session so the
# keyring and notification tests talk to a real Secret Service and notification daemon.
test-rust:
	TALLY_REQUIRE_DESKTOP=1 scripts/desktop-session.sh cargo test --workspace $(APP_FEATURES) --no-fail-fast

# The hub's whole suite again on PostgreSQL (a throwaway server from scripts/with-postgres.sh, a fresh
# database per hub), the multi-hub tests (Redis, HAProxy, SIGKILL), and the client's chaos test on three
# hubs. The executables test-rust built are run again (scripts/run-built-tests.py): `cargo test -p` alone
# would compile the tree a second time with another feature set.
test-postgres:
	scripts/with-postgres.sh sh -c 'scripts/run-built-tests.py tally-hub && scripts/run-built-tests.py tally-client chaos'

# The operators' console in Chromium against a real hub (the tally-hub test-rust built).
test-console: ui
	cd ui && node tests/console.mjs

# Only the end-to-end test (it is also part of test-rust).
test-e2e: ui
	TALLY_REQUIRE_DESKTOP=1 scripts/desktop-session.sh cargo test --workspace $(APP_FEATURES) --test e2e

# Builds the .deb, installs it, starts the installed app under the desktop session and sees its window.
test-bundle: ui
	scripts/desktop-session.sh scripts/deb-test.sh

test-protocol-example:
	cargo build --workspace --all-targets $(APP_FEATURES)
	scripts/protocol-example.sh

# Licences, duplicate security-critical crates and sources of every crate (cargo deny, offline, deny.toml),
# and npm audit of the UI's production packages where the registry answers it.
test-supply-chain:
	scripts/supply-chain.sh

# Hub vs Socket.IO side by side (scenarios 1-7, about 15 minutes) and the client engine benches (8);
# rewrites the tally-bench section of docs/BENCHMARKS.md and its plots. Not part of `make test`.
bench: bench-deps
	target/release/tally-bench run
	$(MAKE) bench-client

# A smoke run of every scenario with small sizes (about a minute); writes target/bench-quick/.
bench-quick: bench-deps
	target/release/tally-bench run --quick

# One hub on SQLite beside the cluster (3 hubs, PostgreSQL, Redis, HAProxy from scripts/cluster.sh, in a
# throwaway directory), same load; rewrites the cluster section of docs/BENCHMARKS.md (QUICK=1: a smoke run
# into target/bench-quick/). About five minutes; not part of `make test`.
bench-cluster:
	cargo build --release -p tally-hub -p tally-bench
	TALLY_HUB_BIN=target/release/tally-hub TALLY_DEMO_BOT_MS=0 TALLY_CLUSTER_EPHEMERAL=1 \
	  TALLY_MAX_CONNS_PER_ADDRESS=0 TALLY_MAX_UNAUTHENTICATED_PER_ADDRESS=0 scripts/cluster.sh \
	  "127.0.0.1:$$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" \
	  "$$(mktemp -d)" -- target/release/tally-bench cluster $(if $(QUICK),--quick --out target/bench-quick/BENCHMARKS.md)

# A flood without credentials against one release hub (sign-ups to a closed tenant, sign-ins as nobody,
# admin calls without a token): its peak memory and password work; rewrites its section of
# docs/BENCHMARKS.md. About a minute; not part of `make test`.
bench-flood:
	cargo build --release -p tally-hub -p tally-bench
	target/release/tally-bench flood --out docs/BENCHMARKS.md

bench-deps:
	@cd bench/socketio && { [ -d node_modules/socket.io ] || npm ci --no-audit --no-fund; }
	cargo build --release -p tally-hub -p tally-bench

# Client engine benchmarks (criterion, release build); results are quoted in docs/BENCHMARKS.md.
bench-client:
	cargo bench -p tally-client --bench engine

fmt:
	cargo fmt --all

bindings:
	UPDATE_BINDINGS=1 cargo test -p tally-protocol -p tally-client --test bindings

bundle: ui
	ui/node_modules/.bin/tauri build --bundles deb

clean:
	cargo clean
	rm -rf ui/dist ui/dist-console ui/node_modules
