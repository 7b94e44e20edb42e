package secrets

import (
	"slices"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/scenarios"
)

// TestKeylessLoopbackKey: a provider on loopback with no key setting
// resolves to no key (llm's TestKeylessLoopbackProvider checks that it
// is then sent no key header); off loopback, a key is still demanded.
func TestKeylessLoopbackKey(t *testing.T) {
	env := func(string) string { return "" }
	for _, api := range scenarios.APIs() {
		p := &scenarios.Provider{API: api, BaseURL: "http://127.0.0.1:8080/v1", Model: "m"}
		if key, err := Key(p, env); err != nil || key != "" {
			t.Fatalf("%s on loopback without a key: %q, %v", api, key, err)
		}
	}
	remote := &scenarios.Provider{BaseURL: "https://api.invalid/v1", Model: "m"}
	if _, err := Key(remote, env); err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Errorf("a remote provider without a key: %v", err)
	}
}

func TestTargetHeaders(t *testing.T) {
	env := map[string]string{"GW": "gw-secret-value", "TOK": "tok-secret-value", "BAD": "a\r\nX-Evil: 1"}
	getenv := func(k string) string { return env[k] }
	h, secrets, err := Headers(map[string]string{"x-cfg": "c-${GW}", "X-Plain": "${UNSET:-dflt}"}, "TOK", getenv)
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
		_, _, err := Headers(c.tmpl, c.bearer, getenv)
		if err == nil || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "Evil") {
			t.Errorf("%v %s: %v, want %q", c.tmpl, c.bearer, err, c.msg)
		}
	}
}
