# tiershift — build, local stack, tests.
#
#   make build      go build ./... and bin/worker, bin/starter
#   make tools      bin/temporal (Temporal CLI + dev server), bin/staticcheck,
#                   bin/errcheck, bin/workflowcheck
#   make up         PostgreSQL + Temporal dev server (reused if running) + migrations
#   make worker     start bin/worker in the background (.dev/worker.log, .dev/worker.pid)
#   make demo       up + worker + codec server + import/launch the rehearsal campaign + watch it
#   make codec-server  start `starter codec-server` (the Web UI decodes payloads through it)
#   make ui-check   headless Chromium screenshots of a workflow in the Web UI with and
#                   without the codec server (.dev/ui-check/; also part of make test)
#   make down       stop the worker, Temporal and PostgreSQL (only what we started)
#   make test       tools + services + lint + go test (what CI runs via .ci/run);
#                   stops the services it started, never ones it found running
#   make lint       gofmt, go vet, staticcheck, errcheck, workflowcheck
#   make histories  re-record workflows/testdata histories against the dev server
#   make bench      scripts/bench.sh
#   make bench-go   in-process Go benchmarks, compared with the previous run by benchstat
#   make cluster    a production-shaped Temporal (4 services, PostgreSQL, UI) on ports 7240-7248 (scripts/cluster.sh)
#   make cluster-down  stop it
#   make test-cluster  the end-to-end test on that cluster with two workers, one SIGKILLed
#   make clean      remove built binaries (bin/worker, bin/starter) and test cache
#   make distclean  down + remove bin/ (tools too) and .dev/
#
# The demo's worker and `make test` share one Temporal server. Tests never poll
# the demo's task queues: they take their own names from
# internal/temporaltest.TaskQueue(t), and `make test` also points
# TIERSHIFT_TASK_QUEUE at a per-run name (the email queue follows it), so
# `make demo` then `make test` (or the reverse) do not steal each other's tasks.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
MAKEFLAGS += --no-print-directory

GO ?= go
BIN := $(CURDIR)/bin
STATICCHECK_VERSION := v0.8.2
ERRCHECK_VERSION := v1.30.0
WORKFLOWCHECK_VERSION := v0.6.0
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da
BENCH_GO_PACKAGES ?= ./program/ ./partnerfile/ ./email/ ./starter/
BENCH_GO_COUNT ?= 10
# The Go release go.mod asks for, e.g. 1.26.
GO_MIN := $(shell sed -n 's/^go \([0-9]*\.[0-9]*\).*/\1/p' go.mod)

# make cluster's frontend (scripts/cluster.sh CLUSTER_HOST:CLUSTER_PORT_BASE).
CLUSTER_ADDRESS ?= 127.0.0.1:7240

# Local stack defaults (the same as config's defaults).
LOCAL_DATABASE_URL := postgres://tiershift:tiershift@localhost:5432/tiershift?sslmode=disable
export TEMPORAL_ADDRESS ?= localhost:7233
TEMPORAL_UI := http://localhost:8233

# Payload encryption (README "Personal data"): every process of the local
# stack, and make test, encrypts with this checkout's key, which
# scripts/stack.sh makes once in .dev/ and never prints. A key given in
# TIERSHIFT_CODEC_KEYS or TIERSHIFT_CODEC_KEY_FILE is used instead.
ifeq ($(origin TIERSHIFT_CODEC_KEYS),undefined)
export TIERSHIFT_CODEC_KEY_FILE ?= $(CURDIR)/.dev/codec.keys
endif

# -race needs cgo and a C compiler; without them the tests still run, unraced.
# `make test RACE=` drops it (about halves the test time).
RACE ?= $(shell [ "$$($(GO) env CGO_ENABLED 2>/dev/null)" = 1 ] && command -v gcc >/dev/null 2>&1 && echo -race)
# e2e runs alone, after every other package: it drives two binaries and a
# PostgreSQL cluster of its own (whose outage it injects) for minutes.
TEST_PACKAGES ?= $(shell $(GO) list ./... 2>/dev/null | grep -v '/e2e$$')
E2E_PACKAGES ?= ./e2e/
GO_TEST_FLAGS ?= $(RACE) -count=1 -timeout 30m -p 2

