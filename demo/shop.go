// Package demo is the group-buy shop gameday experiments run against: an
// order service that checks stock with an inventory service through an
// embedded toxiproxy link named "inventory", a load generator so latency and
// error SLIs always have data, and the toxiproxy TTL reaper. Everything runs
// in-process so the dev stack and tests need no containers.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	toxiserver "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/gameday/gameday/chaos/toxiproxy"
)

// InventoryProxy is the name of the toxiproxy proxy between the order and
// the inventory service; scenarios target it with selector proxy: inventory.
const InventoryProxy = "inventory"

// Defaults applied by Start.
const (
	DefaultLoadRPS      = 20
	DefaultReapInterval = 500 * time.Millisecond
	// MaxLoadRPS caps LoadRPS: the demo is a signal source, not a benchmark.
	MaxLoadRPS = 1000
	// maxInFlight bounds load-generator requests; beyond it ticks are
	// dropped so a held fault cannot pile up goroutines without limit.
	maxInFlight = 50
	// shutdownTimeout bounds each server's graceful shutdown in Close.
	shutdownTimeout = 5 * time.Second
)

// Config configures the shop. Zero values get defaults.
type Config struct {
	// Listen addresses; "127.0.0.1:0" (the default when empty) picks a free
	// port. The inventory proxy always listens on a free 127.0.0.1 port.
	OrderAddr, InventoryAddr, ToxiproxyAddr string
	// LoadRPS is the load generator's rate to POST /orders: 0 means
	// DefaultLoadRPS, negative disables it; capped at MaxLoadRPS.
	LoadRPS int
	// ReapInterval is how often expired gameday toxics are removed
	// (default DefaultReapInterval).
	ReapInterval time.Duration
	// Logger receives the shop's and toxiproxy's logs (default: discard).
	Logger *slog.Logger
}

// Shop is a running demo shop. Stop it with Close.
type Shop struct {
	log    *slog.Logger
	ctx    context.Context // cancelled by Close: stops load, reaper, in-flight handlers
	cancel context.CancelFunc

	registry *prometheus.Registry
	api      *toxiserver.ApiServer

	orderURL, inventoryURL, toxiproxyURL, metricsTarget, proxyAddr string

	servers    []*http.Server // order and inventory
	apiServer  *http.Server   // toxiproxy API
	serving    sync.WaitGroup // Serve goroutines
	background sync.WaitGroup // load generator and reaper
	transports []*http.Transport

	closeOnce sync.Once
	closeErr  error
}

