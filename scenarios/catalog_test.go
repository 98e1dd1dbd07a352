package scenarios_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/gameday/gameday/chaos/all" // registers every back-end
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
)

// The catalog drives the demo and ships the seed's experiments, so every
// entry must validate against the real drivers, not just the fake one the
// unit tests use.
func TestCatalog(t *testing.T) {
	all, err := scenarios.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]scenarios.Scenario{}
	var names []string
	for _, s := range all {
		names = append(names, s.Metadata.Name)
		byName[s.Metadata.Name] = s
	}
	want := "certificate-expiry demo-coupon-latency-harmless demo-inventory-latency demo-inventory-latency-harmless demo-inventory-timeout demo-seed-cache-down demo-seed-cache-slow demo-seed-inventory-delay demo-seed-inventory-outage demo-seed-payment-timeout inventory-network-delay kafka-broker-delay mysql-replica-lag order-pod-kill payment-cpu-stress postgres-dns-failure redis-slow redis-unreachable worker-node-notready"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("catalog = %s, want %s", got, want)
	}
	for _, s := range all {
		if !strings.HasPrefix(s.Metadata.Name, "demo-") || strings.HasPrefix(s.Metadata.Name, "demo-seed-") {
			continue // demo-seed-*: TestDemoSeedScenarios
		}
		// The scheduled demo run acts on the coupon link, which no other
		// demo experiment touches (schedules/demo.yaml).
		proxy := "inventory"
		if s.Metadata.Name == "demo-coupon-latency-harmless" {
			proxy = "coupon"
		}
		if s.Spec.Target.Backend != "toxiproxy" || s.Spec.Target.Selector["proxy"] != proxy {
			t.Errorf("%s: target %+v", s.Metadata.Name, s.Spec.Target)
		}
		if len(s.Spec.Guards) != 2 || s.Spec.Guards[0].Threshold != 0.8 || s.Spec.Guards[1].Threshold != 0.001 {
			t.Errorf("%s: guards %+v", s.Metadata.Name, s.Spec.Guards)
		}
	}
	if r := byName["demo-inventory-timeout"].Spec.Signoff; len(r.Roles) != 3 || r.Timeout.String() != "1h0m0s" {
		t.Errorf("timeout scenario sign-off = %+v", r)
	}
}

// The seed's experiments carry the seed's numbers: a change here is a
// change to what teams run on a game day.
func TestSeedScenarios(t *testing.T) {
	for _, c := range []struct {
		name, backend, action string
		duration              string
		guard                 string
		op                    sli.Op
		threshold             float64
	}{
		{"order-pod-kill", "kubernetes", "pod-kill", "30s", "p95-latency", "<=", 0.8},
		{"inventory-network-delay", "chaos-mesh", "network-delay", "10m0s", "fast-requests", ">", 0.8},
		{"payment-cpu-stress", "chaos-mesh", "stress-cpu", "2m0s", "gc-pause-p99", "<=", 0.05},
		{"redis-unreachable", "chaos-mesh", "network-partition", "1m0s", "error-rate", "<", 0.001},
		{"redis-slow", "chaos-mesh", "network-delay", "1m0s", "p95-latency", "<=", 0.8},
		{"kafka-broker-delay", "chaos-mesh", "network-delay", "1m0s", "consumer-offset-delta", "<=", 50},
		{"worker-node-notready", "kubernetes", "node-notready", "2m0s", "failed-tasks", "==", 0},
		{"postgres-dns-failure", "chaos-mesh", "dns-error", "1m0s", "error-rate", "<", 0.001},
		{"mysql-replica-lag", "chaos-mesh", "network-delay", "2m0s", "illegal-transitions", "==", 0},
		{"certificate-expiry", "chaos-mesh", "time-skew", "1m0s", "error-rate", "<", 0.001},
	} {
		s, err := scenarios.Find(c.name)
		if err != nil {
			t.Fatal(err)
		}
		f := s.Spec.Faults[0]
		if s.Spec.Target.Backend != c.backend || f.Action != c.action || f.Duration.String() != c.duration {
			t.Errorf("%s: backend %s action %s duration %s", c.name, s.Spec.Target.Backend, f.Action, f.Duration)
		}
		if s.Metadata.Labels[scenarios.EnvironmentLabel] == "" || s.Spec.Target.Namespace == "" {
			t.Errorf("%s: needs an environment label and a namespace (safety rules depend on them)", c.name)
		}
		found := false
		for _, g := range s.Spec.Guards {
			if g.Name == c.guard {
				found = true
				if g.Op != c.op || g.Threshold != c.threshold {
					t.Errorf("%s: guard %s = %s %g, want %s %g", c.name, g.Name, g.Op, g.Threshold, c.op, c.threshold)
				}
			}
		}
		if !found {
			t.Errorf("%s: no guard %s", c.name, c.guard)
		}
	}
	// Specific numbers from the seed.
	cpu, _ := scenarios.Find("payment-cpu-stress")
	if got := cpu.Spec.Faults[0].Params["stressors"]; !strings.Contains(fmt.Sprint(got), "load:95") || !strings.Contains(fmt.Sprint(got), "workers:4") {
		t.Errorf("cpu stress = %v, want 4 workers at 95 %%", got)
	}
	delay, _ := scenarios.Find("inventory-network-delay")
	if delay.Spec.Target.Mode != "fixed-percent" || delay.Spec.Target.Value != "5" || !strings.Contains(fmt.Sprint(delay.Spec.Faults[0].Params["delay"]), "latency:100ms") {
		t.Errorf("inventory delay = %+v %v, want +100ms on 5 %%", delay.Spec.Target, delay.Spec.Faults[0].Params)
	}
	kafka, _ := scenarios.Find("kafka-broker-delay")
	if !strings.Contains(fmt.Sprint(kafka.Spec.Faults[0].Params["delay"]), "latency:200ms") {
		t.Errorf("kafka delay = %v, want 200ms", kafka.Spec.Faults[0].Params)
	}
}

