package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/chaosmesh"
	k8sbackend "github.com/gameday/gameday/chaos/kubernetes"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/safety"
)

// addKubeBackends adds the kubernetes and chaos-mesh back-ends when a
// cluster is configured (cfg.Kube: in-cluster, KUBECONFIG or
// ~/.kube/config, with GAMEDAY_KUBE_CONTEXT). Without any configuration the worker runs fine and
// only scenarios that need Kubernetes fail (naming the missing back-end);
// with a configuration that does not answer, the worker refuses to start,
// because a run would otherwise fail late in define.
func addKubeBackends(backends map[string]chaos.Backend, cfg config.Config, logger *slog.Logger) error {
	if err := cfg.Kube.Validate(); err != nil {
		return err
	}
	mode := cfg.Kube.Mode
	if mode == "off" {
		return nil
	}
	kc, err := kubetarget.LoadConfig(cfg.Kube)
	if errors.Is(err, kubetarget.ErrNoConfig) && mode != "on" {
		logger.Info("no Kubernetes configuration found; kubernetes and chaos-mesh back-ends disabled")
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w (set %s=off to run without Kubernetes)", err, kubetarget.EnvKube)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := kubetarget.Probe(ctx, kc); err != nil {
		return fmt.Errorf("%w (set %s=off to run without Kubernetes)", err, kubetarget.EnvKube)
	}
	policy, err := safety.FromConfig(cfg.Safety)
	if err != nil {
		return err
	}
	cs, dyn, err := kubetarget.Clients(kc.Rest)
	if err != nil {
		return err
	}
	backends[k8sbackend.BackendName] = k8sbackend.New(cs, policy, k8sbackend.WithDynamic(dyn))
	backends[chaosmesh.BackendName] = chaosmesh.New(dyn, cs, policy)
	if len(policy.Namespaces) == 0 {
		logger.Warn("Kubernetes back-ends enabled but no namespace is allowed: every Kubernetes target will be refused", "set", safety.EnvNamespaces)
	}
	logger.Info("Kubernetes back-ends enabled", "cluster", kc.Rest.Host, "source", kc.Source,
		"namespaces", policy.Namespaces, "opt_in", policy.OptIn(), "max_blast_radius", fmt.Sprint(policy.MaxRadius))
	return nil
}
