package attacker

import (
	"net"
	"net/http"
	"time"

	"github.com/mcpload/mcpload/attacker/fdbudget"
	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/scenarios"
)

// defaultIdleConnsPerHost is the idle connections kept per host when
// client.max_conns_per_host sets no lower bound: as many as vegeta keeps,
// so that an open-model burst finds its connections again.
const defaultIdleConnsPerHost = 10000

// httpProtocols maps client.http to the transport's protocols. auto is
// Go's default made explicit: Go offers h2 over TLS only on a transport
// without a custom dialer, and mcpload's has one (the mock's cap).
func httpProtocols(version string) *http.Protocols {
	var p http.Protocols
	switch version {
	case scenarios.HTTP1:
		p.SetHTTP1(true)
	case scenarios.HTTP2:
		// Prior knowledge in plaintext: no Upgrade dance, as SDKs
		// configured for h2c and gRPC do.
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
	default:
		p.SetHTTP1(true)
		p.SetHTTP2(true)
	}
	return &p
}

// defaultHTTPClient returns a client tuned as vegeta's attacker tunes its
// own: many idle connections kept alive per host, and no client-wide
// timeout, since jobs time each attempt themselves. c's http,
// max_conns_per_host and keep_alive shape its connections. mock caps the
// connections to the in-process mock (nil: no cap).
func defaultHTTPClient(mock *fdbudget.MockConns, c *scenarios.Client) *http.Client {
	idle := defaultIdleConnsPerHost
	if c.MaxConnsPerHost > 0 {
		idle = min(idle, c.MaxConnsPerHost)
	}
	hc := &http.Client{
		Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment,
			DialContext: mock.Dial((&net.Dialer{
				Timeout:   30 * time.Second,
				KeepAlive: 30 * time.Second,
			}).DialContext),
			Protocols:             httpProtocols(c.HTTPVersion()),
			MaxConnsPerHost:       c.MaxConnsPerHost,
			DisableKeepAlives:     !c.KeepsAlive(),
			MaxIdleConnsPerHost:   idle,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
	}
	mock.ReclaimWith(hc.CloseIdleConnections)
	return hc
}

// targetClient is the client of a target with the given tls section: the
// shared client, or a copy of it (its proxy and dialer included) with its
// own TLS configuration.
func targetClient(cfg jobConfig, t *scenarios.TLS) (*http.Client, error) {
	if t == nil {
		return cfg.HTTPClient, nil
	}
	conf, err := httpx.TLSConfig(t, httpx.BaseTLS(cfg.HTTPClient), httpx.HomeDir(cfg.Getenv))
	if err != nil {
		return nil, err
	}
	c, err := httpx.WithTLS(cfg.HTTPClient, conf)
	if err == nil && cfg.Clones != nil {
		cfg.Clones.list = append(cfg.Clones.list, c)
	}
	return c, err
}

// clientClones are the clients targetClient made for a run, whose idle
// connections the run closes at its end, as it does the shared client's.
type clientClones struct {
	list []*http.Client
}

func (cc *clientClones) closeIdle() {
	for _, c := range cc.list {
		c.CloseIdleConnections()
	}
}
