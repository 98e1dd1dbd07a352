package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/gameday/gameday/telemetry"
)

// The seed's client contract (chapter 1): every call to another service has
// a timeout taken from the caller's budget, at most two retries (never on a
// 4xx), and a circuit breaker that opens at a 30 % failure ratio.
const (
	// BudgetHeader carries the time left for a call, in whole milliseconds.
	// Every hop sends what remains of its own deadline; every service
	// serves within min(header, its own cap), so a caller that has given up
	// never leaves work running behind it.
	BudgetHeader = "X-Request-Budget-Ms"

	// OrderBudget bounds one order end to end, below the 800 ms P95 SLO
	// with room for the response: the budget, not the dependencies,
	// decides how long a customer waits.
	OrderBudget = 700 * time.Millisecond

	// RetryMax is the seed's retry count: at most 2 retries (3 attempts).
	RetryMax = 2
	// BreakerFailureRatio opens a breaker (seed: WithFailureThreshold(0.3)).
	BreakerFailureRatio = 0.3
	// BreakerMinRequests is how many calls the rolling window needs before
	// the ratio counts: 1 failure in 2 calls is noise, not an outage.
	BreakerMinRequests = 10
	// BreakerWindow is the rolling window the ratio is computed over, in
	// BreakerBucket steps.
	BreakerWindow = 10 * time.Second
	BreakerBucket = time.Second
	// BreakerOpenFor is how long an open breaker rejects calls before it
	// lets one probe through (half-open).
	BreakerOpenFor = 3 * time.Second

	retryWaitMin = 5 * time.Millisecond
	retryWaitMax = 20 * time.Millisecond
)

// hop describes one dependency of the order service: its base URL (through
// its toxiproxy link), its timeouts and whether connections are reused.
type hop struct {
	name string // breaker and metrics name: inventory, inventory-backup, payment, coupon
	url  string
	// timeout caps the whole call, retries included: the hop's share of
	// the order budget (the call gets min(remaining budget, timeout)).
	timeout time.Duration
	// attempt caps one attempt; a slow attempt that leaves room in the hop
	// timeout is retried. Zero means the hop timeout.
	attempt time.Duration
	// fresh opens a new connection per call, so a toxic's toxicity (which
	// toxiproxy draws per connection) is the share of calls it hits: "5 %
	// of the traffic" means 5 % of calls, not 5 % of a pooled connection.
	fresh bool
}

// statusError is a dependency's non-2xx answer.
type statusError struct {
	hop  string
	code int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s answered %d %s", e.hop, e.code, http.StatusText(e.code))
}

// clientError says the caller, not the dependency, was wrong (4xx): such an
// answer is not retried, does not count against the breaker, and does not
// send an order to the fallback.
func clientError(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.code >= 400 && se.code < 500
}

// rejected says the breaker refused the call without trying it.
func rejected(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}

// client is a resilient HTTP client for one hop: retryablehttp for the
// retries, gobreaker around the whole retried call.
type client struct {
	hop       hop
	http      *retryablehttp.Client
	breaker   *gobreaker.CircuitBreaker[[]byte]
	transport *http.Transport
}

func newClient(h hop, tracing telemetry.Tracing) *client {
	if h.attempt <= 0 || h.attempt > h.timeout {
		h.attempt = h.timeout
	}
	tr := &http.Transport{
		MaxIdleConnsPerHost: maxInFlight,
		IdleConnTimeout:     30 * time.Second,
		DisableKeepAlives:   h.fresh,
	}
	rc := retryablehttp.NewClient()
	// Each attempt is a client span (retries show as siblings), its trace
	// context in the headers through the toxiproxy link.
	rc.HTTPClient = &http.Client{Timeout: h.attempt, Transport: tracing.HTTPTransport(budgetTransport{next: tr, attempt: h.attempt})}
	rc.Logger = nil
	rc.RetryMax = RetryMax
	rc.RetryWaitMin, rc.RetryWaitMax = retryWaitMin, retryWaitMax
	rc.CheckRetry = checkRetry
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return &client{
		hop:       h,
		http:      rc,
		transport: tr,
		breaker:   gobreaker.NewCircuitBreaker[[]byte](breakerSettings(h.name)),
	}
}

