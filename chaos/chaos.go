// Package chaos defines the fault back-end contract. Every back-end (toxiproxy,
// kubernetes, chaos-mesh) is one package that implements
// Backend and registers a Driver so that scenario validation knows its actions
// and parameters without needing any client. No Temporal import: activities
// adapt these calls.
package chaos

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Target is what a scenario points a fault at (spec.target in the YAML).
type Target struct {
	Backend   string `json:"backend" yaml:"backend"`
	Namespace string `json:"namespace,omitempty" yaml:"namespace"`
	// Selector picks targets inside the namespace: label selector for
	// Kubernetes, a proxy (link) name for toxiproxy.
	Selector map[string]string `json:"selector,omitempty" yaml:"selector"`
	Mode     string            `json:"mode,omitempty" yaml:"mode"`
	Value    string            `json:"value,omitempty" yaml:"value"`
}

// Fault is one fully-resolved fault step, as the workflow hands it to an
// activity. ID is deterministic (run + step index, see FaultID) so a
// retried inject never creates a second fault and recover can find an
// injected fault even if the inject activity never reported back.
type Fault struct {
	ID         string         `json:"id"`
	WorkflowID string         `json:"workflow_id"`
	Step       int            `json:"step"`
	Name       string         `json:"name"`
	Backend    string         `json:"backend"`
	Action     string         `json:"action"`
	Duration   time.Duration  `json:"duration"`
	Params     map[string]any `json:"params,omitempty"`
	Target     Target         `json:"target"`
	// Environment is the scenario's environment label (metadata.labels
	// .environment); the blast-radius limit depends on it.
	Environment string `json:"environment,omitempty"`
	// TemporalNamespace is the namespace of the workflow that owns the
	// fault, set by the activity that injects it, so a sweep run by another
	// gameday installation (another Temporal namespace) leaves it alone.
	TemporalNamespace string `json:"temporal_namespace,omitempty"`
}

// Injected describes a fault present in a back-end.
type Injected struct {
	FaultID string    `json:"fault_id"`
	Backend string    `json:"backend"`
	Object  string    `json:"object"`            // back-end specific handle: proxy/toxic, pod, CR name
	Expires time.Time `json:"expires,omitempty"` // the fault's own TTL
	// Since is when the fault first took effect. A retried inject that
	// adopts an existing fault reports the original time, so the hold ends
	// at the fault's own expiry and not a full duration after the retry.
	// Zero means "now" (the back-end cannot tell).
	Since    time.Time `json:"since,omitzero"`
	Existing bool      `json:"existing,omitempty"` // found already present (a retried inject)
	// Set by List so a sweep can tell whose fault it is and remove it
	// without the scenario.
	WorkflowID        string `json:"workflow_id,omitempty"`
	TemporalNamespace string `json:"temporal_namespace,omitempty"`
	Action            string `json:"action,omitempty"`
	Namespace         string `json:"namespace,omitempty"`
	// Targets names what the fault hit (pods killed, node cordoned).
	Targets []string `json:"targets,omitempty"`
}

// Recovered reports what recover did for one fault. It is also the entry of
// a run's recover log (experiment.Result.RecoverLog): one record, one JSON
// shape.
type Recovered struct {
	FaultID     string `json:"fault_id"`
	Removed     bool   `json:"removed"`      // something was removed now
	AlreadyGone bool   `json:"already_gone"` // nothing was there (never landed, TTL expired, or removed before)
	// At is when the recovery was recorded; the recover activity sets it
	// (back-ends leave it zero), and the run's recover log keeps it.
	At time.Time `json:"at"`
	// Detail is what a user should know about the recovery, e.g. "2/2
	// replicas of deployment/order Ready 4.1s after the kill".
	Detail string `json:"detail,omitempty"`
	// RecoveryTime is how long the system took to heal by itself (pod-kill:
	// from the kill until the owner was Ready again); zero when not measured.
	RecoveryTime time.Duration `json:"recovery_time,omitempty"`
}

// Backend injects and removes faults. Inject and Recover must be idempotent
// by Fault.ID.
type Backend interface {
	Name() string
	// Resolve lists exactly what the fault would hit, without touching it.
	Resolve(ctx context.Context, f Fault) ([]string, error)
	Inject(ctx context.Context, f Fault) (Injected, error)
	Recover(ctx context.Context, f Fault) (Recovered, error)
	// List returns every fault this back-end holds that was created by gameday
	// (for sweeps and for tests that assert nothing is left behind).
	List(ctx context.Context) ([]Injected, error)
}

// Driver is the static half of a back-end: what it accepts. Registered at
// init by the back-end package.
type Driver struct {
	Name string
	// Actions maps an action name to its parameter validator.
	Actions map[string]func(params map[string]any) error
	// ValidateTarget checks spec.target for this back-end (may be nil).
	ValidateTarget func(t Target) error
	// Describe, when set, says in a few words what a fault does and what
	// undoing it does (see Describe). resolved are the fault's target
	// lines from Resolve (define), without the fault-name prefix; it may
	// be empty. Pure and deterministic: workflow code calls it.
	Describe func(f Fault, resolved []string) Description
}

var (
	mu      sync.RWMutex
	drivers = map[string]Driver{}
)

// Register makes a back-end known to validation. Panics on a duplicate name:
// that is a programming error.
func Register(d Driver) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := drivers[d.Name]; dup {
		panic("chaos: driver registered twice: " + d.Name)
	}
	drivers[d.Name] = d
}

// Lookup returns the registered driver.
func Lookup(name string) (Driver, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := drivers[name]
	return d, ok
}

// Names lists registered back-ends, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Sorted(maps.Keys(drivers))
}

// ActionNames lists a driver's actions, sorted.
func (d Driver) ActionNames() []string {
	return slices.Sorted(maps.Keys(d.Actions))
}

// FaultID derives the deterministic id of step i of a run from the run's
// key: "<workflow id>/<run id>", or the workflow id alone for runs
// recorded before fault ids included the run id (see
// scenarios.ChaosFaultsForRun). Kept short and DNS-label friendly so every
// back-end can use it as an object name.
func FaultID(runKey string, step int) string {
	return fmt.Sprintf("gd-%s-f%d", shortHash(runKey), step)
}

// ResumedFaultID is the id of a fault re-injected when a paused run
// resumes: its first id plus "-r<cycle>" (cycle 1 for the first resume).
// Back-ends are idempotent by id, so re-using the first id would find a
// pod-kill's marker or adopt an old toxic and inject nothing; a fresh,
// deterministic id per resume cycle injects anew and stays the same on
// every retry. "gd-<12 hex>-f<step>-r<cycle>" is still a DNS-1123 label
// (a marker ConfigMap name, a label value, a Chaos Mesh object name) and
// has no '.', so toxiproxy's "<id>.<deadline>" toxic names parse back.
func ResumedFaultID(first string, cycle int) string {
	if cycle <= 0 {
		return first
	}
	return fmt.Sprintf("%s-r%d", first, cycle)
}

func shortHash(s string) string {
	// FNV-1a 64: stable across processes and Go versions.
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return fmt.Sprintf("%012x", h&0xffffffffffff)
}

// Scoper is implemented by back-ends that can name everything a fault may
// touch, for target leases: every pod its selector matches (not only those
// a mode would pick: a random pick may hit any of them), the nodes it would
// cordon, the proxy it would slow. Names are "<kind> <name>", e.g. "pod
// shop/order-7f9c" or "node worker-2", so two back-ends of one resource
// domain name the same thing alike. Read-only, like Resolve.
type Scoper interface {
	Scope(ctx context.Context, f Fault) ([]string, error)
}
