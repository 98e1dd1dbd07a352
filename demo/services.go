package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values of the service label.
const (
	serviceOrder     = "order"
	serviceInventory = "inventory"
)

// inventoryTimeout bounds the order service's call to the inventory. It is
// what turns a slow (toxic) link into 503s, the failure the SLIs watch.
const inventoryTimeout = 3 * time.Second

// durationBuckets cover the demo's range: a few ms when healthy up to the 3s
// inventory timeout (and a bit beyond) when a latency fault is held, with
// resolution around the usual SLO thresholds (100ms-1s).
var durationBuckets = []float64{.005, .01, .025, .05, .1, .2, .3, .5, .8, 1, 1.5, 2, 3, 5}

// metrics are the two RED series both services record; scenario guards
// query them (latency quantiles, error ratios) by service label.
type metrics struct {
	duration *prometheus.HistogramVec
	requests *prometheus.CounterVec
	// fallback counts calls served by a fallback instead of the dependency
	// (dependency: inventory, cache, coupon; reason: why).
	fallback *prometheus.CounterVec
	// orders counts orders by outcome (the seed's group_buy_order_total).
	orders *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by service, handler and status code.",
			Buckets: durationBuckets,
		}, []string{"service", "handler", "status"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by service, handler and status code.",
		}, []string{"service", "handler", "status"}),
		fallback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fallback_calls_total",
			Help: "Calls the order service served from a fallback instead of the dependency, by dependency (inventory: the backup inventory; cache: the local cache; coupon: no discount) and reason.",
		}, []string{"service", "dependency", "reason"}),
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "group_buy_order_total",
			Help: "Group-buy orders by outcome: success, rejected (out of stock, bad request), failed (a dependency or the budget).",
		}, []string{"status"}),
	}
	reg.MustRegister(m.duration, m.requests, m.fallback, m.orders)
	for _, st := range []string{orderSuccess, orderRejected, orderFailed} {
		m.orders.WithLabelValues(st) // every outcome has a series from the start
	}
	return m
}

// instrument records one request of handler (a fixed route, never the raw
// path, to keep label cardinality bounded).
func (m *metrics) instrument(service, handler string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h(rec, r)
		code := strconv.Itoa(rec.status)
		m.duration.WithLabelValues(service, handler, code).Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(service, handler, code).Inc()
	})
}

// orderParams reads an order's sku (default widget) and qty (1..100,
// default 1), answering the request itself when they are unusable; both
// order services take orders this way.
func orderParams(w http.ResponseWriter, r *http.Request, orders *prometheus.CounterVec) (string, int, bool) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return "", 0, false
	}
	sku := r.FormValue("sku")
	if sku == "" {
		sku = "widget"
	}
	qty := 1
	if q := r.FormValue("qty"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 100 {
			orders.WithLabelValues(orderRejected).Inc()
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "qty must be an integer 1..100"})
			return "", 0, false
		}
		qty = n
	}
	return sku, qty, true
}

// skuParam reads GET ?sku=X for the inventory endpoints, answering the
// request itself when it is not that.
func skuParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
		return "", false
	}
	sku := r.URL.Query().Get("sku")
	if sku == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "sku is required"})
		return "", false
	}
	return sku, true
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// stock is the inventory service's answer.
type stock struct {
	SKU       string `json:"sku"`
	Available int    `json:"available"`
}

// handleStock serves GET /stock?sku=X. A few ms of simulated work makes the
// healthy latency distribution realistic (not all in the first bucket).
func handleStock(w http.ResponseWriter, r *http.Request) {
	sku, ok := skuParam(w, r)
	if !ok {
		return
	}
	work := 2*time.Millisecond + rand.N(3*time.Millisecond)
	select {
	case <-time.After(work):
	case <-r.Context().Done():
		return
	}
	writeJSON(w, http.StatusOK, stock{SKU: sku, Available: availableFor(sku)})
}

// availableFor is a stable fake stock level: always plenty, so orders fail
// only when the network does.
func availableFor(sku string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(sku))
	return 100 + int(h.Sum32()%900)
}

// order is the order service's answer.
type order struct {
	ID          int64  `json:"order_id"`
	SKU         string `json:"sku"`
	Qty         int    `json:"qty"`
	Status      string `json:"status"`
	AmountCents int    `json:"amount_cents,omitempty"`
	DiscountPct int    `json:"discount_pct,omitempty"`
}

// orderService is the plain order service (ModePlain): it places
// group-buy orders after checking stock with the inventory service through
// the toxiproxy link, with one 3 s timeout and nothing else, so a fault on
// the link reaches the SLIs unfiltered.
type orderService struct {
	inventoryURL string // base URL of the inventory, via the proxy
	client       *http.Client
	orders       *prometheus.CounterVec
	nextID       atomic.Int64
}

// handleOrders serves POST /orders (GET too, for curl). Params sku and qty
// come from the query or a form body.
func (o *orderService) handleOrders(w http.ResponseWriter, r *http.Request) {
	sku, qty, ok := orderParams(w, r, o.orders)
	if !ok {
		return
	}

	st, err := o.checkStock(r.Context(), sku)
	if err != nil {
		o.orders.WithLabelValues(orderFailed).Inc()
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "inventory unavailable: " + err.Error()})
		return
	}
	if st.Available < qty {
		o.orders.WithLabelValues(orderRejected).Inc()
		writeJSON(w, http.StatusConflict, map[string]string{"error": "out of stock"})
		return
	}
	o.orders.WithLabelValues(orderSuccess).Inc()
	writeJSON(w, http.StatusOK, order{ID: o.nextID.Add(1), SKU: sku, Qty: qty, Status: "confirmed"})
}

func (o *orderService) checkStock(ctx context.Context, sku string) (stock, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.inventoryURL+"/stock?sku="+url.QueryEscape(sku), nil)
	if err != nil {
		return stock{}, err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return stock{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return stock{}, fmt.Errorf("inventory returned %s", resp.Status)
	}
	var st stock
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return stock{}, fmt.Errorf("decode inventory answer: %w", err)
	}
	return st, nil
}
