package kubernetes

import (
	"fmt"
	"strings"
)

// Permission is one RBAC rule the back-end needs: API group ("" is core),
// resource (with "/subresource"), and verbs.
type Permission struct {
	Group    string
	Resource string
	Verbs    []string
}

// Permissions is every API verb the back-end uses, the same list as the
// package documentation. Kept as data so tests can check it against the
// requests the back-end really makes and against deploy/rbac.yaml.
var Permissions = []Permission{
	{Group: "", Resource: "configmaps", Verbs: []string{"create", "delete", "get", "list"}},
	{Group: "", Resource: "namespaces", Verbs: []string{"get"}},
	{Group: "", Resource: "nodes", Verbs: []string{"get", "list", "patch"}},
	{Group: "", Resource: "pods", Verbs: []string{"delete", "list"}},
	{Group: "", Resource: "pods/eviction", Verbs: []string{"create"}},
	{Group: "apps", Resource: "deployments", Verbs: []string{"get"}},
	{Group: "apps", Resource: "replicasets", Verbs: []string{"get"}},
	{Group: "apps", Resource: "statefulsets", Verbs: []string{"get"}},
}

// String renders the permission as a row of the package documentation's
// table.
func (p Permission) String() string {
	g := p.Group
	if g == "" {
		g = `""`
	}
	return fmt.Sprintf("%-9s %-14s %s", g, p.Resource, strings.Join(p.Verbs, ", "))
}

// Allows reports whether the permission covers verb on group/resource.
func (p Permission) Allows(group, resource, verb string) bool {
	if p.Group != group || p.Resource != resource {
		return false
	}
	for _, v := range p.Verbs {
		if v == verb {
			return true
		}
	}
	return false
}
