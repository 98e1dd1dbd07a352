package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/demo"
	"github.com/gameday/gameday/deploy"
	"github.com/gameday/gameday/internal/devstack"
	"github.com/gameday/gameday/schedules"
	"github.com/gameday/gameday/sli/probe"
	"github.com/gameday/gameday/telemetry"
	"github.com/gameday/gameday/worker"
	"github.com/gameday/gameday/workflows"
)

type devFlags struct {
	dataDir                                  string
	scenario                                 string
	noExperiment, noSchedule                 bool
	temporalPort, uiPort, promPort, toxiPort int
	orderPort, inventoryPort                 int
	jaegerPort, otlpPort                     int
	fallback                                 bool
}

// demoMode is the shop gameday demo and gameday dev run: the seed's order
// path, without its fallbacks when --fallback=false or
// GAMEDAY_DEMO_FALLBACK=off (the flag wins when given).
func demoMode(cmd *cobra.Command, fallback bool, cfg config.Config) (demo.Mode, error) {
	if !cmd.Flags().Changed("fallback") {
		if cfg.DemoErr != nil {
			return "", usageErr("%v", cfg.DemoErr)
		}
		fallback = cfg.DemoFallback
	}
	if fallback {
		return demo.ModeSeed, nil
	}
	return demo.ModeNoFallback, nil
}

const fallbackUsage = "keep the demo shop's fallbacks (backup inventory, local cache); false builds it without them (default $GAMEDAY_DEMO_FALLBACK or on)"

