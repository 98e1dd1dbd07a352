# gameday: see README.md. Every target works from a fresh clone with only Go.
GO        ?= go
TOOLS_DIR ?= $(or $(GAMEDAY_TOOLS_DIR),$(HOME)/.cache/gameday/bin)
export GAMEDAY_TOOLS_DIR := $(TOOLS_DIR)
BIN       := bin/gameday

.PHONY: all build tools kube-tools run test test-unit bench chaos-self fuzz dashboard rules clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/gameday

## tools: build the Temporal dev server and Prometheus from Go modules (cached in $(TOOLS_DIR))
tools:
	@scripts/tools.sh

## kube-tools: build a real Kubernetes control plane (apiserver, controller manager, scheduler, etcd, kwok) for the tests; ~17 min cold
kube-tools:
	@scripts/kube-tools.sh

## run: the whole local stack in the foreground, then one demo experiment (Ctrl-C stops it)
run: tools build
	$(BIN) dev

## test: every test, unit and integration (real Temporal dev server and Prometheus); integration
## tests mostly wait on holds and timers, so four run at once (the seed-shop ones alone)
test: tools kube-tools
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m -parallel 4 ./...

test-unit:
	$(GO) test -count=1 -short ./...

## bench: abort latency and the guard (breach/hang -> every fault removed; real servers), fast abort (signal bad -> fault gone, Prometheus
## and HTTP probe guards, toxiproxy and chaos-mesh), the Kubernetes back-ends (real control plane) and the Slack acknowledgement; each
## writes its section (bench/*.md), joined into bench/REPORT.md
bench: tools kube-tools
	GAMEDAY_BENCH_REPORT=$(CURDIR)/bench/abort-latency.md $(GO) test -count=1 -run '^$$' -bench AbortLatency -benchtime 1x -timeout 30m ./integration/
	GAMEDAY_BENCH_GUARD_REPORT=$(CURDIR)/bench/guard.md $(GO) test -count=1 -run '^$$' -bench GuardAbort -benchtime 1x -timeout 30m ./integration/
	GAMEDAY_BENCH_FAST_REPORT=$(CURDIR)/bench/fast-abort.md $(GO) test -count=1 -run '^$$' -bench FastAbort -benchtime 1x -timeout 30m ./integration/
	GAMEDAY_BENCH_KUBE_REPORT=$(CURDIR)/bench/kube.md $(GO) test -count=1 -run '^$$' -bench KubeFaults -benchtime 1x -timeout 30m ./integration/
	GAMEDAY_BENCH_SLACK_REPORT=$(CURDIR)/bench/slack-ack.md $(GO) test -count=1 -run '^$$' -bench SlashCommandAck -benchtime 300x ./slackbot/
	{ cat bench/abort-latency.md; echo; cat bench/guard.md; echo; cat bench/fast-abort.md; echo; cat bench/kube.md; echo; cat bench/slack-ack.md; } > bench/REPORT.md
	@cat bench/REPORT.md

## chaos-self: chaos on gameday itself: 20 runs SIGKILLing the worker at random phases, a Temporal
## restart mid-observe, the toxiproxy API down during recover; writes bench/chaos-self.md
## (GAMEDAY_CHAOS_SELF_SEED=<seed> replays a run's plan)
chaos-self: tools
	GAMEDAY_CHAOS_SELF_RUNS=$${GAMEDAY_CHAOS_SELF_RUNS:-20} GAMEDAY_CHAOS_SELF_REPORT=$(CURDIR)/bench/chaos-self.md \
		$(GO) test -count=1 -v -run '^TestChaosSelf$$' -timeout 90m ./integration/; \
		status=$$?; cat bench/chaos-self.md 2>/dev/null; exit $$status

## dashboard: regenerate deploy/grafana/gameday.json from its Go generator (a test keeps them equal)
dashboard:
	$(GO) generate ./deploy/grafana

## rules: check deploy/prometheus/rules.yml and run its unit tests with promtool (make test does too)
rules: tools
	cd deploy/prometheus && $(TOOLS_DIR)/promtool check rules rules.yml && $(TOOLS_DIR)/promtool test rules rules_test.yml

## fuzz: fuzz the scenario and game-day plan loaders for a minute each
fuzz:
	$(GO) test ./scenarios/ -run '^$$' -fuzz FuzzParse -fuzztime 60s
	$(GO) test ./plans/ -run '^$$' -fuzz FuzzParse -fuzztime 60s

clean:
	rm -rf bin .data
