package kubernetes

import "github.com/gameday/gameday/chaos/kubetarget"

// Permissions is every API verb the back-end uses, the same list as the
// package documentation. Kept as data so tests can check it against the
// requests the back-end really makes and against deploy/rbac.yaml.
var Permissions = append([]kubetarget.Permission{
	{Group: "", Resource: "configmaps", Verbs: []string{"create", "delete", "get", "list"}},
	{Group: "", Resource: "namespaces", Verbs: []string{"get"}},
	{Group: "", Resource: "nodes", Verbs: []string{"get", "list", "patch"}},
	{Group: "", Resource: "pods", Verbs: []string{"delete", "list"}},
	{Group: "", Resource: "pods/eviction", Verbs: []string{"create"}},
	{Group: "apps", Resource: "deployments", Verbs: []string{"get", "watch"}},
	{Group: "apps", Resource: "replicasets", Verbs: []string{"get", "watch"}},
	{Group: "apps", Resource: "statefulsets", Verbs: []string{"get", "watch"}},
}, chaosMeshList()...)

// chaosMeshList is list on every Chaos Mesh resource: the census of the
// cumulative blast radius counts the pods gameday's Chaos Mesh objects
// disrupt (only with WithDynamic).
func chaosMeshList() []kubetarget.Permission {
	var out []kubetarget.Permission
	for _, r := range kubetarget.ChaosMeshResources {
		out = append(out, kubetarget.Permission{Group: kubetarget.ChaosMeshGroup, Resource: r, Verbs: []string{"list"}})
	}
	return out
}
