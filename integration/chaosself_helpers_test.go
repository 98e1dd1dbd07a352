package integration

// Helpers of TestChaosSelf (chaosself_test.go): a demo shop and Prometheus
// shared by every run, envs on any Temporal server, worker processes with
// their own log files, a switchable TCP proxy in front of the toxiproxy API,
// a toxic counter polled every 50 ms, and the report.

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/demo"
	"github.com/gameday/gameday/internal/devstack"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
)

// chaosWorld is the demo shop and the Prometheus scraping it, shared by all
// runs of TestChaosSelf (starting Prometheus per run would cost more than
// most runs take). Each run waits for steady state before it starts.
type chaosWorld struct {
	shop    *demo.Shop
	prom    *devstack.Prometheus
	toxi    *toxiclient.Client // the shop's toxiproxy API, never through a test proxy
	papi    v1.API
	logDir  string
	dataDir string
}

func newChaosWorld(t *testing.T) *chaosWorld {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the Temporal dev server and Prometheus (make tools)")
	}
	require.NoError(t, setupErr, "integration setup (run `make tools` first)")
	ctx := context.Background()
	w := &chaosWorld{}
	var err error
	w.shop, err = demo.Start(ctx, demo.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { w.shop.Close() })
	dir := t.TempDir()
	w.dataDir = dir
	w.logDir = os.Getenv("GAMEDAY_CHAOS_SELF_LOGS")
	if w.logDir == "" {
		w.logDir = filepath.Join(dir, "logs")
	}
	require.NoError(t, os.MkdirAll(w.logDir, 0o755))
	w.prom, err = devstack.StartPrometheus(ctx, devstack.PrometheusOptions{ToolsDir: toolsDir, DataDir: filepath.Join(dir, "prom"), Targets: []string{w.shop.MetricsTarget()}, Log: logFile(w.logDir, "prometheus.log")})
	require.NoError(t, err)
	t.Cleanup(func() { w.prom.Stop(10 * time.Second) })
	w.toxi = toxiclient.NewClient(w.shop.ToxiproxyURL())
	pc, err := api.NewClient(api.Config{Address: w.prom.URL})
	require.NoError(t, err)
	w.papi = v1.NewAPI(pc)
	return w
}

// env builds a harness env on a Temporal server (the shared one when srv is
// nil) whose gameday processes reach toxiproxy at toxiURL (the shop's API
// when empty). The env's own back-end always lists the shop's API directly.
func (w *chaosWorld) env(t *testing.T, srv *devstack.Temporal, toxiURL string) *env {
	t.Helper()
	if srv == nil {
		srv = temporalSrv
	}
	if toxiURL == "" {
		toxiURL = w.shop.ToxiproxyURL()
	}
	c, err := srv.Dial(context.Background())
	require.NoError(t, err)
	t.Cleanup(c.Close)
	fromEnv := config.FromEnv()
	e := &env{
		t:        t,
		temporal: srv,
		shop:     w.shop,
		prom:     w.prom,
		client:   c,
		backend:  toxiproxy.New(w.shop.ToxiproxyURL()),
		cfg: config.Config{
			TaskQueue:     fmt.Sprintf("it-chaos-self-%d", queueSeq.Add(1)),
			PrometheusURL: w.prom.URL,
			ToxiproxyURL:  toxiURL,
			DataDir:       filepath.Join(w.dataDir, "data"),
			UIURL:         "http://127.0.0.1:8233",
			Namespace:     srv.Namespace,
			// An in-process worker reads the rest from the test's environment
			// (JIRA_* set by a test, GAMEDAY_KUBE, GAMEDAY_NAMESPACES,
			// GAMEDAY_DISTINCT_SIGNERS), as the gameday subprocesses do.
			Signoff: fromEnv.Signoff,
			Kube:    fromEnv.Kube,
			Safety:  fromEnv.Safety,
			Jira:    fromEnv.Jira,
		},
	}
	// environ() names the shared server; the last value of a variable wins.
	e.extraEnv = []string{"TEMPORAL_ADDRESS=" + srv.Address, "TEMPORAL_NAMESPACE=" + srv.Namespace, "GAMEDAY_KUBE=off"}
	return e
}

// toxics counts every toxic on every proxy of the shop's toxiproxy (not only
// gameday's: anything left there is a leftover).
func (w *chaosWorld) toxics() (int, error) {
	ps, err := w.toxi.Proxies()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		n += len(p.ActiveToxics)
	}
	return n, nil
}

