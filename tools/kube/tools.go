//go:build tools

// Package kube pins the Kubernetes control-plane binaries the integration
// tests start (kube-apiserver, kube-controller-manager, kube-scheduler).
// k8s.io/kubernetes cannot be `go install`ed because its go.mod replaces
// its staging modules with local paths; this module replaces them with the
// published v0.37.2 modules instead. scripts/kube-tools.sh builds from here.
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
