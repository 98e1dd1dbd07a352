//go:build tools

// Package etcd pins the etcd server the Kubernetes test control plane uses
// (3.6: with Debian's 3.4 the apiserver lacks RequestWatchProgress and kwok
// stops handling pods). scripts/kube-tools.sh builds from here.
package etcd

import _ "go.etcd.io/etcd/server/v3"
