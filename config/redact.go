package config

import (
	"net/url"
	"strings"
)

// Redacted replaces a secret wherever gameday prints a URL or a setting.
const Redacted = "REDACTED"

// RedactURL is the form of a URL that may be printed: in logs, errors,
// `gameday dev` output, String and LogValue. It drops the userinfo
// (user:password@, or a token written as the user name) and replaces the
// value of every token-like query parameter (token, access_token, api_key,
// password, secret, sig, auth, ...) and any fragment with REDACTED. A URL
// that does not parse is cut the same way by hand; the parser's error is
// never used, since it quotes the URL.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		// "user:pass@host:8474" parses as scheme "user" with an opaque part.
		return redactUnparsed(raw)
	}
	u.User = nil
	u.RawQuery = redactQuery(u.RawQuery)
	if u.Fragment != "" || u.RawFragment != "" {
		u.Fragment, u.RawFragment = Redacted, ""
	}
	return u.String()
}

// redactUnparsed drops what precedes the last '@' of the authority and
// replaces any query or fragment.
func redactUnparsed(raw string) string {
	scheme, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	if i := strings.IndexAny(tail, "?#"); i >= 0 {
		tail = tail[:i] + tail[i:i+1] + Redacted
	}
	return scheme + authority + tail
}

// redactQuery keeps the parameters' order and names and replaces the
// values of those whose name looks like a credential.
func redactQuery(q string) string {
	if q == "" {
		return ""
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if v != "" && TokenLike(name) {
			parts[i] = k + "=" + Redacted
		}
	}
	return strings.Join(parts, "&")
}

var tokenWords = []string{"token", "secret", "pass", "pwd", "key", "auth", "sig", "credential", "session", "jwt", "bearer"}

// TokenLike reports whether a query parameter (or header) name looks like
// it carries a credential: access_token, api_key, X-Amz-Signature,
// password, client_secret, auth, ... Over-matching only hides a harmless
// value.
func TokenLike(name string) bool {
	n := strings.ToLower(name)
	for _, w := range tokenWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
