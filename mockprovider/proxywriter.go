package mockprovider

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// errCut ends a proxied answer that a stream_cut fault cuts: ReverseProxy
// then aborts the response, and the client's connection ends mid-body.
var errCut = errors.New("mockprovider: answer cut by a stream_cut fault")

// proxyWriter is the ResponseWriter the fault proxy hands ReverseProxy. It
// passes the upstream's answer through byte for byte, writing the
// provider's rate-limit headers over the upstream's when mock.limits are
// the tighter gate, and carries out the fault that spoils a successful
// answer (stream_stall, stream_cut, malformed):
//   - in an event stream, after the fault's after_chunks upstream events
//     (whole events, "\n\n" or "\r\n\r\n" ended): the stall, the cut, or
//     the dialect's malformed event, after which the upstream's events
//     are dropped and the stream ends when the upstream's does;
//   - in a whole body: the stall before the body (the headers go out
//     first), the cut after a third of its Content-Length, or a body cut
//     to a third whose Content-Length says so (malformed).
//
// An upstream stream that ends before after_chunks events ends untouched.
type proxyWriter struct {
	http.ResponseWriter
	d  dialect
	wt *waiter
	// limits are written over the upstream's when hasLimits.
	limits    limitState
	hasLimits bool
	// f spoils the answer; stall is its drawn stall.
	f     *fault
	stall time.Duration

	started  bool
	spoiling bool // f applies: the answer is a 2xx
	sse      bool
	swallow  bool // the answer is over for the client; the rest is dropped
	events   int  // events passed
	nl       int  // newlines since the last byte of a line ('\r' aside)
	left     int  // whole body: bytes to pass before the cut; -1 unknown
	err      error
}

// Unwrap gives http.ResponseController (ReverseProxy's flushes) the
// underlying writer.
func (pw *proxyWriter) Unwrap() http.ResponseWriter { return pw.ResponseWriter }

func (pw *proxyWriter) WriteHeader(code int) {
	if code < http.StatusOK || pw.started {
		pw.ResponseWriter.WriteHeader(code)
		return
	}
	pw.started = true
	h := pw.Header()
	if pw.hasLimits {
		pw.d.limitHeaders(h, pw.limits)
	}
	if pw.f == nil || code >= http.StatusMultipleChoices {
		pw.ResponseWriter.WriteHeader(code)
		return
	}
	pw.spoiling = true
	pw.sse = strings.HasPrefix(h.Get("Content-Type"), "text/event-stream")
	pw.left = -1
	kind := pw.f.spec.Kind
	if !pw.sse {
		if n, err := strconv.Atoi(h.Get("Content-Length")); err == nil && n > 1 {
			pw.left = cutAt(n)
			if kind == scenarios.FaultMalformed {
				h.Set("Content-Length", strconv.Itoa(pw.left))
			}
		}
	}
	pw.ResponseWriter.WriteHeader(code)
	if !pw.sse && kind == scenarios.FaultStreamStall {
		http.NewResponseController(pw.ResponseWriter).Flush()
		pw.err = stall(pw.wt, pw.stall)
		pw.spoiling = false
	}
}

func (pw *proxyWriter) Write(p []byte) (int, error) {
	if !pw.started {
		pw.WriteHeader(http.StatusOK)
	}
	switch {
	case pw.err != nil:
		return 0, pw.err
	case !pw.spoiling:
		return pw.ResponseWriter.Write(p)
	case pw.swallow:
		return len(p), nil
	case pw.sse:
		return pw.writeEvents(p)
	}
	if pw.left < 0 { // no length: a third of the first piece
		pw.left = cutAt(len(p))
	}
	if len(p) <= pw.left {
		pw.left -= len(p)
		return pw.ResponseWriter.Write(p)
	}
	n, err := pw.ResponseWriter.Write(p[:pw.left])
	pw.left = 0
	if err != nil {
		return n, err
	}
	if pw.f.spec.Kind == scenarios.FaultStreamCut {
		return n, pw.cut()
	}
	pw.swallow = true
	return len(p), nil
}

// writeEvents passes p on, and carries out the fault where the event it
// waits for ends.
func (pw *proxyWriter) writeEvents(p []byte) (int, error) {
	kind := pw.f.spec.Kind
	after := pw.f.spec.AfterChunks
	if kind == scenarios.FaultMalformed {
		after = 1 // in place of the first delta, as the mock does
	}
	for i, b := range p {
		switch b {
		case '\n':
			pw.nl++
		case '\r':
		default:
			pw.nl = 0
		}
		if pw.nl < 2 {
			continue
		}
		pw.nl = 0
		if pw.events++; pw.events < after {
			continue
		}
		n, err := pw.ResponseWriter.Write(p[:i+1])
		if err != nil {
			return n, err
		}
		switch kind {
		case scenarios.FaultStreamCut:
			return n, pw.cut()
		case scenarios.FaultMalformed:
			pw.swallow = true
			if _, err := pw.ResponseWriter.Write(malformedEvent(pw.d)); err != nil {
				return n, err
			}
			http.NewResponseController(pw.ResponseWriter).Flush()
			return len(p), nil
		}
		http.NewResponseController(pw.ResponseWriter).Flush()
		if pw.err = stall(pw.wt, pw.stall); pw.err != nil {
			return n, pw.err
		}
		pw.spoiling = false
		m, err := pw.ResponseWriter.Write(p[i+1:])
		return n + m, err
	}
	return pw.ResponseWriter.Write(p)
}

// cut flushes what went out and fails the copy.
func (pw *proxyWriter) cut() error {
	http.NewResponseController(pw.ResponseWriter).Flush()
	pw.err = errCut
	return errCut
}

// malformedEvent is the event whose data is not JSON that the mock sends
// in d's stream.
func malformedEvent(d dialect) []byte {
	switch d.(type) {
	case anthropicDialect:
		return malformedAnthropicEvent
	case geminiDialect:
		return malformedGeminiEvent
	}
	return malformedChunk("chatcmpl-mcpload-proxy")
}
