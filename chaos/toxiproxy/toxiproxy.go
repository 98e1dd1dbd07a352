// Package toxiproxy is the gameday fault back-end for network faults through
// a Toxiproxy server (https://github.com/Shopify/toxiproxy): latency and
// timeout toxics on a named proxy.
//
// A fault's time-to-live is written into the toxic's own name
// (<fault id>.<unix deadline>), so the deadline lives next to the fault in
// the only place that is guaranteed to exist while the fault does: the
// toxiproxy server. Backend.Reap, run by whoever hosts toxiproxy (the demo
// shop does it every 500ms), removes expired toxics even if every gameday
// worker and the workflow engine are gone.
//
// The back-end talks to toxiproxy's REST API with its own small client
// (api.go) rather than the Shopify one, whose calls take no context.
package toxiproxy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/internal/errkind"
)

// DefaultTTLMargin is added to a fault's duration to get its deadline. It
// gives the workflow time to recover the fault itself (the normal path)
// before the reaper steps in, while still bounding an orphaned fault.
const DefaultTTLMargin = 10 * time.Second

// ErrNotFound is wrapped (inside a *PermanentError) when the proxy a fault
// targets does not exist. Check with errors.Is.
var ErrNotFound = errors.New("toxiproxy proxy not found")

// PermanentError marks a failure that retrying cannot fix: an unknown proxy
// (also matches ErrNotFound), invalid params (wraps a *errkind.FieldError), a
// fault id that cannot be used as a toxic name, or a request the API rejects
// as bad (4xx). It is errkind.PermanentError, so activities fail it
// non-retryably; every other error (API unreachable, 5xx, timeouts) is
// transient and retried.
type PermanentError = errkind.PermanentError

func permanent(err error) error { return errkind.Permanent(err) }

// Backend implements chaos.Backend against one toxiproxy API.
//
// Every API call takes the caller's context: a cancelled context or a
// passed deadline ends a call to a hung API at once. A context without a
// deadline is still bounded per request by DefaultHTTPTimeout (see
// WithHTTPClient).
type Backend struct {
	api    *api
	margin time.Duration
	now    func() time.Time
}

var _ chaos.Backend = (*Backend)(nil)

// Option configures a Backend.
type Option func(*Backend)

// WithTTLMargin sets how long after fault.Duration a toxic is still allowed
// to live before Reap removes it (default DefaultTTLMargin).
func WithTTLMargin(d time.Duration) Option { return func(b *Backend) { b.margin = d } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(b *Backend) { b.now = now } }

// WithHTTPClient replaces the HTTP client (default: one with
// DefaultHTTPTimeout per request), e.g. for a custom transport.
func WithHTTPClient(c *http.Client) Option {
	return func(b *Backend) {
		if c != nil {
			b.api.http = c
		}
	}
}

// WithUserAgent sets the User-Agent of every request (default
// DefaultUserAgent), so the toxiproxy server's logs tell callers apart.
func WithUserAgent(ua string) Option { return func(b *Backend) { b.api.agent = ua } }

// New returns a Backend for the toxiproxy API at apiURL (e.g.
// "http://127.0.0.1:8474"; credentials in the URL are sent as basic auth and
// never shown in errors). It does not contact the API.
func New(apiURL string, opts ...Option) *Backend {
	b := &Backend{
		api:    newAPI(apiURL),
		margin: DefaultTTLMargin,
		now:    time.Now,
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Name implements chaos.Backend.
func (b *Backend) Name() string { return BackendName }

// URL is the API endpoint with any credentials removed: the form errors
// and logs use.
func (b *Backend) URL() string { return b.api.shown }

// ToxicName is the name of the toxic holding fault id until deadline. The
// deadline is stored in whole unix seconds.
func ToxicName(id string, deadline time.Time) string {
	return id + "." + strconv.FormatInt(deadline.Unix(), 10)
}

// ParseToxicName reverses ToxicName. ok is false for toxics gameday did not
// create (no ".<digits>" suffix), which every sweep must leave alone.
func ParseToxicName(name string) (id string, deadline time.Time, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return "", time.Time{}, false
	}
	digits := name[i+1:]
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", time.Time{}, false
		}
	}
	secs, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return name[:i], time.Unix(secs, 0).UTC(), true
}

// validID keeps fault ids usable as a path segment of the toxiproxy API.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

func checkFault(f chaos.Fault) (proxy string, spec toxicSpec, err error) {
	if !validID.MatchString(f.ID) {
		return "", toxicSpec{}, permanent(fmt.Errorf("fault id %q: want letters, digits, '.', '_' or '-'", f.ID))
	}
	if err := validateTarget(f.Target); err != nil {
		return "", toxicSpec{}, permanent(err)
	}
	if f.Duration < 0 {
		return "", toxicSpec{}, permanent(fmt.Errorf("fault %s: negative duration %s", f.ID, f.Duration))
	}
	spec, err = parseToxic(f.Action, f.Params)
	if err != nil {
		return "", toxicSpec{}, permanent(err)
	}
	return f.Target.Selector[SelectorProxy], spec, nil
}