# A campaign ID unique per run, so `make demo` can be repeated.
CAMPAIGN := $(or $(CAMPAIGN),rehearsal-$(shell date +%Y%m%d-%H%M%S))
PROGRAM ?= examples/rehearsal/program.yaml
PARTNERS ?= examples/rehearsal/partners.csv

GOFILES = $(shell find . -path ./.git -prune -o -path ./bin -prune -o -path ./.dev -prune -o -name '*.go' -print)

.PHONY: cluster cluster-down cluster-build test-cluster build tools up down worker demo test lint histories bench bench-go clean distclean check-go services status demo-files codec-server secrets chromium ui-check

check-go:
	@command -v $(GO) >/dev/null 2>&1 || { echo "Go is not installed (need go$(GO_MIN) or newer): https://go.dev/dl/" >&2; exit 1; }
	@v=$$($(GO) env GOVERSION 2>/dev/null | sed -n 's/^go\([0-9]*\.[0-9]*\).*/\1/p'); \
	if [ -z "$$v" ] || [ "$$(printf '%s\n%s\n' "$(GO_MIN)" "$$v" | sort -V | head -n1)" != "$(GO_MIN)" ]; then \
		echo "Go $(GO_MIN) or newer is required; found: $$($(GO) version 2>/dev/null || echo none) — install it from https://go.dev/dl/" >&2; exit 1; \
	fi

build: check-go
	$(GO) build ./...
	$(GO) build -o bin/worker ./worker
	$(GO) build -o bin/starter ./starter

tools: check-go bin/temporal bin/staticcheck bin/errcheck bin/workflowcheck

# Temporal CLI v1.5.1 (pinned in scripts/temporal.sh). Not in go.mod: the
# CLI's module graph conflicts with the SDK tiershift uses.
bin/temporal:
	scripts/temporal.sh build

bin/benchstat:
	GOBIN=$(BIN) $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)

bin/staticcheck:
	@echo "building staticcheck $(STATICCHECK_VERSION) into bin/ (one-time, about a minute)..."
	@start=$$SECONDS; GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	echo "built bin/staticcheck in $$((SECONDS - start))s"

# Unchecked errors, with the vetted exceptions (and why) in errcheck-exclude.txt.
bin/errcheck:
	GOBIN=$(BIN) $(GO) install github.com/kisielk/errcheck@$(ERRCHECK_VERSION)

# Temporal's determinism checker for workflow code, with the vetted
# exceptions (and why) in workflowcheck.yaml.
bin/workflowcheck:
	GOBIN=$(BIN) $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

# PostgreSQL and the Temporal dev server, each reused if already running.
# Under CI the dev server keeps its state in memory (faster, nothing to keep).
services: check-go bin/temporal
	@if [ "$${CI:-}" = true ] && [ -z "$${TEMPORAL_DB_FILE+set}" ]; then export TEMPORAL_DB_FILE=; fi; \
	scripts/stack.sh services

up: build bin/temporal
	scripts/stack.sh up
	@echo "Temporal Web UI: $(TEMPORAL_UI)"

worker: up
	scripts/stack.sh worker

codec-server: build secrets
	scripts/stack.sh codec-server

secrets:
	@scripts/stack.sh secrets

# Debian's chromium, for the Web UI check (CI machines start without it).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (Debian package) for the Web UI check..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# Screenshots of one workflow's input and result in the Web UI of a dev
# server of the test's own, with and without the codec server, into
# .dev/ui-check/; fails if the decoded values show without the codec server
# or are missing with it. make test runs the same test.
ui-check: check-go bin/temporal chromium
	@mkdir -p .dev/ui-check
	TIERSHIFT_REQUIRE_SERVICES=1 TIERSHIFT_UI_SCREENSHOTS=$(CURDIR)/.dev/ui-check \
		$(GO) test -count=1 -run TestWebUI -v ./codec/webuicheck/

