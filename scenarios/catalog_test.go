package scenarios_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/scenarios"
)

// The catalog drives the demo, so every entry must validate against the real
// toxiproxy driver, not just the fake one the unit tests use.
func TestCatalog(t *testing.T) {
	all, err := scenarios.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range all {
		names = append(names, s.Metadata.Name)
	}
	want := "demo-inventory-latency demo-inventory-latency-harmless demo-inventory-timeout"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("catalog = %s, want %s", got, want)
	}
	for _, s := range all {
		if s.Spec.Target.Backend != "toxiproxy" || s.Spec.Target.Selector["proxy"] != "inventory" {
			t.Errorf("%s: target %+v", s.Metadata.Name, s.Spec.Target)
		}
		if len(s.Spec.Guards) != 2 || s.Spec.Guards[0].Threshold != 0.8 || s.Spec.Guards[1].Threshold != 0.001 {
			t.Errorf("%s: guards %+v", s.Metadata.Name, s.Spec.Guards)
		}
	}
	if r := all[2].Spec.Signoff; len(r.Roles) != 3 || r.Timeout.String() != "1h0m0s" {
		t.Errorf("timeout scenario sign-off = %+v", r)
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
