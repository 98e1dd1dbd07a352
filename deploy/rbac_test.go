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
	"strings"
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
	perms := append(slices.Clone(k8sbackend.Permissions), chaosmesh.Permissions()...)
	perms = append(perms, k8sbackend.ReapPermissions...) // gameday reap --kube (reap-cronjob.yaml)
	for _, p := range perms {
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

// manifest is the part of a Kubernetes object the checks below read.
type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Rules    []rule `yaml:"rules"`
	Subjects []struct {
		Kind      string `yaml:"kind"`
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"subjects"`
	RoleRef struct {
		Kind string `yaml:"kind"`
		Name string `yaml:"name"`
	} `yaml:"roleRef"`
}

func manifests(t *testing.T, file string) []manifest {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []manifest
	for {
		var m manifest
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, m)
	}
	return out
}

type reapCronJob struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Spec struct {
		Schedule          string `yaml:"schedule"`
		ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
		JobTemplate       struct {
			Spec struct {
				Template struct {
					Spec struct {
						ServiceAccountName string `yaml:"serviceAccountName"`
						RestartPolicy      string `yaml:"restartPolicy"`
						Containers         []struct {
							Args []string `yaml:"args"`
							Env  []struct {
								Name  string `yaml:"name"`
								Value string `yaml:"value"`
							} `yaml:"env"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

// The reaper's CronJob runs `gameday reap --kube --once` every 5 minutes as
// the worker's ServiceAccount, and rbac.yaml binds that account to every
// verb Reap uses: nodes cluster-wide, configmaps in each namespace the job's
// GAMEDAY_NAMESPACES names.
func TestReapCronJobRunsAsTheWorkerWithWhatItNeeds(t *testing.T) {
	data, err := os.ReadFile("reap-cronjob.yaml")
	require.NoError(t, err)
	var cj reapCronJob
	require.NoError(t, yaml.Unmarshal(data, &cj))
	assert.Equal(t, "batch/v1", cj.APIVersion)
	assert.Equal(t, "CronJob", cj.Kind)
	assert.Equal(t, "*/5 * * * *", cj.Spec.Schedule)
	assert.Equal(t, "Forbid", cj.Spec.ConcurrencyPolicy)
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	assert.Equal(t, "Never", pod.RestartPolicy)
	require.Len(t, pod.Containers, 1)
	assert.Equal(t, []string{"reap", "--kube", "--once"}, pod.Containers[0].Args)
	var namespaces []string
	for _, e := range pod.Containers[0].Env {
		if e.Name == "GAMEDAY_NAMESPACES" {
			namespaces = strings.Split(e.Value, ",")
		}
	}
	require.NotEmpty(t, namespaces, "the job says where pod-kill markers are")

	sa, ns := pod.ServiceAccountName, cj.Metadata.Namespace
	rbac := manifests(t, "rbac.yaml")
	roles := map[string][]rule{} // "Kind/name" (Role names are namespaced: "Role/ns/name")
	hasSA := false
	for _, m := range rbac {
		switch m.Kind {
		case "ServiceAccount":
			hasSA = hasSA || m.Metadata.Name == sa && m.Metadata.Namespace == ns
		case "ClusterRole":
			roles["ClusterRole/"+m.Metadata.Name] = m.Rules
		case "Role":
			roles["Role/"+m.Metadata.Namespace+"/"+m.Metadata.Name] = m.Rules
		}
	}
	require.True(t, hasSA, "rbac.yaml declares the ServiceAccount %s/%s the job runs as", ns, sa)

	// grants[scope] is what the account may do there ("" = cluster-wide).
	grants := map[string][]rule{}
	for _, m := range rbac {
		if m.Kind != "ClusterRoleBinding" && m.Kind != "RoleBinding" {
			continue
		}
		bound := false
		for _, s := range m.Subjects {
			bound = bound || s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == ns
		}
		if !bound {
			continue
		}
		ref := m.RoleRef.Kind + "/" + m.RoleRef.Name
		if m.RoleRef.Kind == "Role" {
			ref = "Role/" + m.Metadata.Namespace + "/" + m.RoleRef.Name
		}
		scope := ""
		if m.Kind == "RoleBinding" {
			scope = m.Metadata.Namespace
		}
		grants[scope] = append(grants[scope], roles[ref]...)
	}
	allows := func(scope, group, resource, verb string) bool {
		for _, sc := range []string{"", scope} {
			for _, r := range grants[sc] {
				if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
					return true
				}
			}
		}
		return false
	}
	for _, p := range k8sbackend.ReapPermissions {
		for _, v := range p.Verbs {
			if p.Resource == "nodes" {
				assert.True(t, allows("", p.Group, p.Resource, v), "%s %s must be granted cluster-wide to %s/%s", v, p.Resource, ns, sa)
				continue
			}
			for _, target := range namespaces {
				assert.True(t, allows(target, p.Group, p.Resource, v), "%s %s must be granted to %s/%s in namespace %s", v, p.Resource, ns, sa, target)
			}
		}
	}
}
