package attacker

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/scenarios"
)

// TestKeylessLoopbackProvider: a provider on loopback with no key setting
// is sent no key header at all, in any dialect; off loopback, a key is
// still demanded; the mock still gets its placeholder.
func TestKeylessLoopbackProvider(t *testing.T) {
	env := func(string) string { return "" }
	for _, api := range scenarios.APIs() {
		p := &scenarios.Provider{API: api, BaseURL: "http://127.0.0.1:8080/v1", Model: "m"}
		key, err := resolveKey(p, env)
		if err != nil || key != "" {
			t.Fatalf("%s on loopback without a key: %q, %v", api, key, err)
		}
		d, _ := dialectFor(api)
		hdrs := endpointHeaders(p, key, d.headers(key), http.Header{"X-Gw": {"1"}})
		var names []string
		for _, h := range hdrs {
			names = append(names, http.CanonicalHeaderKey(h.name))
		}
		for _, k := range []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key"} {
			if slices.Contains(names, k) {
				t.Errorf("%s: headers %v hold %s", api, names, k)
			}
		}
		if !slices.Contains(names, "X-Gw") {
			t.Errorf("%s: headers %v lack the scenario's", api, names)
		}
		mock := &scenarios.Provider{API: api, BaseURL: scenarios.MockURL}
		if api != scenarios.APIOpenAI && len(endpointHeaders(mock, "", d.headers(""), nil)) == 0 {
			t.Errorf("%s: the mock lost its placeholder key", api)
		}
	}
	remote := &scenarios.Provider{BaseURL: "https://api.invalid/v1", Model: "m"}
	if _, err := resolveKey(remote, env); err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Errorf("a remote provider without a key: %v", err)
	}
}

func TestTargetHeaders(t *testing.T) {
	env := map[string]string{"GW": "gw-secret-value", "TOK": "tok-secret-value", "BAD": "a\r\nX-Evil: 1"}
	getenv := func(k string) string { return env[k] }
	h, secrets, err := targetHeaders(map[string]string{"x-cfg": "c-${GW}", "X-Plain": "${UNSET:-dflt}"}, "TOK", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("X-Cfg") != "c-gw-secret-value" || h.Get("X-Plain") != "dflt" || h.Get("Authorization") != "Bearer tok-secret-value" {
		t.Errorf("headers %v", h)
	}
	// The values from the environment are secrets; a default is not.
	for _, want := range []string{"c-gw-secret-value", "gw-secret-value", "tok-secret-value"} {
		if !slices.Contains(secrets, want) {
			t.Errorf("secrets %q lack %q", secrets, want)
		}
	}
	if slices.Contains(secrets, "dflt") {
		t.Errorf("secrets %q hold a default", secrets)
	}
	for _, c := range []struct {
		tmpl   map[string]string
		bearer string
		msg    string
	}{
		{map[string]string{"X-A": "${NOPE}"}, "", "header X-A: variable NOPE is not set"},
		{map[string]string{"X-A": "${BAD}"}, "", "header X-A: its value holds a line break"},
		{nil, "NOPE", "bearer_token_env: $NOPE is not set"},
	} {
		_, _, err := targetHeaders(c.tmpl, c.bearer, getenv)
		if err == nil || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "Evil") {
			t.Errorf("%v %s: %v, want %q", c.tmpl, c.bearer, err, c.msg)
		}
	}
}
