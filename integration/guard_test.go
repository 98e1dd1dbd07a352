package integration

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
)

// starvedGuards watch the inventory service itself, which a blackholed link
// starves: with no requests its latency quantile is NaN (0/0), and its
// request rate has no series at all once the counter stops moving.
func starvedGuards(sc *scenarios.Scenario) {
	sc.Spec.Guards = []sli.Guard{{
		Name:      "inventory-p95",
		Query:     `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="inventory"}[3s])))`,
		Op:        sli.OpLE,
		Threshold: 0.8,
		For:       2,
		Interval:  duration.Duration(time.Second),
	}}
	sc.Spec.SteadyState.Guards = sc.Spec.Guards
}

// A total outage of the service under test (toxiproxy timeout 0: the link
// holds every byte) makes the guard's quantile NaN. That is a breach, not a
// value that cannot be encoded: the run ends aborted with the breach shown
// as NaN / no data, and the toxic is gone.
func TestBlackholeOutageAborts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	_, path := e.scenario("demo-inventory-timeout", func(sc *scenarios.Scenario) {
		sc.Metadata.Name = "blackhole-inventory"
		sc.Spec.Signoff = scenarios.Signoff{}
		sc.Spec.Checklist, sc.Spec.FaultClass = "", ""
		sc.Spec.Faults[0].Duration = duration.Duration(90 * time.Second)
		sc.Spec.Faults[0].Params = map[string]any{"timeout": "0s", "stream": "upstream"} // requests never reach the inventory
		starvedGuards(sc)
	})
	injected := time.Now()
	out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--json")
	require.Equal(t, 3, code, "exit 3 = did not pass; stderr: %s\n%s", stderr, out)
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, experiment.Aborted, r.Outcome, "a total outage is never a pass")
	require.NotNil(t, r.Breach)
	assert.Equal(t, "inventory-p95", r.Breach.Guard)
	assert.True(t, r.Breach.NoData || r.Breach.Value.Kind() == sli.KindNaN, "breach value %s no_data=%t", r.Breach.Value, r.Breach.NoData)
	assert.Regexp(t, `value NaN|no data`, r.AbortReason)
	assert.Empty(t, e.faults(), "the blackhole is removed")
	obs := phase(r, experiment.PhaseObserve)
	require.NotNil(t, obs)
	held := obs.Ended.Sub(obs.Started)
	assert.Less(t, held, 60*time.Second, "aborted on the outage, not after the 90 s hold")
	t.Logf("blackhole: breach %s at +%s after the run started; observe held %s", r.Breach.Reading(), r.Breach.At.Sub(injected).Round(100*time.Millisecond), held.Round(100*time.Millisecond))

	// The NaN also reaches the postmortem as a word, not a raw float.
	require.NotEmpty(t, r.Postmortem)
	pm, err := os.ReadFile(r.Postmortem)
	require.NoError(t, err)
	assert.Regexp(t, `Value: (NaN|no data)`, string(pm))
}

// hangProxy forwards TCP to a target until hang is set; from then on it
// accepts connections and never answers (a Prometheus that stopped
// replying), closing nothing.
type hangProxy struct {
	ln     net.Listener
	target string
	hang   atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func startHangProxy(t testing.TB, target string) *hangProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &hangProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *hangProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *hangProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		if p.hang.Load() {
			go func() { _, _ = io.Copy(io.Discard, c) }() // read, never answer
			continue
		}
		go func() {
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c) }()
			_, _ = io.Copy(c, p.gate(up))
			c.Close()
		}()
	}
}

