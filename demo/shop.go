// Package demo is the group-buy shop gameday experiments run against, all
// in-process so the dev stack and tests need no containers: an order
// service, the inventory and a backup inventory, a payment and a coupon
// service, and a Redis-protocol cache (miniredis), each reached through its
// own embedded toxiproxy link (InventoryProxy, BackupProxy, PaymentProxy,
// CouponProxy, CacheProxy); a load generator so the SLIs always have data;
// and the toxiproxy TTL reaper.
//
// Config.Mode picks the order service. ModeSeed is the seed article's
// system in miniature: retries (go-retryablehttp, at most 2, never on a
// 4xx), a circuit breaker per dependency (gobreaker, open at a 30 %
// failure ratio), one budget propagated to every hop (BudgetHeader), the
// backup inventory while the primary fails or its breaker is open, and a
// bounded local cache with single-flight loads behind Redis. ModeNoFallback
// is the same shop without the fallbacks (the resilience regression the
// platform should catch). ModePlain, the zero value, is the original demo:
// the inventory only, one 3 s timeout, nothing else.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	toxiserver "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/telemetry"
)

// The toxiproxy proxies (links) of the shop; scenarios target one with
// selector proxy: <name>.
const (
	// InventoryProxy is the link between the order and the inventory service.
	InventoryProxy = "inventory"
	BackupProxy    = "inventory-backup" // to the backup inventory
	PaymentProxy   = "payment"
	CouponProxy    = "coupon"
	CacheProxy     = "cache" // to the Redis-protocol cache
)

// Mode is how the order service calls its dependencies.
type Mode string

const (
	// ModePlain (also the zero value): the inventory only, through a plain
	// client with a 3 s timeout: no retries, breaker, budget or fallback.
	// The demo-inventory-* scenarios and the platform's integration tests
	// are written against it: faults reach the SLIs unfiltered.
	ModePlain Mode = "plain"
	// ModeSeed: the seed's order path (see the package comment).
	ModeSeed Mode = "seed"
	// ModeNoFallback: ModeSeed without the backup inventory and the local
	// cache: inventory failures and cache errors reach the customer.
	ModeNoFallback Mode = "no-fallback"
)

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
	// Mode picks the order service (default ModePlain).
	Mode Mode
	// Tracing traces every request the shop serves and sends, and sends
	// probe orders into the trace of each traced gameday fault (see
	// tracing.go); the zero value is off.
	Tracing telemetry.Tracing
}

// Shop is a running demo shop. Stop it with Close.
type Shop struct {
	log    *slog.Logger
	ctx    context.Context // cancelled by Close: stops load, reaper, in-flight handlers
	cancel context.CancelFunc

	registry *prometheus.Registry
	api      *toxiserver.ApiServer

	mode Mode

	tracing telemetry.Tracing
	faults  faultTraces // gameday toxics created by traced requests

	orderURL, inventoryURL, toxiproxyURL, metricsTarget, proxyAddr string
	serviceURLs, proxyAddrs                                        map[string]string // by proxy name

	redisSrv *miniredis.Miniredis
	rdb      *redis.Client

	servers    []*http.Server // order and inventory
	apiServer  *http.Server   // toxiproxy API
	serving    sync.WaitGroup // Serve goroutines
	background sync.WaitGroup // load generator and reaper
	transports []*http.Transport

	closeOnce sync.Once
	closeErr  error
}

