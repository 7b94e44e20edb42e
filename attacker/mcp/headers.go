package mcp

import "net/http"

// setHeaders copies a server's headers (auth, a gateway's routing) into
// a request's. The values are shared, not copied: nothing changes them.
// mcpload's own headers are set after, and the scenario may not name
// them (scenarios.reservedHeaders).
func setHeaders(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}
