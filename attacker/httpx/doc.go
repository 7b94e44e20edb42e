// Package httpx holds the HTTP exchange plumbing that the model clients
// and the MCP client share: bounded, counted bodies, the classification of
// failures into outcomes, error text, Server-Sent Events, redirect hops,
// the loopback check and the Mcpload-* attempt tags. It knows nothing of
// any API's payloads.
package httpx

// Limits on what one attempt reads, so that a misbehaving peer costs bounded
// memory. DrainLimit bounds what is read from a body nobody needs (errors,
// leftovers after [DONE]): small bodies are read to the end so that the
// connection goes back to the pool, big ones are cut and the connection is
// dropped. A whole body, streamed or not, is bounded by
// client.limits.max_response_bytes (CountingBody).
const (
	DrainLimit = 64 << 10
	MaxSSELine = 16 << 20
	// MaxErrorDetail bounds a target's text quoted in an error before it
	// is redacted; the redactor cuts it to its final length after.
	MaxErrorDetail = 4 << 10
)
