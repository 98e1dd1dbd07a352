package kubetarget

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gameday/gameday/config"
)

// Environment variables for Kubernetes (read and documented by config).
const (
	// EnvKube: "off" disables the Kubernetes back-ends; "on" requires a
	// reachable cluster; empty or "auto" uses one when a kubeconfig or the
	// in-cluster service account is found.
	EnvKube    = config.EnvKube
	EnvContext = config.EnvKubeContext // kubeconfig context, like kubectl --context
)

// Config is a loaded client configuration and where it came from.
type Config struct {
	Rest   *rest.Config
	Source string // "in-cluster" or "kubeconfig <path> context <name>"
}

// ErrNoConfig means neither a kubeconfig nor in-cluster credentials exist.
var ErrNoConfig = fmt.Errorf("no Kubernetes configuration: no in-cluster service account, no KUBECONFIG, no ~/.kube/config")

// LoadConfig loads client configuration the way kubectl does: in-cluster
// when running in a pod (and no kubeconfig or context is given), otherwise
// k.Kubeconfig (KUBECONFIG: a path list) or ~/.kube/config, with k.Context
// when set.
func LoadConfig(k config.Kube) (Config, error) {
	kubeContext := k.Context
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	// The files are the ones config read, not whatever client-go finds in
	// the process environment; the rest is client-go's rules for KUBECONFIG.
	if k.Kubeconfig != "" {
		var files []string
		for _, f := range filepath.SplitList(k.Kubeconfig) {
			if f != "" && !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
		rules.Precedence, rules.WarnIfAllMissing, rules.MigrationRules = files, true, nil
	} else {
		rules.Precedence, rules.WarnIfAllMissing = []string{clientcmd.RecommendedHomeFile}, false
	}
	if k.Kubeconfig == "" && kubeContext == "" {
		if rc, err := rest.InClusterConfig(); err == nil {
			return Config{Rest: rc, Source: "in-cluster"}, nil
		}
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	raw, err := cc.RawConfig()
	if err != nil {
		return Config{}, fmt.Errorf("kubeconfig: %w", err)
	}
	if len(raw.Contexts) == 0 {
		return Config{}, ErrNoConfig
	}
	rc, err := cc.ClientConfig()
	if err != nil {
		return Config{}, fmt.Errorf("kubeconfig %s: %w", rules.GetLoadingPrecedence(), err)
	}
	ctxName := kubeContext
	if ctxName == "" {
		ctxName = raw.CurrentContext
	}
	return Config{Rest: rc, Source: fmt.Sprintf("kubeconfig %v context %q", rules.GetLoadingPrecedence(), ctxName)}, nil
}

// Probe checks the cluster answers, so a worker fails at start with a clear
// message instead of on the first experiment.
func Probe(ctx context.Context, c Config) error {
	cfg := rest.CopyConfig(c.Rest)
	cfg.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes (%s): %w", c.Source, err)
	}
	// GET /version, the call ServerVersion makes, but bounded by ctx too.
	if err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Error(); err != nil {
		return fmt.Errorf("kubernetes cluster at %s (%s) is not reachable: %w", c.Rest.Host, c.Source, err)
	}
	return nil
}

// Client-side rate limits. client-go's defaults (5 requests/s, bursts of 10)
// would make a sweep of 50 orphans take half a minute in throttling alone;
// gameday's own request volume is small and bursty, so it allows more.
const (
	DefaultQPS   = 50
	DefaultBurst = 100
)

// Clients builds the typed and dynamic clients the back-ends use, with
// gameday's rate limits where the configuration sets none.
func Clients(rc *rest.Config) (kubernetes.Interface, dynamic.Interface, error) {
	cfg := rest.CopyConfig(rc)
	if cfg.QPS == 0 {
		cfg.QPS = DefaultQPS
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cs, dyn, nil
}