// waitSteady waits until every guard of sc is healthy in Prometheus, so that
// define does not refuse a run because the previous one (a breach) still
// shows in the 10 s rate windows. It returns how long it waited.
func (w *chaosWorld) waitSteady(t *testing.T, sc scenarios.Scenario, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for {
		ok := true
		var vals []string
		for _, g := range sc.Spec.Guards {
			v, err := w.guardValue(g.Query)
			if err != nil || !sli.Healthy(g.Op, v, g.Threshold) {
				ok = false
			}
			vals = append(vals, fmt.Sprintf("%s=%g (err %v)", g.Name, v, err))
		}
		last = strings.Join(vals, ", ")
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > within {
			require.FailNowf(t, "demo shop not steady", "guards not healthy after %s: %s", within, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (w *chaosWorld) guardValue(q string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	val, _, _, err := w.papi.Query(ctx, q, time.Now())
	if err != nil {
		return math.NaN(), err
	}
	vec, ok := val.(model.Vector)
	if !ok || len(vec) != 1 {
		return math.NaN(), fmt.Errorf("want one sample, got %v", val)
	}
	return float64(vec[0].Value), nil
}

// workerProc is `gameday worker` as a child process with its own log file.
type workerProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// spawnWorker starts a worker; extra is added to its environment (e.g.
// GAMEDAY_FAILPOINTS). The test's cleanup kills it if still alive.
func (w *chaosWorld) spawnWorker(t *testing.T, e *env, name string, extra ...string) *workerProc {
	t.Helper()
	cmd := exec.Command(gamedayBin, "worker")
	cmd.Env = append(e.environ(), extra...)
	p := &workerProc{cmd: cmd, log: filepath.Join(w.logDir, name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.log)
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	go func() { p.err = cmd.Wait(); f.Close(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill SIGKILLs the worker (if alive) and waits for it.
func (p *workerProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *workerProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail returns the last n lines of the worker's log.
func (p *workerProc) tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// toxicWatch counts toxics every 50 ms from its start (a kill) until Stop.
type toxicWatch struct {
	start   time.Time
	mu      sync.Mutex
	samples []toxicSample
	stop    chan struct{}
	done    chan struct{}
}

type toxicSample struct {
	at time.Duration // since start
	n  int           // -1: the API did not answer
}

func (w *chaosWorld) watchToxics(start time.Time) *toxicWatch {
	tw := &toxicWatch{start: start, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(tw.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			n, err := w.toxics()
			if err != nil {
				n = -1
			}
			tw.mu.Lock()
			tw.samples = append(tw.samples, toxicSample{at: time.Since(tw.start), n: n})
			tw.mu.Unlock()
			select {
			case <-tw.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return tw
}

// Stop ends the polling and summarizes it: the toxics present at the start;
// the first time none was left (only when some were present at the start);
// and the time of the last removal (the last drop to zero, -1 when no toxic
// was ever seen).
func (tw *toxicWatch) Stop() (atStart int, firstGone, lastGone time.Duration) {
	close(tw.stop)
	<-tw.done
	tw.mu.Lock()
	defer tw.mu.Unlock()
	atStart, firstGone, lastGone = -1, -1, -1
	seen := false
	for _, s := range tw.samples {
		if s.n < 0 {
			continue
		}
		if atStart < 0 {
			atStart = s.n
		}
		if s.n > 0 {
			seen = true
			continue
		}
		if atStart > 0 && firstGone < 0 {
			firstGone = s.at
		}
		if seen {
			lastGone, seen = s.at, false
		}
	}
	return atStart, firstGone, lastGone
}

// switchProxy is a TCP proxy on a fixed 127.0.0.1 port that can be switched
// off (listener closed, live connections cut: clients get "connection
// refused") and on again on the same port. Workers reach the toxiproxy API
// through it so a test can take the API away during recover.
type switchProxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	t.Helper()
	port, err := devstack.FreePort()
	require.NoError(t, err)
	p := &switchProxy{target: target, addr: fmt.Sprintf("127.0.0.1:%d", port), conns: map[net.Conn]struct{}{}}
	require.NoError(t, p.On())
	t.Cleanup(p.Off)
	return p
}

func (p *switchProxy) URL() string { return "http://" + p.addr }

// On starts listening again (no-op when on).
func (p *switchProxy) On() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return nil
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port was just released; retry briefly
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	p.ln = ln
	go p.accept(ln)
	return nil
}

// Off closes the listener and every connection through it.
func (p *switchProxy) Off() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *switchProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *switchProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *switchProxy) accept(ln net.Listener) {
	for {
		in, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			if !p.track(in) {
				return
			}
			defer p.untrack(in)
			out, err := net.DialTimeout("tcp", p.target, 2*time.Second)
			if err != nil {
				return
			}
			if !p.track(out) {
				return
			}
			defer p.untrack(out)
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			_, _ = io.Copy(in, out)
		}()
	}
}

// Statistics for the report.

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// maxDur is the largest of ds, -1 when empty.
func maxDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	return slices.Max(ds)
}

// fmtDur renders a measured duration; negative means "not applicable".
func fmtDur(d time.Duration) string {
	if d < 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// fmtSigned renders a duration that may be negative (before a reference).
func fmtSigned(d time.Duration) string {
	return fmt.Sprintf("%+.2f s", d.Seconds())
}

func fmtOverstay(d *time.Duration) string {
	if d == nil {
		return "—"
	}
	return fmtSigned(*d)
}
