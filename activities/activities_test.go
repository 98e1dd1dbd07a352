package activities

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/notify"
	"github.com/gameday/gameday/postmortem"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/signoff"
	"github.com/gameday/gameday/sli"
)

// fakeBackend records calls; faults live in a map keyed by id.
type fakeBackend struct {
	mu        sync.Mutex
	faults    map[string]bool
	injectErr error
}

func (b *fakeBackend) Name() string { return "fake" }
func (b *fakeBackend) Resolve(_ context.Context, f chaos.Fault) ([]string, error) {
	if f.Target.Selector["proxy"] == "missing" {
		return nil, errkind.Permanent(errors.New(`proxy "missing" not found`))
	}
	return []string{"proxy " + f.Target.Selector["proxy"]}, nil
}
func (b *fakeBackend) Inject(_ context.Context, f chaos.Fault) (chaos.Injected, error) {
	if b.injectErr != nil {
		return chaos.Injected{}, b.injectErr
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	existing := b.faults[f.ID]
	b.faults[f.ID] = true
	return chaos.Injected{FaultID: f.ID, Existing: existing}, nil
}
func (b *fakeBackend) Recover(_ context.Context, f chaos.Fault) (chaos.Recovered, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	had := b.faults[f.ID]
	delete(b.faults, f.ID)
	return chaos.Recovered{FaultID: f.ID, Removed: had, AlreadyGone: !had}, nil
}
func (b *fakeBackend) List(context.Context) ([]chaos.Injected, error) { return nil, nil }

// seqQuerier answers each query from a script of values (the last repeats).
type seqQuerier struct {
	mu     sync.Mutex
	values map[string][]float64
	errs   map[string]error
}

func (q *seqQuerier) Query(_ context.Context, query string, _ time.Time) (float64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.errs[query]; err != nil {
		return 0, err
	}
	vs := q.values[query]
	v := vs[0]
	if len(vs) > 1 {
		q.values[query] = vs[1:]
	}
	return v, nil
}

func guard(name string, forN int) sli.Guard {
	return sli.Guard{Name: name, Query: name, Op: sli.OpLE, Threshold: 0.8, For: forN, Interval: duration.Duration(100 * time.Millisecond), OnError: "abort"}
}

func scenario(proxy string, guards ...sli.Guard) scenarios.Scenario {
	return scenarios.Scenario{
		Metadata: scenarios.Metadata{Name: "s", Service: "svc"},
		Spec: scenarios.Spec{
			Target: chaos.Target{Backend: "fake", Selector: map[string]string{"proxy": proxy}},
			Faults: []scenarios.Fault{{Name: "f", Action: "latency", Duration: duration.Duration(time.Second)}},
			Guards: guards,
		},
	}
}

type harness struct {
	acts    *Activities
	backend *fakeBackend
	prom    *seqQuerier
	env     *testsuite.TestActivityEnvironment
	sent    []notify.Message
}

func (h *harness) Notify(_ context.Context, m notify.Message) error {
	h.sent = append(h.sent, m)
	return nil
}

func newHarness(t *testing.T) *harness {
	h := &harness{backend: &fakeBackend{faults: map[string]bool{}}, prom: &seqQuerier{values: map[string][]float64{}, errs: map[string]error{}}}
	h.acts = &Activities{
		Backends:    map[string]chaos.Backend{"fake": h.backend},
		Prom:        h.prom,
		Notifier:    h,
		Postmortems: postmortem.Dir{Path: t.TempDir()},
	}
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	h.acts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h.env = ts.NewTestActivityEnvironment()
	h.env.RegisterActivity(h.acts)
	return h
}

func appErrType(t *testing.T, err error) (string, bool) {
	t.Helper()
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an application error, got %v", err)
	return app.Type(), app.NonRetryable()
}

func TestDefineResolvesTargetsAndBaseline(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.1}
	v, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", guard("p95", 1)), WorkflowID: "wf"})
	require.NoError(t, err)
	var res DefineResult
	require.NoError(t, v.Get(&res))
	assert.Equal(t, []string{"f: proxy inventory"}, res.Targets)
	require.Len(t, res.Baseline, 1)
	assert.True(t, res.Baseline[0].Healthy)
	assert.Equal(t, sli.Float(0.1), res.Baseline[0].Value)
}