status:
	@scripts/stack.sh status

down:
	scripts/stack.sh down

# make demo [CAMPAIGN=rehearsal-x]: mail is captured, not sent (SENDGRID_API_KEY
# is dropped for the worker unless DEMO_SEND_EMAIL=1).
demo: demo-files worker codec-server
	@echo "== campaign $(CAMPAIGN)"
	bin/starter import --campaign $(CAMPAIGN) $(PARTNERS) --program $(PROGRAM)
	bin/starter launch --campaign $(CAMPAIGN) --program $(PROGRAM)
	@echo "Temporal Web UI: $(TEMPORAL_UI)/namespaces/default/workflows?query=CampaignId%3D%22$(CAMPAIGN)%22"
	@echo "  (payloads decoded by the codec server; a dev server that was already running before make up"
	@echo "   shows ciphertext: set its Codec Server in the Web UI to http://<codec address>/<.dev/codec.token>)"
	bin/starter status --campaign $(CAMPAIGN) --watch
	@echo "The stack is still running (worker log: .dev/worker.log); stop it with: make down"

demo-files:
	@test -f $(PARTNERS) && test -f $(PROGRAM) || { echo "demo: $(PARTNERS) or $(PROGRAM) is missing" >&2; exit 1; }

# Every check runs, so one report shows every problem; any failure fails lint
# (and so make test and CI).
lint: check-go bin/staticcheck bin/errcheck bin/workflowcheck
	@fail=0; \
	out=$$(gofmt -l $(GOFILES)); \
	if [ -n "$$out" ]; then echo "gofmt: these files are not formatted (run gofmt -w on them):"; echo "$$out"; fail=1; fi; \
	echo "$(GO) vet ./..."; $(GO) vet ./... || fail=1; \
	echo "staticcheck ./..."; $(BIN)/staticcheck ./... || fail=1; \
	echo "errcheck ./..."; $(BIN)/errcheck -exclude errcheck-exclude.txt ./... || fail=1; \
	echo "workflowcheck ./..."; $(BIN)/workflowcheck -config workflowcheck.yaml ./... || fail=1; \
	if [ $$fail = 0 ]; then echo "lint: ok"; else echo "lint: FAILED" >&2; fi; \
	exit $$fail

# Services are required (tests fail, not skip, without them); mail is never
# sent; TIERSHIFT_TASK_QUEUE is per run so a demo worker on the same server is
# not disturbed (TIERSHIFT_EMAIL_TASK_QUEUE is left unset: config derives
# "<queue>-email" from it). Lint runs first; the tests run even when it fails,
# and the target fails if either did. Whatever services this run started
# (none if they were already up) are stopped when it ends, pass or fail.
test: check-go tools chromium
	@mkdir -p .dev; started=$(CURDIR)/.dev/test-started.$$$$; : >"$$started"; \
	trap "scripts/stack.sh stop-started $$started" EXIT; trap 'exit 130' INT TERM; \
	TIERSHIFT_STARTED_LOG="$$started" $(MAKE) services; \
	lint=0; $(MAKE) lint || lint=$$?; \
	start=$$SECONDS; \
	unset TIERSHIFT_EMAIL_TASK_QUEUE; \
	export TIERSHIFT_REQUIRE_SERVICES=1 \
		DATABASE_URL="$${DATABASE_URL:-$(LOCAL_DATABASE_URL)}" \
		TEMPORAL_ADDRESS="$(TEMPORAL_ADDRESS)" \
		TIERSHIFT_TASK_QUEUE="tiershift-test-$$$$" \
		SENDGRID_API_KEY= ; \
	echo "$(GO) test $(GO_TEST_FLAGS) $(TEST_PACKAGES)   (TEMPORAL_ADDRESS=$$TEMPORAL_ADDRESS; output also in .dev/test.log)"; \
	status=0; $(GO) test $(GO_TEST_FLAGS) $(TEST_PACKAGES) 2>&1 | tee .dev/test.log || status=$$?; \
	if [ -n "$(E2E_PACKAGES)" ]; then \
		echo "$(GO) test -count=1 -timeout 20m -v $(E2E_PACKAGES)   (alone, after the others)"; \
		$(GO) test -count=1 -timeout 20m -v $(E2E_PACKAGES) 2>&1 | tee -a .dev/test.log || status=$$?; \
	fi; \
	echo "make test: go test $$( [ $$status = 0 ] && echo passed || echo FAILED ) in $$((SECONDS - start))s; lint $$( [ $$lint = 0 ] && echo passed || echo FAILED )"; \
	[ $$status = 0 ] && [ $$lint = 0 ]

