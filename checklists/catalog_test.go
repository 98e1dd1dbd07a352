package checklists_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/signoff"
)

// The default checklist gates real releases, so its shape is pinned: the
// seed's items, owners from the three signing roles, sane weights.
func TestCatalog(t *testing.T) {
	all, err := checklists.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Metadata.Name != "demo-seed" || all[1].Metadata.Name != "release-default" {
		t.Fatalf("catalog = %+v", all)
	}
	cl := all[1]
	if checklist.HasEvidence(cl) {
		t.Errorf("release-default is signed by people: its checks are not the demo shop's metrics")
	}
	if cl.Spec.Threshold != 80 {
		t.Errorf("threshold = %v, want 80", cl.Spec.Threshold)
	}
	var total, blocking float64
	owners := map[string]int{}
	byID := map[string]checklist.Item{}
	for _, it := range cl.Spec.Items {
		total += it.Weight
		if it.StrongBlocking {
			blocking += it.Weight
		}
		owners[it.Owner]++
		byID[it.ID] = it
	}
	if total != 100 {
		t.Errorf("total weight = %v, want 100 (readable as percent)", total)
	}
	// Strong-blocking items alone must not be able to carry the gate,
	// or the score would be decoration.
	if blocking >= cl.Spec.Threshold {
		t.Errorf("strong-blocking weight %v >= threshold %v", blocking, cl.Spec.Threshold)
	}
	for _, role := range signoff.Roles {
		if owners[role] == 0 {
			t.Errorf("no item for %s: the seed has all three roles sign", role)
		}
	}
	for id, want := range map[string]struct {
		owner, class string
		weight       float64
		blocking     bool
	}{
		"cb-fallback":        {"dev", "network-delay", 15, true},
		"trace-coloring":     {"sre", "", 10, false},
		"ci-chaos-tests":     {"test", "", 10, false},
		"kafka-isr-stable":   {"sre", "kafka-broker-delay", 10, false},
		"kafka-offset-delta": {"test", "kafka-broker-delay", 10, false},
		"lock-failure":       {"dev", "redis-unavailable", 15, false},
		"pod-eviction":       {"sre", "pod-kill", 10, true},
	} {
		it, ok := byID[id]
		if !ok {
			t.Errorf("missing item %s", id)
			continue
		}
		if it.Owner != want.owner || it.FaultClass != want.class || it.Weight != want.weight || it.StrongBlocking != want.blocking {
			t.Errorf("%s = %+v, want %+v", id, it, want)
		}
	}
	if !strings.Contains(byID["kafka-offset-delta"].Criterion, "<= 50") {
		t.Errorf("offset criterion = %q", byID["kafka-offset-delta"].Criterion)
	}
	if len(checklist.ItemsFor(cl, "test")) != owners["test"] {
		t.Errorf("ItemsFor(test) disagrees with owners")
	}
}

func TestFind(t *testing.T) {
	cl, err := checklists.Find("release-default")
	if err != nil || len(cl.Spec.Items) == 0 {
		t.Fatalf("Find(release-default) = %+v, %v", cl, err)
	}

	data, err := os.ReadFile("release-default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mine")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if cl, err = checklists.Find(path); err != nil || cl.Metadata.Name != "release-default" {
		t.Fatalf("Find(file) = %s, %v", cl.Metadata.Name, err)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(data), "owner: dev", "owner: ops", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := checklists.Find(bad); err == nil || !strings.Contains(err.Error(), bad+":") || !strings.Contains(err.Error(), `unknown owner "ops"`) {
		t.Errorf("Find(bad file) = %v, want FILE:LINE error", err)
	}

	if _, err := checklists.Find("missing.yaml"); err == nil || !os.IsNotExist(err) {
		t.Errorf("Find(missing.yaml) = %v, want not-exist", err)
	}
	if _, err := checklists.Find("nope"); err == nil || !strings.Contains(err.Error(), "release-default") {
		t.Errorf("Find(nope) = %v, want the catalog names listed", err)
	}
}

// The demo checklist is evidence alone, on the demo shop's metrics: nobody
// signs it (so the demo runs have no gate), and its circuit-breaker item
// blocks the release.
func TestDemoSeedChecklist(t *testing.T) {
	cl, err := checklists.Find("demo-seed")
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range signoff.Roles {
		if n := len(checklist.ItemsFor(cl, role)); n != 0 {
			t.Errorf("%s signs %d item(s); want none", role, n)
		}
	}
	var queries []string
	for _, it := range cl.Spec.Items {
		if !it.Verified() {
			t.Errorf("item %s is not verified by evidence", it.ID)
		}
		for _, c := range it.VerifiedBy {
			queries = append(queries, c.Query)
		}
	}
	all := strings.Join(queries, "\n")
	for _, metric := range []string{"fallback_calls_total", `status=~"5.."`} {
		if !strings.Contains(all, metric) {
			t.Errorf("no check reads %s", metric)
		}
	}
	cb := cl.Spec.Items[0]
	if cb.ID != "cb-fallback" || !cb.StrongBlocking || cb.FaultClass != "network-delay" || cb.Weight < 100-cl.Spec.Threshold+1 {
		t.Errorf("cb-fallback = %+v: must block the gate on its own", cb)
	}
}
