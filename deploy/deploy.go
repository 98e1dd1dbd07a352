// Package deploy holds what runs gameday outside the local stack: the
// Kubernetes manifests, the Prometheus configuration and rules, the Grafana
// dashboard. The Prometheus rules are embedded so `gameday dev` loads the
// same file into its Prometheus that `make test` checks with promtool.
package deploy

import _ "embed"

// PrometheusRules is prometheus/rules.yml: gameday's recording and alert
// rules.
//
//go:embed prometheus/rules.yml
var PrometheusRules []byte
