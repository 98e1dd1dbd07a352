package all_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/chaos"
)

// What the Temporal UI shows on an inject or recover activity says what
// the step did, with its numbers, for every back-end.
func TestDescribeSaysWhatAFaultDoes(t *testing.T) {
	for _, c := range []struct {
		name     string
		f        chaos.Fault
		resolved []string
		inject   string
		recover  string
	}{{
		name:    "toxiproxy latency",
		f:       chaos.Fault{Backend: "toxiproxy", Action: "latency", Params: map[string]any{"latency": "1200ms"}, Target: chaos.Target{Selector: map[string]string{"proxy": "inventory"}}},
		inject:  "add latency 1.2s to inventory (100% of downstream)",
		recover: "remove latency 1.2s from inventory",
	}, {
		name:    "toxiproxy latency with jitter on 5% of connections",
		f:       chaos.Fault{Backend: "toxiproxy", Action: "latency", Params: map[string]any{"latency": "100ms", "jitter": "10ms", "toxicity": 0.05}, Target: chaos.Target{Selector: map[string]string{"proxy": "inventory"}}},
		inject:  "add latency 100ms ±10ms to inventory (5% of downstream)",
		recover: "remove latency 100ms ±10ms from inventory",
	}, {
		name:    "toxiproxy timeout",
		f:       chaos.Fault{Backend: "toxiproxy", Action: "timeout", Params: map[string]any{"timeout": "0s"}, Target: chaos.Target{Selector: map[string]string{"proxy": "cache"}}},
		inject:  "add timeout 0s (hold data until recovered) to cache (100% of downstream)",
		recover: "remove timeout 0s (hold data until recovered) from cache",
	}, {
		name:     "pod-kill, with what define resolved",
		f:        chaos.Fault{Backend: "kubernetes", Action: "pod-kill", Target: chaos.Target{Namespace: "shop", Selector: map[string]string{"app": "order"}, Mode: "fixed", Value: "2"}},
		resolved: []string{"pod-kill: would delete 2 of 4 pods in shop (mode fixed 2): order-a, order-b"},
		inject:   "delete 2 of 4 pods in shop app=order (mode fixed 2): order-a, order-b",
		recover:  "wait until the pods deleted in shop app=order are Ready again",
	}, {
		name:    "pod-kill before define",
		f:       chaos.Fault{Backend: "kubernetes", Action: "pod-kill", Target: chaos.Target{Namespace: "shop", Selector: map[string]string{"app": "order", "tier": "web"}}},
		inject:  "delete pods in shop app=order,tier=web (mode one)",
		recover: "wait until the pods deleted in shop app=order,tier=web are Ready again",
	}, {
		name:     "node-notready",
		f:        chaos.Fault{Backend: "kubernetes", Action: "node-notready", Target: chaos.Target{Namespace: "shop", Selector: map[string]string{"app": "worker"}}},
		resolved: []string{"node-notready: would cordon node n1 (hosts 2 matched pods)"},
		inject:   "cordon node n1 (hosts 2 matched pods)",
		recover:  "uncordon the nodes cordoned for shop app=worker",
	}, {
		name:     "chaos-mesh: its resolved line",
		f:        chaos.Fault{Backend: "chaos-mesh", Action: "network-delay", Target: chaos.Target{Namespace: "shop", Selector: map[string]string{"app": "inventory"}}},
		resolved: []string{"NetworkChaos gd-x-f0 delay 100ms on 1 of 3 pods"},
		inject:   "network-delay: NetworkChaos gd-x-f0 delay 100ms on 1 of 3 pods",
		recover:  "undo network-delay on shop app=inventory",
	}, {
		name:    "a back-end nobody registered",
		f:       chaos.Fault{Backend: "mystery", Action: "boom", Target: chaos.Target{Selector: map[string]string{"x": "y"}}},
		inject:  "boom on x=y",
		recover: "undo boom on x=y",
	}} {
		t.Run(c.name, func(t *testing.T) {
			c.f.Duration = time.Minute
			d := chaos.Describe(c.f, c.resolved)
			assert.Equal(t, c.inject, d.Inject)
			assert.Equal(t, c.recover, d.Recover)
		})
	}
}

func TestDescriptionsAreOneShortLine(t *testing.T) {
	f := chaos.Fault{Backend: "kubernetes", Action: "pod-kill", Target: chaos.Target{Namespace: "shop", Selector: map[string]string{"app": "order"}}}
	d := chaos.Describe(f, []string{"pod-kill: would delete 50 of 100 pods in shop (mode fixed 50): " + strings.Repeat("order-pod-name, ", 50)})
	assert.LessOrEqual(t, len(d.Inject), chaos.MaxDescription)
	assert.True(t, strings.HasSuffix(d.Inject, "…"))
	assert.True(t, strings.HasPrefix(d.Inject, "delete 50 of 100 pods in shop app=order"))
	assert.Equal(t, "añ…", chaos.Clip("añbcdef", 6), "cut on a rune boundary")
}
