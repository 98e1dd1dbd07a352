// Command gameday runs chaos-engineering game days as durable Temporal
// workflows: one binary for the worker, the CLI and the local stack.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	_ "github.com/gameday/gameday/chaos/all" // registers every back-end
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/telemetry"
)

// Exit codes of `gameday run --wait` (and every command).
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitNotPassd = 3
)

// exitErr carries an exit code through cobra.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitErr) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitErr{code: exitUsage, err: fmt.Errorf(format, a...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{}
	root := newRootFor(a, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	// The client's spans (a run's start) are exported before exiting.
	if terr := a.stopTracing(); terr != nil {
		fmt.Fprintln(stderr, "gameday: tracing:", terr)
	}
	if err == nil {
		return exitOK
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code != exitNotPassd {
			fmt.Fprintln(stderr, "gameday:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "gameday:", err)
	return exitError
}

// app is what every command shares: the configuration, read once from the
// environment before any command runs, and where Temporal is.
type app struct {
	cfg config.Config
	// temporalAddress, when set, overrides the frontend address the SDK's
	// envconfig reads (gameday dev points at the server it started).
	temporalAddress string
	// tracing of the clients this command dials (OTEL_EXPORTER_OTLP_ENDPOINT),
	// made on first use; dialOptions replaces it (the worker's own).
	tracing     *telemetry.Tracing
	dialOptions []control.DialOption
}

func newRoot(stdout, stderr io.Writer) *cobra.Command { return newRootFor(&app{}, stdout, stderr) }

func newRootFor(a *app, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "gameday",
		Short: "Run chaos-engineering game days as durable Temporal workflows",
		Long: `gameday runs chaos experiments as durable Temporal workflows:
define -> sign-off -> inject -> observe -> recover -> verify -> report.
A Prometheus SLI guard aborts a run the moment it breaches, and whatever was
injected is always removed, even after a worker crash.

` + config.EnvHelp(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// The one read of the environment: every command gets a.cfg.
		// Malformed values are reported by the commands that use them
		// (cfg.Validate and each section's check), so that a bad
		// GAMEDAY_SLACK_POLL does not stop `gameday run`.
		PersistentPreRun: func(*cobra.Command, []string) { a.cfg = config.FromEnv() },
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitErr{code: exitUsage, err: fmt.Errorf("%w\nsee '%s --help'", err, c.CommandPath())}
	})
	root.AddCommand(
		newWorkerCmd(a),
		newScenariosCmd(),
		newRunCmd(a),
		newSignoffCmd(a),
		newAbortCmd(a),
		newPauseCmd(a),
		newResumeCmd(a),
		newNoteCmd(a),
		newStatusCmd(a),
		newGameDayCmd(a),
		newReportCmd(a),
		newScoreCmd(a),
		newMaturityCmd(a),
		newChecklistCmd(a),
		newSweepCmd(a),
		newScheduleCmd(a),
		newFreezeCmd(a),
		newReapCmd(a),
		newSlackCmd(a),
		newDevCmd(a),
		newDemoCmd(a),
	)
	return root
}

// args wraps a cobra positional-args check so that a wrong count is a
// usage error (exit 2).
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return &exitErr{code: exitUsage, err: fmt.Errorf("%w\nusage: %s", err, cmd.UseLine())}
		}
		return nil
	}
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// withClient dials Temporal, hands fn the client and closes it.
func (a *app) withClient(ctx context.Context, fn func(client.Client) error) error {
	c, err := a.dial(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

// writeJSON prints v as one indented JSON object (--json).
func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// dial connects to Temporal (control.Dial), at a.temporalAddress when set,
// traced when OTEL_EXPORTER_OTLP_ENDPOINT says where spans go: a run
// started here is then one trace from its start to its report.
func (a *app) dial(ctx context.Context, logger *slog.Logger) (client.Client, error) {
	opts := a.dialOptions
	if opts == nil {
		t, err := a.clientTracing()
		if err != nil {
			return nil, err
		}
		opts = []control.DialOption{control.WithTracing(t)}
	}
	return control.Dial(ctx, a.temporalAddress, logger, opts...)
}

// clientTracing is the CLI's tracer provider (service "gameday"), made once.
func (a *app) clientTracing() (telemetry.Tracing, error) {
	if a.tracing == nil {
		if err := a.cfg.Telemetry.Validate(); err != nil {
			return telemetry.Off(), err
		}
		t, err := telemetry.NewTracing(a.cfg.Telemetry.OTLPEndpoint, telemetry.ServiceCLI)
		if err != nil {
			return telemetry.Off(), err
		}
		a.tracing = &t
	}
	return *a.tracing, nil
}

// stopTracing exports the command's spans (bounded: a collector that is
// down must not hang the CLI).
func (a *app) stopTracing() error {
	if a.tracing == nil {
		return nil
	}
	return a.tracing.Stop(5 * time.Second)
}
