#!/usr/bin/env bash
# Builds the real servers the local stack and the integration tests use,
# from Go modules, into a tools folder outside the clone (default
# ~/.cache/gameday/bin, override with GAMEDAY_TOOLS_DIR), so a fresh clone on
# the same machine reuses them. A binary is rebuilt only when it is missing or
# was built at another version (a .version stamp sits beside it).
set -euo pipefail

TOOLS_DIR="${GAMEDAY_TOOLS_DIR:-$HOME/.cache/gameday/bin}"
TEMPORAL_VERSION="${TEMPORAL_VERSION:-v1.5.1}"
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
# Jaeger is pinned by tools/jaeger/go.mod (its module has a replace
# directive, so `go install module@version` refuses it): keep them equal.
JAEGER_VERSION=v1.76.0
mkdir -p "$TOOLS_DIR"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

# stamped NAME VERSION APPROX CMD...: runs CMD (which writes $TOOLS_DIR/NAME)
# unless NAME is already there at VERSION, then stamps it.
stamped() {
  local name=$1 version=$2 approx=$3
  shift 3
  local bin="$TOOLS_DIR/$name" stamp="$TOOLS_DIR/$name.version"
  if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    echo "tools: $name $version present at $bin"
    return
  fi
  echo "tools: building $name $version (about $approx on 2 cores the first time)..."
  local start=$SECONDS
  # Print a heartbeat so a long cold build never looks hung.
  ( while sleep 30; do echo "tools:   still building $name ($((SECONDS - start))s)"; done ) &
  local ticker=$!
  trap 'kill $ticker 2>/dev/null || true' RETURN
  "$@"
  echo "$version" > "$stamp"
  echo "tools: built $name in $((SECONDS - start))s"
}

build() { # name module version approx
  stamped "$1" "$3" "$4" env GOBIN="$TOOLS_DIR" GOFLAGS=-mod=mod go install "$2@$3"
}

# build_in builds a binary pinned by a module of tools/ (go build in that
# module: go install module@version refuses a module with replace
# directives).
build_in() { # name dir package version approx
  stamped "$1" "$4" "$5" go_build_in "$2" "$3" "$TOOLS_DIR/$1"
}

go_build_in() { # dir package out
  (cd "$ROOT/$1" && go build -trimpath -ldflags "-s -w" -o "$3.tmp" "$2") && mv "$3.tmp" "$3"
}

build temporal github.com/temporalio/cli/cmd/temporal "$TEMPORAL_VERSION" "6 minutes"
build prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION" "10 minutes"
# promtool of the same Prometheus module: checks and unit-tests
# deploy/prometheus/rules.yml in make test (a few minutes after prometheus).
build promtool github.com/prometheus/prometheus/cmd/promtool "$PROMETHEUS_VERSION" "4 minutes"
# Jaeger (v2, OpenTelemetry Collector based; traces kept in memory): the
# tracing integration test and gameday dev's trace view.
build_in jaeger tools/jaeger github.com/jaegertracing/jaeger/cmd/jaeger "$JAEGER_VERSION" "16 CPU-minutes: ~10 minutes idle, measured 1h49m on a shared, loaded machine"
