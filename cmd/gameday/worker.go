package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/worker"
)

func newWorkerCmd(a *app) *cobra.Command {
	var kubeContext string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker that executes experiments",
		Long: `Run a Temporal worker for experiment workflows and their activities.
Registers gameday's search attributes on the namespace if missing. Stops on
Ctrl-C / SIGTERM. Run several for availability: a dead worker's guard moves to
another within seconds.

` + config.EnvHelp(),
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := a.cfg
			if kubeContext != "" {
				cfg.Kube.Context = kubeContext
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if err := cfg.CheckSecretFiles(); err != nil {
				return err
			}
			logger := newLogger(cmd.ErrOrStderr())
			sig, err := worker.NewSignals(cfg.Telemetry)
			if err != nil {
				return err
			}
			defer sig.Close()
			// The worker's client carries its metrics handler and tracing
			// interceptor: the worker built on it inherits both.
			a.dialOptions = sig.DialOptions()
			c, err := a.dial(cmd.Context(), logger)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := worker.EnsureSearchAttributes(cmd.Context(), c, cfg.Namespace); err != nil {
				return err
			}
			acts, err := worker.NewActivitiesWithClient(c, cfg, logger, worker.WithSignals(sig))
			if err != nil {
				return err
			}
			srv, err := sig.Serve(cfg.Telemetry.MetricsAddr, c, acts, logger)
			if err != nil {
				return err
			}
			w := worker.New(c, cfg, acts)
			worker.LogStart(logger, cfg)
			if srv != nil {
				logger.Info("metrics endpoint", "url", srv.URL+"/metrics", "healthz", srv.URL+"/healthz", "readyz", srv.URL+"/readyz")
			}
			if sig.Tracing.On {
				logger.Info("tracing", "otlp_endpoint", config.RedactURL(cfg.Telemetry.OTLPEndpoint))
			}
			stop := make(chan any)
			go func() { <-cmd.Context().Done(); close(stop) }()
			if err := w.Run(stop); err != nil {
				return fmt.Errorf("worker: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeContext, "kube-context", "", "kubeconfig context for the Kubernetes back-ends (like kubectl --context; default GAMEDAY_KUBE_CONTEXT or the current context)")
	return cmd
}
