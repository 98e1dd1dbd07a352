package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// The platform's own signals: where the worker serves its metrics, and
// where traces go.
const (
	// EnvMetricsAddr is the host:port `gameday worker` serves /metrics,
	// /healthz and /readyz on; "off" or empty: none.
	EnvMetricsAddr = "GAMEDAY_METRICS_ADDR"
	// EnvOTLPEndpoint is the OTLP/HTTP endpoint traces are exported to
	// (the standard OpenTelemetry name); unset: tracing is off and costs
	// nothing.
	EnvOTLPEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT"
)

// DevMetricsAddr is where `gameday dev` serves the worker's metrics when
// GAMEDAY_METRICS_ADDR is unset (its Prometheus scrapes it there).
const DevMetricsAddr = "127.0.0.1:9464"

// Telemetry says where the platform's own signals go. The values are as
// set (trimmed; "off" is empty); Validate checks them, naming the variable.
type Telemetry struct {
	// MetricsAddr is GAMEDAY_METRICS_ADDR: host:port of the worker's
	// /metrics, /healthz and /readyz; empty: not served.
	MetricsAddr string
	// OTLPEndpoint is OTEL_EXPORTER_OTLP_ENDPOINT: the base URL of an
	// OTLP/HTTP receiver (…:4318; /v1/traces is appended); empty: no
	// tracing.
	OTLPEndpoint string
}

// Tracing reports whether traces are exported.
func (t Telemetry) Tracing() bool { return t.OTLPEndpoint != "" }

// Validate checks both values; the commands that use them call it.
func (t Telemetry) Validate() error {
	if t.MetricsAddr != "" {
		host, port, err := net.SplitHostPort(t.MetricsAddr)
		if err != nil || port == "" || strings.ContainsAny(host, "/ ") {
			return fmt.Errorf("%s=%q: want host:port, e.g. 127.0.0.1:9464 or :9464 (or off)", EnvMetricsAddr, t.MetricsAddr)
		}
	}
	if t.OTLPEndpoint != "" {
		u, err := url.Parse(t.OTLPEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s=%q: want the http(s) URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318", EnvOTLPEndpoint, RedactURL(t.OTLPEndpoint))
		}
	}
	return nil
}

func (t Telemetry) String() string {
	return fmt.Sprintf("Telemetry{MetricsAddr:%s OTLPEndpoint:%s}", t.MetricsAddr, RedactURL(t.OTLPEndpoint))
}

func telemetryFrom(e env) Telemetry {
	t := Telemetry{MetricsAddr: e.trimmed(EnvMetricsAddr), OTLPEndpoint: strings.TrimRight(e.trimmed(EnvOTLPEndpoint), "/")}
	if strings.EqualFold(t.MetricsAddr, "off") {
		t.MetricsAddr = ""
	}
	if strings.EqualFold(t.OTLPEndpoint, "off") {
		t.OTLPEndpoint = ""
	}
	return t
}