// The demo versions of the seed's experiments hit the demo shop's links
// with the seed's numbers and guards.
func TestDemoSeedScenarios(t *testing.T) {
	for _, c := range []struct {
		name, proxy, action string
		params              string
		guards              []string
	}{
		{"demo-seed-inventory-delay", "inventory", "latency", "latency:100ms toxicity:0.05", []string{"p95-latency", "error-rate", "fast-requests", "circuit-breaker-closed"}},
		{"demo-seed-inventory-outage", "inventory", "timeout", "toxicity:1", []string{"p95-latency", "error-rate", "fast-requests"}},
		{"demo-seed-payment-timeout", "payment", "timeout", "timeout:0s toxicity:0.05", []string{"p95-latency", "p99-latency", "error-rate", "fast-requests", "goroutine-growth"}},
		{"demo-seed-cache-slow", "cache", "latency", "latency:200ms", []string{"p95-latency", "error-rate", "fast-requests", "inventory-catalog-calls", "goroutine-growth"}},
		{"demo-seed-cache-down", "cache", "timeout", "toxicity:1", []string{"p95-latency", "error-rate", "fast-requests", "inventory-catalog-calls", "goroutine-growth"}},
	} {
		s, err := scenarios.Find(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if s.Spec.Target.Backend != "toxiproxy" || s.Spec.Target.Selector["proxy"] != c.proxy || len(s.Spec.Faults) != 1 || s.Spec.Faults[0].Action != c.action {
			t.Errorf("%s: target %+v faults %+v", c.name, s.Spec.Target, s.Spec.Faults)
		}
		for _, p := range strings.Fields(c.params) {
			if !strings.Contains(fmt.Sprint(s.Spec.Faults[0].Params), p) {
				t.Errorf("%s: params %v, want %s", c.name, s.Spec.Faults[0].Params, p)
			}
		}
		var names []string
		for _, g := range s.Spec.Guards {
			names = append(names, g.Name)
			want := map[string]float64{"p95-latency": 0.8, "p99-latency": 0.8, "error-rate": 0.001, "fast-requests": 0.8, "circuit-breaker-closed": 0}
			if th, ok := want[g.Name]; ok && g.Threshold != th {
				t.Errorf("%s: guard %s threshold %g, want the seed's %g", c.name, g.Name, g.Threshold, th)
			}
		}
		if got := strings.Join(names, " "); got != strings.Join(c.guards, " ") {
			t.Errorf("%s: guards %s, want %s", c.name, got, strings.Join(c.guards, " "))
		}
		if len(s.Spec.Signoff.Roles) != 0 {
			t.Errorf("%s: local demos need no sign-off", c.name)
		}
	}
	outage, _ := scenarios.Find("demo-seed-inventory-outage")
	if g := outage.Spec.SteadyState.Guards; len(g) == 0 || g[0].Name != "circuit-breaker-closed" || !strings.Contains(g[0].Query, `circuit_breaker_state{service="order",state="open"}`) {
		t.Errorf("outage: verify must wait for the breaker to close, got %+v", g)
	}
}

func TestFind(t *testing.T) {
	s, err := scenarios.Find("demo-inventory-timeout")
	if err != nil {
		t.Fatal(err)
	}
	if s.Spec.Faults[0].Action != "timeout" {
		t.Errorf("found %+v", s.Spec.Faults[0])
	}

	data, err := os.ReadFile("demo-inventory-latency.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mine")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err = scenarios.Find(path); err != nil || s.Metadata.Name != "demo-inventory-latency" {
		t.Fatalf("Find(file) = %s, %v", s.Metadata.Name, err)
	}

	if _, err := scenarios.Find("missing.yaml"); err == nil || !os.IsNotExist(err) {
		t.Errorf("Find(missing.yaml) = %v, want not-exist", err)
	}
	_, err = scenarios.Find("nope")
	if err == nil || !strings.Contains(err.Error(), "demo-inventory-latency-harmless") {
		t.Errorf("Find(nope) = %v, want the catalog names listed", err)
	}
}
