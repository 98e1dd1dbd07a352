// Package integration runs gameday end to end against real servers: the
// Temporal dev server and Prometheus built by `make tools`, the demo shop
// with its embedded toxiproxy, the worker (in-process or as a separate
// process that tests SIGKILL), and the gameday CLI binary.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"gopkg.in/yaml.v3"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/demo"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/devstack"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/worker"
	"github.com/gameday/gameday/workflows"
)

// Shared across tests: one Temporal dev server and the gameday binary.
var (
	temporalSrv *devstack.Temporal
	gamedayBin  string
	setupErr    error
	queueSeq    atomic.Int64
)

// toolsDir is where `make tools` put the servers (GAMEDAY_TOOLS_DIR).
var toolsDir = config.FromEnv().ToolsDir

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// -short skips everything that needs the servers (see skipIfShort).
	if !isShort() {
		dir, err := os.MkdirTemp("", "gameday-it-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		gamedayBin = filepath.Join(dir, "gameday")
		if out, err := exec.Command("go", "build", "-tags", "failpoints", "-o", gamedayBin, "../cmd/gameday").CombinedOutput(); err != nil {
			setupErr = fmt.Errorf("build gameday: %v\n%s", err, out)
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			temporalSrv, setupErr = devstack.StartTemporal(ctx, devstack.TemporalOptions{ToolsDir: toolsDir, UIPort: -1, Log: logFile(dir, "temporal.log")})
			cancel()
			if setupErr == nil {
				defer temporalSrv.Stop(10 * time.Second)
				c, err := temporalSrv.Dial(context.Background())
				if err == nil {
					setupErr = worker.EnsureSearchAttributes(context.Background(), c, temporalSrv.Namespace)
					c.Close()
				} else {
					setupErr = err
				}
			}
		}
	}
	defer stopKube()
	return m.Run()
}

func isShort() bool {
	for _, a := range os.Args {
		if a == "-test.short=true" || a == "-test.short" {
			return true
		}
	}
	return false
}

func logFile(dir, name string) io.Writer {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return io.Discard
	}
	return f
}

// quiet lets the tests whose outcome depends on the machine's latency run
// alone: every other test holds it shared (once per top-level test, from
// its first env), those hold it exclusively. A waiting exclusive holder
// stops new shared ones, so it gets its turn as soon as the running tests end.
var (
	quiet     sync.RWMutex
	quietHeld sync.Map // top-level test name -> "shared" | "alone"
)

func topName(t testing.TB) string { return strings.SplitN(t.Name(), "/", 2)[0] }

func quietShared(t testing.TB) {
	if _, held := quietHeld.LoadOrStore(topName(t), "shared"); held {
		return // never read-lock twice: a waiting writer would deadlock it
	}
	quiet.RLock()
	t.Cleanup(func() { quietHeld.Delete(topName(t)); quiet.RUnlock() })
}

func quietAlone(t testing.TB) {
	if v, held := quietHeld.Load(topName(t)); held {
		require.Equal(t, "alone", v, "a test must ask to run alone before its first shared env")
		return
	}
	quiet.Lock()
	quietHeld.Store(topName(t), "alone")
	t.Cleanup(func() { quietHeld.Delete(topName(t)); quiet.Unlock() })
}

// env is one test's private world: its own demo shop, Prometheus scraping
// it, a task queue and (unless the test runs its own) an in-process worker.
type env struct {
	t        testing.TB
	temporal *devstack.Temporal // the server this env's runs live on
	shop     *demo.Shop
	prom     *devstack.Prometheus
	client   client.Client
	backend  *toxiproxy.Backend
	cfg      config.Config
	worker   sdkworker.Worker
	// signals are the in-process worker's metrics and tracing (nil: none).
	signals *worker.Signals
	acts    *activities.Activities // the in-process worker's
	// extraEnv is added to every gameday subprocess's environment.
	extraEnv []string
}

// envOptions change what newEnvOpts builds.
type envOptions struct {
	// shop configures the demo shop (zero: the plain shop).
	shop demo.Config
	// temporal is the server to use (default: the shared headless one).
	temporal *devstack.Temporal
	// signals give the in-process worker metrics and tracing: its client
	// is dialed with their options, its activities record into them.
	signals *worker.Signals
	// promJobs and promRules are more scrape jobs and rule files for the
	// env's Prometheus.
	promJobs  []devstack.ScrapeJob
	promRules [][]byte
}

