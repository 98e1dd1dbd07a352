package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Credentials authenticate gameday to an HTTP API (Prometheus, toxiproxy):
// a bearer token or basic auth, never both. A *File field names a mounted
// secret that is read again on every request, so a rotated token is picked
// up without a restart. String, GoString, Format and LogValue never show a
// secret, and the secret fields are not marshalled to JSON.
type Credentials struct {
	BearerToken     string `json:"-"`
	BearerTokenFile string
	Username        string
	Password        string `json:"-"`
	PasswordFile    string
}

// IsZero reports whether no credential is set.
func (c Credentials) IsZero() bool { return c == Credentials{} }

func (c Credentials) bearer() bool { return c.BearerToken != "" || c.BearerTokenFile != "" }

// Kind is "bearer", "basic" or "none".
func (c Credentials) Kind() string {
	switch {
	case c.bearer():
		return "bearer"
	case c.Username != "" || c.Password != "" || c.PasswordFile != "":
		return "basic"
	}
	return "none"
}

// maxSecretFile bounds a secret file: a token or password is a few KiB at
// most, and a path mistyped to a log or /dev/zero must not be read whole.
const maxSecretFile = 64 << 10

// ReadSecretFile reads a mounted secret, trimming surrounding whitespace
// (a trailing newline is usual). Its errors name the file, never its
// content.
func ReadSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, pathErr(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, pathErr(err))
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s is larger than %d KiB: not a token or password file", path, maxSecretFile>>10)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// pathErr keeps the reason of a *fs.PathError (its message repeats the
// path, which the caller already gives).
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (c Credentials) token() (string, error) {
	if c.BearerTokenFile != "" {
		return ReadSecretFile(c.BearerTokenFile)
	}
	return c.BearerToken, nil
}

func (c Credentials) password() (string, error) {
	if c.PasswordFile != "" {
		return ReadSecretFile(c.PasswordFile)
	}
	return c.Password, nil
}

// Authorize sets req's Authorization header (Bearer or Basic); with no
// credentials it does nothing. A secret file is read now.
func (c Credentials) Authorize(req *http.Request) error {
	switch c.Kind() {
	case "bearer":
		tok, err := c.token()
		if err != nil {
			return fmt.Errorf("bearer token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case "basic":
		pw, err := c.password()
		if err != nil {
			return fmt.Errorf("password: %w", err)
		}
		req.SetBasicAuth(c.Username, pw)
	}
	return nil
}

// Secrets lists the secret values (the token or password, read from their
// file if need be; the user name too when it is the only credential, as in
// https://TOKEN@host), so that a caller can mask them in text it did not
// write, such as a server's error message.
func (c Credentials) Secrets() []string {
	var out []string
	add := func(s string, err error) {
		if err == nil && s != "" {
			out = append(out, s)
		}
	}
	if c.bearer() {
		add(c.token())
	}
	if c.Kind() == "basic" {
		add(c.password())
		if c.Password == "" && c.PasswordFile == "" {
			add(c.Username, nil)
		}
	}
	return out
}

// Transport returns a RoundTripper that authorizes every request to host
// (host[:port], as in the configured URL) and sends it with next
// (http.DefaultTransport when nil). A request to any other host (after a
// redirect, say) goes out without credentials. With no credentials it is
// next itself.
func (c Credentials) Transport(host string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if c.IsZero() {
		return next
	}
	return &authTransport{creds: c, host: strings.ToLower(host), next: next}
}

type authTransport struct {
	creds Credentials
	host  string
	next  http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Host, t.host) {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context()) // a RoundTripper must not change the caller's request
	if err := t.creds.Authorize(r); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return t.next.RoundTrip(r)
}

// CredentialsFromURL moves the userinfo of raw into basic-auth Credentials
// and returns the URL without it. A URL that does not parse is returned as
// it is (the caller reports it, redacted).
func CredentialsFromURL(raw string) (string, Credentials) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, Credentials{}
	}
	c := Credentials{Username: u.User.Username()}
	c.Password, _ = u.User.Password()
	u.User = nil
	return u.String(), c
}

// String describes the credentials without any secret.
func (c Credentials) String() string {
	switch c.Kind() {
	case "bearer":
		if c.BearerTokenFile != "" {
			return "bearer token from " + c.BearerTokenFile
		}
		return "bearer token " + Redacted
	case "basic":
		user := c.Username
		if c.Password == "" && c.PasswordFile == "" {
			// https://TOKEN@host: the user name is the secret.
			return "basic auth, user " + Redacted + ", no password"
		}
		if c.PasswordFile != "" {
			return "basic auth, user " + user + ", password from " + c.PasswordFile
		}
		return "basic auth, user " + user + ", password " + Redacted
	}
	return "none"
}

// GoString keeps %#v from printing the fields.
func (c Credentials) GoString() string { return "config.Credentials{" + c.String() + "}" }

// Format makes every verb (%v, %+v, %s, %q, %#v) use String.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, c.GoString())
		return
	}
	_, _ = io.WriteString(f, c.String())
}

// LogValue is what slog records for Credentials.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }
