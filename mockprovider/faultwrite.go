package mockprovider

import (
	"net"
	"net/http"
	"time"
)

// statusOverloaded is Anthropic's "overloaded" status.
const statusOverloaded = 529

// overloadedBody is Anthropic's overloaded error.
var overloadedBody = []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}` + "\n")

// httpErrorMessages are the messages OpenAI sends with its 5xx answers.
var httpErrorMessages = map[int]string{
	http.StatusInternalServerError: "The server had an error while processing your request. Sorry about that!",
	http.StatusBadGateway:          "Bad gateway.",
	http.StatusServiceUnavailable:  "The server is overloaded or not ready yet.",
}

// writeHTTPError answers f's status in OpenAI's shape; a 503 carries
// Retry-After when the fault sets one.
func writeHTTPError(w http.ResponseWriter, f *fault) {
	status := f.spec.Status
	if status == 0 {
		status = defaultHTTPStatus
	}
	if status == http.StatusServiceUnavailable && f.spec.RetryAfter > 0 {
		setRetryAfter(w.Header(), f.spec.RetryAfter.D())
	}
	msg, ok := httpErrorMessages[status]
	if !ok {
		msg = http.StatusText(status)
	}
	writeError(w, &apiError{status: status, message: msg, typ: typeServer})
}

// writeOverloaded answers 529 in Anthropic's shape.
func writeOverloaded(w http.ResponseWriter, f *fault) {
	h := w.Header()
	if f.spec.RetryAfter > 0 {
		setRetryAfter(h, f.spec.RetryAfter.D())
	}
	h[hdrShouldRetry] = []string{"true"}
	h["Content-Type"] = jsonContentType
	w.WriteHeader(statusOverloaded)
	w.Write(overloadedBody)
}

// writeRateLimitFault answers a rate_limit fault: OpenAI's 429 with the
// provider's limits (or realistic ones) reported as used up until the
// fault's Retry-After.
func (s *Server) writeRateLimitFault(w http.ResponseWriter, f *fault, lim *limiter, tokens int, model string) {
	rateLimited(w, s.rateLimitFaultState(f, lim, tokens), model)
}

// rateLimitFaultState is what a rate_limit fault reports: the limits of
// lim (or realistic ones) used up until the fault's Retry-After.
func (s *Server) rateLimitFaultState(f *fault, lim *limiter, tokens int) *limitState {
	ra := f.spec.RetryAfter.D()
	if ra <= 0 {
		ra = defaultRateLimitRA
	}
	return faultLimitState(lim, s.now(), tokens, ra)
}

// resetConn closes the request's connection without an answer. SO_LINGER 0
// makes the close send a TCP RST, so that the client sees "connection reset
// by peer", as when a load balancer drops it.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot hijack; aborting resets the stream instead.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// cutConn ends a response that has begun, abruptly: the server closes the
// connection without finishing the body. (http.ErrAbortHandler is the way
// net/http offers to do it; it logs nothing.)
func cutConn(w http.ResponseWriter) {
	http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler)
}

// stall pauses a response for d, or until the client or the server goes
// away when d is 0.
func stall(wt *waiter, d time.Duration) error {
	if d <= 0 {
		return wt.hang()
	}
	return wt.wait(d)
}