func newDevCmd(a *app) *cobra.Command {
	var f devFlags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole local stack in the foreground (what `make run` does)",
		Long: `Start, on 127.0.0.1: a Temporal dev server with its Web UI (history
persisted to a SQLite file in the data dir), the demo group-buy shop (the
seed's order path: order service -> toxiproxy links -> inventory, backup
inventory, payment, coupon and a Redis cache, with steady load; --fallback=false
builds it without the fallbacks), a
Prometheus server scraping the shop every second, and a worker. Then start
one demo experiment and follow it. Ctrl-C stops everything.

The servers are the binaries built by 'make tools' (GAMEDAY_TOOLS_DIR,
default ~/.cache/gameday/bin).`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("data-dir") {
				f.dataDir = a.cfg.DataDir
			}
			mode, err := demoMode(cmd, f.fallback, a.cfg)
			if err != nil {
				return err
			}
			f.fallback = mode == demo.ModeSeed
			return runDev(cmd.Context(), a, cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", "", "state folder: Temporal SQLite file, Prometheus TSDB, postmortems (default $GAMEDAY_DATA_DIR or .data)")
	fl.StringVar(&f.scenario, "scenario", "demo-inventory-latency", "demo experiment to start once the stack is up")
	fl.BoolVar(&f.noExperiment, "no-experiment", false, "bring the stack up without starting an experiment")
	fl.BoolVar(&f.noSchedule, "no-schedule", false, "do not apply the demo schedule (schedules/demo.yaml: a harmless scheduled run every 3 minutes)")
	fl.IntVar(&f.temporalPort, "temporal-port", 7233, "Temporal frontend port")
	fl.IntVar(&f.uiPort, "ui-port", 8233, "Temporal Web UI port")
	fl.IntVar(&f.promPort, "prometheus-port", 9090, "Prometheus port")
	fl.IntVar(&f.toxiPort, "toxiproxy-port", 8474, "toxiproxy API port")
	fl.IntVar(&f.orderPort, "order-port", 8081, "demo order service port (serves /metrics too)")
	fl.IntVar(&f.inventoryPort, "inventory-port", 8082, "demo inventory service port")
	fl.IntVar(&f.jaegerPort, "jaeger-port", 16686, "Jaeger UI and query API port (when Jaeger is built and OTEL_EXPORTER_OTLP_ENDPOINT is unset)")
	fl.IntVar(&f.otlpPort, "otlp-port", 4318, "port of the local Jaeger's OTLP/HTTP receiver")
	fl.BoolVar(&f.fallback, "fallback", true, fallbackUsage)
	return cmd
}

func runDev(ctx context.Context, a *app, out io.Writer, f devFlags) error {
	say := func(format string, a ...any) { fmt.Fprintf(out, "==> "+format+"\n", a...) }
	dataDir, err := filepath.Abs(f.dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	logs, err := os.OpenFile(filepath.Join(dataDir, "servers.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logs.Close()
	// The worker's own log (activity retries while Prometheus fills up, and
	// so on) goes to a file: the terminal shows the run's phases.
	wlog, err := os.OpenFile(filepath.Join(dataDir, "worker.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer wlog.Close()
	logger := newLogger(wlog)

	say("starting Temporal dev server on 127.0.0.1:%d (history in %s)", f.temporalPort, filepath.Join(dataDir, "temporal.db"))
	tmp, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{ToolsDir: a.cfg.ToolsDir, DBFile: filepath.Join(dataDir, "temporal.db"), Port: f.temporalPort, UIPort: f.uiPort, Log: logs})
	if err != nil {
		return err
	}
	defer tmp.Stop(10 * time.Second)

	// Traces: to the configured OTLP endpoint, or to a local Jaeger when
	// make tools built one; off otherwise.
	tel := a.cfg.Telemetry
	if err := tel.Validate(); err != nil {
		return err
	}
	jaegerUI := ""
	if !tel.Tracing() {
		if _, err := devstack.Tool(a.cfg.ToolsDir, "jaeger"); err != nil {
			say("tracing off: %v", err)
		} else {
			say("starting Jaeger (traces in memory) on 127.0.0.1:%d, OTLP/HTTP on :%d", f.jaegerPort, f.otlpPort)
			j, err := devstack.StartJaeger(ctx, devstack.JaegerOptions{ToolsDir: a.cfg.ToolsDir, Dir: filepath.Join(dataDir, "jaeger"), OTLPPort: f.otlpPort, QueryPort: f.jaegerPort, Log: logs})
			if err != nil {
				return err
			}
			defer j.Stop(10 * time.Second)
			tel.OTLPEndpoint, jaegerUI = j.OTLPEndpoint, j.QueryURL
		}
	}
	if tel.MetricsAddr == "" {
		tel.MetricsAddr = config.DevMetricsAddr
	}
	shopTracing, err := telemetry.NewTracing(tel.OTLPEndpoint, telemetry.ServiceDemo, telemetry.SampleRoots(demo.LoadSampleRatio))
	if err != nil {
		return err
	}
	defer shopTracing.Stop(5 * time.Second)

	mode := demo.ModeSeed
	if !f.fallback {
		mode = demo.ModeNoFallback
	}
	say("starting demo shop, %s (order :%d -> toxiproxy links -> inventory :%d, backup inventory, payment, coupon, cache; toxiproxy API :%d)", mode, f.orderPort, f.inventoryPort, f.toxiPort)
	shop, err := demo.Start(ctx, demo.Config{
		Mode:          mode,
		OrderAddr:     fmt.Sprintf("127.0.0.1:%d", f.orderPort),
		InventoryAddr: fmt.Sprintf("127.0.0.1:%d", f.inventoryPort),
		ToxiproxyAddr: fmt.Sprintf("127.0.0.1:%d", f.toxiPort),
		Logger:        logger,
		Tracing:       shopTracing,
	})
	if err != nil {
		return fmt.Errorf("demo shop: %w", err)
	}
	defer shop.Close()

	say("starting Prometheus on 127.0.0.1:%d scraping %s and the worker's %s every 1s, with gameday's rules", f.promPort, shop.MetricsTarget(), tel.MetricsAddr)
	prom, err := devstack.StartPrometheus(ctx, devstack.PrometheusOptions{
		ToolsDir: a.cfg.ToolsDir, DataDir: filepath.Join(dataDir, "prometheus"), Port: f.promPort,
		Targets: []string{shop.MetricsTarget()},
		Jobs:    []devstack.ScrapeJob{{Name: devstack.WorkerJob, Targets: []string{telemetry.Dialable(tel.MetricsAddr)}}},
		Rules:   [][]byte{deploy.PrometheusRules},
		Log:     logs,
	})
	if err != nil {
		return err
	}
	defer prom.Stop(10 * time.Second)

	cfg := a.cfg
	// The local stack needs no cluster: a kubeconfig left pointing at a
	// stopped minikube or an unreachable VPN must not stop the demo. Set
	// GAMEDAY_KUBE=auto or on to use a cluster from `gameday dev`.
	if cfg.Kube.Mode == "" {
		cfg.Kube.Mode = "off"
	}
	cfg.DataDir = dataDir
	if cfg.ProbeAllow == "" {
		// Probe guards may reach the local shop: everything here is on
		// this machine. A real worker without GAMEDAY_PROBE_ALLOW refuses
		// every probe.
		cfg.ProbeAllow = probe.Loopback
	}
	if len(cfg.Users) == 0 {
		// On the local stack the one person at the keyboard may sign every
		// role of the demo gates; a real worker without GAMEDAY_ROLES lets
		// nobody sign.
		me := localUser()
		cfg.Users = map[string][]string{me: {"dev", "test", "sre"}}
		say("sign-off: %s holds dev, test and sre on this local stack (GAMEDAY_ROLES changes it), e.g. bin/gameday signoff RUN --role dev --user %s", me, me)
	}
	// The local servers need no credentials: the ones in the environment
	// (for a real Prometheus or toxiproxy) are not sent to them.
	cfg.PrometheusURL, cfg.PrometheusAuth = prom.URL, config.Credentials{}
	cfg.ToxiproxyURL, cfg.ToxiproxyAuth = shop.ToxiproxyURL(), config.Credentials{}
	cfg.UIURL = tmp.UIURL
	cfg.Telemetry = tel
	if cfg.TraceURL == "" && jaegerUI != "" {
		cfg.TraceURL = jaegerUI // reports link a run's trace id to the local Jaeger
	}
	// Everything here (worker, schedules, the demo run) talks to the
	// servers just started, whatever the environment names.
	local := &app{cfg: cfg, temporalAddress: tmp.Address}
	defer local.stopTracing()
	sig, err := worker.NewSignals(tel)
	if err != nil {
		return err
	}
	defer sig.Close()
	c, err := control.Dial(ctx, tmp.Address, logger, sig.DialOptions()...)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := worker.EnsureSearchAttributes(ctx, c, cfg.Namespace); err != nil {
		return err
	}
	acts, err := worker.NewActivitiesWithClient(c, cfg, logger, worker.WithSignals(sig))
	if err != nil {
		return err
	}
	metrics, err := sig.Serve(tel.MetricsAddr, c, acts, logger)
	if err != nil {
		return err
	}
	w := worker.New(c, cfg, acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer w.Stop()
	worker.LogStart(logger, cfg)

	if all, err := checklists.Catalog(); err == nil {
		for _, cl := range all {
			if id, _, err := control.EnsureChecklistSchedule(ctx, c, cfg.TaskQueue, cl, quarter); err != nil {
				say("checklist schedule for %s: %v", cl.Metadata.Name, err)
			} else {
				say("checklist %s is reviewed quarterly by schedule %s", cl.Metadata.Name, id)
			}
		}
	}

	if id, _, err := control.EnsureSweepSchedule(ctx, c, cfg.TaskQueue, workflows.DefaultSweepEvery); err != nil {
		say("sweep schedule: %v", err)
	} else {
		say("orphaned faults are swept every %s by schedule %s", workflows.DefaultSweepEvery, id)
	}

	if !f.noSchedule {
		applyDemoSchedule(ctx, local, c, say)
	}

	say("stack is up:")
	fmt.Fprintf(out, "    Temporal UI   %s\n    Temporal      %s\n    Prometheus    %s\n    order service %s (metrics %s)\n    toxiproxy API %s\n    worker        %s/metrics (%s/readyz)\n    postmortems   %s\n    server logs   %s\n    worker log    %s\n",
		config.RedactURL(tmp.UIURL), tmp.Address, config.RedactURL(cfg.PrometheusURL), config.RedactURL(shop.OrderURL()), config.RedactURL(shop.MetricsURL()),
		config.RedactURL(cfg.ToxiproxyURL), metrics.URL, metrics.URL, cfg.PostmortemDir(), logs.Name(), wlog.Name())
	switch {
	case jaegerUI != "":
		fmt.Fprintf(out, "    Jaeger UI     %s (a run's trace: the trace id in gameday status and the postmortem)\n", jaegerUI)
	case tel.Tracing():
		fmt.Fprintf(out, "    traces        %s\n", config.RedactURL(tel.OTLPEndpoint))
	}
	fmt.Fprintf(out, "    try (another terminal): bin/gameday run demo-inventory-latency-harmless --wait\n")
	fmt.Fprint(out, seedExperiments(f.fallback))

	if !f.noExperiment {
		say("starting demo experiment %s (the define phase waits until Prometheus has data)", f.scenario)
		err := runExperiment(ctx, local, out, out, f.scenario, runFlags{wait: true, by: "make run"})
		if err != nil && ctx.Err() == nil {
			if ee, ok := err.(*exitErr); !ok || ee.code != exitNotPassd {
				fmt.Fprintf(out, "demo experiment: %v\n", err)
			}
		}
	}
	say("stack keeps running; Ctrl-C stops it")
	<-ctx.Done()
	say("stopping")
	return nil
}

// applyDemoSchedule applies schedules/demo.yaml, so a newcomer sees a
// scheduled run appear in the Temporal UI within minutes, and says how to
// remove it. A failure is reported, not fatal: the stack is still useful.
func applyDemoSchedule(ctx context.Context, a *app, c client.Client, say func(string, ...any)) {
	f, src, err := schedules.Open("demo")
	if err == nil {
		var res control.Applied
		res, err = control.Launcher{Client: c, Config: a.cfg}.ApplySchedules(ctx, f, src, false)
		if err == nil {
			say("demo schedule applied (%s): %s", schedules.Summary(res.Plan), strings.Join(slices.Sorted(maps.Values(res.What)), "; "))
		}
	}
	if err != nil {
		say("demo schedule: %v", err)
		return
	}
	for _, e := range f.Spec.Schedules {
		id := schedules.ScheduleID(f.Metadata.Name, e.Name)
		if d, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx); err == nil && len(d.Info.NextActionTimes) > 0 {
			say("first scheduled run %s at %s: watch it in the Temporal UI (Schedules, then Workflows)", id, d.Info.NextActionTimes[0].Local().Format(time.TimeOnly))
		}
	}
	say("remove it: bin/gameday schedule delete %s (or start with --no-schedule); bin/gameday schedule list shows it", f.Metadata.Name)
}

// localUser names the person running the local stack, for its sign-off
// roles.
func localUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "local"
}

// seedExperiments lists the local versions of the seed's experiments with
// the outcome each should have on the shop that is running.
func seedExperiments(fallback bool) string {
	var b strings.Builder
	b.WriteString("    the seed's experiments, locally (bin/gameday run NAME --wait):\n")
	for _, e := range []struct{ name, with, without string }{
		{"demo-seed-inventory-delay", "passed: delayed calls go to the backup inventory; gate demo-seed passes on evidence", "aborted: error-rate; gate demo-seed fails (cb-fallback: no fallback, 5xx)"},
		{"demo-seed-inventory-outage", "passed: the breaker opens, the backup serves; gate shows the fallback ratio", "aborted: error-rate; gate demo-seed fails"},
		{"demo-seed-payment-timeout", "passed: a hung payment costs one retry; the budget holds", "passed: payment has no fallback to lose"},
		{"demo-seed-cache-slow", "passed: the local cache serves, no stampede", "aborted: error-rate"},
		{"demo-seed-cache-down", "passed: the local cache serves, no stampede", "aborted: error-rate"},
	} {
		expect := e.with
		if !fallback {
			expect = e.without
		}
		fmt.Fprintf(&b, "      %-28s expect %s\n", e.name, expect)
	}
	return b.String()
}

func newDemoCmd(a *app) *cobra.Command {
	var cfg demo.Config
	var fallback bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run only the demo group-buy shop (order, inventory, backup inventory, payment, coupon, cache, their toxiproxy links, load)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logger = newLogger(cmd.ErrOrStderr())
			mode, err := demoMode(cmd, fallback, a.cfg)
			if err != nil {
				return err
			}
			cfg.Mode = mode
			if err := a.cfg.Telemetry.Validate(); err != nil {
				return err
			}
			tr, err := telemetry.NewTracing(a.cfg.Telemetry.OTLPEndpoint, telemetry.ServiceDemo, telemetry.SampleRoots(demo.LoadSampleRatio))
			if err != nil {
				return err
			}
			defer tr.Stop(5 * time.Second)
			cfg.Tracing = tr
			return demo.Run(cmd.Context(), cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.OrderAddr, "order-addr", "127.0.0.1:8081", "order service listen address (serves /metrics)")
	cmd.Flags().StringVar(&cfg.InventoryAddr, "inventory-addr", "127.0.0.1:8082", "inventory service listen address")
	cmd.Flags().StringVar(&cfg.ToxiproxyAddr, "toxiproxy-addr", "127.0.0.1:8474", "toxiproxy API listen address")
	cmd.Flags().IntVar(&cfg.LoadRPS, "load-rps", 20, "steady load on the order service, requests per second (negative disables)")
	cmd.Flags().BoolVar(&fallback, "fallback", true, fallbackUsage)
	return cmd
}