func TestDefineErrorsAreClassified(t *testing.T) {
	cases := []struct {
		name         string
		setup        func(h *harness) scenarios.Scenario
		wantType     string
		nonRetryable bool
		wantMsg      string
	}{
		{"unknown proxy", func(h *harness) scenarios.Scenario { return scenario("missing") }, ErrTypePermanent, true, `proxy "missing" not found`},
		{"no backend", func(h *harness) scenarios.Scenario {
			s := scenario("inventory")
			s.Spec.Target.Backend = "kubernetes"
			return s
		}, ErrTypeNoBackend, true, `back-end "kubernetes" is not configured`},
		{"bad promql", func(h *harness) scenarios.Scenario {
			h.prom.errs["p95"] = &sli.BadQueryError{Query: "p95", Msg: "parse error"}
			return scenario("inventory", guard("p95", 1))
		}, ErrTypeBadQuery, true, "parse error"},
		{"unhealthy baseline", func(h *harness) scenarios.Scenario {
			h.prom.values["p95"] = []float64{1.5}
			return scenario("inventory", guard("p95", 1))
		}, ErrTypeNotSteady, true, "steady state not established before injecting: guard p95 = 1.5"},
		{"no data yet", func(h *harness) scenarios.Scenario {
			h.prom.errs["p95"] = sli.ErrNoData
			return scenario("inventory", guard("p95", 1))
		}, "", false, "is the service scraped?"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: c.setup(h), WorkflowID: "wf"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.wantMsg)
			typ, nonRetryable := appErrType(t, err)
			assert.Equal(t, c.nonRetryable, nonRetryable)
			if c.wantType != "" {
				assert.Equal(t, c.wantType, typ)
			}
		})
	}
}

func TestInjectIsIdempotentAndRecoverFindsIt(t *testing.T) {
	h := newHarness(t)
	f := scenario("inventory").ChaosFaults("wf")[0]
	for i, wantExisting := range []bool{false, true} {
		v, err := h.env.ExecuteActivity(h.acts.Inject, InjectInput{Fault: f})
		require.NoError(t, err)
		var res InjectResult
		require.NoError(t, v.Get(&res))
		assert.Equal(t, wantExisting, res.Injected.Existing, "attempt %d", i)
	}
	assert.Len(t, h.backend.faults, 1)
	for _, wantRemoved := range []bool{true, false} {
		v, err := h.env.ExecuteActivity(h.acts.Recover, RecoverInput{Fault: f})
		require.NoError(t, err)
		var res RecoverResult
		require.NoError(t, v.Get(&res))
		assert.Equal(t, wantRemoved, res.Fault.Removed)
		assert.Equal(t, !wantRemoved, res.Fault.AlreadyGone)
	}
}

func TestInjectPermanentErrorIsNonRetryable(t *testing.T) {
	h := newHarness(t)
	h.backend.injectErr = errkind.Permanent(errors.New("bad params"))
	_, err := h.env.ExecuteActivity(h.acts.Inject, InjectInput{Fault: scenario("inventory").ChaosFaults("wf")[0]})
	typ, nonRetryable := appErrType(t, err)
	assert.True(t, nonRetryable)
	assert.Equal(t, ErrTypePermanent, typ)

	h.backend.injectErr = errors.New("connection refused")
	_, err = h.env.ExecuteActivity(h.acts.Inject, InjectInput{Fault: scenario("inventory").ChaosFaults("wf")[0]})
	_, nonRetryable = appErrType(t, err)
	assert.False(t, nonRetryable, "transient errors are retried")
}

func TestObserveBreachesAfterForConsecutiveBadValues(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.1, 0.9, 0.1, 0.9, 0.9, 0.9}
	h.prom.values["err"] = []float64{0}
	v, err := h.env.ExecuteActivity(h.acts.Observe, ObserveInput{Guards: []sli.Guard{guard("p95", 2), guard("err", 1)}, Hold: time.Minute})
	require.NoError(t, err)
	var res ObserveResult
	require.NoError(t, v.Get(&res))
	require.NotNil(t, res.Breach)
	assert.Equal(t, "p95", res.Breach.Guard)
	assert.Equal(t, sli.Float(0.9), res.Breach.Value)
	assert.Less(t, res.EndedAt.Sub(res.StartedAt), 10*time.Second, "ended on the breach, not the hold")
}