# Records fresh workflow histories (replay-test fixtures) from the dev server.
histories: up
	$(GO) run ./tools/recordhistories -out workflows/testdata

bench: build up
	scripts/bench.sh

# make bench-go before a change, then again after it: the second run is
# compared with the first (.dev/bench-go.old.txt -> .dev/bench-go.txt).
# Needs no services.
bench-go: check-go bin/benchstat
	@mkdir -p .dev; [ ! -f .dev/bench-go.txt ] || mv .dev/bench-go.txt .dev/bench-go.old.txt
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_GO_COUNT) $(BENCH_GO_PACKAGES) | tee .dev/bench-go.txt
	@if [ -f .dev/bench-go.old.txt ]; then $(BIN)/benchstat .dev/bench-go.old.txt .dev/bench-go.txt; \
	else $(BIN)/benchstat .dev/bench-go.txt; fi

clean:
	rm -f bin/worker bin/starter .dev/test.log
	$(GO) clean -testcache

distclean: down
	rm -rf bin .dev

# A production-shaped Temporal cluster (scripts/cluster.sh): the server, its
# SQL tool and the UI server are built into bin/ once (about 10 CPU-minutes,
# with a progress line every 30 s), then `make cluster` starts frontend,
# history, matching and worker as four processes on PostgreSQL databases of
# their own. Point tiershift at it with TEMPORAL_ADDRESS=127.0.0.1:7240.
cluster-build: check-go bin/temporal
	scripts/cluster.sh build

cluster: cluster-build
	scripts/cluster.sh up

cluster-down:
	scripts/cluster.sh down

# The end-to-end test against the cluster (reused if up, else started and
# stopped again) with mTLS (CLUSTER_TLS=1: certificates made for the run,
# presented by the worker, the starter and the test through envconfig's
# TEMPORAL_TLS_* variables), with two worker processes: one is SIGKILLed
# during the launch and for good at the deadline wave; the other finishes
# every partner.
test-cluster: check-go tools cluster-build
	@mkdir -p .dev; started=$(CURDIR)/.dev/test-cluster-started.$$$$; : >"$$started"; \
	trap "scripts/stack.sh stop-started $$started" EXIT; trap 'exit 130' INT TERM; \
	TIERSHIFT_STARTED_LOG="$$started" scripts/postgres.sh up; \
	CLUSTER_TLS=1 TIERSHIFT_STARTED_LOG="$$started" scripts/cluster.sh up; \
	scripts/stack.sh secrets; \
	unset TIERSHIFT_EMAIL_TASK_QUEUE; \
	tls=$(CURDIR)/.dev/cluster/tls; \
	export TEMPORAL_TLS_SERVER_CA_CERT_PATH=$$tls/ca.pem TEMPORAL_TLS_CLIENT_CERT_PATH=$$tls/client.pem \
		TEMPORAL_TLS_CLIENT_KEY_PATH=$$tls/client-key.pem; \
	export TIERSHIFT_REQUIRE_SERVICES=1 TEMPORAL_ADDRESS=$(CLUSTER_ADDRESS) TIERSHIFT_E2E_WORKERS=2 \
		TIERSHIFT_TASK_QUEUE="tiershift-test-$$$$" SENDGRID_API_KEY= ; \
	echo "$(GO) test -count=1 -timeout 20m -v $(E2E_PACKAGES)   (TEMPORAL_ADDRESS=$$TEMPORAL_ADDRESS, two workers)"; \
	$(GO) test -count=1 -timeout 20m -v $(E2E_PACKAGES)
