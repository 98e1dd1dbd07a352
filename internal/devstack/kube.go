package devstack

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// KubeOptions configure a test control plane.
type KubeOptions struct {
	Dir string    // etcd data, keys, kubeconfig, generated files
	Log io.Writer // all five processes log here
	// Controllers starts kube-controller-manager, kube-scheduler and kwok,
	// so Deployments get pods that are scheduled onto fake nodes and Running.
	// Without it only etcd and the API server run (enough for RBAC and CRDs).
	Controllers bool
	// ToolsDir holds the binaries built by `make kube-tools`
	// (config.Config.ToolsDir; empty: the default).
	ToolsDir string
}

// Kube is a running control plane: etcd, kube-apiserver with RBAC and
// service-account tokens, and optionally the controller manager, the
// scheduler and kwok (fake nodes that run pods). Everything listens on
// 127.0.0.1 on free ports.
type Kube struct {
	Host       string // https://127.0.0.1:PORT
	AdminToken string // in group system:masters
	Kubeconfig string // admin kubeconfig (token auth, TLS verification off: self-signed serving cert)
	procs      []*Proc
}

// StartKube starts the control plane and waits until the API server is
// ready. With Controllers the other processes are started but not waited
// for: the caller creates its fake nodes and waits for them to be Ready.
func StartKube(ctx context.Context, o KubeOptions) (k *Kube, err error) {
	bins := map[string]string{}
	names := []string{"etcd", "kube-apiserver"}
	if o.Controllers {
		names = append(names, "kube-controller-manager", "kube-scheduler", "kwok")
	}
	for _, n := range names {
		if bins[n], err = Tool(o.ToolsDir, n); err != nil {
			return nil, fmt.Errorf("%w (Kubernetes tools are built by `make kube-tools`, about 17 minutes cold)", err)
		}
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	k = &Kube{}
	defer func() {
		if err != nil {
			k.Stop(5 * time.Second)
		}
	}()

	// Service-account signing key and the admin token.
	if err := writeRSAKey(filepath.Join(o.Dir, "sa.key"), filepath.Join(o.Dir, "sa.pub")); err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	k.AdminToken = hex.EncodeToString(tok)
	if err := os.WriteFile(filepath.Join(o.Dir, "tokens.csv"), []byte(k.AdminToken+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return nil, err
	}

	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = FreePort(); err != nil {
			return nil, err
		}
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	etcd, err := startProc("etcd", bins["etcd"], []string{
		"--name", "gameday", "--data-dir", filepath.Join(o.Dir, "etcd"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "gameday=" + peerURL,
		"--unsafe-no-fsync", "--log-level", "warn",
	}, o.Log)
	if err != nil {
		return nil, err
	}
	k.procs = append(k.procs, etcd)
	if err := waitReady(ctx, etcd, "etcd at "+clientURL, func(ctx context.Context) error {
		return httpOK(ctx, http.DefaultClient, clientURL+"/health", "")
	}); err != nil {
		return nil, err
	}

	k.Host = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	args := []string{
		"--etcd-servers", clientURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(apiPort),
		"--cert-dir", filepath.Join(o.Dir, "certs"),
		"--token-auth-file", filepath.Join(o.Dir, "tokens.csv"),
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(o.Dir, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(o.Dir, "sa.key"),
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--endpoint-reconciler-type", "none",
	}
	if !o.Controllers {
		// Nothing would create each namespace's default ServiceAccount.
		args = append(args, "--disable-admission-plugins", "ServiceAccount")
	}
	api, err := startProc("kube-apiserver", bins["kube-apiserver"], args, o.Log)
	if err != nil {
		return nil, err
	}
	k.procs = append(k.procs, api)
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := waitReady(wctx, api, "kube-apiserver at "+k.Host, func(ctx context.Context) error {
		return httpOK(ctx, insecure, k.Host+"/readyz", k.AdminToken)
	}); err != nil {
		return nil, err
	}

	k.Kubeconfig = filepath.Join(o.Dir, "kubeconfig")
	if err := os.WriteFile(k.Kubeconfig, []byte(KubeconfigFor(k.Host, "admin", k.AdminToken)), 0o600); err != nil {
		return nil, err
	}
	if !o.Controllers {
		return k, nil
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"kube-controller-manager", []string{"--kubeconfig", k.Kubeconfig, "--bind-address", "127.0.0.1", "--secure-port", "0",
			"--leader-elect=false", "--service-account-private-key-file", filepath.Join(o.Dir, "sa.key"),
			"--use-service-account-credentials=false",
			// kwok renews its fake nodes' heartbeats from one process: on a
			// loaded two-core machine a late renewal must not mark the
			// nodes NotReady (tainted: no new pod scheduled) mid-test.
			"--node-monitor-grace-period=5m"}},
		{"kube-scheduler", []string{"--kubeconfig", k.Kubeconfig, "--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", "0"}},
		{"kwok", []string{"--config", filepath.Join(toolsDir(o.ToolsDir), "kwok-stages.yaml"), "--kubeconfig", k.Kubeconfig,
			"--manage-all-nodes=true", "--cidr", "10.244.0.0/16", "--node-ip", "127.0.0.1"}},
	} {
		p, err := startProc(c.name, bins[c.name], c.args, o.Log)
		if err != nil {
			return nil, err
		}
		k.procs = append(k.procs, p)
	}
	return k, nil
}

// Alive reports the first control-plane process that exited.
func (k *Kube) Alive() error {
	for _, p := range k.procs {
		if err := p.Exited(); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops the processes, newest first.
func (k *Kube) Stop(timeout time.Duration) {
	if k == nil {
		return
	}
	for i := len(k.procs) - 1; i >= 0; i-- {
		_ = k.procs[i].Stop(timeout)
	}
	k.procs = nil
}

// KubeconfigFor renders a kubeconfig for a bearer token against host.
func KubeconfigFor(host, user, token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: gameday-test
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: %s
  user:
    token: %s
contexts:
- name: gameday-test
  context: {cluster: gameday-test, user: %s}
current-context: gameday-test
`, host, user, token, user)
}

func writeRSAKey(keyFile, pubFile string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
}