func TestObserveHoldsWithoutBreach(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.1}
	v, err := h.env.ExecuteActivity(h.acts.Observe, ObserveInput{Guards: []sli.Guard{guard("p95", 1)}, Hold: 500 * time.Millisecond})
	require.NoError(t, err)
	var res ObserveResult
	require.NoError(t, v.Get(&res))
	assert.Nil(t, res.Breach)
	assert.GreaterOrEqual(t, res.EndedAt.Sub(res.StartedAt), 500*time.Millisecond)
	assert.GreaterOrEqual(t, res.Evaluations, 3)
}

func TestObserveResumesFromHeartbeat(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.1}
	// A previous attempt started 59 s ago on a worker that died.
	// The legacy heartbeat payload, as runs started before the upgrade
	// recorded it: started_at.
	h.env.SetHeartbeatDetails(map[string]any{"started_at": time.Now().Add(-59 * time.Second), "evaluations": 500})
	start := time.Now()
	v, err := h.env.ExecuteActivity(h.acts.Observe, ObserveInput{Guards: []sli.Guard{guard("p95", 1)}, Hold: time.Minute})
	require.NoError(t, err)
	var res ObserveResult
	require.NoError(t, v.Get(&res))
	assert.Less(t, time.Since(start), 30*time.Second, "held only what was left of the minute")
	assert.GreaterOrEqual(t, res.Evaluations, 1)
}

func TestObserveQueryErrorsAbort(t *testing.T) {
	h := newHarness(t)
	h.prom.errs["p95"] = errors.New("connection refused")
	v, err := h.env.ExecuteActivity(h.acts.Observe, ObserveInput{Guards: []sli.Guard{guard("p95", 1)}, Hold: time.Minute})
	require.NoError(t, err)
	var res ObserveResult
	require.NoError(t, v.Get(&res))
	require.NotNil(t, res.Breach)
	assert.Equal(t, "connection refused", res.Breach.QueryError)
}

func TestVerify(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{1.2, 1.0, 0.5}
	v, err := h.env.ExecuteActivity(h.acts.Verify, VerifyInput{Guards: []sli.Guard{guard("p95", 1)}, Timeout: time.Minute})
	require.NoError(t, err)
	var res VerifyResult
	require.NoError(t, v.Get(&res))
	assert.True(t, res.OK)
	assert.Equal(t, sli.Float(0.5), res.Values[0].Value)

	h.prom.values["p95"] = []float64{2}
	v, err = h.env.ExecuteActivity(h.acts.Verify, VerifyInput{Guards: []sli.Guard{guard("p95", 1)}, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, v.Get(&res))
	assert.False(t, res.OK, "never healthy within the deadline")
}

func TestReportFilesPostmortemOnlyWhenNotPassed(t *testing.T) {
	h := newHarness(t)
	r := experiment.Result{WorkflowID: "wf/1", Scenario: "s", Service: "svc", Outcome: experiment.Aborted, AbortReason: "guard p95 breached",
		Breach: &sli.Breach{Guard: "p95", Query: "histogram_quantile(...)", Op: "<=", Value: 1.2, Threshold: 0.8}}
	v, err := h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: r})
	require.NoError(t, err)
	var res ReportResult
	require.NoError(t, v.Get(&res))
	require.NotEmpty(t, res.Postmortem)
	assert.Equal(t, "wf_1.md", filepath.Base(res.Postmortem), "file name safe and derived from the workflow id")
	body, err := os.ReadFile(res.Postmortem)
	require.NoError(t, err)
	assert.Contains(t, string(body), "# Game day s: aborted (p95)")
	assert.Contains(t, string(body), "histogram_quantile(...)")
	require.Len(t, h.sent, 1)
	assert.Contains(t, h.sent[0].Text, "aborted (guard p95 breached)")

	// Filing again overwrites the same file: a retried report never duplicates.
	_, err = h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: r})
	require.NoError(t, err)
	files, _ := os.ReadDir(filepath.Dir(res.Postmortem))
	assert.Len(t, files, 1)

	r.Outcome, r.WorkflowID = experiment.Passed, "wf2"
	v, err = h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: r})
	require.NoError(t, err)
	var passed ReportResult
	require.NoError(t, v.Get(&passed))
	assert.Empty(t, passed.Postmortem)
}

