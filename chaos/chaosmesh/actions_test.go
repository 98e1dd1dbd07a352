package chaosmesh_test

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/chaosmesh"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/scenarios"
)

type actionCase struct {
	action     string
	params     map[string]any
	kind       string
	specAction string // "" for kinds without spec.action
	summary    string // what Resolve says the fault does
}

// actionCases has one valid fault per action, as a scenario would write it
// (YAML-decoded: int, not int64).
var actionCases = []actionCase{
	{chaosmesh.ActionNetworkDelay, map[string]any{"delay": map[string]any{"latency": "100ms", "jitter": "10ms", "correlation": "0"}, "direction": "to"},
		"NetworkChaos", "delay", "delay 100ms jitter 10ms correlation 0 direction to"},
	{chaosmesh.ActionNetworkLoss, map[string]any{"loss": map[string]any{"loss": "25", "correlation": "25"}},
		"NetworkChaos", "loss", "loss 25% correlation 25"},
	{chaosmesh.ActionNetworkDuplicate, map[string]any{"duplicate": map[string]any{"duplicate": "10"}},
		"NetworkChaos", "duplicate", "duplicate 10%"},
	{chaosmesh.ActionNetworkCorrupt, map[string]any{"corrupt": map[string]any{"corrupt": "5"}},
		"NetworkChaos", "corrupt", "corrupt 5%"},
	{chaosmesh.ActionNetworkPartition, map[string]any{"direction": "both", "target": map[string]any{"mode": "one", "selector": map[string]any{"labelSelectors": map[string]any{"app": "db"}}}},
		"NetworkChaos", "partition", "partition direction both peer app=db"},
	{chaosmesh.ActionNetworkBandwidth, map[string]any{"bandwidth": map[string]any{"rate": "1mbps", "limit": 100, "buffer": 10000}},
		"NetworkChaos", "bandwidth", "bandwidth rate 1mbps"},
	{chaosmesh.ActionStressCPU, map[string]any{"stressors": map[string]any{"cpu": map[string]any{"workers": 4, "load": 95}}},
		"StressChaos", "", "cpu stress 4 workers at 95% load"},
	{chaosmesh.ActionStressMemory, map[string]any{"stressors": map[string]any{"memory": map[string]any{"workers": 1, "size": "256MB"}}, "containerNames": []string{"app"}},
		"StressChaos", "", "memory stress 1 workers size 256MB containers app"},
	{chaosmesh.ActionPodFailure, nil, "PodChaos", "pod-failure", "pod-failure (pods unavailable for the duration)"},
	{chaosmesh.ActionPodKill, map[string]any{"gracePeriod": 0}, "PodChaos", "pod-kill", "pod-kill grace period 0s"},
	{chaosmesh.ActionContainerKill, map[string]any{"containerNames": []any{"app"}}, "PodChaos", "container-kill", "container-kill containers app"},
	{chaosmesh.ActionDNSError, map[string]any{"patterns": []any{"payments.example.com"}}, "DNSChaos", "error", "dns error for payments.example.com"},
	{chaosmesh.ActionDNSRandom, nil, "DNSChaos", "random", "dns random answers for every domain"},
	{chaosmesh.ActionTimeSkew, map[string]any{"timeOffset": "2160h", "clockIds": []any{"CLOCK_REALTIME"}}, "TimeChaos", "", "time offset 2160h on CLOCK_REALTIME"},
	{chaosmesh.ActionHTTPAbort, map[string]any{"target": "Request", "port": 8080, "path": "/api/*", "abort": true},
		"HTTPChaos", "", "http abort on Request port 8080 path /api/*"},
	{chaosmesh.ActionHTTPDelay, map[string]any{"target": "Request", "port": 8080, "method": "GET", "delay": "2s"},
		"HTTPChaos", "", "http delay 2s on Request port 8080 GET"},
	{chaosmesh.ActionHTTPReplace, map[string]any{"target": "Response", "port": 80, "replace": map[string]any{"code": 503}},
		"HTTPChaos", "", "http replace on Response port 80"},
	{chaosmesh.ActionHTTPPatch, map[string]any{"target": "Response", "port": 80, "patch": map[string]any{"headers": []any{[]any{"X-Chaos", "on"}}}},
		"HTTPChaos", "", "http patch on Response port 80"},
	{chaosmesh.ActionIOLatency, map[string]any{"volumePath": "/data", "path": "/data/**", "delay": "10ms", "percent": 50},
		"IOChaos", "latency", "io latency 10ms in /data path /data/** (50% of operations)"},
	{chaosmesh.ActionIOFault, map[string]any{"volumePath": "/data", "errno": 5}, "IOChaos", "fault", "io fault errno 5 in /data"},
	{chaosmesh.ActionIOAttrOverride, map[string]any{"volumePath": "/data", "attr": map[string]any{"perm": 72}}, "IOChaos", "attrOverride", "io attribute override in /data"},
	{chaosmesh.ActionIOMistake, map[string]any{"volumePath": "/data", "mistake": map[string]any{"filling": "zero", "maxOccurrences": 1, "maxLength": 10}},
		"IOChaos", "mistake", "io mistake in /data"},
}

