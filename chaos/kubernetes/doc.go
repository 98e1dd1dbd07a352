// Package kubernetes is the gameday fault back-end that acts on a cluster
// through the plain Kubernetes API (no operator to install):
//
//   - pod-kill deletes some of the pods a target selects (blast-radius mode:
//     one, all, fixed, fixed-percent, random-max-percent), and its recover
//     waits until the owning Deployment, StatefulSet or ReplicaSet is fully
//     Ready again and reports how long that took: the point of the
//     experiment is whether the service heals by itself, and how fast.
//   - node-notready cordons the nodes hosting the selected pods (and,
//     with evict: true, evicts their pods through the Eviction API like
//     kubectl drain, but only pods in allowed namespaces that opted in);
//     its recover uncordons them.
//
// Every target goes through the safety policy (kubetarget.SelectPods: namespace
// allow-list, opt-in label, blast radius) before anything is touched.
//
// State lives in the cluster, next to the fault, never in the worker: a
// pod-kill writes a marker ConfigMap named after the fault id (victims,
// owners, kill time) before deleting anything, and a cordoned node carries
// the fault id as a label and the cordon time as an annotation. That is
// what makes Inject and Recover idempotent when a worker crashes mid-way,
// lets a retried inject report when the fault really began
// (Injected.Since) and recover measure the recovery time from the real kill
// time across retries, and lets List find leftovers for a sweep that knows
// nothing but what List returned.
//
// Faults expire without any worker: Backend.Reap (what `gameday reap
// --kube` runs, e.g. as a CronJob) uncordons every node this back-end
// cordoned whose gameday.io/expires plus a grace has passed, with the same
// patch recover sends, and deletes the pod-kill markers past theirs. It
// needs only the cluster and a subset of the verbs below.
//
// Waits are bounded: pod-kill's ready_timeout (how long recover waits for
// the owners) and the grace_period of both actions are at most 30m
// (MaxReadyTimeout, MaxGracePeriod).
//
// # RBAC
//
// The back-end uses exactly these API verbs and no other (a test checks that
// every request the unit tests make is in this list, and Permissions holds
// the same list for code). Nodes and namespaces are cluster-scoped and need
// a cluster-wide binding; everything else is only ever used in the
// namespaces the policy allows (node-notready too looks for pods to evict
// only there), so it can be bound in those namespaces alone.
//
//	apiGroup  resource       verbs
//	""        configmaps     create, delete, get, list
//	""        namespaces     get
//	""        nodes          get, list, patch
//	""        pods           delete, list
//	""        pods/eviction  create
//	apps      deployments    get, watch
//	apps      replicasets    get, watch
//	apps      statefulsets   get, watch
//	chaos-mesh.org dnschaos       list
//	chaos-mesh.org httpchaos      list
//	chaos-mesh.org iochaos        list
//	chaos-mesh.org networkchaos   list
//	chaos-mesh.org podchaos       list
//	chaos-mesh.org stresschaos    list
//	chaos-mesh.org timechaos      list
//
// A pod-kill's recover watches the killed pods' owners until they are Ready
// again (without watch it polls every 100 ms), so the recovery time it
// reports is when they were.
//
// The cumulative blast radius (kubetarget.TakeCensus) lists the pods of the
// namespaces a fault touches, the gameday markers, the nodes gameday
// cordoned and, with WithDynamic, gameday's Chaos Mesh objects (the worker
// always gives it one; a cluster without Chaos Mesh answers 404, which
// counts as none).
package kubernetes
