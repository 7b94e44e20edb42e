package mockprovider

import "net/http"

// MaxConcurrentStreams is the HTTP/2 streams the mock lets one connection
// carry at once: Go's server default, stated so that a client's descriptor
// budget can count on it.
const MaxConcurrentStreams = 250

// serverProtocols is what the mock speaks on its one listener: HTTP/1.1,
// and HTTP/2 cleartext with prior knowledge (h2c), which a client set to
// client.http: "2" sends. The preface tells them apart, so both share the
// port. There is no TLS, hence no h2 by ALPN.
func serverProtocols() *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &p
}
