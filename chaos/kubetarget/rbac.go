package kubetarget

import (
	"fmt"
	"slices"
	"strings"
)

// Permission is one RBAC rule a Kubernetes back-end needs: API group (""
// is core), resource (with "/subresource") and verbs. Each back-end lists
// its permissions as data, its tests check them against the requests it
// really makes, and deploy/rbac_test.go checks them against deploy/rbac.yaml.
type Permission struct {
	Group    string
	Resource string
	Verbs    []string
}

// String renders the permission as a row of a package documentation table.
func (p Permission) String() string {
	g := p.Group
	if g == "" {
		g = `""`
	}
	return fmt.Sprintf("%-9s %-14s %s", g, p.Resource, strings.Join(p.Verbs, ", "))
}

// Allows reports whether the permission covers verb on group/resource.
func (p Permission) Allows(group, resource, verb string) bool {
	return p.Group == group && p.Resource == resource && slices.Contains(p.Verbs, verb)
}
