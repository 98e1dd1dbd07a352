package yamlx

import "testing"

func TestSuggest(t *testing.T) {
	names := []string{"demo-inventory-latency", "demo-inventory-latency-harmless", "demo-inventory-timeout", "db-failover"}
	cases := map[string]string{
		"demo-inventroy-latency": "demo-inventory-latency",
		"demo-inventory-timout":  "demo-inventory-timeout",
		"db-failovr":             "db-failover",
		"DB-FAILOVER":            "db-failover",
		"failover":               "db-failover",
	}
	for in, want := range cases {
		if got := Suggest(in, names); len(got) == 0 || got[0] != want {
			t.Errorf("Suggest(%q) = %v, want %s first", in, got, want)
		}
	}
	if got := Suggest("kafka", names); len(got) != 0 {
		t.Errorf("Suggest(kafka) = %v", got)
	}
	if d := levenshtein("kitten", "sitting"); d != 3 {
		t.Errorf("levenshtein = %d", d)
	}
}