func newEnv(t testing.TB, startWorker bool) *env {
	t.Helper()
	return newEnvWith(t, startWorker, demo.Config{})
}

// newEnvWith is newEnv with the demo shop built from shopCfg (newEnv: the
// plain shop the platform tests are written against).
func newEnvWith(t testing.TB, startWorker bool, shopCfg demo.Config) *env {
	t.Helper()
	return newEnvOpts(t, startWorker, envOptions{shop: shopCfg})
}

// newEnvOpts is newEnv with every option.
func newEnvOpts(t testing.TB, startWorker bool, o envOptions) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the Temporal dev server and Prometheus (make tools)")
	}
	require.NoError(t, setupErr, "integration setup (run `make tools` first)")
	if o.shop.Mode == demo.ModeSeed || o.shop.Mode == demo.ModeNoFallback {
		// The seed shop's outcome is its latency: its 80 ms hop caps turn a
		// machine busy with other tests into failed orders.
		quietAlone(t)
	} else {
		quietShared(t)
	}
	ctx := context.Background()
	e := &env{t: t, temporal: o.temporal, signals: o.signals}
	if e.temporal == nil {
		e.temporal = temporalSrv
	}
	var err error
	e.shop, err = demo.Start(ctx, o.shop)
	require.NoError(t, err)
	t.Cleanup(func() { e.shop.Close() })
	dir := t.TempDir()
	e.prom, err = devstack.StartPrometheus(ctx, devstack.PrometheusOptions{ToolsDir: toolsDir, DataDir: filepath.Join(dir, "prom"), Targets: []string{e.shop.MetricsTarget()},
		Jobs: o.promJobs, Rules: o.promRules, Log: logFile(dir, "prom.log")})
	require.NoError(t, err)
	t.Cleanup(func() { e.prom.Stop(10 * time.Second) })
	if e.signals != nil {
		e.client, err = control.Dial(ctx, e.temporal.Address, nil, e.signals.DialOptions()...)
	} else {
		e.client, err = e.temporal.Dial(ctx)
	}
	require.NoError(t, err)
	t.Cleanup(e.client.Close)
	fromEnv := config.FromEnv()
	e.cfg = config.Config{
		TaskQueue:     fmt.Sprintf("it-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), queueSeq.Add(1)),
		PrometheusURL: e.prom.URL,
		ToxiproxyURL:  e.shop.ToxiproxyURL(),
		DataDir:       filepath.Join(dir, "data"),
		UIURL:         "http://127.0.0.1:8233",
		Namespace:     e.temporal.Namespace,
		Users:         testSigners,
		// An in-process worker reads the rest from the test's environment
		// (JIRA_* set by a test, GAMEDAY_KUBE, GAMEDAY_NAMESPACES,
		// GAMEDAY_DISTINCT_SIGNERS), as the gameday subprocesses do.
		Signoff: fromEnv.Signoff,
		Kube:    fromEnv.Kube,
		Safety:  fromEnv.Safety,
		Jira:    fromEnv.Jira,
	}
	e.backend = toxiproxy.New(e.cfg.ToxiproxyURL)
	if startWorker {
		e.startWorker()
	}
	return e
}