// gate stops relaying answers once hang is set, on connections already open.
func (p *hangProxy) gate(r io.Reader) io.Reader {
	return readerFunc(func(b []byte) (int, error) {
		n, err := r.Read(b)
		for p.hang.Load() {
			time.Sleep(time.Hour)
		}
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

// Prometheus stops answering mid-observation (accepts, never replies). With
// on_error: abort on both guards the run aborts with a query-error breach
// after three consecutive query timeouts, instead of holding the fault
// blind until the heartbeat kills the guard.
func TestPrometheusHangAborts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	hp := startHangProxy(t, strings.TrimPrefix(e.prom.URL, "http://"))
	e.cfg.PrometheusURL = hp.URL()
	e.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sc, _ := e.scenario("demo-inventory-latency-harmless", func(sc *scenarios.Scenario) {
		sc.Spec.Faults[0].Duration = duration.Duration(2 * time.Minute)
		for i := range sc.Spec.Guards {
			sc.Spec.Guards[i].OnError = sli.OnErrorAbort
			sc.Spec.Guards[i].Interval = duration.Duration(time.Second)
		}
		sc.Spec.SteadyState.Timeout = duration.Duration(5 * time.Second)
	})
	run := e.start(ctx, sc)
	e.waitPhase(ctx, run.GetID(), experiment.PhaseObserve)
	time.Sleep(2 * time.Second) // a few healthy evaluations first
	hungAt := time.Now()
	hp.hang.Store(true)
	r := e.result(ctx, run)
	assert.Equal(t, experiment.Aborted, r.Outcome, "reason: %s %s", r.AbortReason, r.Error)
	require.NotNil(t, r.Breach)
	assert.NotEmpty(t, r.Breach.QueryError, "breach is the query failing")
	assert.Contains(t, r.AbortReason, "query failed 3 times in a row")
	assert.Empty(t, e.faults(), "the fault is removed although Prometheus is gone")
	t.Logf("hang -> breach %s (query timeout %s, 3 in a row)", r.Breach.At.Sub(hungAt).Round(100*time.Millisecond), sli.QueryTimeout(sc.Spec.Guards[0]))
}

// twoFaults is the harmless demo with a second toxic on the same link.
func twoFaults(hold time.Duration) func(*scenarios.Scenario) {
	return func(sc *scenarios.Scenario) {
		sc.Spec.Faults[0].Duration = duration.Duration(hold)
		second := sc.Spec.Faults[0]
		second.Name = "inventory-latency-2"
		sc.Spec.Faults = append(sc.Spec.Faults, second)
	}
}

// The second inject hangs for 20 s (a slow back-end); an abort sent
// meanwhile is acted on at once: the first fault is removed without waiting
// for the second inject, and the second fault, which lands after all, is
// removed as soon as its inject answers.
func TestAbortDuringSlowInject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.extraEnv = append(e.extraEnv, "GAMEDAY_FAILPOINTS=inject-delay-step1=20s")
	e.workerProcess()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sc, _ := e.scenario("demo-inventory-latency-harmless", twoFaults(time.Minute))
	run := e.start(ctx, sc)
	require.Eventually(t, func() bool { return len(e.faults()) == 1 }, time.Minute, 50*time.Millisecond, "first fault injected")
	time.Sleep(time.Second) // the second inject is now in its 20 s call
	aborted := time.Now()
	_, stderr, code := e.gameday(ctx, "abort", run.GetID(), "--reason", "pager", "--by", "sam")
	require.Equal(t, 0, code, stderr)
	require.Eventually(t, func() bool { return len(e.faults()) == 0 }, time.Minute, 20*time.Millisecond, "first fault removed")
	firstGone := time.Since(aborted)
	st, err := e.status(ctx, run.GetID())
	require.NoError(t, err)
	assert.Equal(t, experiment.Aborted, st.Outcome, "the abort is recorded while the second inject still runs")
	r := e.result(ctx, run)
	assert.Equal(t, experiment.Aborted, r.Outcome)
	assert.Equal(t, "aborted by sam: pager", r.AbortReason)
	assert.Empty(t, e.faults(), "the second fault, landed after the abort, is removed too")
	assert.ElementsMatch(t, r.Injected, r.Recovered)
	t.Logf("abort -> first fault removed in %s (second inject still in its 20 s call)", firstGone.Round(10*time.Millisecond))
	recordHistoryTo(t, e, r.WorkflowID, "GAMEDAY_RECORD_ABORT_INJECT_HISTORY")
}

// Cancelling the workflow while an inject is in flight: the inject lands
// after the cancel (its call was already on its way), and recover waits for
// it, so nothing is left behind and the run closes cancelled.
func TestCancelDuringInjectLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.extraEnv = append(e.extraEnv, "GAMEDAY_FAILPOINTS=inject-delay=4s")
	e.workerProcess()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sc, _ := e.scenario("demo-inventory-latency-harmless", shorten(time.Minute))
	run := e.start(ctx, sc)
	e.waitPhase(ctx, run.GetID(), experiment.PhaseInject)
	time.Sleep(time.Second)
	require.Empty(t, e.faults(), "the inject has not landed yet")
	require.NoError(t, e.client.CancelWorkflow(ctx, run.GetID(), ""))
	var r experiment.Result
	require.NoError(t, run.Get(ctx, &r))
	assert.Equal(t, experiment.Cancelled, r.Outcome)
	assert.Empty(t, e.faults(), "the late inject was removed")
	require.Len(t, r.RecoverLog, 1)
	assert.True(t, r.RecoverLog[0].Removed, "recover found the fault that landed after the cancel")
}

func phase(r experiment.Result, name string) *experiment.Phase {
	for i := range r.Phases {
		if r.Phases[i].Name == name {
			return &r.Phases[i]
		}
	}
	return nil
}
