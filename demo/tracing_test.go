package demo_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/demo"
	"github.com/gameday/gameday/telemetry"
)

// A fault injected by a traced caller (the worker's inject activity) puts
// the requests it hurts in that caller's trace: probe orders are children
// of the inject span and go through the faulted link (order -> inventory,
// delayed), and the steady load's orders link to it. Once the fault is
// removed no more probes are sent.
func TestTracedFaultPutsProbeOrdersInTheRunsTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	tracing := telemetry.Tracing{Provider: tp, On: true}
	s := start(t, demo.Config{LoadRPS: 10, Tracing: tracing})

	// The "worker": a span, and the toxiproxy back-end with a traced client.
	b := toxiproxy.New(s.ToxiproxyURL(), toxiproxy.WithHTTPClient(&http.Client{Transport: tracing.HTTPTransport(&http.Transport{})}))
	ctx, inject := tp.Tracer("test").Start(context.Background(), "RunActivity:Inject")
	f := chaos.Fault{ID: "gd-0123456789ab-f0", WorkflowID: "wf", Name: "lat", Backend: "toxiproxy", Action: "latency", Duration: time.Minute,
		Params: map[string]any{"latency": "300ms"}, Target: chaos.Target{Selector: map[string]string{"proxy": demo.InventoryProxy}}}
	_, err := b.Inject(ctx, f)
	require.NoError(t, err)
	inject.End()
	run := inject.SpanContext().TraceID()

	var probes []tracetest.SpanStub
	require.Eventually(t, func() bool {
		probes = named(exp, "demo probe order")
		return len(probes) >= 2
	}, 15*time.Second, 100*time.Millisecond, "probe orders while the fault is live")
	// The toxic was created by the inject's call to the toxiproxy API: the
	// probes are children of that call, itself a child of the inject.
	var create trace.SpanID
	for _, sp := range named(exp, "call POST /proxies/inventory/toxics") {
		if sp.Parent.SpanID() == inject.SpanContext().SpanID() {
			create = sp.SpanContext.SpanID()
		}
	}
	require.True(t, create.IsValid(), "the toxiproxy API call is a span of the inject")
	for _, p := range probes {
		assert.Equal(t, run, p.SpanContext.TraceID(), "a probe is in the run's trace")
		assert.Equal(t, create, p.Parent.SpanID(), "a child of the call that created the toxic")
	}
	// The probe's way through the shop is in the run's trace too: the order
	// service, its call through the faulted link, the inventory behind it.
	require.Eventually(t, func() bool {
		got := map[trace.SpanKind]map[string]bool{}
		for _, sp := range exp.GetSpans() {
			if sp.SpanContext.TraceID() == run {
				if got[sp.SpanKind] == nil {
					got[sp.SpanKind] = map[string]bool{}
				}
				got[sp.SpanKind][sp.Name] = true
			}
		}
		return got[trace.SpanKindServer]["order POST /orders"] && got[trace.SpanKindServer]["inventory GET /stock"] && got[trace.SpanKindClient]["call GET /stock"]
	}, 15*time.Second, 100*time.Millisecond, "order and inventory server spans and the inventory call in the run's trace")
	var slow bool
	for _, sp := range named(exp, "call GET /stock") {
		if sp.SpanContext.TraceID() == run && sp.EndTime.Sub(sp.StartTime) >= 300*time.Millisecond {
			slow = true // the call through the link carries the toxic's latency
		}
	}
	assert.True(t, slow, "the inventory call of a probe took the fault's 300 ms")

	// The load's orders are their own traces, linked to the run.
	require.Eventually(t, func() bool {
		for _, sp := range named(exp, "demo load order") {
			for _, l := range sp.Links {
				if l.SpanContext.TraceID() == run {
					return sp.SpanContext.TraceID() != run
				}
			}
		}
		return false
	}, 15*time.Second, 100*time.Millisecond, "load orders link to the run's trace")

	_, err = b.Recover(context.Background(), f)
	require.NoError(t, err)
	time.Sleep(demo.ProbeEvery + 200*time.Millisecond) // a probe sent before the removal may still end
	n := len(named(exp, "demo probe order"))
	time.Sleep(2 * demo.ProbeEvery)
	assert.Equal(t, n, len(named(exp, "demo probe order")), "no probes once the fault is gone")
	assert.LessOrEqual(t, n, demo.MaxProbes)
}

// An untraced toxic (a person with curl, or a worker without tracing)
// starts no probes.
func TestUntracedFaultSendsNoProbes(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	s := start(t, demo.Config{LoadRPS: -1, Tracing: telemetry.Tracing{Provider: tp, On: true}})
	b := toxiproxy.New(s.ToxiproxyURL())
	f := chaos.Fault{ID: "gd-0123456789ab-f1", WorkflowID: "wf", Name: "lat", Backend: "toxiproxy", Action: "latency", Duration: time.Minute,
		Params: map[string]any{"latency": "10ms"}, Target: chaos.Target{Selector: map[string]string{"proxy": demo.InventoryProxy}}}
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	defer b.Recover(context.Background(), f)
	time.Sleep(2*demo.ProbeEvery + 200*time.Millisecond)
	assert.Empty(t, named(exp, "demo probe order"))
}

func named(exp *tracetest.InMemoryExporter, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, sp := range exp.GetSpans() {
		if sp.Name == name {
			out = append(out, sp)
		}
	}
	return out
}
