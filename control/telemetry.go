package control

import (
	"fmt"

	"go.opentelemetry.io/otel/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"

	"github.com/gameday/gameday/telemetry"
)

// DialOption adds to the client options Dial uses. A worker built on the
// client inherits its interceptors and metrics handler, so the worker's
// workflows and activities are traced and measured by the same options.
type DialOption func(*client.Options) error

// WithTracing traces every call of the client (and of its workers' workflows
// and activities) with the Temporal SDK's OpenTelemetry interceptor: a span
// per start, signal, update and query sent, per workflow run and activity
// executed, the trace context carried in Temporal headers. With tracing off
// it adds nothing.
func WithTracing(t telemetry.Tracing) DialOption {
	return func(o *client.Options) error {
		if !t.On {
			return nil
		}
		i, err := TracingInterceptor(t)
		if err != nil {
			return err
		}
		o.Interceptors = append(o.Interceptors, i)
		return nil
	}
}

// WithMetrics records the Temporal SDK's client and worker metrics
// (temporal_*: polls, task latencies, slots, sticky cache, request
// failures) with meter, which telemetry.NewMeterProvider exports on the
// worker's /metrics.
func WithMetrics(meter metric.Meter) DialOption {
	return func(o *client.Options) error {
		if meter == nil {
			return nil
		}
		o.MetricsHandler = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
			Meter: meter,
			// Counters as Prometheus counters (_total), not up-down gauges.
			UseMonotonicCounters: true,
		})
		return nil
	}
}

// TracingInterceptor is the SDK's tracing interceptor with one change: a
// run that was started without trace context (the Temporal UI, a Schedule,
// an untraced client) gets the trace telemetry.RunTraceID derives from its
// workflow and run id. The SDK would start a fresh random trace each time
// a worker loads the run (every replay after a crash or a cache eviction),
// scattering one run over several traces; with this the run has one trace
// id whatever replays it, and workflow code may record it (it is a function
// of the history). A run started by a traced client keeps the client's
// trace (its header is in the history too). The derived trace's root is a
// remote parent that no process records: Jaeger shows the run's first
// span as a root whose parent is missing.
func TracingInterceptor(t telemetry.Tracing) (interceptor.Interceptor, error) {
	inner, err := temporalotel.NewTracer(temporalotel.TracerOptions{
		Tracer:            t.Provider.Tracer("temporal-sdk-go"),
		TextMapPropagator: telemetry.Propagator,
	})
	if err != nil {
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return interceptor.NewTracingInterceptor(runTracer{inner}), nil
}

// runTracer gives parentless workflow runs their derived trace (see
// TracingInterceptor); everything else is the SDK's OpenTelemetry tracer.
type runTracer struct{ interceptor.Tracer }

// The tags the SDK's tracing interceptor puts on a RunWorkflow span.
const (
	tagWorkflowID = "temporalWorkflowID"
	tagRunID      = "temporalRunID"
)

func (r runTracer) StartSpan(o *interceptor.TracerStartSpanOptions) (interceptor.TracerSpan, error) {
	if o.Parent == nil && o.Operation == "RunWorkflow" && o.Tags[tagWorkflowID] != "" && o.Tags[tagRunID] != "" {
		tid, sid := telemetry.RunTraceID(o.Tags[tagWorkflowID], o.Tags[tagRunID])
		parent, err := r.UnmarshalSpan(map[string]string{"traceparent": telemetry.TraceParent(tid, sid)})
		if err == nil && parent != nil {
			o.Parent = parent
		}
	}
	return r.Tracer.StartSpan(o)
}