func driver(t *testing.T) chaos.Driver {
	t.Helper()
	d, ok := chaos.Lookup(chaosmesh.BackendName)
	require.True(t, ok, "chaos-mesh driver not registered")
	return d
}

func TestEveryActionHasACase(t *testing.T) {
	var names []string
	for _, c := range actionCases {
		names = append(names, c.action)
	}
	sort.Strings(names)
	assert.Equal(t, driver(t).ActionNames(), names)
	var listed []string
	for _, a := range chaosmesh.Actions() {
		listed = append(listed, a.Name)
	}
	assert.Equal(t, names, listed)
}

// TestActions builds, validates and resolves one fault per action.
func TestActions(t *testing.T) {
	d := driver(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := newCluster(t, true)
	b := c.backend(chaosmesh.WithClock(func() time.Time { return now }))
	for _, tc := range actionCases {
		t.Run(tc.action, func(t *testing.T) {
			require.NoError(t, d.Actions[tc.action](tc.params))

			f := delayFault()
			f.Action, f.Params = tc.action, tc.params
			f.Target.Mode, f.Target.Value = chaos.ModeFixedPercent, "50%"
			u, err := chaosmesh.Object(f, now.Add(time.Hour))
			require.NoError(t, err)
			assert.Equal(t, "chaos-mesh.org/v1alpha1", u.GetAPIVersion())
			assert.Equal(t, tc.kind, u.GetKind())
			assert.Equal(t, faultID, u.GetName())
			assert.Equal(t, ns, u.GetNamespace())
			assert.Equal(t, kubetarget.Labels(f), u.GetLabels())
			assert.Equal(t, kubetarget.Annotations(f, now.Add(time.Hour)), u.GetAnnotations())

			// The spec is exactly the params plus what gameday fills.
			want := map[string]any{}
			for k, v := range tc.params {
				want[k] = v
			}
			want["selector"] = map[string]any{"namespaces": []string{ns}, "labelSelectors": map[string]string{"app": "checkout"}}
			want["mode"] = "fixed-percent"
			want["value"] = "50" // Chaos Mesh reads it with Atoi: no "%"
			want["duration"] = "2m0s"
			if tc.specAction != "" {
				want["action"] = tc.specAction
			}
			wantJSON, err := json.Marshal(want)
			require.NoError(t, err)
			gotJSON, err := json.Marshal(u.Object["spec"])
			require.NoError(t, err)
			assert.JSONEq(t, string(wantJSON), string(gotJSON))
			// Unstructured content must be deep-copyable (int64, not int).
			assert.NotPanics(t, func() { u.DeepCopy() })

			// The inverse gives the fault back.
			action, dur, params, target, err := chaosmesh.FaultFromObject(u)
			require.NoError(t, err)
			assert.Equal(t, tc.action, action)
			assert.Equal(t, f.Duration, dur)
			assert.Equal(t, chaos.Target{Backend: chaosmesh.BackendName, Namespace: ns, Selector: f.Target.Selector, Mode: "fixed-percent", Value: "50"}, target)
			paramsJSON, _ := json.Marshal(params)
			inJSON, _ := json.Marshal(tc.params)
			if tc.params == nil {
				inJSON = []byte("{}")
			}
			assert.JSONEq(t, string(inJSON), string(paramsJSON))

			f.Target.Mode, f.Target.Value = "", ""
			res, err := b.Resolve(context.Background(), f)
			require.NoError(t, err)
			assert.Equal(t, []string{tc.kind + " shop/" + faultID + " " + tc.summary +
				" on 1 of 3 pods in shop (mode one): checkout-a, checkout-b, checkout-c"}, res)
		})
	}
	for _, a := range c.dyn.Actions() {
		// The census of the cumulative blast radius lists gameday's objects.
		assert.Equal(t, "list", a.GetVerb(), "Resolve without dry run only reads the Chaos Mesh API: %v", a)
	}
}

func TestParamErrorsNameTheField(t *testing.T) {
	d := driver(t)
	delay := func(m map[string]any) map[string]any { return map[string]any{"delay": m} }
	cases := []struct {
		action string
		params map[string]any
		field  string
		msg    []string
	}{
		{chaosmesh.ActionNetworkDelay, nil, "delay", []string{"required", "latency"}},
		{chaosmesh.ActionNetworkDelay, delay(map[string]any{}), "delay.latency", []string{"required"}},
		{chaosmesh.ActionNetworkDelay, delay(map[string]any{"latency": 100}), "delay.latency", []string{"wrong type", "the number 100", `like "100ms"`}},
		{chaosmesh.ActionNetworkDelay, delay(map[string]any{"latency": "1m30s"}), "delay.latency", []string{"one unit", `"1m30s"`}},
		{chaosmesh.ActionNetworkDelay, delay(map[string]any{"latency": "100ms", "latncy": "1"}), "delay.latncy", []string{"unknown field (known: correlation, jitter, latency, reorder)"}},
		{chaosmesh.ActionNetworkDelay, delay(map[string]any{"latency": "100ms", "correlation": 25}), "delay.correlation", []string{"wrong type", "quote it"}},
		{chaosmesh.ActionNetworkDelay, map[string]any{"delay": map[string]any{"latency": "1ms"}, "dealy": 1}, "dealy", []string{"unknown field (known: delay, device, direction, externalTargets, target, targetDevice)"}},
		{chaosmesh.ActionNetworkDelay, map[string]any{"delay": map[string]any{"latency": "1ms"}, "direction": "sideways"}, "direction", []string{"one of to, from, both"}},
		{chaosmesh.ActionNetworkDelay, map[string]any{"delay": map[string]any{"latency": "1ms"}, "direction": "from"}, "direction", []string{"needs a target"}},
		{chaosmesh.ActionNetworkDelay, map[string]any{"delay": "100ms"}, "delay", []string{"want a map"}},
		{chaosmesh.ActionNetworkLoss, map[string]any{"loss": map[string]any{"loss": "120"}}, "loss.loss", []string{"between 0 and 100"}},
		{chaosmesh.ActionNetworkBandwidth, map[string]any{"bandwidth": map[string]any{"rate": "fast", "limit": 1, "buffer": 1}}, "bandwidth.rate", []string{"kbps", `"fast"`}},
		{chaosmesh.ActionNetworkBandwidth, map[string]any{"bandwidth": map[string]any{"rate": "1mbps", "buffer": 1}}, "bandwidth.limit", []string{"required"}},
		{chaosmesh.ActionNetworkBandwidth, map[string]any{"bandwidth": map[string]any{"rate": "1mbps", "limit": 0, "buffer": 1}}, "bandwidth.limit", []string{">= 1"}},
		{chaosmesh.ActionNetworkPartition, map[string]any{"target": map[string]any{"selector": map[string]any{}}}, "target.mode", []string{"required"}},
		{chaosmesh.ActionNetworkPartition, map[string]any{"target": map[string]any{"selector": map[string]any{}, "mode": "fixed-percent", "value": "12.5"}}, "target.value", []string{"whole percentage"}},
		{chaosmesh.ActionStressCPU, nil, "stressors", []string{"required"}},
		{chaosmesh.ActionStressCPU, map[string]any{"stressors": map[string]any{"cpu": map[string]any{}}}, "stressors.cpu.workers", []string{"required"}},
		{chaosmesh.ActionStressCPU, map[string]any{"stressors": map[string]any{"cpu": map[string]any{"workers": "four"}}}, "stressors.cpu.workers", []string{"want an integer", `"four"`}},
		{chaosmesh.ActionStressCPU, map[string]any{"stressors": map[string]any{"cpu": map[string]any{"workers": 2.5}}}, "stressors.cpu.workers", []string{"want an integer"}},
		{chaosmesh.ActionStressCPU, map[string]any{"stressors": map[string]any{"cpu": map[string]any{"workers": 1, "load": 150}}}, "stressors.cpu.load", []string{"<= 100"}},
		{chaosmesh.ActionStressCPU, map[string]any{"stressors": map[string]any{"memory": map[string]any{"workers": 1}}}, "stressors.memory", []string{"unknown field (known: cpu)"}},
		{chaosmesh.ActionStressMemory, map[string]any{"stressors": map[string]any{"memory": map[string]any{"workers": 1, "oomScoreAdj": 5000}}}, "stressors.memory.oomScoreAdj", []string{"<= 1000"}},
		{chaosmesh.ActionContainerKill, nil, "containerNames", []string{"required"}},
		{chaosmesh.ActionContainerKill, map[string]any{"containerNames": []any{}}, "containerNames", []string{"at least one"}},
		{chaosmesh.ActionContainerKill, map[string]any{"containerNames": []any{"app", 1}}, "containerNames[1]", []string{"want a string"}},
		{chaosmesh.ActionPodFailure, map[string]any{"gracePeriod": 1}, "gracePeriod", []string{"unknown field", "takes no params"}},
		{chaosmesh.ActionDNSError, map[string]any{"patterns": "example.com"}, "patterns", []string{"a list of strings"}},
		{chaosmesh.ActionTimeSkew, nil, "timeOffset", []string{"required"}},
		{chaosmesh.ActionTimeSkew, map[string]any{"timeOffset": "-90d"}, "timeOffset", []string{"no day unit", `"-2160h"`}},
		{chaosmesh.ActionHTTPAbort, map[string]any{"abort": true}, "target", []string{"required"}},
		{chaosmesh.ActionHTTPAbort, map[string]any{"target": "Request", "abort": false}, "abort", []string{"must be true"}},
		{chaosmesh.ActionHTTPAbort, map[string]any{"target": "request", "abort": true}, "target", []string{"one of Request, Response"}},
		{chaosmesh.ActionHTTPDelay, map[string]any{"target": "Request", "delay": "soon"}, "delay", []string{"duration"}},
		{chaosmesh.ActionHTTPDelay, map[string]any{"target": "Request", "delay": "1s", "port": 70000}, "port", []string{"<= 65535"}},
		{chaosmesh.ActionIOLatency, map[string]any{"delay": "10ms"}, "volumePath", []string{"required"}},
		{chaosmesh.ActionIOFault, map[string]any{"volumePath": "/d", "errno": "EIO"}, "errno", []string{"want an integer"}},
		{chaosmesh.ActionIOMistake, map[string]any{"volumePath": "/d", "mistake": map[string]any{"filling": "ones"}}, "mistake.filling", []string{"zero, random"}},
		{chaosmesh.ActionNetworkDelay, map[string]any{"delay": map[string]any{"latency": "1ms"}, "remoteCluster": "eu"}, "remoteCluster", []string{"not supported"}},
	}
	for _, tc := range cases {
		t.Run(tc.action+"/"+tc.field, func(t *testing.T) {
			err := d.Actions[tc.action](tc.params)
			var fe *errkind.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field, "error: %v", err)
			for _, m := range tc.msg {
				assert.Contains(t, fe.Msg, m)
			}
		})
	}
}