// A worker without the fault's back-end must not give up recovering it:
// another worker on the task queue may have the back-end.
func TestRecoverWithoutTheBackendIsRetried(t *testing.T) {
	h := newHarness(t)
	_, err := h.env.ExecuteActivity(h.acts.Recover, RecoverInput{Fault: chaos.Fault{ID: "f1", Name: "kill", Backend: "kubernetes"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `back-end "kubernetes" is not configured on this worker`)
	_, nonRetryable := appErrType(t, err)
	assert.False(t, nonRetryable)
}

// Define resolves who may sign from the worker's own role map when the
// workflow asks, and refuses a gate that can never be completed: an empty
// map means nobody signs (not anyone), and distinct roles need distinct
// people where the worker requires it.
func TestDefineResolvesSignersFromTheWorker(t *testing.T) {
	gated := func(env string) scenarios.Scenario {
		s := scenario("inventory")
		s.Spec.Signoff.Roles = []string{"dev", "sre"}
		s.Metadata.Labels = map[string]string{scenarios.EnvironmentLabel: env}
		return s
	}
	for _, c := range []struct {
		name    string
		users   map[string][]string
		env     string
		want    []signoff.Holders
		wantErr string
	}{
		{"holders", map[string][]string{"dana": {"dev"}, "sam": {"sre", "dev"}, "bob": {"test"}}, "staging",
			[]signoff.Holders{{Role: "dev", Users: []string{"dana", "sam"}}, {Role: "sre", Users: []string{"sam"}}}, ""},
		{"empty map", nil, "staging", nil, "nobody holds the sign-off role dev, sre"},
		{"one person, production", map[string][]string{"sam": {"sre", "dev"}}, "production", nil, "distinct users must sign distinct roles"},
		{"one person, staging", map[string][]string{"sam": {"sre", "dev"}}, "staging",
			[]signoff.Holders{{Role: "dev", Users: []string{"sam"}}, {Role: "sre", Users: []string{"sam"}}}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.acts.Signers = c.users
			h.acts.DistinctSigners = func(env string) bool { return env == "production" }
			v, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: gated(c.env), WorkflowID: "wf", ResolveSigners: true})
			if c.wantErr != "" {
				var app *temporal.ApplicationError
				require.ErrorAs(t, err, &app)
				assert.True(t, app.NonRetryable())
				assert.Contains(t, err.Error(), "sign-off from dev, sre can never be completed: "+c.wantErr)
				return
			}
			require.NoError(t, err)
			var res DefineResult
			require.NoError(t, v.Get(&res))
			assert.Equal(t, c.want, res.Signers)
		})
	}
	// Runs recorded before the worker resolved signers do not ask.
	h := newHarness(t)
	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: gated("production"), WorkflowID: "wf"})
	assert.NoError(t, err)
}

// The worker's GAMEDAY_REQUIRED_SIGNOFF: a scenario file that drops the
// gate its environment needs is refused in define, dry runs included.
func TestDefineRefusesAScenarioWithoutTheRequiredGate(t *testing.T) {
	h := newHarness(t)
	h.acts.Signers = map[string][]string{"dana": {"dev"}, "sam": {"sre"}}
	h.acts.RequiredSignoff = func(env string) []string {
		if env == "production" {
			return []string{"dev", "sre"}
		}
		return nil
	}
	sc := scenario("inventory")
	sc.Metadata.Labels = map[string]string{scenarios.EnvironmentLabel: "production"}
	sc.Spec.Signoff.Roles = []string{"dev"}
	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: sc, WorkflowID: "wf", ResolveSigners: true})
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	assert.True(t, app.NonRetryable())
	assert.Contains(t, err.Error(), "environment production must be signed off by dev, sre (GAMEDAY_REQUIRED_SIGNOFF on the worker); scenario")
	assert.Contains(t, err.Error(), "does not require sre: add it to spec.signoff.roles")

	sc.Spec.Signoff.Roles = []string{"dev", "sre"}
	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: sc, WorkflowID: "wf", ResolveSigners: true})
	assert.NoError(t, err)
	sc.Metadata.Labels = nil
	sc.Spec.Signoff.Roles = nil
	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: sc, WorkflowID: "wf", ResolveSigners: true})
	assert.NoError(t, err, "staging and unlabelled need nothing here")
}
