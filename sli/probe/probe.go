// Package probe runs the direct probe guards (kind http, kind tcp) behind
// sli.Prober: one HTTP request or TCP connect, bounded by the guard's
// latency limit, only to the hosts and ports the worker's allow-list
// (GAMEDAY_PROBE_ALLOW) names. A probe never follows a redirect, never
// uses a proxy, never keeps a connection (each probe connects like a new
// client would), reads at most sli.MaxProbeBody of an answer, and never
// shows a URL's credentials.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/sli"
)

// Prober implements sli.Prober.
type Prober struct {
	allow    Allow
	resolver *net.Resolver
	client   *http.Client
	dialer   net.Dialer
	bodies   sync.Map // pattern → *regexp.Regexp
}

// New returns a Prober limited to allow.
func New(allow Allow) *Prober {
	p := &Prober{allow: allow, resolver: net.DefaultResolver}
	p.client = &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // never a proxy: the allow-list is about where the probe goes
			DialContext:         p.dial,
			DisableKeepAlives:   true,
			TLSHandshakeTimeout: sli.MaxProbeLatency,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return p
}

// RefusedError is a probe target the allow-list does not name.
type RefusedError struct {
	Target string // host:port as written in the guard
	Why    string
	Allow  string
}

func (e *RefusedError) Error() string {
	list := e.Allow
	if list == "" {
		list = "empty: no probe may run"
	}
	return fmt.Sprintf("probe target %s is not allowed on this worker: %s (%s=%s)", e.Target, e.Why, config.EnvProbeAllow, list)
}

// Allowed implements sli.Prober: define calls it for every probe guard.
// A name no name entry allows is resolved now, and every address must be
// allowed (the probe itself dials only allowed addresses).
func (p *Prober) Allowed(ctx context.Context, g sli.Guard) error {
	host, port, err := target(g)
	if err != nil {
		return fmt.Errorf("guard %s: %w", g.Name, err)
	}
	if p.allow.nameAllowed(host, port) {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil {
		if p.allow.ipAllowed(ip, port) {
			return nil
		}
		return fmt.Errorf("guard %s: %w", g.Name, p.refused(host, port, "no entry allows this address and port"))
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := p.resolver.LookupIPAddr(rctx, host)
	if err != nil {
		return fmt.Errorf("guard %s: %w", g.Name, p.refused(host, port, "no name entry allows it, and it does not resolve to check its addresses: "+err.Error()))
	}
	for _, a := range addrs {
		if !p.allow.ipAllowed(a.IP, port) {
			return fmt.Errorf("guard %s: %w", g.Name, p.refused(host, port, fmt.Sprintf("it resolves to %s, which no entry allows", a.IP)))
		}
	}
	return nil
}

func (p *Prober) refused(host string, port int, why string) *RefusedError {
	return &RefusedError{Target: net.JoinHostPort(host, strconv.Itoa(port)), Why: why, Allow: p.allow.String()}
}

// target is the host and port a probe guard reaches.
func target(g sli.Guard) (string, int, error) {
	switch g.GuardKind() {
	case sli.KindHTTP:
		if g.HTTP == nil {
			return "", 0, errors.New("kind http needs an http: block")
		}
		u, err := url.Parse(g.HTTP.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return "", 0, fmt.Errorf("%s is not an http(s) URL", config.RedactURL(g.HTTP.URL))
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		n, err := strconv.Atoi(port)
		if err != nil {
			return "", 0, fmt.Errorf("%s: bad port", config.RedactURL(g.HTTP.URL))
		}
		return u.Hostname(), n, nil
	case sli.KindTCP:
		if g.TCP == nil {
			return "", 0, errors.New("kind tcp needs a tcp: block")
		}
		h, ps, err := net.SplitHostPort(g.TCP.Address)
		if err != nil {
			return "", 0, fmt.Errorf("tcp address %q: want host:port", g.TCP.Address)
		}
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("tcp address %q: bad port", g.TCP.Address)
		}
		return h, n, nil
	}
	return "", 0, fmt.Errorf("guard kind %q is not a probe", g.Kind)
}

// dial connects only where the allow-list says: a name a name entry
// allows is dialled as usual; any other is resolved here and only its
// allowed addresses are dialled (so a name cannot be re-pointed at an
// address the list does not allow between a check and the connect).
func (p *Prober) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(ps)
	if p.allow.nameAllowed(host, port) {
		return p.dialer.DialContext(ctx, network, addr)
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		addrs, err := p.resolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	var last error
	for _, ip := range ips {
		if !p.allow.ipAllowed(ip, port) {
			last = p.refused(host, port, fmt.Sprintf("%s is not on the list", ip))
			continue
		}
		c, err := p.dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), ps))
		if err == nil {
			return c, nil
		}
		last = err
	}
	if last == nil {
		last = p.refused(host, port, "it resolves to no address")
	}
	return nil, last
}

