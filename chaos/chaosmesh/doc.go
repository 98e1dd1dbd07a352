// Package chaosmesh is the gameday fault back-end "chaos-mesh": each fault is
// one Chaos Mesh (https://chaos-mesh.org) object of apiVersion
// chaos-mesh.org/v1alpha1, created and deleted through the client-go
// dynamic client, so Chaos Mesh's Go API is not a dependency.
//
// # Actions
//
// An action picks the kind and, where the kind has one, spec.action:
//
//	action             kind          spec.action     required params
//	network-delay      NetworkChaos  delay           delay.latency
//	network-loss       NetworkChaos  loss            loss.loss
//	network-duplicate  NetworkChaos  duplicate       duplicate.duplicate
//	network-corrupt    NetworkChaos  corrupt         corrupt.corrupt
//	network-partition  NetworkChaos  partition       (none; usually direction and target)
//	network-bandwidth  NetworkChaos  bandwidth       bandwidth.rate, bandwidth.limit, bandwidth.buffer
//	stress-cpu         StressChaos   -               stressors.cpu.workers
//	stress-memory      StressChaos   -               stressors.memory.workers
//	pod-failure        PodChaos      pod-failure     (none)
//	pod-kill           PodChaos      pod-kill        (none)
//	container-kill     PodChaos      container-kill  containerNames
//	dns-error          DNSChaos      error           (none; patterns narrows the domains)
//	dns-random         DNSChaos      random          (none)
//	time-skew          TimeChaos     -               timeOffset
//	http-abort         HTTPChaos     -               target, abort (true)
//	http-delay         HTTPChaos     -               target, delay
//	http-replace       HTTPChaos     -               target, replace
//	http-patch         HTTPChaos     -               target, patch
//	io-latency         IOChaos       latency         volumePath, delay
//	io-fault           IOChaos       fault           volumePath, errno
//	io-attr-override   IOChaos       attrOverride    volumePath, attr
//	io-mistake         IOChaos       mistake         volumePath, mistake
//
// The fault's params are the rest of the spec, with Chaos Mesh's own field
// names and types, e.g. for network-delay
//
//	params:
//	  delay: {latency: 100ms, jitter: 10ms, correlation: "25"}
//	  direction: to
//
// gameday fills what it owns: selector (namespaces: [target.namespace],
// labelSelectors: target.selector), mode (one when empty) and value from
// spec.target, duration from the fault's duration (the fault's own TTL:
// Chaos Mesh ends it even if gameday dies) and action. Params that try to
// set those, or remoteCluster, are refused.
//
// The driver validates statically (required keys, types, enums, unknown
// keys, all as *errkind.FieldError naming the field, e.g. "delay.latency").
// Deeper checks are the API server's: objects are created with strict field
// validation (without it the server silently drops unknown fields), and
// Resolve does a server-side dry-run create, so a field the CRD does not
// know, or a spec Chaos Mesh's admission webhook refuses, fails define
// before anything is injected. See WithServerDryRun for why tests turn the
// dry run off.
//
// Before creating anything the target is resolved with kubetarget.SelectPods: the
// namespace must be in the worker's allow-list, the matched pods or their
// namespace must carry the opt-in label, and what the mode can hit must fit
// the environment's blast radius. A NetworkChaos peer in another namespace
// (params target.selector.namespaces) must be allowed too.
//
// The blast radius is cumulative too (safety.CheckCumulative): per owner
// of the matched pods, what is already unavailable (not Ready, missing, or
// disrupted by another live gameday fault: a pod-kill marker, a cordoned
// node, another Chaos Mesh object of gameday) plus the most this object
// can take from that owner must fit the limit, checked in Resolve and again
// in Inject right before the object is created.
//
// Object and FaultFromObject convert between a fault and its object, so a
// Chaos Mesh YAML can be turned into a scenario fault and back.
//
// # RBAC
//
// The exact API access of this back-end (Permissions returns the same list;
// a test keeps the two in step, and deploy/rbac.yaml must grant it):
//
//	apiGroup        resource        verbs
//	chaos-mesh.org  dnschaos        create, get, list, delete, watch
//	chaos-mesh.org  httpchaos       create, get, list, delete, watch
//	chaos-mesh.org  iochaos         create, get, list, delete, watch
//	chaos-mesh.org  networkchaos    create, get, list, delete, watch
//	chaos-mesh.org  podchaos        create, get, list, delete, watch
//	chaos-mesh.org  stresschaos     create, get, list, delete, watch
//	chaos-mesh.org  timechaos       create, get, list, delete, watch
//	""              pods            list
//	""              namespaces      get
//	""              configmaps      list
//	""              nodes           list
//	apps            deployments     get
//	apps            replicasets     get
//	apps            statefulsets    get
//
// create also covers Resolve's dry run; get is used to adopt an object on
// a retried inject and to wait for deletion, with watch (the wait wakes the
// moment the object goes; without watch it polls every 100 ms); list is
// for List (sweeps); delete for Recover. configmaps, nodes and the apps
// resources are read for the cumulative blast radius (kubetarget.TakeCensus):
// pod-kill markers, nodes gameday cordoned, the owners' desired replicas.
package chaosmesh
