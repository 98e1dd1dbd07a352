package checklist

import (
	"reflect"
	"testing"
	"time"
)

func gateList() Checklist {
	return Checklist{
		APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "gate"},
		Spec: Spec{Threshold: 80, Items: []Item{
			{ID: "cb-fallback", Owner: "dev", Weight: 30, StrongBlocking: true, FaultClass: "network-delay"},
			{ID: "trace", Owner: "sre", Weight: 20},
			{ID: "ci", Owner: "test", Weight: 20},
			{ID: "kafka", Owner: "sre", Weight: 10, FaultClass: "kafka-broker-delay"},
			{ID: "lock", Owner: "dev", Weight: 20, FaultClass: "redis-unavailable"},
		}},
	}
}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// signs signs every item with the given verdict, except those in fail
// (signed failed) and skip (not signed).
func signs(cl Checklist, fail, skip []string) []Sign {
	var out []Sign
	for _, it := range cl.Spec.Items {
		switch {
		case contains(skip, it.ID):
		case contains(fail, it.ID):
			out = append(out, Sign{ItemID: it.ID, Pass: false, Role: it.Owner, User: it.Owner + "-lead", At: t0})
		default:
			out = append(out, Sign{ItemID: it.ID, Pass: true, Role: it.Owner, User: it.Owner + "-lead", Evidence: "https://ci/" + it.ID, At: t0})
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestEvaluateGate(t *testing.T) {
	cl := gateList()
	tests := []struct {
		name       string
		fail, skip []string
		passed     bool
		score      float64
		blocking   []string
		unsigned   []string
		reason     string
	}{
		{name: "all pass", passed: true, score: 100},
		{name: "minor failure within threshold", fail: []string{"trace"}, passed: true, score: 80},
		{name: "blocking failed", fail: []string{"cb-fallback"}, score: 70, blocking: []string{"cb-fallback"},
			reason: "strong-blocking item cb-fallback failed; score 70% < 80%"},
		{name: "score below threshold", fail: []string{"trace", "kafka"}, score: 70,
			reason: "score 70% < 80%"},
		{name: "unsigned counts as not passed", skip: []string{"ci", "kafka"}, score: 70, unsigned: []string{"ci", "kafka"},
			reason: "score 70% < 80% (unsigned items count as failed: ci, kafka)"},
		{name: "unsigned blocking item blocks", skip: []string{"cb-fallback"}, score: 70,
			blocking: []string{"cb-fallback"}, unsigned: []string{"cb-fallback"},
			reason: "strong-blocking item cb-fallback not signed; score 70% < 80%"},
		{name: "unsigned within threshold", skip: []string{"kafka"}, passed: true, score: 90, unsigned: []string{"kafka"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := EvaluateGate(cl, signs(cl, tt.fail, tt.skip))
			if g.Passed != tt.passed || g.Score != tt.score || g.Threshold != 80 || g.Checklist != "gate" ||
				!reflect.DeepEqual(g.BlockingFailed, tt.blocking) || !reflect.DeepEqual(g.Unsigned, tt.unsigned) || g.Reason != tt.reason {
				t.Errorf("got passed=%t score=%v blocking=%v unsigned=%v reason=%q\nwant passed=%t score=%v blocking=%v unsigned=%v reason=%q",
					g.Passed, g.Score, g.BlockingFailed, g.Unsigned, g.Reason, tt.passed, tt.score, tt.blocking, tt.unsigned, tt.reason)
			}
			if len(g.Items) != len(cl.Spec.Items) {
				t.Fatalf("%d results for %d items", len(g.Items), len(cl.Spec.Items))
			}
			for i, r := range g.Items {
				if r.ID != cl.Spec.Items[i].ID || r.Signed == contains(tt.skip, r.ID) || r.Pass != (r.Signed && !contains(tt.fail, r.ID)) {
					t.Errorf("item %d = %+v", i, r)
				}
			}
		})
	}
}

// The seed's example sentence, with a non-round score.
func TestGateReasonExample(t *testing.T) {
	cl := gateList()
	cl.Spec.Items[3].Weight = 5 // total 95
	g := EvaluateGate(cl, signs(cl, []string{"cb-fallback"}, []string{"kafka"}))
	if want := "strong-blocking item cb-fallback failed; score 63.2% < 80% (unsigned items count as failed: kafka)"; g.Reason != want {
		t.Errorf("reason = %q\nwant     %q", g.Reason, want)
	}
}

func TestGateSignPrecedence(t *testing.T) {
	cl := gateList()
	ss := signs(cl, nil, nil)
	// A later sign by someone else does not override the owner; a later
	// sign by the owner does.
	ss = append(ss,
		Sign{ItemID: "trace", Pass: false, Role: "dev", User: "someone", At: t0.Add(time.Hour)},
		Sign{ItemID: "ci", Pass: false, Role: "test", User: "tester2", Evidence: "https://ci/ci/2", At: t0.Add(time.Hour)},
		Sign{ItemID: "unknown", Pass: false, Role: "dev", At: t0},
	)
	g := EvaluateGate(cl, ss)
	if r := g.Items[1]; !r.Pass || r.User != "sre-lead" || r.Evidence != "https://ci/trace" || !r.At.Equal(t0) {
		t.Errorf("trace = %+v, want the owner's sign", r)
	}
	if r := g.Items[2]; r.Pass || r.User != "tester2" || r.Evidence != "https://ci/ci/2" {
		t.Errorf("ci = %+v, want the owner's later sign", r)
	}
	// Without any owner sign, another role's sign counts.
	g = EvaluateGate(cl, []Sign{{ItemID: "kafka", Pass: true, Role: "dev", User: "d"}})
	if r := g.Items[3]; !r.Signed || !r.Pass || r.User != "d" {
		t.Errorf("kafka = %+v", r)
	}
}

func TestGateEdgeCases(t *testing.T) {
	// Default threshold for a checklist that skipped Validate.
	cl := gateList()
	cl.Spec.Threshold = 0
	if g := EvaluateGate(cl, signs(cl, nil, nil)); g.Threshold != DefaultThreshold || !g.Passed {
		t.Errorf("gate = %+v", g)
	}
	// Float noise does not fail a gate that is exactly at the threshold.
	cl = Checklist{Spec: Spec{Threshold: 100, Items: []Item{{ID: "a", Weight: 0.1}, {ID: "b", Weight: 0.2}}}}
	if g := EvaluateGate(cl, signs(cl, nil, nil)); !g.Passed || g.Score != 100 {
		t.Errorf("gate = %+v", g)
	}
	// A failed strong-blocking item blocks even with the score met.
	cl = gateList()
	cl.Spec.Items[0].Weight = 5
	cl.Spec.Items = append(cl.Spec.Items, Item{ID: "pods", Owner: "sre", Weight: 10, StrongBlocking: true})
	g := EvaluateGate(cl, signs(cl, []string{"cb-fallback", "pods"}, nil))
	if g.Passed || g.Score < 80 || g.Reason != "strong-blocking items cb-fallback, pods failed" {
		t.Errorf("gate = %+v", g)
	}
	// No items: nothing vouched for, no pass.
	if g := EvaluateGate(Checklist{}, nil); g.Passed || g.Reason != "checklist has no items" {
		t.Errorf("empty gate = %+v", g)
	}
}

func TestItemsFor(t *testing.T) {
	var ids []string
	for _, it := range ItemsFor(gateList(), "sre") {
		ids = append(ids, it.ID)
	}
	if !reflect.DeepEqual(ids, []string{"trace", "kafka"}) {
		t.Errorf("ItemsFor(sre) = %v", ids)
	}
	if got := ItemsFor(gateList(), "ops"); got != nil {
		t.Errorf("ItemsFor(ops) = %v", got)
	}
}

func TestMarkAlerted(t *testing.T) {
	cl := gateList()
	g := EvaluateGate(cl, signs(cl, nil, nil))
	MarkAlerted(&g, []string{"network-delay"})
	MarkAlerted(&g, []string{"kafka-broker-delay", ""})
	var alerted []string
	for _, r := range g.Items {
		if r.Alerted {
			alerted = append(alerted, r.ID)
		}
	}
	if !reflect.DeepEqual(alerted, []string{"cb-fallback", "kafka"}) {
		t.Errorf("alerted = %v", alerted)
	}
	MarkAlerted(nil, []string{"network-delay"}) // no panic
}

func TestApply(t *testing.T) {
	cl := gateList()
	learned := Apply(cl, []ItemState{{ItemID: "lock", Weight: 55, StrongBlocking: true}, {ItemID: "gone", Weight: 1}})
	if it := learned.Spec.Items[4]; it.Weight != 55 || !it.StrongBlocking {
		t.Errorf("lock = %+v", it)
	}
	if cl.Spec.Items[4].Weight != 20 || !reflect.DeepEqual(learned.Spec.Items[0], cl.Spec.Items[0]) {
		t.Errorf("Apply changed its input or other items")
	}
	g := EvaluateGate(learned, signs(learned, []string{"lock"}, nil))
	if g.Passed || !reflect.DeepEqual(g.BlockingFailed, []string{"lock"}) {
		t.Errorf("gate with learned weights = %+v", g)
	}
}

// A score under the threshold never reads as equal to it: two of three
// equal items (66.67 %) against a threshold of 66.7 is "66.67% < 66.7%",
// not "66.7% < 66.7%".
func TestGateReasonNeverRoundsOntoTheThreshold(t *testing.T) {
	cl := Checklist{Metadata: Metadata{Name: "thirds"}, Spec: Spec{Threshold: 66.7, Items: []Item{{ID: "a", Owner: "dev", Weight: 10}, {ID: "b", Owner: "dev", Weight: 10}, {ID: "c", Owner: "dev", Weight: 10}}}}
	g := EvaluateGate(cl, signs(cl, []string{"c"}, nil))
	if g.Passed || g.Reason != "score 66.67% < 66.7%" {
		t.Errorf("gate = %+v", g)
	}
	if s := g.Summary(); s != "FAILED: score 66.67% < 66.7%" {
		t.Errorf("summary = %q", s)
	}
}
