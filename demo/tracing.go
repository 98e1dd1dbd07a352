package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/telemetry"
)

// How a run's trace shows the requests its fault hurt.
//
// Toxiproxy is plain TCP: the traceparent header of an order passes through
// a link unchanged, so with tracing on every request the shop serves and
// sends is a span (otelhttp on every server and client), and an order's
// trace runs order -> link -> inventory (the cache calls are Redis, not
// traced). That alone would not tie an order to a run: the load generator
// knows nothing of gameday.
//
// The tie is made where the fault is made. The worker's inject activity
// creates the toxic with a traced HTTP call, so the toxiproxy API request
// carries the run's trace context (the inject's span). The shop, which
// embeds that API, notes the context of every gameday toxic created that
// way, and while such a toxic is live:
//
//   - it sends a probe order every ProbeEvery (at most MaxProbes per fault)
//     whose span is a CHILD of the inject span: the probe, the order
//     service's handling of it and its calls through the faulted link are
//     in the run's trace, with the delays and errors the fault caused;
//   - the steady load's orders (their own traces, sampled) carry a span
//     LINK to that inject span and the attribute gameday.faults: from an
//     order one can reach the run, not the other way round.
//
// A real system gets the probes' half only if something sends requests in
// the run's trace; its own traffic stays in its own traces.
const (
	// ProbeEvery is how often a probe order is sent while a traced fault
	// is live.
	ProbeEvery = time.Second
	// MaxProbes bounds the probes of one fault: enough to see the fault's
	// effect in the run's trace, few enough to keep that trace readable.
	MaxProbes = 20
	// LoadSampleRatio is the share of the load generator's orders that are
	// traced (probes always are).
	LoadSampleRatio = 0.1
)

// Attributes on the shop's spans that name gameday faults.
const (
	AttrFault  = "gameday.fault" // on a probe: the toxic it probes
	AttrFaults = "gameday.faults"
	AttrProbe  = "gameday.probe"
)

// faultTrace is one gameday toxic created by a traced request.
type faultTrace struct {
	proxy, toxic string
	sc           trace.SpanContext
	probes       int
}

type faultTraces struct {
	mu   sync.Mutex
	live []*faultTrace
}

// toxicsPath matches the toxiproxy API's "create a toxic" route.
var toxicsPath = regexp.MustCompile(`^/proxies/([^/]+)/toxics/?$`)

// noteToxics wraps the toxiproxy API: a gameday toxic created by a request
// that carries trace context is remembered with that context.
func (s *Shop) noteToxics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := toxicsPath.FindStringSubmatch(r.URL.Path)
		if r.Method != http.MethodPost || m == nil {
			h.ServeHTTP(w, r)
			return
		}
		sc := trace.SpanContextFromContext(telemetry.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
		if !sc.IsValid() {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var t struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(body, &t)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if _, _, ours := toxiproxy.ParseToxicName(t.Name); ours && rec.status < 300 {
			s.faults.mu.Lock()
			s.faults.live = append(s.faults.live, &faultTrace{proxy: m[1], toxic: t.Name, sc: sc})
			s.faults.mu.Unlock()
		}
	})
}

// liveFaults drops the toxics that are gone (recovered, reaped) and returns
// the others.
func (s *Shop) liveFaults() []*faultTrace {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.live = slices.DeleteFunc(s.faults.live, func(f *faultTrace) bool {
		p, err := s.api.Collection.Get(f.proxy)
		return err != nil || p.Toxics.GetToxic(f.toxic) == nil
	})
	return slices.Clone(s.faults.live)
}

// runProbes sends the probe orders of live traced faults.
func (s *Shop) runProbes(client *http.Client) {
	defer s.background.Done()
	tracer := s.tracing.Tracer()
	tick := time.NewTicker(ProbeEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		for _, f := range s.liveFaults() {
			s.faults.mu.Lock()
			n := f.probes
			if n < MaxProbes {
				f.probes++
			}
			s.faults.mu.Unlock()
			if n >= MaxProbes {
				continue
			}
			go s.probe(tracer, client, f, n+1)
		}
	}
}

// probe sends one order in the run's trace: a child of the inject span.
func (s *Shop) probe(tracer trace.Tracer, client *http.Client, f *faultTrace, n int) {
	ctx := trace.ContextWithRemoteSpanContext(s.ctx, f.sc)
	ctx, span := tracer.Start(ctx, "demo probe order", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String(AttrFault, f.toxic), attribute.String("gameday.proxy", f.proxy), attribute.Int(AttrProbe, n)))
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, inventoryTimeout+2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.orderURL+"/orders?sku=widget", nil)
	if err != nil {
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return
	}
	_ = resp.Body.Close()
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, resp.Status)
	}
}

// loadContext starts the span of one load order: linked to every live
// traced fault, so the order's trace says which runs were hurting it.
func (s *Shop) loadContext(ctx context.Context) (context.Context, trace.Span) {
	if !s.tracing.On {
		return ctx, trace.SpanFromContext(ctx)
	}
	live := s.liveFaults()
	var links []trace.Link
	var names []string
	for _, f := range live {
		links = append(links, trace.Link{SpanContext: f.sc, Attributes: []attribute.KeyValue{attribute.String(AttrFault, f.toxic)}})
		names = append(names, f.toxic)
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithLinks(links...)}
	if len(names) > 0 {
		opts = append(opts, trace.WithAttributes(attribute.StringSlice(AttrFaults, names)))
	}
	return s.tracing.Tracer().Start(ctx, "demo load order", opts...)
}
