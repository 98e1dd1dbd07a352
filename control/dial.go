package control

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	sdklog "go.temporal.io/sdk/log"
)

// Dial connects to Temporal with the SDK's environment configuration
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, profiles), at
// hostPort when set (gameday dev points at the server it started). A nil
// logger discards the SDK's log. Options add tracing and metrics
// (WithTracing, WithMetrics).
func Dial(ctx context.Context, hostPort string, logger *slog.Logger, options ...DialOption) (client.Client, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return nil, fmt.Errorf("temporal client configuration: %w", err)
	}
	if hostPort != "" {
		opts.HostPort = hostPort
	}
	if opts.HostPort == "" {
		opts.HostPort = "127.0.0.1:7233"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts.Logger = sdklog.NewStructuredLogger(logger)
	for _, o := range options {
		if err := o(&opts); err != nil {
			return nil, err
		}
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w; is it running? `make run` starts a local one", opts.HostPort, opts.Namespace, err)
	}
	return c, nil
}

// NoWorker reports whether the server says nothing polls the task queue's
// workflow tasks: a run started there waits until a worker starts. False
// when the server cannot tell (the question is only worth a warning).
func NoWorker(ctx context.Context, c client.Client, taskQueue string) bool {
	resp, err := c.DescribeTaskQueue(ctx, taskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW)
	return err == nil && len(resp.GetPollers()) == 0
}