func TestPlatformOwnedFieldsRefused(t *testing.T) {
	d := driver(t)
	for key, msg := range map[string]string{
		"selector": "spec.target",
		"mode":     "spec.target.mode",
		"value":    "spec.target.value",
		"duration": "the fault's duration",
		"action":   "the fault's action",
	} {
		params := map[string]any{"delay": map[string]any{"latency": "100ms"}, key: "x"}
		err := d.Actions[chaosmesh.ActionNetworkDelay](params)
		var fe *errkind.FieldError
		require.ErrorAs(t, err, &fe, key)
		assert.Equal(t, key, fe.Field)
		assert.Contains(t, fe.Msg, msg)

		f := delayFault()
		f.Params = params
		_, err = chaosmesh.Object(f, time.Time{})
		require.ErrorAs(t, err, &fe, key)
		assert.Equal(t, key, fe.Field)
	}
}

func TestValidateTarget(t *testing.T) {
	d := driver(t)
	ok := chaos.Target{Backend: chaosmesh.BackendName, Namespace: ns, Selector: map[string]string{"app": "checkout"}}
	require.NoError(t, d.ValidateTarget(ok))
	for _, tc := range []struct {
		name  string
		edit  func(*chaos.Target)
		field string
		msg   string
	}{
		{"no namespace", func(t *chaos.Target) { t.Namespace = "" }, "namespace", "required"},
		{"bad namespace", func(t *chaos.Target) { t.Namespace = "Shop_1" }, "namespace", "not a valid namespace"},
		{"no selector", func(t *chaos.Target) { t.Selector = nil }, "selector", "never targets a whole namespace"},
		{"bad label", func(t *chaos.Target) { t.Selector = map[string]string{"app": "a b"} }, "selector.app", "invalid label value"},
		{"unknown mode", func(t *chaos.Target) { t.Mode = "some" }, "mode", "unknown mode"},
		{"fixed without value", func(t *chaos.Target) { t.Mode = chaos.ModeFixed }, "value", "count"},
		{"fractional percent", func(t *chaos.Target) { t.Mode, t.Value = chaos.ModeRandomMaxPercent, "12.5" }, "value", "whole percentage"},
	} {
		tg := ok
		tc.edit(&tg)
		err := d.ValidateTarget(tg)
		var fe *errkind.FieldError
		require.ErrorAs(t, err, &fe, tc.name)
		assert.Equal(t, tc.field, fe.Field, tc.name)
		assert.Contains(t, fe.Msg, tc.msg, tc.name)
	}
	tg := ok
	tg.Mode, tg.Value = chaos.ModeFixedPercent, "50%"
	assert.NoError(t, d.ValidateTarget(tg))
}

