package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// ReadyTimeout bounds one readiness check (/readyz): a Temporal that does
// not answer within it is not ready.
const ReadyTimeout = 2 * time.Second

// secondsBuckets are the bucket bounds of OpenTelemetry histograms in
// seconds (the Temporal SDK's latencies): the SDK's default bounds are
// milliseconds-sized and would put every latency in the first bucket.
var secondsBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

// NewMeterProvider is an OpenTelemetry meter provider whose instruments are
// exported on reg (the OpenTelemetry Prometheus exporter): the Temporal
// SDK's worker and client metrics end up on the same /metrics as
// gameday's. Counters keep Prometheus' _total suffix, seconds histograms get
// _seconds and useful buckets; the scope labels are left out. Close it with
// Shutdown.
func NewMeterProvider(reg prometheus.Registerer) (*sdkmetric.MeterProvider, error) {
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry Prometheus exporter: %w", err)
	}
	seconds := sdkmetric.NewView(
		sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: secondsBuckets}},
	)
	return sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(seconds)), nil
}

// Meter is the meter the Temporal SDK's metrics handler records with.
func Meter(mp metric.MeterProvider) metric.Meter { return mp.Meter("temporal-sdk-go") }

// Server serves /metrics (reg), /healthz (the process is up) and /readyz
// (ready answers nil within ReadyTimeout).
type Server struct {
	// URL is http://host:port of the listener (the port the kernel picked
	// for ":0").
	URL string
	srv *http.Server
	ln  net.Listener
}

// Handler is the mux Serve serves.
func Handler(reg prometheus.Gatherer, ready func(context.Context) error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready == nil {
			_, _ = w.Write([]byte("ready\n"))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}

// Serve listens on addr (host:port; ":0" picks a port) and serves Handler
// until Close. A port that cannot be bound is an error now, naming it.
func Serve(addr string, reg prometheus.Gatherer, ready func(context.Context) error, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics endpoint: listen on %s: %w", addr, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		URL: "http://" + Dialable(ln.Addr().String()),
		srv: &http.Server{Handler: Handler(reg, ready), ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)},
		ln:  ln,
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics endpoint stopped", "addr", addr, "err", err)
		}
	}()
	return s, nil
}

// Close stops serving, waiting at most a few seconds for scrapes in flight.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Dialable turns a listen address (host:port) into one a client can dial
// or a Prometheus can scrape: a wildcard host (":9464", "0.0.0.0", "::")
// becomes 127.0.0.1.
func Dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