// apiErr classifies an error from the toxiproxy API and names the API it
// came from (credentials removed), so an operator reading a failed activity
// knows where to look. A 4xx answer (and an endpoint that is not a URL) is
// permanent; 5xx, network errors and timeouts are transient.
func (b *Backend) apiErr(what string, err error) error {
	e := fmt.Errorf("toxiproxy API %s: %s: %w", b.api.shown, what, err)
	var ae *APIError
	if errors.Is(err, errBadURL) || errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
		return permanent(e)
	}
	return e
}

func isStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// proxies fetches every proxy with its toxics in one request.
func (b *Backend) proxies(ctx context.Context) (map[string]apiProxy, error) {
	ps, err := b.api.proxies(ctx)
	if err != nil {
		return nil, b.apiErr("list proxies", err)
	}
	return ps, nil
}

func (b *Backend) proxy(ctx context.Context, name string) (apiProxy, error) {
	ps, err := b.proxies(ctx)
	if err != nil {
		return apiProxy{}, err
	}
	p, ok := ps[name]
	if !ok {
		have := strings.Join(slices.Sorted(maps.Keys(ps)), ", ")
		if have == "" {
			have = "none"
		}
		return apiProxy{}, permanent(fmt.Errorf("%w: %q at %s (existing proxies: %s)", ErrNotFound, name, b.api.shown, have))
	}
	if p.Name == "" {
		p.Name = name
	}
	return p, nil
}

// Resolve implements chaos.Backend: it names the proxy and what would be
// done to it, without changing anything.
func (b *Backend) Resolve(ctx context.Context, f chaos.Fault) ([]string, error) {
	name, spec, err := checkFault(f)
	if err != nil {
		return nil, err
	}
	p, err := b.proxy(ctx, name)
	if err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("toxiproxy proxy %q %s -> %s (%s)", p.Name, p.Listen, p.Upstream, spec.summary)}, nil
}

// Inject implements chaos.Backend. It is idempotent by fault id: a toxic
// already carrying the id is returned with Existing set instead of adding a
// second one (its deadline, not a fresh one, is reported, and Since is the
// first inject's start, read back from that deadline).
func (b *Backend) Inject(ctx context.Context, f chaos.Fault) (chaos.Injected, error) {
	name, spec, err := checkFault(f)
	if err != nil {
		return chaos.Injected{}, err
	}
	p, err := b.proxy(ctx, name)
	if err != nil {
		return chaos.Injected{}, err
	}
	now := b.now()
	if t, ok := ownToxic(p.Toxics, f.ID); ok {
		return b.injected(f, p.Name, t.Name, true, now), nil
	}

	// Round the deadline up: the name holds whole seconds and truncating
	// would cut the fault short rather than give it <1s of extra margin.
	deadline := now.Add(f.Duration + b.margin)
	secs := deadline.Unix()
	if deadline.Nanosecond() > 0 {
		secs++
	}
	deadline = time.Unix(secs, 0).UTC()
	toxic := ToxicName(f.ID, deadline)

	addErr := b.api.addToxic(ctx, name, apiToxic{
		Name: toxic, Type: spec.typ, Stream: spec.stream, Toxicity: spec.toxicity, Attributes: spec.attrs,
	})
	switch {
	case addErr == nil, isStatus(addErr, http.StatusConflict):
		// Conflict: a concurrent inject of the same fault won the same
		// second; fall through and converge on whatever is there.
	case isStatus(addErr, http.StatusNotFound):
		return chaos.Injected{}, permanent(fmt.Errorf("%w: %q at %s (removed while injecting): %v", ErrNotFound, name, b.api.shown, addErr))
	default:
		return chaos.Injected{}, b.apiErr(fmt.Sprintf("add toxic %s to proxy %s", toxic, name), addErr)
	}

	// Two concurrent injects of one fault (a retry racing a slow first
	// attempt) could each add a toxic under a different deadline. Both
	// converge on the smallest name and delete the rest, so exactly one
	// survives whichever finishes last.
	all, err := b.api.toxics(ctx, name)
	if err != nil {
		return chaos.Injected{}, b.apiErr("list toxics of proxy "+name, err)
	}
	var mine []string
	for _, t := range all {
		if id, _, ok := ParseToxicName(t.Name); ok && id == f.ID {
			mine = append(mine, t.Name)
		}
	}
	if len(mine) == 0 {
		// Added, then removed (by a concurrent recover or reap) before we
		// looked: report what we added; recover will find nothing to do.
		return b.injected(f, p.Name, toxic, false, now), nil
	}
	sort.Strings(mine)
	for _, extra := range mine[1:] {
		if err := b.api.removeToxic(ctx, name, extra); err != nil && !isStatus(err, http.StatusNotFound) {
			return chaos.Injected{}, b.apiErr("remove duplicate toxic "+extra, err)
		}
	}
	return b.injected(f, p.Name, mine[0], mine[0] != toxic, now), nil
}