// Start starts the inventory service, the toxiproxy API with the inventory
// proxy, the order service, the load generator and the reaper, and returns
// once all listeners are bound (so every URL is immediately usable). ctx only
// bounds start-up; the shop runs until Close.
func Start(ctx context.Context, cfg Config) (_ *Shop, err error) {
	cfg = withDefaults(cfg)
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Shop{
		log:      cfg.Logger,
		ctx:      runCtx,
		cancel:   cancel,
		registry: prometheus.NewRegistry(),
	}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()

	s.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := newMetrics(s.registry)

	// Inventory service.
	invMux := http.NewServeMux()
	invMux.Handle("/stock", m.instrument(serviceInventory, "/stock", handleStock))
	invLn, err := s.listen(ctx, cfg.InventoryAddr, "inventory")
	if err != nil {
		return nil, err
	}
	s.servers = append(s.servers, s.serve(invLn, invMux, true))
	s.inventoryURL = "http://" + dialable(invLn.Addr())

	// Toxiproxy API and the inventory proxy. The API server is served on our
	// own listener (not ApiServer.Listen) so ":0" works and Close owns it.
	zl := zerolog.New(slogWriter{s.log}).Level(zerolog.WarnLevel).With().Str("component", "toxiproxy").Logger()
	s.api = toxiserver.NewServer(toxiserver.NewMetricsContainer(prometheus.NewRegistry()), zl)
	apiLn, err := s.listen(ctx, cfg.ToxiproxyAddr, "toxiproxy API")
	if err != nil {
		return nil, err
	}
	s.apiServer = s.serve(apiLn, s.api.Routes(), false)
	s.toxiproxyURL = "http://" + dialable(apiLn.Addr())
	proxy := toxiserver.NewProxy(s.api, InventoryProxy, "127.0.0.1:0", dialable(invLn.Addr()))
	if err := s.api.Collection.Add(proxy, true); err != nil {
		return nil, fmt.Errorf("demo: start toxiproxy proxy %q: %w", InventoryProxy, err)
	}
	s.proxyAddr = proxy.Listen // resolved by Start, which has returned

	// Order service, calling the inventory through the proxy.
	invTransport := &http.Transport{MaxIdleConnsPerHost: maxInFlight, IdleConnTimeout: 30 * time.Second}
	s.transports = append(s.transports, invTransport)
	orders := &orderService{
		inventoryURL: "http://" + s.proxyAddr,
		client:       &http.Client{Timeout: inventoryTimeout, Transport: invTransport},
	}
	orderMux := http.NewServeMux()
	orderMux.Handle("/orders", m.instrument(serviceOrder, "/orders", orders.handleOrders))
	orderMux.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	orderMux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	orderLn, err := s.listen(ctx, cfg.OrderAddr, "order")
	if err != nil {
		return nil, err
	}
	s.servers = append(s.servers, s.serve(orderLn, orderMux, true))
	s.metricsTarget = dialable(orderLn.Addr())
	s.orderURL = "http://" + s.metricsTarget

	if cfg.LoadRPS > 0 {
		loadTransport := &http.Transport{MaxIdleConnsPerHost: maxInFlight, IdleConnTimeout: 30 * time.Second}
		s.transports = append(s.transports, loadTransport)
		// Longer than the inventory timeout so the order service, not the
		// load generator, decides when a slow order fails (and records it).
		client := &http.Client{Timeout: inventoryTimeout + 2*time.Second, Transport: loadTransport}
		s.background.Add(1)
		go s.runLoad(cfg.LoadRPS, client)
	}
	s.background.Add(1)
	go s.runReaper(cfg.ReapInterval)

	s.log.Info("demo shop started",
		"order", s.orderURL, "inventory", s.inventoryURL, "toxiproxy", s.toxiproxyURL,
		"inventory_proxy", s.proxyAddr, "load_rps", max(cfg.LoadRPS, 0))
	return s, nil
}

// Run starts the shop and blocks until ctx is done, then closes it. For the
// CLI subcommand.
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return s.Close()
}

func withDefaults(cfg Config) Config {
	for _, a := range []*string{&cfg.OrderAddr, &cfg.InventoryAddr, &cfg.ToxiproxyAddr} {
		if *a == "" {
			*a = "127.0.0.1:0"
		}
	}
	if cfg.LoadRPS == 0 {
		cfg.LoadRPS = DefaultLoadRPS
	}
	cfg.LoadRPS = min(cfg.LoadRPS, MaxLoadRPS)
	if cfg.ReapInterval <= 0 {
		cfg.ReapInterval = DefaultReapInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

func (s *Shop) listen(ctx context.Context, addr, what string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen %s on %s: %w", what, addr, err)
	}
	return ln, nil
}

// serve runs h on ln until Close. With cancelOnClose, handlers inherit the
// shop's lifetime so Close cancels calls stuck behind a held fault instead of
// waiting them out. The toxiproxy API must not get it: its timeout
// middleware would answer a cancelled request while the handler goroutine
// keeps reading proxies that Close is about to stop (a data race inside
// toxiproxy).
func (s *Shop) serve(ln net.Listener, h http.Handler, cancelOnClose bool) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if cancelOnClose {
		srv.BaseContext = func(net.Listener) context.Context { return s.ctx }
	}
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("demo server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return srv
}

// dialable turns a listener address into one a client can dial: a wildcard
// host (":8080", "0.0.0.0", "::") becomes 127.0.0.1.
func dialable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// OrderURL is the order service's base URL (POST /orders, GET /metrics).
func (s *Shop) OrderURL() string { return s.orderURL }

// InventoryURL is the inventory service's base URL, bypassing the proxy.
func (s *Shop) InventoryURL() string { return s.inventoryURL }

// ToxiproxyURL is the embedded toxiproxy API (what chaos/toxiproxy.New
// takes).
func (s *Shop) ToxiproxyURL() string { return s.toxiproxyURL }

// InventoryProxyAddr is where the "inventory" proxy listens (host:port).
func (s *Shop) InventoryProxyAddr() string { return s.proxyAddr }

// MetricsURL is the Prometheus endpoint of both services.
func (s *Shop) MetricsURL() string { return s.orderURL + "/metrics" }

// MetricsTarget is host:port for a Prometheus scrape config (path /metrics).
func (s *Shop) MetricsTarget() string { return s.metricsTarget }

// Close stops the load generator and reaper, the proxy, and all servers,
// and waits for their goroutines. Safe to call more than once.
func (s *Shop) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.background.Wait()
		// A load request cancelled mid-dial leaves a connection that never
		// carried a request; the server would wait 5s for it in Shutdown.
		for _, t := range s.transports {
			t.CloseIdleConnections()
		}
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		var errs []error
		shutdown := func(srv *http.Server) {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, err)
				_ = srv.Close()
			}
		}
		// The API goes first so no request touches a proxy being stopped.
		if s.apiServer != nil {
			shutdown(s.apiServer)
		}
		if s.api != nil {
			s.stopProxies()
		}
		for _, srv := range s.servers {
			shutdown(srv)
		}
		s.serving.Wait()
		for _, t := range s.transports {
			t.CloseIdleConnections()
		}
		if len(errs) > 0 {
			s.closeErr = fmt.Errorf("demo: close: %w", errors.Join(errs...))
		}
		s.log.Info("demo shop stopped")
	})
	return s.closeErr
}

