package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// TemporalOptions configure a dev server.
type TemporalOptions struct {
	Bin string // default: Tool(ToolsDir, "temporal")
	// ToolsDir holds the binaries built by `make tools`
	// (config.Config.ToolsDir; empty: the default).
	ToolsDir  string
	DBFile    string // SQLite file; empty means in-memory
	Port      int    // 0: pick a free port
	UIPort    int    // 0: pick a free port; -1: headless
	Namespace string // default "default"
	Log       io.Writer
}

// Temporal is a running dev server.
type Temporal struct {
	*Proc
	Address   string
	UIURL     string // empty when headless
	Namespace string
}

// StartTemporal starts `temporal server start-dev` and waits until its
// frontend answers health checks. When it picked the ports itself and the
// server exits at start (start-dev binds more ports than the one it is
// given, and another process may take one between FreePort and the bind),
// it tries again with fresh ports, up to three times.
func StartTemporal(ctx context.Context, o TemporalOptions) (*Temporal, error) {
	ownPorts := o.Port == 0 && o.UIPort <= 0
	var err error
	for try := 1; ; try++ {
		var t *Temporal
		t, err = startTemporalOnce(ctx, o)
		if err == nil || !ownPorts || try == 3 || ctx.Err() != nil || !strings.Contains(err.Error(), "exited") {
			return t, err
		}
	}
}

func startTemporalOnce(ctx context.Context, o TemporalOptions) (*Temporal, error) {
	var err error
	if o.Bin == "" {
		if o.Bin, err = Tool(o.ToolsDir, "temporal"); err != nil {
			return nil, err
		}
	}
	if o.Port == 0 {
		if o.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(o.Port),
		"--namespace", o.Namespace, "--log-level", "warn",
		"--dynamic-config-value", "frontend.enableServerVersionCheck=false"}
	t := &Temporal{Address: fmt.Sprintf("127.0.0.1:%d", o.Port), Namespace: o.Namespace}
	switch {
	case o.UIPort < 0:
		args = append(args, "--headless")
	default:
		if o.UIPort == 0 {
			if o.UIPort, err = FreePort(); err != nil {
				return nil, err
			}
		}
		args = append(args, "--ui-port", strconv.Itoa(o.UIPort))
		t.UIURL = fmt.Sprintf("http://127.0.0.1:%d", o.UIPort)
	}
	if o.DBFile != "" {
		args = append(args, "--db-filename", o.DBFile)
	}
	t.Proc, err = startProc("temporal dev server", o.Bin, args, o.Log)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err = waitReady(wctx, t.Proc, "temporal dev server at "+t.Address, func(ctx context.Context) error {
		c, err := client.DialContext(ctx, client.Options{HostPort: t.Address, Namespace: o.Namespace, Logger: quietLogger()})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
		if err != nil {
			return err
		}
		// The namespace is registered a moment after the frontend is up.
		_, err = c.DescribeWorkflowExecution(ctx, "gameday-readiness-probe", "")
		if err != nil && !isNotFound(err) {
			return err
		}
		return nil
	})
	if err != nil {
		_ = t.Stop(5 * time.Second)
		return nil, err
	}
	return t, nil
}

// Dial returns a client for the server.
func (t *Temporal) Dial(ctx context.Context) (client.Client, error) {
	return client.DialContext(ctx, client.Options{HostPort: t.Address, Namespace: t.Namespace, Logger: quietLogger()})
}

// quietLogger keeps the SDK's client chatter out of the stack's output.
func quietLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}
