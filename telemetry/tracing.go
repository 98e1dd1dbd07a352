package telemetry

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Service names the spans of each part are recorded under.
const (
	ServiceWorker = "gameday-worker" // workflows and activities
	ServiceCLI    = "gameday"        // the CLI, the Slack bot: the clients that start runs
	ServiceDemo   = "demo-shop"      // the demo shop's services, load and probes
)

// Propagator carries trace context in W3C traceparent/tracestate headers
// (and baggage): between gameday's HTTP clients and the demo shop, and in
// Temporal headers (the SDK's tracing interceptor uses the same pair). It is
// passed explicitly everywhere; gameday sets no OpenTelemetry globals.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Tracing is a tracer provider and how to flush and stop it.
type Tracing struct {
	Provider trace.TracerProvider
	// Shutdown exports what is buffered and stops; call it before the
	// process exits (a CLI's spans would be lost otherwise).
	Shutdown func(context.Context) error
	// On says spans are exported (an endpoint is configured).
	On bool
}

// Off is tracing switched off: a no-op provider, nothing recorded,
// nothing exported, nothing to stop.
func Off() Tracing {
	return Tracing{Provider: noop.NewTracerProvider(), Shutdown: func(context.Context) error { return nil }}
}

// NewTracing exports spans of service to the OTLP/HTTP receiver at endpoint
// (the base URL, e.g. http://127.0.0.1:4318; /v1/traces is appended), in
// batches at least every second. An empty endpoint is Off. Every span is
// sampled unless its parent was not (or SampleRoots says otherwise for
// roots). The exporter also honours the standard
// OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _CERTIFICATE and _COMPRESSION; the
// endpoint is gameday's configuration (config.Telemetry).
func NewTracing(endpoint, service string, opts ...TracingOption) (Tracing, error) {
	if endpoint == "" {
		return Off(), nil
	}
	o := tracingOptions{rootRatio: 1}
	for _, f := range opts {
		f(&o)
	}
	root := sdktrace.AlwaysSample()
	if o.rootRatio < 1 {
		root = sdktrace.TraceIDRatioBased(o.rootRatio)
	}
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(endpoint+"/v1/traces"))
	if err != nil {
		return Off(), fmt.Errorf("OTLP trace exporter for %s: %w", endpoint, err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)),
		// Schemaless and explicit: no resource detector reads the
		// environment behind config's back.
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))),
		sdktrace.WithSampler(sdktrace.ParentBased(root)),
	)
	return Tracing{Provider: tp, Shutdown: tp.Shutdown, On: true}, nil
}

// TracingOption tunes NewTracing.
type TracingOption func(*tracingOptions)

type tracingOptions struct{ rootRatio float64 }

// SampleRoots records only this share (0..1) of the traces that start here;
// a span whose parent was sampled is always recorded. The demo shop's
// steady load uses it: every order traced would be most of Jaeger's memory.
func SampleRoots(ratio float64) TracingOption {
	return func(o *tracingOptions) { o.rootRatio = min(max(ratio, 0), 1) }
}

// Tracer is the tracer gameday's own spans come from.
func (t Tracing) Tracer() trace.Tracer {
	return t.Provider.Tracer("github.com/gameday/gameday")
}

// Flush exports what is buffered, bounded by timeout, without stopping.
func (t Tracing) Flush(timeout time.Duration) error {
	f, ok := t.Provider.(interface{ ForceFlush(context.Context) error })
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return f.ForceFlush(ctx)
}

// Stop flushes and stops, bounded by timeout.
func (t Tracing) Stop(timeout time.Duration) error {
	if t.Shutdown == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := t.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("traces not all exported within %s: %w", timeout, err)
	}
	return err
}

// HTTPTransport traces the requests sent through rt (a client span each,
// "call GET /stock") and sends their trace context in the headers. With
// tracing off it is rt.
func (t Tracing) HTTPTransport(rt http.RoundTripper) http.RoundTripper {
	if !t.On {
		return rt
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(t.Provider), otelhttp.WithPropagators(Propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "call " + r.Method + " " + r.URL.Path }))
}

// HTTPHandler traces the requests h serves (a server span each, named
// after the service: "inventory GET /stock"; a child of the caller's span
// when the request carries one). With tracing off it is h.
func (t Tracing) HTTPHandler(h http.Handler, operation string) http.Handler {
	if !t.On {
		return h
	}
	return otelhttp.NewHandler(h, operation, otelhttp.WithTracerProvider(t.Provider), otelhttp.WithPropagators(Propagator),
		otelhttp.WithSpanNameFormatter(func(op string, r *http.Request) string { return op + " " + r.Method + " " + r.URL.Path }))
}

// RunTraceID is the trace id of a run that was started without trace
// context (the Temporal UI, a Schedule, an untraced client): derived from
// its workflow id and run id only, so every worker that replays the run,
// however often, puts its spans in the same trace, and the workflow can
// record that id without asking the clock or a random source.
func RunTraceID(workflowID, runID string) (trace.TraceID, trace.SpanID) {
	sum := sha256.Sum256([]byte("gameday-run\x00" + workflowID + "\x00" + runID))
	var tid trace.TraceID
	var sid trace.SpanID
	copy(tid[:], sum[:16])
	copy(sid[:], sum[16:24])
	return tid, sid
}

// TraceParent renders a sampled W3C traceparent for a span context.
func TraceParent(tid trace.TraceID, sid trace.SpanID) string {
	return "00-" + tid.String() + "-" + sid.String() + "-01"
}