// breakerSettings is the seed's breaker: it opens when at least
// BreakerMinRequests calls in the rolling window failed at a ratio of
// BreakerFailureRatio or more. A 4xx is the caller's fault and a call the
// caller abandoned says nothing about the dependency: neither counts.
func breakerSettings(name string) gobreaker.Settings {
	return gobreaker.Settings{
		Name:         name,
		MaxRequests:  1,
		Interval:     BreakerWindow,
		BucketPeriod: BreakerBucket,
		Timeout:      BreakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.Requests >= BreakerMinRequests && float64(c.TotalFailures) >= BreakerFailureRatio*float64(c.Requests)
		},
		IsSuccessful: func(err error) bool { return err == nil || clientError(err) },
		IsExcluded:   func(err error) bool { return errors.Is(err, context.Canceled) },
	}
}

// checkRetry is retryablehttp's default policy (connection errors, 5xx,
// 429; never once the call's context is done) minus every 4xx: the seed
// retries what may succeed next time, never a request that was wrong.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if err == nil && resp != nil && resp.StatusCode >= 400 && resp.StatusCode < 500 {
		return false, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// budgetTransport stamps every attempt with the time it may take: what is
// left of the call's deadline, capped by the per-attempt timeout.
type budgetTransport struct {
	next    http.RoundTripper
	attempt time.Duration
}

func (t budgetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	left := t.attempt
	if d, ok := req.Context().Deadline(); ok {
		left = min(left, time.Until(d))
	}
	if left <= 0 {
		return nil, context.DeadlineExceeded
	}
	req = req.Clone(req.Context())
	req.Header.Set(BudgetHeader, strconv.FormatInt(max(left.Milliseconds(), 1), 10))
	return t.next.RoundTrip(req)
}

// call sends one request through the breaker (retries inside it) within
// min(what is left of ctx, the hop timeout) and returns a 2xx body.
func (c *client) call(ctx context.Context, method, path string, header http.Header) ([]byte, error) {
	return c.breaker.Execute(func() ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, c.hop.timeout)
		defer cancel()
		req, err := retryablehttp.NewRequestWithContext(ctx, method, c.hop.url+path, nil)
		if err != nil {
			return nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				// The hop's own deadline, or the caller's: say which.
				return nil, fmt.Errorf("%s: %w", c.hop.name, context.Cause(ctx))
			}
			return nil, fmt.Errorf("%s: %w", c.hop.name, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("%s: read answer: %w", c.hop.name, err)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, &statusError{hop: c.hop.name, code: resp.StatusCode}
		}
		return b, nil
	})
}

// breakerStates are the values of circuit_breaker_state's state label.
var breakerStates = []gobreaker.State{gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen}

// registerBreaker exports circuit_breaker_state{service,name,state}: 1 for
// the breaker's current state, 0 for the others, read at scrape time (an
// open breaker turns half-open by the clock, not by a call).
func registerBreaker(reg prometheus.Registerer, service string, cb *gobreaker.CircuitBreaker[[]byte]) {
	for _, st := range breakerStates {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "circuit_breaker_state",
			Help:        "Circuit breaker state of a client of the order service: 1 for the current state (closed, half-open, open), 0 for the others.",
			ConstLabels: prometheus.Labels{"service": service, "name": cb.Name(), "state": st.String()},
		}, func() float64 {
			if cb.State() == st {
				return 1
			}
			return 0
		}))
	}
}

// budgeted serves h within min(BudgetHeader, limit): the caller's deadline
// travels with the request, so work it no longer waits for is cancelled.
func budgeted(limit time.Duration, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := limit
		if v := r.Header.Get(BudgetHeader); v != "" {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
				d = min(d, time.Duration(ms)*time.Millisecond)
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h(w, r.WithContext(ctx))
	}
}
