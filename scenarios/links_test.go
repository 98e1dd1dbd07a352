package scenarios

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChecklistLinkValidation(t *testing.T) {
	const doc = `apiVersion: gameday/v1
kind: Scenario
metadata: {name: x, service: s}
spec:
  target: {backend: fake, selector: {proxy: p}}
  faults: [{name: f, action: kill, duration: 10s}]
  checklist: %s
  fault_class: %s
  guards: [{name: up, query: up, op: ">", threshold: 0}]
`
	_, err := Parse("x.yaml", []byte(fmt.Sprintf(doc, "release-default", "network-delay")))
	require.NoError(t, err)
	_, err = Parse("x.yaml", []byte(fmt.Sprintf(doc, "my-checklist.yaml", "pod-kill")))
	require.NoError(t, err, "a file is resolved at run time")
	_, err = Parse("x.yaml", []byte(fmt.Sprintf(doc, "nope", `"Network Delay"`)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `x.yaml:7: spec.checklist: unknown checklist "nope"`)
	assert.Contains(t, err.Error(), `x.yaml:8: spec.fault_class: "Network Delay" must be lowercase`)
}
