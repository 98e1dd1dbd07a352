package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/telemetry"
)

// Signals are a worker's own signals: the registry its /metrics serves
// (gameday's series, the fault gauges, the Temporal SDK's worker metrics,
// the Go runtime), and its tracing. Build them before dialing: the client
// carries the SDK's metrics handler and tracing interceptor, and the worker
// built on it inherits both.
type Signals struct {
	Registry *prometheus.Registry
	Metrics  *telemetry.Metrics
	Tracing  telemetry.Tracing
	meters   *sdkmetric.MeterProvider
	server   *telemetry.Server
}

// NewSignals builds the registry and gameday's metrics, the OpenTelemetry
// meter provider the SDK's metrics go through (exported on the same
// registry), and the tracer provider (off unless an OTLP endpoint is
// configured). Close stops them.
func NewSignals(tel config.Telemetry) (*Signals, error) {
	if err := tel.Validate(); err != nil {
		return nil, err
	}
	reg := telemetry.NewRegistry()
	mp, err := telemetry.NewMeterProvider(reg)
	if err != nil {
		return nil, err
	}
	tr, err := telemetry.NewTracing(tel.OTLPEndpoint, telemetry.ServiceWorker)
	if err != nil {
		return nil, err
	}
	return &Signals{Registry: reg, Metrics: telemetry.NewMetrics(reg), Tracing: tr, meters: mp}, nil
}

// DialOptions make the client (and its workers) traced and measured.
func (s *Signals) DialOptions() []control.DialOption {
	if s == nil {
		return nil
	}
	return []control.DialOption{control.WithTracing(s.Tracing), control.WithMetrics(telemetry.Meter(s.meters))}
}

// Serve serves /metrics, /healthz and /readyz on addr (empty: nothing is
// served). The fault gauges list acts' back-ends at scrape time; /readyz is
// ready only while the Temporal frontend answers a health check within
// telemetry.ReadyTimeout.
func (s *Signals) Serve(addr string, c client.Client, acts *activities.Activities, logger *slog.Logger) (*telemetry.Server, error) {
	if s == nil || addr == "" {
		return nil, nil
	}
	listers := map[string]telemetry.Lister{}
	for name, b := range acts.Backends {
		listers[name] = b
	}
	if err := s.Registry.Register(telemetry.NewFaultCollector(listers)); err != nil {
		return nil, fmt.Errorf("fault gauges: %w", err)
	}
	srv, err := telemetry.Serve(addr, s.Registry, TemporalReady(c), logger)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvMetricsAddr, err)
	}
	s.server = srv
	return srv, nil
}

// TemporalReady is the readiness check: the frontend answers a health
// check (a cheap RPC that touches no workflow).
func TemporalReady(c client.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			return fmt.Errorf("temporal frontend does not answer: %w", err)
		}
		return nil
	}
}

// Close stops serving and flushes what the meters and tracer hold (bounded).
func (s *Signals) Close() error {
	if s == nil {
		return nil
	}
	var errs []error
	if err := s.server.Close(); err != nil {
		errs = append(errs, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.meters.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.Tracing.Stop(5 * time.Second); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
