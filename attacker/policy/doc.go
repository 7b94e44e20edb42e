// Package policy is mcpload's resilient HTTP client: each client policy of
// a scenario's client: section is an http.RoundTripper that wraps the next,
// built on its own from its scenarios type and composed by the caller.
// NewChain composes them in the order the schema documents, from the outside
// in:
//
//	Cache -> Fallback -> (per provider) Breaker -> Retry (+ Budget) -> Hedge -> attempt
//
// The innermost RoundTripper, the attempt, is the caller's: it sends one
// HTTP request, reads the whole response, classifies it and records it. The
// policies see only what it returns: a response (its status and headers,
// for Retry-After and x-should-retry), or an error whose outcome class
// OutcomeOf reads. Every decision a policy takes is a record.Event, sent to
// the Step that travels in the request's context, together with the
// numbering of attempts across retries, hedges and fallbacks.
//
// The circuit breaker is failsafe-go's (time-based failure-rate
// thresholding, cooldown, half-open probes). Retry, Budget, Hedge, Fallback
// and Cache are written here, because failsafe-go's do not give what a load
// test must measure: see the doc comment of each for why.
package policy
