// Package devstack starts the real servers of the local stack (Temporal dev
// server with its Web UI, Prometheus) as child processes on 127.0.0.1. Both
// `gameday dev` (make run) and the integration tests use it, so what the
// tests exercise is what users run.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gameday/gameday/config"
)

// toolsDir is dir, or where `make tools` puts the server binaries by
// default (outside the clone, so a fresh clone on the same machine reuses
// them). dir is config.Config.ToolsDir (GAMEDAY_TOOLS_DIR).
func toolsDir(dir string) string {
	if dir != "" {
		return dir
	}
	return config.DefaultToolsDir()
}

// Tool returns the path of a built server binary in dir (the configured
// tools dir; empty means the default), or an error telling the user how to
// build it.
func Tool(dir, name string) (string, error) {
	p := filepath.Join(toolsDir(dir), name)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", fmt.Errorf("%s not found at %s: run `make tools` (builds it from Go modules; set GAMEDAY_TOOLS_DIR to use another folder)", name, p)
	}
	return p, nil
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// retryOnEarlyExit runs start up to three times while it fails because the
// server exited before it was ready: ports FreePort found free can be
// taken (by another server, or as the local port of an outgoing
// connection) before the server binds them. start picks fresh ports each
// time; exited must be read before the failed server is stopped.
func retryOnEarlyExit[T any](start func() (_ T, exited bool, _ error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, exited, err := start()
		if err == nil || !exited || attempt == 3 {
			return v, err
		}
	}
}

// Proc is a child server process.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(name, path string, args []string, logw io.Writer) (*Proc, error) {
	cmd := exec.Command(path, args...)
	if logw == nil {
		logw = io.Discard
	}
	cmd.Stdout, cmd.Stderr = logw, logw
	// The server dies with us even if we are SIGKILLed: no orphan servers
	// holding ports after a crashed test run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, path, err)
	}
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Exited reports an early exit (nil while running).
func (p *Proc) Exited() error {
	select {
	case <-p.done:
		if p.err == nil {
			return fmt.Errorf("%s exited", p.Name)
		}
		return fmt.Errorf("%s exited: %w", p.Name, p.err)
	default:
		return nil
	}
}

// Stop asks the server to shut down (SIGINT) and kills it after timeout.
func (p *Proc) Stop(timeout time.Duration) error {
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s; killed", p.Name, timeout)
	}
}

// waitReady polls ready until it succeeds, the process dies, or ctx ends.
func waitReady(ctx context.Context, p *Proc, what string, ready func(context.Context) error) error {
	var last error
	for {
		if err := p.Exited(); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(cctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last error: %v)", what, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

var errNotReady = errors.New("not ready")

// httpOK is a readiness probe: GET url (with a bearer token when given)
// must answer 200.
func httpOK(ctx context.Context, c *http.Client, url, token string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%w: %s answered %s: %s", errNotReady, url, resp.Status, body)
	}
	return nil
}