func (e *env) startWorker() {
	var opts []worker.Option
	if e.signals != nil {
		opts = append(opts, worker.WithSignals(e.signals))
	}
	acts, err := worker.NewActivitiesWithClient(e.client, e.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
	require.NoError(e.t, err)
	e.acts = acts
	e.worker = worker.New(e.client, e.cfg, acts)
	require.NoError(e.t, e.worker.Start())
	e.t.Cleanup(e.worker.Stop)
}

// environ is what a gameday subprocess (CLI or worker) needs.
func (e *env) environ() []string {
	return append(append(os.Environ(),
		"TEMPORAL_ADDRESS="+e.temporal.Address,
		"TEMPORAL_NAMESPACE="+e.temporal.Namespace,
		"GAMEDAY_TASK_QUEUE="+e.cfg.TaskQueue,
		"PROMETHEUS_URL="+e.cfg.PrometheusURL,
		"TOXIPROXY_URL="+e.cfg.ToxiproxyURL,
		"GAMEDAY_DATA_DIR="+e.cfg.DataDir,
		"TEMPORAL_UI_URL="+e.cfg.UIURL,
		"GAMEDAY_ROLES="+rolesEnv(e.cfg.Users),
	), e.extraEnv...)
}

// testSigners is the workers' sign-off role map (GAMEDAY_ROLES) in these
// tests: who signs is the worker's configuration, not the starter's.
var testSigners = map[string][]string{
	"dana": {"dev"}, "dave": {"dev"}, "tess": {"test"}, "sam": {"sre", "test"},
	"dev-lead": {"dev"}, "test-lead": {"test"}, "sre-lead": {"sre"},
}

// rolesEnv writes a role map the way GAMEDAY_ROLES reads it.
func rolesEnv(users map[string][]string) string {
	var parts []string
	for _, u := range slices.Sorted(maps.Keys(users)) {
		parts = append(parts, u+"="+strings.Join(users[u], "+"))
	}
	return strings.Join(parts, ",")
}

// gameday runs the CLI and returns stdout, stderr and the exit code.
func (e *env) gameday(ctx context.Context, args ...string) (string, string, int) {
	cmd := exec.CommandContext(ctx, gamedayBin, args...)
	cmd.Env = e.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(e.t, ok, "run gameday %v: %v", args, err)
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// workerProcess starts `gameday worker` as a separate process, so a test
// can SIGKILL it like a crashed pod.
func (e *env) workerProcess() *exec.Cmd {
	cmd := exec.Command(gamedayBin, "worker")
	cmd.Env = e.environ()
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(e.t, cmd.Start())
	e.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// scenario loads a catalog scenario, lets the test adjust it, and writes
// it to a file: tests exercise the same loader and file path users do.
func (e *env) scenario(name string, adjust func(*scenarios.Scenario)) (scenarios.Scenario, string) {
	sc, err := scenarios.Find(name)
	require.NoError(e.t, err)
	if adjust != nil {
		adjust(&sc)
	}
	path := e.writeScenario(sc)
	sc, err = scenarios.Load(path)
	require.NoError(e.t, err, "scenario written by the test must validate")
	return sc, path
}

func (e *env) writeScenario(sc scenarios.Scenario) string {
	path := filepath.Join(e.t.TempDir(), sc.Metadata.Name+".yaml")
	writeYAML(e.t, path, sc)
	return path
}

func (e *env) start(ctx context.Context, sc scenarios.Scenario) client.WorkflowRun {
	run, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        workflows.NewExperimentID(sc.Metadata.Name, time.Now()),
		TaskQueue: e.cfg.TaskQueue,
	}, workflows.ExperimentWorkflowName, workflows.ExperimentInput{Scenario: sc, UIBase: e.cfg.UIURL})
	require.NoError(e.t, err)
	return run
}

func (e *env) result(ctx context.Context, run client.WorkflowRun) experiment.Result {
	var r experiment.Result
	require.NoError(e.t, run.Get(ctx, &r))
	return r
}

func (e *env) status(ctx context.Context, id string) (experiment.Result, error) {
	var r experiment.Result
	v, err := e.client.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
	if err != nil {
		return r, err
	}
	return r, v.Get(&r)
}

// waitPhase polls the status query until the run reaches a phase.
func (e *env) waitPhase(ctx context.Context, id, phase string) experiment.Result {
	e.t.Helper()
	var last experiment.Result
	require.Eventually(e.t, func() bool {
		r, err := e.status(ctx, id)
		last = r
		return err == nil && r.Phase == phase
	}, 2*time.Minute, 200*time.Millisecond, "run %s never reached phase %s (last: %s)", id, phase, last.Phase)
	return last
}

// faults lists every gameday toxic still present in the shop's toxiproxy.
func (e *env) faults() []chaos.Injected {
	l, err := e.backend.List(context.Background())
	require.NoError(e.t, err)
	return l
}

func writeYAML(t testing.TB, path string, v any) {
	b, err := yaml.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
}