func ownToxic(ts []apiToxic, id string) (apiToxic, bool) {
	for _, t := range ts {
		if tid, _, ok := ParseToxicName(t.Name); ok && tid == id {
			return t, true
		}
	}
	return apiToxic{}, false
}

// injected describes toxic on proxy for fault f. A toxic this call added
// took effect now; one found (a retried inject, or a concurrent attempt's
// toxic that won) started when its deadline says: deadline - margin -
// duration, the inverse of how Inject names it. That is up to a second
// after the real start (the deadline is rounded up), never before it; a
// start after now (another worker with a larger margin) is capped at now.
func (b *Backend) injected(f chaos.Fault, proxy, toxic string, existing bool, now time.Time) chaos.Injected {
	_, deadline, _ := ParseToxicName(toxic)
	since := now
	if existing {
		if s := deadline.Add(-b.margin - f.Duration); s.Before(now) {
			since = s
		}
	}
	return chaos.Injected{
		FaultID:  f.ID,
		Backend:  BackendName,
		Object:   proxy + "/" + toxic,
		Expires:  deadline,
		Since:    since,
		Existing: existing,
	}
}

// Recover implements chaos.Backend. It removes every toxic of the fault on
// every proxy, not only the targeted one, so a fault is found even if the
// target was edited or resolved differently since inject. Idempotent: a
// toxic deleted concurrently (404) counts as already gone. Every call ends
// when ctx does.
func (b *Backend) Recover(ctx context.Context, f chaos.Fault) (chaos.Recovered, error) {
	if f.ID == "" {
		return chaos.Recovered{}, permanent(errors.New("fault has no id"))
	}
	ps, err := b.proxies(ctx)
	if err != nil {
		return chaos.Recovered{}, err
	}
	out := chaos.Recovered{FaultID: f.ID}
	for _, pn := range slices.Sorted(maps.Keys(ps)) {
		for _, t := range ps[pn].Toxics {
			if id, _, ok := ParseToxicName(t.Name); !ok || id != f.ID {
				continue
			}
			chaos.Progress(ctx, fmt.Sprintf("removing toxic %s from toxiproxy proxy %s", t.Name, pn))
			switch err := b.api.removeToxic(ctx, pn, t.Name); {
			case err == nil:
				out.Removed = true
			case isStatus(err, http.StatusNotFound):
				// removed concurrently (reaper, another recover)
			default:
				return out, b.apiErr(fmt.Sprintf("remove toxic %s from proxy %s", t.Name, pn), err)
			}
		}
	}
	out.AlreadyGone = !out.Removed
	return out, nil
}

// List implements chaos.Backend: every gameday toxic on every proxy, sorted
// by object name. Toxics not named by ToxicName are someone else's and are
// not listed.
func (b *Backend) List(ctx context.Context) ([]chaos.Injected, error) {
	ps, err := b.proxies(ctx)
	if err != nil {
		return nil, err
	}
	var out []chaos.Injected
	for _, pn := range slices.Sorted(maps.Keys(ps)) {
		for _, t := range ps[pn].Toxics {
			if id, deadline, ok := ParseToxicName(t.Name); ok {
				out = append(out, chaos.Injected{FaultID: id, Backend: BackendName, Object: pn + "/" + t.Name, Expires: deadline})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Object < out[j].Object })
	return out, nil
}

// Reap removes every gameday toxic whose deadline is at or before now and
// returns them as "proxy/toxic". This is the TTL enforcement: it must run
// next to the toxiproxy server (the demo shop runs it on a ticker) so that a
// fault never outlives duration + margin even when no gameday worker is
// alive to recover it. Toxics gameday did not name are never touched. It
// keeps going past a failed removal and returns all errors joined; a
// cancelled ctx ends it at once.
func (b *Backend) Reap(ctx context.Context, now time.Time) ([]string, error) {
	ps, err := b.api.proxies(ctx)
	if err != nil {
		return nil, fmt.Errorf("toxiproxy reap: %w", b.apiErr("list proxies", err))
	}
	var removed []string
	var errs []error
	for _, pn := range slices.Sorted(maps.Keys(ps)) {
		for _, t := range ps[pn].Toxics {
			_, deadline, ok := ParseToxicName(t.Name)
			if !ok || now.Before(deadline) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return removed, errors.Join(append(errs, err)...)
			}
			switch err := b.api.removeToxic(ctx, pn, t.Name); {
			case err == nil:
				removed = append(removed, pn+"/"+t.Name)
			case isStatus(err, http.StatusNotFound):
				// recovered concurrently: nothing to do
			default:
				errs = append(errs, fmt.Errorf("toxiproxy reap: %w", b.apiErr("remove "+pn+"/"+t.Name, err)))
			}
		}
	}
	return removed, errors.Join(errs...)
}
