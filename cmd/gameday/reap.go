package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	k8sbackend "github.com/gameday/gameday/chaos/kubernetes"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/safety"
)

// Defaults of `gameday reap`.
const (
	defaultReapEvery     = 500 * time.Millisecond // toxiproxy: the demo shop's reaper period
	defaultReapKubeEvery = time.Minute
	minReapEvery         = 100 * time.Millisecond
	// reapPassTimeout bounds one pass, so a hung API delays the next pass
	// instead of stopping the reaper.
	reapPassTimeout = time.Minute
	// reapErrorRepeat is how often a reaper that keeps failing the same way
	// says so again.
	reapErrorRepeat = time.Minute
)

// kubeReaper is what `reap --kube` needs from the cluster.
type kubeReaper struct {
	backend    *k8sbackend.Backend
	cluster    string   // where it is, credentials removed, and how it was configured
	namespaces []string // where pod-kill markers are looked for (GAMEDAY_NAMESPACES)
}

// newKubeReaper connects to the cluster the way the worker does (kubectl's
// loading rules, GAMEDAY_KUBE_CONTEXT or --kube-context, already in k) and
// checks it answers. Tests replace it with a fake clientset.
var newKubeReaper = func(ctx context.Context, k config.Kube, s config.Safety) (kubeReaper, error) {
	kc, err := kubetarget.LoadConfig(k)
	if err != nil {
		return kubeReaper{}, err
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := kubetarget.Probe(pctx, kc); err != nil {
		return kubeReaper{}, err
	}
	policy, err := safety.FromConfig(s)
	if err != nil {
		return kubeReaper{}, err
	}
	cs, _, err := kubetarget.Clients(kc.Rest)
	if err != nil {
		return kubeReaper{}, err
	}
	return kubeReaper{
		backend:    k8sbackend.New(cs, policy),
		cluster:    fmt.Sprintf("%s (%s)", config.RedactURL(kc.Rest.Host), kc.Source),
		namespaces: policy.Namespaces,
	}, nil
}

func newReapCmd(a *app) *cobra.Command {
	var (
		toxiURL, kubeContext    string
		useKube, once           bool
		every, kubeEvery, grace time.Duration
	)
	cmd := &cobra.Command{
		Use:   "reap (--toxiproxy URL | --kube) [--once]",
		Short: "Remove faults past their deadline with no worker and no Temporal (a sidecar or a CronJob)",
		Long: `Removes gameday faults that outlived their deadline using nothing but the
system that holds them: no worker, no Temporal server. Run it next to what
hosts the faults, so a fault ends even when every gameday worker is gone.

--toxiproxy URL  watches that toxiproxy API every --every (default 500ms) and
                 removes each gameday toxic whose deadline has passed (the
                 deadline is in the toxic's name: hold + 10s margin), the rule
                 of the demo shop's reaper. Toxics gameday did not create are
                 never touched. user:password@ in the URL is sent as basic
                 auth and never printed; with a URL without credentials, those
                 of TOXIPROXY_URL are used when it names the same API (keeps
                 the secret off the command line).
--kube           uses the cluster (like kubectl: in-cluster, KUBECONFIG,
                 GAMEDAY_KUBE_CONTEXT or --kube-context) every --kube-every
                 (default 1m): uncordons the nodes node-notready cordoned whose
                 gameday.io/expires plus --grace (default 5m) has passed,
                 removing gameday's labels and annotations exactly as its
                 recover does, and deletes pod-kill markers past expiry plus
                 grace in the namespaces of GAMEDAY_NAMESPACES. Nodes gameday
                 did not cordon, or that changed hands since, are left alone.
                 Needs only the worker's ServiceAccount (deploy/rbac.yaml);
                 deploy/reap-cronjob.yaml runs it every 5 minutes.

Logs one line saying what it watches, then one per removal (fault id, object,
how late). SIGINT or SIGTERM stops it (exit 0). --once makes one pass and
exits: 0 when every API answered and every removal worked (whether or not
anything was due), 1 otherwise.`,
		Example: `  # sidecar next to an external toxiproxy
  gameday reap --toxiproxy http://127.0.0.1:8474
  # one pass over the cluster, as the CronJob does
  gameday reap --kube --once`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := cmd.Flags()
			switch {
			case toxiURL == "" && !useKube:
				return usageErr("reap needs --toxiproxy URL, --kube, or both\nsee '%s --help'", cmd.CommandPath())
			case flags.Changed("toxiproxy") && toxiURL == "":
				return usageErr("--toxiproxy: empty URL")
			case !useKube && (flags.Changed("grace") || flags.Changed("kube-every") || flags.Changed("kube-context")):
				return usageErr("--grace, --kube-every and --kube-context apply to --kube")
			case toxiURL == "" && flags.Changed("every"):
				return usageErr("--every applies to --toxiproxy (use --kube-every for --kube)")
			case every < minReapEvery || kubeEvery < minReapEvery:
				return usageErr("--every and --kube-every must be at least %s", minReapEvery)
			case grace < 0:
				return usageErr("--grace must not be negative")
			}
			log := newLogger(cmd.ErrOrStderr())
			cfg := a.cfg
			var reapers []reaper
			if toxiURL != "" {
				r, err := toxiproxyReaper(toxiURL, every, once, cfg, log)
				if err != nil {
					return err
				}
				reapers = append(reapers, r)
			}
			if useKube {
				k := cfg.Kube
				if kubeContext != "" {
					k.Context = kubeContext
				}
				kr, err := newKubeReaper(cmd.Context(), k, cfg.Safety)
				if err != nil {
					return fmt.Errorf("reap --kube: %w", err)
				}
				reapers = append(reapers, kubeReap(kr, kubeEvery, grace, once, log))
			}
			if once {
				var errs []error
				for _, r := range reapers {
					if err := r.passOnce(cmd.Context()); err != nil {
						errs = append(errs, err)
					}
				}
				if err := errors.Join(errs...); err != nil {
					return &exitErr{code: exitError, err: err}
				}
				return nil
			}
			var wg sync.WaitGroup
			for _, r := range reapers {
				wg.Add(1)
				go func() { defer wg.Done(); r.loop(cmd.Context(), log) }()
			}
			wg.Wait()
			log.Info("reaper stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&toxiURL, "toxiproxy", "", "the toxiproxy API `URL` to watch, e.g. http://127.0.0.1:8474")
	f.BoolVar(&useKube, "kube", false, "reap the Kubernetes back-end's expired cordons and pod-kill markers")
	f.BoolVar(&once, "once", false, "make one pass and exit (1 if an API failed or a removal did)")
	f.DurationVar(&every, "every", defaultReapEvery, "how often to look at toxiproxy")
	f.DurationVar(&kubeEvery, "kube-every", defaultReapKubeEvery, "how often to look at the cluster")
	f.DurationVar(&grace, "grace", k8sbackend.DefaultReapGrace, "Kubernetes: leave a fault alone this long past its expiry (time for its workflow to recover it)")
	f.StringVar(&kubeContext, "kube-context", "", "kubeconfig context (like kubectl --context; default GAMEDAY_KUBE_CONTEXT or the current context)")
	return cmd
}

// reaper is one periodic pass: toxiproxy or Kubernetes.
type reaper struct {
	name  string
	every time.Duration
	pass  func(ctx context.Context, now time.Time) error
	// summary, when set, is logged after a --once pass.
	summary func(err error)
}

func (r reaper) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, reapPassTimeout)
	defer cancel()
	return r.pass(ctx, time.Now())
}

func (r reaper) passOnce(ctx context.Context) error {
	err := r.run(ctx)
	if r.summary != nil {
		r.summary(err)
	}
	return err
}

// loop passes at once and then every r.every until ctx ends. A failure is
// logged when it starts, when it changes, and once a minute while it lasts;
// the end of a failure is logged too.
func (r reaper) loop(ctx context.Context, log *slog.Logger) {
	tick := time.NewTicker(r.every)
	defer tick.Stop()
	var failing string
	var failingSince, logged time.Time
	for {
		err := r.run(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil:
			msg := err.Error()
			if failing == "" {
				failingSince = time.Now()
			}
			if msg != failing || time.Since(logged) >= reapErrorRepeat {
				log.Warn("reap failed; trying again", "reaper", r.name, "every", r.every, "err", msg)
				logged = time.Now()
			}
			failing = msg
		case failing != "":
			log.Info("reap works again", "reaper", r.name, "failed_for", time.Since(failingSince).Round(time.Millisecond))
			failing = ""
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// toxiproxyReaper builds the toxiproxy reaper for raw (with or without
// scheme and credentials) and logs what it watches.
func toxiproxyReaper(raw string, every time.Duration, once bool, cfg config.Config, log *slog.Logger) (reaper, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	full := raw
	if !strings.Contains(full, "://") {
		full = "http://" + full
	}
	u, err := url.Parse(full)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		// url.Parse's error quotes the URL: never used.
		return reaper{}, usageErr("--toxiproxy %s is not a valid URL (want http://host:port)", config.RedactURL(full))
	}
	endpoint, creds := config.CredentialsFromURL(full)
	if creds.IsZero() && !cfg.ToxiproxyAuth.IsZero() && sameEndpoint(endpoint, cfg.ToxiproxyURL) {
		creds = cfg.ToxiproxyAuth
	}
	opts := []toxiproxy.Option{toxiproxy.WithUserAgent("gameday-reap")}
	if !creds.IsZero() {
		opts = append(opts, toxiproxy.WithHTTPClient(&http.Client{
			Timeout:   toxiproxy.DefaultHTTPTimeout,
			Transport: creds.Transport(u.Host, nil),
		}))
	}
	b := toxiproxy.New(endpoint, opts...)
	log.Info("reaper watching toxiproxy: removes gameday toxics past the deadline in their name",
		"toxiproxy", b.URL(), "auth", creds, "every", every, "once", once)
	return reaper{
		name:  "toxiproxy",
		every: every,
		pass: func(ctx context.Context, now time.Time) error {
			removed, err := b.Reap(ctx, now)
			for _, obj := range removed {
				proxy, toxic := obj, ""
				if i := strings.LastIndexByte(obj, '/'); i >= 0 {
					proxy, toxic = obj[:i], obj[i+1:]
				}
				id, deadline, _ := toxiproxy.ParseToxicName(toxic)
				log.Info("removed expired toxic", "fault", id, "proxy", proxy, "toxic", toxic,
					"deadline", deadline.Format(time.RFC3339), "late", now.Sub(deadline).Round(time.Millisecond))
			}
			return err
		},
		summary: func(err error) {
			if err == nil {
				log.Info("toxiproxy pass done", "toxiproxy", b.URL())
			}
		},
	}, nil
}

// sameEndpoint compares two toxiproxy API URLs without credentials,
// ignoring a missing scheme, a trailing slash and the case of the host.
func sameEndpoint(a, b string) bool {
	norm := func(s string) string {
		s = strings.TrimRight(strings.TrimSpace(s), "/")
		if !strings.Contains(s, "://") {
			s = "http://" + s
		}
		return strings.ToLower(s)
	}
	return a != "" && b != "" && norm(a) == norm(b)
}

// kubeReap builds the Kubernetes reaper and logs what it watches.
func kubeReap(kr kubeReaper, every, grace time.Duration, once bool, log *slog.Logger) reaper {
	markers := strings.Join(kr.namespaces, ",")
	if markers == "" {
		markers = "(none)"
		log.Warn("GAMEDAY_NAMESPACES is empty: pod-kill markers are not looked for, only cordoned nodes", "set", safety.EnvNamespaces)
	}
	log.Info("reaper watching Kubernetes: uncordons gameday's nodes and deletes pod-kill markers past expiry + grace",
		"cluster", kr.cluster, "marker_namespaces", markers, "grace", grace, "every", every, "once", once)
	skipped := map[string]bool{} // said once per object and reason
	var last k8sbackend.ReapResult
	return reaper{
		name:  "kubernetes",
		every: every,
		pass: func(ctx context.Context, now time.Time) error {
			res, err := kr.backend.Reap(ctx, now, grace)
			for _, r := range res.Removed {
				what := "uncordoned expired node"
				if strings.HasPrefix(r.Object, "configmap/") {
					what = "deleted expired pod-kill marker"
				}
				log.Info(what, "fault", r.FaultID, "object", r.Object, "workflow", r.WorkflowID,
					"expired", r.Expires.Format(time.RFC3339), "late", r.Late.Round(time.Millisecond), "grace", grace)
			}
			for _, s := range res.Skipped {
				if !skipped[s] {
					skipped[s] = true
					log.Info("left alone", "why", s)
				}
			}
			last = res
			if err != nil {
				return fmt.Errorf("kubernetes reap: %w", err)
			}
			return nil
		},
		summary: func(err error) {
			args := []any{"removed", len(last.Removed), "waiting", last.Waiting}
			if !last.NextDue.IsZero() {
				args = append(args, "next_due", last.NextDue.Format(time.RFC3339))
			}
			if err == nil {
				log.Info("kubernetes pass done", args...)
			}
		},
	}
}
