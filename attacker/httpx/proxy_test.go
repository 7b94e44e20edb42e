package httpx

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestProxyFunc(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	req := func(raw string) *http.Request {
		u, _ := url.Parse(raw)
		return &http.Request{URL: u}
	}
	if ProxyFunc(env(nil), false) != nil {
		t.Fatal("no proxy variable: want no proxy")
	}

	remote := env(map[string]string{"HTTPS_PROXY": "http://user:pw@192.0.2.1:8080", "http_proxy": "http://127.0.0.1:3128", "NO_PROXY": "skip.invalid"})
	p := ProxyFunc(remote, false)
	// A proxy off loopback is refused, and says which variable named it,
	// without its password.
	_, err := p(req("https://api.invalid/v1"))
	if err == nil || !strings.Contains(err.Error(), "192.0.2.1:8080 (from HTTPS_PROXY) is not on loopback") || strings.Contains(err.Error(), "pw") {
		t.Errorf("remote proxy: %v", err)
	}
	if err := CheckProxy(p, "https://api.invalid/v1"); err == nil {
		t.Error("CheckProxy let the remote proxy through")
	}
	// Loopback targets are never proxied (net/http's rule), nor NO_PROXY.
	for _, target := range []string{"https://127.0.0.1:9/v1", "http://localhost:9/", "https://skip.invalid/v1"} {
		if u, err := p(req(target)); u != nil || err != nil {
			t.Errorf("%s: proxy %v, %v; want none", target, u, err)
		}
	}
	// A loopback proxy (lower-case variable) is used.
	if u, err := p(req("http://api.invalid/v1")); err != nil || u == nil || u.Host != "127.0.0.1:3128" {
		t.Errorf("loopback proxy: %v, %v", u, err)
	}
	// --allow-remote allows the remote one.
	if u, err := ProxyFunc(remote, true)(req("https://api.invalid/v1")); err != nil || u == nil || u.Hostname() != "192.0.2.1" {
		t.Errorf("with allowRemote: %v, %v", u, err)
	}
}
