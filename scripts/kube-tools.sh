#!/usr/bin/env bash
# Builds the real Kubernetes control plane the kubernetes integration tests
# start: kube-apiserver, kube-controller-manager, kube-scheduler (v1.37.2),
# etcd 3.6 and kwok (fake nodes that run pods). Everything is built from Go
# modules (tools/kube and tools/etcd pin the versions) into the same tools
# folder as scripts/tools.sh, outside the clone, so CI's fresh clone on this
# machine reuses them. About 17 minutes and 6 GB of disk the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_DIR="${GAMEDAY_TOOLS_DIR:-$HOME/.cache/gameday/bin}"
KUBE_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
mkdir -p "$TOOLS_DIR"
ROOT=$PWD

present() { # name version
  [[ -x "$TOOLS_DIR/$1" && -f "$TOOLS_DIR/$1.version" && "$(cat "$TOOLS_DIR/$1.version")" == "$2" ]]
}

with_ticker() { # name cmd...
  local name=$1; shift
  local start=$SECONDS
  # A heartbeat so a long cold build never looks hung.
  ( while sleep 30; do echo "kube-tools:   still building $name ($((SECONDS - start))s)"; done ) &
  local ticker=$!
  if ! "$@"; then kill $ticker 2>/dev/null || true; return 1; fi
  kill $ticker 2>/dev/null || true
  echo "kube-tools: built $name in $((SECONDS - start))s"
}

kube_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
for name in kube-apiserver kube-controller-manager kube-scheduler; do
  if present "$name" "$KUBE_VERSION"; then
    echo "kube-tools: $name $KUBE_VERSION present"
    continue
  fi
  echo "kube-tools: building $name $KUBE_VERSION (apiserver ~10 min cold, the others ~3 min after it)..."
  (cd "$ROOT/tools/kube" && with_ticker "$name" go build -ldflags "$kube_ldflags" -o "$TOOLS_DIR/$name" "k8s.io/kubernetes/cmd/$name")
  echo "$KUBE_VERSION" > "$TOOLS_DIR/$name.version"
done

if present etcd "$ETCD_VERSION"; then
  echo "kube-tools: etcd $ETCD_VERSION present"
else
  echo "kube-tools: building etcd $ETCD_VERSION (~1 min cold)..."
  (cd "$ROOT/tools/etcd" && with_ticker etcd go build -o "$TOOLS_DIR/etcd" go.etcd.io/etcd/server/v3)
  echo "$ETCD_VERSION" > "$TOOLS_DIR/etcd.version"
fi

if present kwok "$KWOK_VERSION"; then
  echo "kube-tools: kwok $KWOK_VERSION present"
else
  echo "kube-tools: building kwok $KWOK_VERSION (~3 min cold)..."
  with_ticker kwok env GOBIN="$TOOLS_DIR" GOFLAGS=-mod=mod go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  echo "$KWOK_VERSION" > "$TOOLS_DIR/kwok.version"
fi

# kwok needs stage definitions (node ready + heartbeat, pods running); they
# live in the kwok module, which the build above put in the module cache.
stages="$TOOLS_DIR/kwok-stages.yaml"
if [[ ! -s "$stages" || "$(cat "$TOOLS_DIR/kwok-stages.version" 2>/dev/null)" != "$KWOK_VERSION" ]]; then
  GOFLAGS=-mod=mod go mod download "sigs.k8s.io/kwok@$KWOK_VERSION" >/dev/null
  dir="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  : > "$stages.tmp"
  for f in node/fast node/heartbeat pod/fast; do
    for y in "$dir/$f"/*.yaml; do
      case "$y" in */kustomization.yaml) continue ;; esac
      printf -- '---\n' >> "$stages.tmp"; cat "$y" >> "$stages.tmp"
    done
  done
  mv "$stages.tmp" "$stages"
  echo "$KWOK_VERSION" > "$TOOLS_DIR/kwok-stages.version"
  echo "kube-tools: kwok stages written to $stages"
fi