// Start starts the services behind the links (inventory, backup inventory,
// payment, coupon, the cache), the toxiproxy API with one proxy per link,
// the order service (cfg.Mode), the load generator and the reaper, and returns
// once all listeners are bound (so every URL is immediately usable). ctx only
// bounds start-up; the shop runs until Close.
func Start(ctx context.Context, cfg Config) (_ *Shop, err error) {
	cfg = withDefaults(cfg)
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Shop{
		log:         cfg.Logger,
		ctx:         runCtx,
		cancel:      cancel,
		registry:    prometheus.NewRegistry(),
		mode:        cfg.Mode,
		tracing:     cfg.Tracing,
		serviceURLs: map[string]string{},
		proxyAddrs:  map[string]string{},
	}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()

	s.registry.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.MetricsGC, collectors.MetricsMemory, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := newMetrics(s.registry)

	// The services behind the links: the inventory (on cfg.InventoryAddr),
	// then the backup inventory, payment and coupon on free ports. Each
	// serves within the budget its caller sends.
	inventoryMux := func(service string) *http.ServeMux {
		mux := http.NewServeMux()
		mux.Handle("/stock", m.instrument(service, "/stock", budgeted(serviceCap, handleStock)))
		mux.Handle("/item", m.instrument(service, "/item", budgeted(serviceCap, handleItem)))
		return mux
	}
	pay := &paymentService{}
	payMux := http.NewServeMux()
	payMux.Handle("/pay", m.instrument(servicePayment, "/pay", budgeted(serviceCap, pay.handlePay)))
	couponMux := http.NewServeMux()
	couponMux.Handle("/coupon", m.instrument(serviceCoupon, "/coupon", budgeted(serviceCap, handleCoupon)))
	upstreams := map[string]string{} // proxy name -> upstream host:port
	for _, b := range []struct {
		proxy, addr string
		mux         *http.ServeMux
	}{
		{InventoryProxy, cfg.InventoryAddr, inventoryMux(serviceInventory)},
		{BackupProxy, "127.0.0.1:0", inventoryMux(serviceBackup)},
		{PaymentProxy, "127.0.0.1:0", payMux},
		{CouponProxy, "127.0.0.1:0", couponMux},
	} {
		ln, err := s.listen(ctx, b.addr, b.proxy)
		if err != nil {
			return nil, err
		}
		s.servers = append(s.servers, s.serve(ln, s.tracing.HTTPHandler(b.mux, b.proxy), true))
		upstreams[b.proxy] = dialable(ln.Addr())
		s.serviceURLs[b.proxy] = "http://" + upstreams[b.proxy]
	}
	s.inventoryURL = s.serviceURLs[InventoryProxy]

	// The cache: an embedded Redis-protocol server.
	s.redisSrv = miniredis.NewMiniRedis()
	if err := s.redisSrv.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("demo: start cache: %w", err)
	}
	upstreams[CacheProxy] = s.redisSrv.Addr()
	s.serviceURLs[CacheProxy] = "redis://" + s.redisSrv.Addr()

	// Toxiproxy API and one proxy per link. The API server is served on
	// our own listener (not ApiServer.Listen) so ":0" works and Close owns it.
	zl := zerolog.New(slogWriter{s.log}).Level(zerolog.WarnLevel).With().Str("component", "toxiproxy").Logger()
	s.api = toxiserver.NewServer(toxiserver.NewMetricsContainer(prometheus.NewRegistry()), zl)
	apiLn, err := s.listen(ctx, cfg.ToxiproxyAddr, "toxiproxy API")
	if err != nil {
		return nil, err
	}
	var api http.Handler = s.api.Routes()
	if s.tracing.On {
		api = s.noteToxics(api)
	}
	s.apiServer = s.serve(apiLn, api, false)
	s.toxiproxyURL = "http://" + dialable(apiLn.Addr())
	for _, name := range Proxies {
		proxy := toxiserver.NewProxy(s.api, name, "127.0.0.1:0", upstreams[name])
		if err := s.api.Collection.Add(proxy, true); err != nil {
			return nil, fmt.Errorf("demo: start toxiproxy proxy %q: %w", name, err)
		}
		s.proxyAddrs[name] = proxy.Listen // resolved by Start, which has returned
	}
	s.proxyAddr = s.proxyAddrs[InventoryProxy]

	// Order service, calling every dependency through its proxy.
	orderMux := http.NewServeMux()
	switch cfg.Mode {
	case ModeSeed, ModeNoFallback:
		orders := s.seedOrders(m, cfg.Mode == ModeSeed)
		orderMux.Handle("/orders", m.instrument(serviceOrder, "/orders", budgeted(OrderBudget, orders.handleOrders)))
	default:
		invTransport := &http.Transport{MaxIdleConnsPerHost: maxInFlight, IdleConnTimeout: 30 * time.Second}
		s.transports = append(s.transports, invTransport)
		orders := &orderService{
			inventoryURL: "http://" + s.proxyAddr,
			client:       &http.Client{Timeout: inventoryTimeout, Transport: s.tracing.HTTPTransport(invTransport)},
			orders:       m.orders,
		}
		orderMux.Handle("/orders", m.instrument(serviceOrder, "/orders", orders.handleOrders))
	}
	orderMux.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	orderMux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	orderMux.HandleFunc("/debug/pprof/", pprof.Index)
	orderMux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	orderMux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	orderMux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	orderMux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	orderLn, err := s.listen(ctx, cfg.OrderAddr, "order")
	if err != nil {
		return nil, err
	}
	s.servers = append(s.servers, s.serve(orderLn, s.tracing.HTTPHandler(orderMux, serviceOrder), true))
	s.metricsTarget = dialable(orderLn.Addr())
	s.orderURL = "http://" + s.metricsTarget

	if cfg.LoadRPS > 0 {
		loadTransport := &http.Transport{MaxIdleConnsPerHost: maxInFlight, IdleConnTimeout: 30 * time.Second}
		s.transports = append(s.transports, loadTransport)
		// Longer than the inventory timeout so the order service, not the
		// load generator, decides when a slow order fails (and records it).
		client := &http.Client{Timeout: inventoryTimeout + 2*time.Second, Transport: s.tracing.HTTPTransport(loadTransport)}
		s.background.Add(1)
		go s.runLoad(cfg.LoadRPS, client)
	}
	if s.tracing.On {
		probeTransport := &http.Transport{MaxIdleConnsPerHost: MaxProbes, IdleConnTimeout: 30 * time.Second}
		s.transports = append(s.transports, probeTransport)
		s.background.Add(1)
		go s.runProbes(&http.Client{Transport: s.tracing.HTTPTransport(probeTransport)})
	}
	s.background.Add(1)
	go s.runReaper(cfg.ReapInterval)

	s.log.Info("demo shop started", "mode", cfg.Mode,
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

// Proxies lists every link of the shop, in start order.
var Proxies = []string{InventoryProxy, BackupProxy, PaymentProxy, CouponProxy, CacheProxy}

// seedOrders builds the seed order service: one resilient client per
// dependency (through its proxy), the Redis client through the cache link,
// and the breakers' circuit_breaker_state gauges.
func (s *Shop) seedOrders(m *metrics, fallback bool) *seedOrders {
	via := func(proxy string) string { return "http://" + s.proxyAddrs[proxy] }
	o := &seedOrders{
		inventory: newClient(hop{name: InventoryProxy, url: via(InventoryProxy), timeout: inventoryHopTimeout, fresh: true}, s.tracing),
		backup:    newClient(hop{name: BackupProxy, url: via(BackupProxy), timeout: backupHopTimeout}, s.tracing),
		coupon:    newClient(hop{name: CouponProxy, url: via(CouponProxy), timeout: couponHopTimeout}, s.tracing),
		payment:   newClient(hop{name: PaymentProxy, url: via(PaymentProxy), timeout: paymentHopTimeout, attempt: paymentAttemptTimeout, fresh: true}, s.tracing),
		m:         m,
		fallback:  fallback,
	}
	// Every fallback series exists from the start, so a guard reading its
	// rate has data before the first fallback.
	for _, l := range [][2]string{{"inventory", "primary_failed"}, {"inventory", "breaker_open"}, {"cache", "cache_error"}, {"coupon", "no_discount"}} {
		m.fallback.WithLabelValues(serviceOrder, l[0], l[1])
	}
	// And the order errors: rate() ignores a series' first increment, so
	// an error-rate guard would miss the first 503 and 504 otherwise.
	for _, code := range []string{"200", "500", "503", "504"} {
		m.requests.WithLabelValues(serviceOrder, "/orders", code)
	}
	for _, c := range []*client{o.inventory, o.backup, o.coupon, o.payment} {
		s.transports = append(s.transports, c.transport)
		registerBreaker(s.registry, serviceOrder, c.breaker)
	}
	s.rdb = redis.NewClient(&redis.Options{
		Addr:                  s.proxyAddrs[CacheProxy],
		DialTimeout:           cacheTimeout,
		ReadTimeout:           cacheTimeout,
		WriteTimeout:          cacheTimeout,
		PoolTimeout:           cacheTimeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1, // the cache is optional: fail fast, fall back
		PoolSize:              maxInFlight,
		DisableIdentity:       true, // miniredis has no CLIENT SETINFO
	})
	o.catalog = &catalog{
		rdb:        s.rdb,
		load:       o.loadItem,
		local:      newLocalCache(localCacheSize, localCacheTTL),
		fallback:   fallback,
		onFallback: func() { m.fallback.WithLabelValues(serviceOrder, "cache", "cache_error").Inc() },
	}
	return o
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
	if cfg.Mode == "" {
		cfg.Mode = ModePlain
	}
	if cfg.Tracing.Provider == nil {
		cfg.Tracing = telemetry.Off()
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

// dialable is the address a client dials for a listener.
func dialable(a net.Addr) string { return telemetry.Dialable(a.String()) }

// OrderURL is the order service's base URL (POST /orders, GET /metrics).
func (s *Shop) OrderURL() string { return s.orderURL }

// InventoryURL is the inventory service's base URL, bypassing the proxy.
func (s *Shop) InventoryURL() string { return s.inventoryURL }

// ToxiproxyURL is the embedded toxiproxy API (what chaos/toxiproxy.New
// takes).
func (s *Shop) ToxiproxyURL() string { return s.toxiproxyURL }

// InventoryProxyAddr is where the "inventory" proxy listens (host:port).
func (s *Shop) InventoryProxyAddr() string { return s.proxyAddr }

// ProxyAddr is where the named proxy (one of Proxies) listens (host:port).
func (s *Shop) ProxyAddr(proxy string) string { return s.proxyAddrs[proxy] }

// ServiceURL is the base URL of the service behind the named proxy,
// bypassing it (redis://host:port for CacheProxy).
func (s *Shop) ServiceURL(proxy string) string { return s.serviceURLs[proxy] }

// Mode is the order service the shop runs.
func (s *Shop) Mode() Mode { return s.mode }

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
		if s.rdb != nil {
			_ = s.rdb.Close()
		}
		if s.redisSrv != nil {
			s.redisSrv.Close()
		}
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
			ctx, span := s.loadContext(s.ctx)
			defer span.End()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
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
