package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Prometheus credential and limit variables.
const (
	EnvPrometheusURL             = "PROMETHEUS_URL"
	EnvPrometheusBearerToken     = "GAMEDAY_PROMETHEUS_BEARER_TOKEN"
	EnvPrometheusBearerTokenFile = "GAMEDAY_PROMETHEUS_BEARER_TOKEN_FILE"
	EnvPrometheusUsername        = "GAMEDAY_PROMETHEUS_USERNAME"
	EnvPrometheusPassword        = "GAMEDAY_PROMETHEUS_PASSWORD"
	EnvPrometheusPasswordFile    = "GAMEDAY_PROMETHEUS_PASSWORD_FILE"
	EnvPrometheusMaxAnswer       = "GAMEDAY_PROMETHEUS_MAX_ANSWER"
)

// DefaultPrometheusMaxAnswer bounds a Prometheus answer: a guard's answer is
// one series (a few hundred bytes), so 1 MiB leaves room for labels and
// warnings while refusing a query that returns every series of a metric.
const DefaultPrometheusMaxAnswer int64 = 1 << 20

// prometheusFrom reads PROMETHEUS_URL and the credential variables.
// Userinfo in the URL is moved into the credentials. Two ways of giving a
// secret at once is an error naming both variables. Secret files are not
// read here (CheckSecretFiles does).
func prometheusFrom(e env) (string, Credentials, error) {
	raw := strings.TrimRight(e.get(EnvPrometheusURL, "http://127.0.0.1:9090"), "/")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return RedactURL(raw), Credentials{}, fmt.Errorf("%s %s is not an http(s) URL like http://prometheus:9090", EnvPrometheusURL, RedactURL(raw))
	}
	inURL := u.User != nil
	address, creds := CredentialsFromURL(raw)

	set := map[string]string{}
	for _, name := range []string{EnvPrometheusBearerToken, EnvPrometheusBearerTokenFile, EnvPrometheusUsername, EnvPrometheusPassword, EnvPrometheusPasswordFile} {
		if v := e.trimmed(name); v != "" {
			set[name] = v
		}
	}
	both := func(a, b string) error {
		return fmt.Errorf("%s and %s are both set: Prometheus takes one bearer token or one user and password; unset one", a, b)
	}
	// Pairs that cannot be combined, most specific first.
	for _, pair := range [][2]string{
		{EnvPrometheusBearerToken, EnvPrometheusBearerTokenFile},
		{EnvPrometheusPassword, EnvPrometheusPasswordFile},
		{EnvPrometheusBearerToken, EnvPrometheusPassword},
		{EnvPrometheusBearerToken, EnvPrometheusPasswordFile},
		{EnvPrometheusBearerTokenFile, EnvPrometheusPassword},
		{EnvPrometheusBearerTokenFile, EnvPrometheusPasswordFile},
		{EnvPrometheusBearerToken, EnvPrometheusUsername},
		{EnvPrometheusBearerTokenFile, EnvPrometheusUsername},
	} {
		if set[pair[0]] != "" && set[pair[1]] != "" {
			return address, creds, both(pair[0], pair[1])
		}
	}
	if len(set) > 0 && inURL {
		for _, name := range []string{EnvPrometheusBearerToken, EnvPrometheusBearerTokenFile, EnvPrometheusUsername, EnvPrometheusPassword, EnvPrometheusPasswordFile} {
			if set[name] != "" {
				return address, creds, fmt.Errorf("%s has credentials (user:password@) and %s is set: give them one way; unset one", EnvPrometheusURL, name)
			}
		}
	}
	if len(set) > 0 {
		creds = Credentials{
			BearerToken:     set[EnvPrometheusBearerToken],
			BearerTokenFile: set[EnvPrometheusBearerTokenFile],
			Username:        set[EnvPrometheusUsername],
			Password:        set[EnvPrometheusPassword],
			PasswordFile:    set[EnvPrometheusPasswordFile],
		}
	}
	hasPassword := set[EnvPrometheusPassword] != "" || set[EnvPrometheusPasswordFile] != ""
	if hasPassword && set[EnvPrometheusUsername] == "" {
		return address, creds, fmt.Errorf("%s is set but %s is not: basic auth needs a user", passwordVar(set), EnvPrometheusUsername)
	}
	if set[EnvPrometheusUsername] != "" && !hasPassword {
		return address, creds, fmt.Errorf("%s is set but neither %s nor %s is", EnvPrometheusUsername, EnvPrometheusPassword, EnvPrometheusPasswordFile)
	}
	return address, creds, nil
}

func passwordVar(set map[string]string) string {
	if set[EnvPrometheusPassword] != "" {
		return EnvPrometheusPassword
	}
	return EnvPrometheusPasswordFile
}

// ParseSize reads a byte count: "524288", "512KiB", "1MiB", "1 GiB"
// (binary units; B, KiB, MiB, GiB, case-insensitive).
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size like 1MiB, 512KiB or 524288", s)
	}
	return n * mult, nil
}

// FormatSize writes n bytes the way ParseSize reads it: "1 MiB", "512 KiB",
// "1000 bytes".
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
