// Package deploy holds the Kubernetes manifests for running gameday; this
// test keeps deploy/rbac.yaml exactly as wide as the code needs.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gameday/gameday/chaos/chaosmesh"
	k8sbackend "github.com/gameday/gameday/chaos/kubernetes"
)

type rule struct {
	APIGroups []string `yaml:"apiGroups"`
	Resources []string `yaml:"resources"`
	Verbs     []string `yaml:"verbs"`
}

type doc struct {
	Kind  string `yaml:"kind"`
	Rules []rule `yaml:"rules"`
}

// granted reads every (group resource verb) the ClusterRoles grant.
func granted(t *testing.T) []string {
	data, err := os.ReadFile("rbac.yaml")
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []string
	for {
		var d doc
		if err := dec.Decode(&d); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		if d.Kind != "ClusterRole" && d.Kind != "Role" {
			continue
		}
		for _, r := range d.Rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						out = append(out, g+" "+res+" "+v)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// used is what the back-ends declare they call. Each back-end's own tests
// check that every request it makes (recorded by the fake clients) is in its
// declaration, so declared == granted means used == granted.
func used() []string {
	set := map[string]bool{}
	for _, p := range append(slices.Clone(k8sbackend.Permissions), chaosmesh.Permissions()...) {
		for _, v := range p.Verbs {
			set[p.Group+" "+p.Resource+" "+v] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestRBACGrantsExactlyWhatTheCodeUses(t *testing.T) {
	g, u := granted(t), used()
	var extra, missing []string
	for _, x := range g {
		if !contains(u, x) {
			extra = append(extra, x)
		}
	}
	for _, x := range u {
		if !contains(g, x) {
			missing = append(missing, x)
		}
	}
	assert.Empty(t, missing, "the code needs these, deploy/rbac.yaml does not grant them")
	assert.Empty(t, extra, "deploy/rbac.yaml grants these, no code uses them (least privilege)")
}

func contains(s []string, x string) bool {
	i := sort.SearchStrings(s, x)
	return i < len(s) && s[i] == x
}