// stopProxies closes the proxies' listeners and connections, which ends
// calls held by a toxic, then cuts short latency toxics still delaying data
// of those closed connections so toxiproxy's link goroutines exit now rather
// than after the full delay. Toxics with a cleanup step (timeout) are left
// alone: they drain by themselves once their connection is closed, while
// removing them can strand the goroutine in front of them (a toxiproxy bug).
func (s *Shop) stopProxies() {
	proxies := s.api.Collection.Proxies()
	_ = s.api.Collection.Clear()
	for _, p := range proxies {
		for _, t := range p.Toxics.GetToxicArray() {
			w, ok := t.(*toxics.ToxicWrapper)
			if !ok {
				continue
			}
			if _, cleanup := w.Toxic.(toxics.CleanupToxic); cleanup {
				continue
			}
			_ = p.Toxics.RemoveToxic(context.Background(), w.Name)
		}
	}
}

// runLoad sends rps orders per second with at most maxInFlight outstanding;
// ticks beyond that are dropped (and counted in the log at close) so a held
// fault degrades the SLIs instead of queueing unbounded work.
func (s *Shop) runLoad(rps int, client *http.Client) {
	defer s.background.Done()
	skus := []string{"widget", "gadget", "gizmo", "doohickey"}

	var inflight sync.WaitGroup
	defer inflight.Wait()
	sem := make(chan struct{}, maxInFlight)
	tick := time.NewTicker(time.Second / time.Duration(rps))
	defer tick.Stop()
	dropped, n := 0, 0
	defer func() {
		if dropped > 0 {
			s.log.Info("load generator dropped ticks at max in-flight", "dropped", dropped, "max_in_flight", maxInFlight)
		}
	}()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			dropped++
			continue
		}
		n++
		u := s.orderURL + "/orders?sku=" + skus[n%len(skus)]
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			defer func() { <-sem }()
			req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, u, nil)
			if err != nil {
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				return // the order service's metrics already record failures
			}
			resp.Body.Close()
		}()
	}
}

// runReaper enforces toxic TTLs (see chaos/toxiproxy.Backend.Reap) so a
// fault never outlives its duration plus margin, even if no gameday worker
// is alive. Shutdown (s.ctx) ends a reap stuck on the API at once.
func (s *Shop) runReaper(every time.Duration) {
	defer s.background.Done()
	b := toxiproxy.New(s.toxiproxyURL, toxiproxy.WithUserAgent("gameday-demo-reaper"))
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		removed, err := b.Reap(s.ctx, time.Now())
		for _, name := range removed {
			s.log.Info("reaped expired toxic", "toxic", name)
		}
		if err != nil && s.ctx.Err() == nil {
			s.log.Warn("toxic reap failed", "err", err)
		}
	}
}

// slogWriter forwards toxiproxy's zerolog output to the shop's logger.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	return w.WriteLevel(zerolog.InfoLevel, p)
}

func (w slogWriter) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	// Toxiproxy warns about every connection torn down mid-stream, which is
	// exactly what faults and shutdown do: keep that at debug, and only
	// surface its errors (e.g. upstream unreachable).
	lvl := slog.LevelDebug
	if l >= zerolog.ErrorLevel && l <= zerolog.PanicLevel {
		lvl = slog.LevelWarn
	}
	w.log.Log(context.Background(), lvl, "toxiproxy", "event", strings.TrimSpace(string(p)))
	return len(p), nil
}