// Probe implements sli.Prober.
func (p *Prober) Probe(ctx context.Context, g sli.Guard) (float64, error) {
	limit := g.ProbeLatency()
	pctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	var err error
	switch g.GuardKind() {
	case sli.KindHTTP:
		err = p.http(pctx, g)
	case sli.KindTCP:
		err = p.tcp(pctx, g)
	default:
		return 0, fmt.Errorf("guard kind %q is not a probe", g.Kind)
	}
	took := time.Since(start).Seconds()
	var refused *RefusedError
	var bad *sli.BadAnswerError
	switch {
	case err == nil:
		return took, nil
	case errors.As(err, &refused):
		return 0, refused // the probe could not run: on_error
	case errors.As(err, &bad):
		return took, bad
	case ctx.Err() != nil:
		return 0, ctx.Err() // the watch stopped, not the service
	case pctx.Err() != nil:
		return math.Inf(1), &sli.BadAnswerError{Reason: "no answer within " + limit.String()}
	}
	return math.NaN(), &sli.BadAnswerError{NoData: true, Reason: reason(err)}
}

func (p *Prober) http(ctx context.Context, g sli.Guard) error {
	h := g.HTTP
	if h == nil {
		return errors.New("kind http needs an http: block")
	}
	ranges, err := sli.ParseStatus(h.Status)
	if err != nil {
		return err
	}
	method := h.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, h.URL, nil)
	if err != nil {
		return fmt.Errorf("probe %s: cannot build the request", config.RedactURL(h.URL))
	}
	req.Header.Set("User-Agent", "gameday-probe")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body []byte
	if h.Body != "" {
		body, err = io.ReadAll(io.LimitReader(resp.Body, sli.MaxProbeBody))
	} else {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, sli.MaxProbeBody))
	}
	if err != nil {
		return err
	}
	if !ranges.Contains(resp.StatusCode) {
		st := h.Status
		if st == "" {
			st = sli.DefaultHTTPStatus
		}
		return &sli.BadAnswerError{Reason: fmt.Sprintf("status %d, want %s", resp.StatusCode, st)}
	}
	if h.Body != "" {
		re, err := p.body(h.Body)
		if err != nil {
			return err
		}
		if !re.Match(body) {
			return &sli.BadAnswerError{Reason: fmt.Sprintf("body does not match %q", h.Body)}
		}
	}
	return nil
}

func (p *Prober) body(pattern string) (*regexp.Regexp, error) {
	if re, ok := p.bodies.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("body pattern %q: %v", pattern, err)
	}
	p.bodies.Store(pattern, re)
	return re, nil
}

func (p *Prober) tcp(ctx context.Context, g sli.Guard) error {
	if g.TCP == nil {
		return errors.New("kind tcp needs a tcp: block")
	}
	c, err := p.dial(ctx, "tcp", g.TCP.Address)
	if err != nil {
		return err
	}
	return c.Close()
}

// reason says briefly why no answer came, without the request's URL.
func reason(err error) string {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &dns):
		return "cannot resolve " + dns.Name
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed without an answer"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text quotes the URL
	}
	return err.Error()
}
