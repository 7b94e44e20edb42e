package httpx

import (
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpproxy"
)

// ProxyFunc is the proxy of each request, as the standard variables
// HTTP_PROXY, HTTPS_PROXY and NO_PROXY (or their lower-case forms) read
// through getenv say, with net/http's rules: requests to loopback are
// never proxied. A proxy off loopback is refused unless allowRemote, as
// a target would be: the traffic and whatever secrets it carries would
// leave the machine. The error stops the request before it dials.
func ProxyFunc(getenv func(string) string, allowRemote bool) func(*http.Request) (*url.URL, error) {
	conf := httpproxy.Config{
		HTTPProxy:  envAny(getenv, "HTTP_PROXY", "http_proxy"),
		HTTPSProxy: envAny(getenv, "HTTPS_PROXY", "https_proxy"),
		NoProxy:    envAny(getenv, "NO_PROXY", "no_proxy"),
	}
	if conf.HTTPProxy == "" && conf.HTTPSProxy == "" {
		return nil
	}
	proxy := conf.ProxyFunc()
	return func(r *http.Request) (*url.URL, error) {
		u, err := proxy(r.URL)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		if u != nil && !allowRemote && !IsLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("proxy %s (from %s) is not on loopback: the traffic would leave this machine, so pass --allow-remote to send it there", u.Redacted(), proxyVar(r.URL.Scheme))
		}
		return u, nil
	}
}

// CheckProxy refuses a target whose requests would go through a proxy
// that proxy refuses, before any request is sent.
func CheckProxy(proxy func(*http.Request) (*url.URL, error), target string) error {
	if proxy == nil {
		return nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	_, err = proxy(&http.Request{URL: u})
	return err
}

// SetProxy makes c's transport use proxy, when it is an *http.Transport.
func SetProxy(c *http.Client, proxy func(*http.Request) (*url.URL, error)) {
	if tr, ok := c.Transport.(*http.Transport); ok {
		tr.Proxy = proxy
	}
}

func proxyVar(scheme string) string {
	if scheme == "https" {
		return "HTTPS_PROXY"
	}
	return "HTTP_PROXY"
}

func envAny(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}
