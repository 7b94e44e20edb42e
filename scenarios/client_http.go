package scenarios

// The HTTP versions client.http may name.
const (
	// HTTPAuto is what Go does: HTTP/2 when TLS's ALPN agrees on h2,
	// HTTP/1.1 otherwise (and always in plaintext). The default.
	HTTPAuto = "auto"
	// HTTP1 forces HTTP/1.1, over TLS too: one connection per exchange in
	// flight, as an SDK without HTTP/2 holds them.
	HTTP1 = "1.1"
	// HTTP2 forces HTTP/2: h2 over TLS, and h2c with prior knowledge in
	// plaintext. A server that does not speak it fails the attempt.
	HTTP2 = "2"
)

// MaxMaxConnsPerHost bounds client.max_conns_per_host: past it a typo, not
// a pool.
const MaxMaxConnsPerHost = 1 << 20

// HTTPVersion is client.http with its default: HTTPAuto when unset.
func (c *Client) HTTPVersion() string {
	if c.HTTP == "" {
		return HTTPAuto
	}
	return c.HTTP
}

// KeepsAlive is client.keep_alive with its default: true, connections are
// reused (an SDK's pool); false opens one per exchange (connection churn).
func (c *Client) KeepsAlive() bool { return c.KeepAlive == nil || *c.KeepAlive }

// clientHTTP checks the connection fields of client c at path.
func (v *validator) clientHTTP(path string, c *Client) {
	switch c.HTTP {
	case "", HTTPAuto, HTTP1, HTTP2:
	default:
		hint := ""
		switch c.HTTP {
		case "2.0", "h2", "h2c", "http2", "HTTP/2":
			hint = `; write "2"`
		case "1", "1.0", "http1", "HTTP/1.1":
			hint = `; write "1.1"`
		}
		v.errorf(field(path, "http"), "expected auto, \"1.1\" or \"2\", got %q%s", c.HTTP, hint)
	}
	if c.MaxConnsPerHost < 0 || c.MaxConnsPerHost > MaxMaxConnsPerHost {
		v.errorf(field(path, "max_conns_per_host"), "must be from 0 to %d (0: no limit), got %d", MaxMaxConnsPerHost, c.MaxConnsPerHost)
	}
}
