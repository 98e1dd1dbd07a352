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
mkdir -p "$TOOLS_DIR"

build() { # name module version approx
  local name=$1 module=$2 version=$3 approx=$4
  local bin="$TOOLS_DIR/$name" stamp="$TOOLS_DIR/$name.version"
  if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    echo "tools: $name $version present at $bin"
    return
  fi
  echo "tools: building $name $version from $module (about $approx on 2 cores the first time)..."
  local start=$SECONDS
  # Print a heartbeat so a long cold build never looks hung.
  ( while sleep 30; do echo "tools:   still building $name ($((SECONDS - start))s)"; done ) &
  local ticker=$!
  trap 'kill $ticker 2>/dev/null || true' RETURN
  GOBIN="$TOOLS_DIR" GOFLAGS=-mod=mod go install "$module@$version"
  echo "$version" > "$stamp"
  echo "tools: built $name in $((SECONDS - start))s"
}

build temporal github.com/temporalio/cli/cmd/temporal "$TEMPORAL_VERSION" "6 minutes"
build prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION" "10 minutes"
