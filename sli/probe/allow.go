package probe

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Loopback is the allow-list word for this machine: 127.0.0.0/8, ::1 and
// the name localhost, any port.
const Loopback = "loopback"

// Allow is the worker's allow-list of probe targets (GAMEDAY_PROBE_ALLOW):
// a probe guard may only reach a host and port it lists, so a scenario
// cannot turn the worker into a scanner of the networks it sits in. The
// zero Allow refuses everything.
type Allow struct {
	rules []rule
	raw   string
}

// rule is one entry: a host name (exact, or "*.suffix"), or an address
// range, with a port range (0-0: any port).
type rule struct {
	name    string
	network *net.IPNet
	lo, hi  int
}

// ParseAllow reads a comma list of entries HOST[:PORTS]: HOST is a name
// (shop.internal), a wildcard (*.shop.svc.cluster.local: any name under
// it), an address (10.1.2.3, [::1]), a CIDR range (10.0.0.0/8,
// [fd00::/8]) or the word loopback; PORTS is a port, a range (8000-8999)
// or * (also what no port means). Names are matched as written in the
// probe, before resolving; a name no name entry matches is resolved and
// every address it reaches must be in an address entry.
func ParseAllow(s string) (Allow, error) {
	a := Allow{raw: strings.TrimSpace(s)}
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		host, ports := splitEntry(e)
		r := rule{}
		if ports != "" && ports != "*" {
			lo, hi, err := parsePorts(ports)
			if err != nil {
				return Allow{}, fmt.Errorf("entry %q: %v", e, err)
			}
			r.lo, r.hi = lo, hi
		}
		switch {
		case strings.EqualFold(host, Loopback):
			for _, c := range []string{"127.0.0.0/8", "::1/128"} {
				_, n, _ := net.ParseCIDR(c)
				a.rules = append(a.rules, rule{network: n, lo: r.lo, hi: r.hi})
			}
			r.name = "localhost"
		case strings.Contains(host, "/"):
			_, n, err := net.ParseCIDR(host)
			if err != nil {
				return Allow{}, fmt.Errorf("entry %q: %q is not a CIDR range like 10.0.0.0/8", e, host)
			}
			r.network = n
		case net.ParseIP(host) != nil:
			ip := net.ParseIP(host)
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			r.network = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
		default:
			name := strings.ToLower(strings.TrimSuffix(host, "."))
			if !validName(name) {
				return Allow{}, fmt.Errorf("entry %q: %q is not a host name, *.domain, address, CIDR range or %s", e, host, Loopback)
			}
			r.name = name
		}
		a.rules = append(a.rules, r)
	}
	return a, nil
}

// String is the list as it was given.
func (a Allow) String() string { return a.raw }

// Empty reports whether the list allows nothing.
func (a Allow) Empty() bool { return len(a.rules) == 0 }

// splitEntry splits HOST[:PORTS], with IPv6 in brackets or bare (no port).
func splitEntry(e string) (string, string) {
	if strings.HasPrefix(e, "[") {
		if i := strings.Index(e, "]"); i > 0 {
			return e[1:i], strings.TrimPrefix(e[i+1:], ":")
		}
		return e, ""
	}
	if strings.Count(e, ":") == 1 {
		h, p, _ := strings.Cut(e, ":")
		return h, p
	}
	return e, ""
}

func parsePorts(p string) (int, int, error) {
	a, b, isRange := strings.Cut(p, "-")
	lo, err := strconv.Atoi(a)
	hi := lo
	if err == nil && isRange {
		hi, err = strconv.Atoi(b)
	}
	if err != nil || lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("ports %q: want a port (8080), a range (8000-8999) or *", p)
	}
	return lo, hi, nil
}

func validName(n string) bool {
	n = strings.TrimPrefix(n, "*.")
	if n == "" || strings.ContainsAny(n, "*/@ ") {
		return false
	}
	for _, l := range strings.Split(n, ".") {
		if l == "" {
			return false
		}
	}
	return true
}

func (r rule) port(p int) bool { return r.lo == 0 || (p >= r.lo && p <= r.hi) }

// nameAllowed reports whether a name entry allows host:port.
func (a Allow) nameAllowed(host string, port int) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, r := range a.rules {
		if r.name == "" || !r.port(port) {
			continue
		}
		if r.name == h || (strings.HasPrefix(r.name, "*.") && strings.HasSuffix(h, r.name[1:])) {
			return true
		}
	}
	return false
}

// ipAllowed reports whether an address entry allows ip:port.
func (a Allow) ipAllowed(ip net.IP, port int) bool {
	for _, r := range a.rules {
		if r.network != nil && r.port(port) && r.network.Contains(ip) {
			return true
		}
	}
	return false
}