func TestObjectRefusesUnusableFaults(t *testing.T) {
	f := delayFault()
	f.Duration = 0
	_, err := chaosmesh.Object(f, time.Time{})
	assert.ErrorContains(t, err, "duration must be > 0")

	f = delayFault()
	f.ID = "GD_bad"
	_, err = chaosmesh.Object(f, time.Time{})
	assert.ErrorContains(t, err, "cannot name a Kubernetes object")

	f = delayFault()
	f.Action = "network-jam"
	_, err = chaosmesh.Object(f, time.Time{})
	var fe *errkind.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "action", fe.Field)
	assert.Contains(t, fe.Msg, "network-delay")
}

// The scenario loader points at the offending param through the driver.
func TestScenarioLoaderReportsParamField(t *testing.T) {
	doc := `apiVersion: gameday/v1
kind: Scenario
metadata:
  name: slow-checkout
  service: checkout
spec:
  target:
    backend: chaos-mesh
    namespace: shop
    selector:
      app: checkout
  faults:
    - name: slow
      action: network-delay
      duration: 60s
      params:
        delay:
          latency: 100
        mode: all
  unguarded: true # no guard: the test is about params
`
	// A platform-owned key is reported first, at its line.
	_, err := scenarios.Parse("slow.yaml", []byte(doc))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "slow.yaml:19")
	assert.Contains(t, err.Error(), "spec.faults[0].params.mode")
	assert.Contains(t, err.Error(), "spec.target.mode")

	doc = strings.Replace(doc, "        mode: all\n", "", 1)
	_, err = scenarios.Parse("slow.yaml", []byte(doc))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "slow.yaml:18")
	assert.Contains(t, err.Error(), "spec.faults[0].params.delay.latency")

	doc = strings.Replace(doc, "          latency: 100\n", "          latency: 100ms\n", 1)
	s, err := scenarios.Parse("slow.yaml", []byte(doc))
	require.NoError(t, err)
	f := s.ChaosFaults("wf-1")[0]
	u, err := chaosmesh.Object(f, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, "100ms", u.Object["spec"].(map[string]any)["delay"].(map[string]any)["latency"])

	doc = strings.Replace(doc, "    namespace: shop\n", "", 1)
	_, err = scenarios.Parse("slow.yaml", []byte(doc))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spec.target.namespace")
	var errs yamlx.Errors
	assert.True(t, errors.As(err, &errs))
}

// Kinds is derived from the action table; its order (List's, the first is
// NetworkChaos) stays the one it always had.
func TestKindsOrder(t *testing.T) {
	var got []string
	for _, k := range chaosmesh.Kinds() {
		got = append(got, k.Kind)
	}
	assert.Equal(t, []string{"NetworkChaos", "StressChaos", "PodChaos", "DNSChaos", "TimeChaos", "HTTPChaos", "IOChaos"}, got)
}
