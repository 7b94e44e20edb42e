package attacker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// chatResult is the outcome of one chat attempt or, from do, of a step.
type chatResult struct {
	msg     openaichat.Message
	finish  string
	usage   openaichat.Usage
	status  int
	proto   string // the response's, a constant of net/http's
	bytesIn int64
	outcome string
	err     string
	start   time.Time
	latency time.Duration
	ttft    time.Duration
	// stream times a streamed answer's events (an attempt's only).
	stream streamClock
	// provider is the provider that answered the step (do only).
	provider string
	// broken is set when the body failed part-way: what is left of it may
	// never end, so it is not drained and its connection is dropped.
	broken bool
	// reqID and headers are the response's request id and recorded
	// headers (respheaders.go), unclipped.
	reqID   string
	headers map[string]string
}

// readJSONBody reads a whole response body into a pooled buffer and
// decodes it into v. On failure it records the outcome in r and returns
// false. The caller puts buf back when done: error texts quote it. The
// body's size is bounded by the httpx.CountingBody it comes through, and what
// it decodes into by arrayBound over arrays, for maxCalls.
func readJSONBody(ctx, actx context.Context, body io.Reader, v any, r *chatResult, maxCalls int, arrays []jsonPath) (buf *bytes.Buffer, ok bool) {
	buf = httpx.GetBuffer()
	if _, err := buf.ReadFrom(body); err != nil {
		r.outcome, r.err, r.broken = httpx.ClassifyBodyErr(ctx, actx, err), "reading response: "+bodyErrText(actx, err), true
		return buf, false
	}
	if e := arrayBound(buf.Bytes(), maxCalls, arrays); e != "" {
		r.outcome, r.err = record.OutcomeProtocol, e
		return buf, false
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		r.outcome, r.err = decodeOutcome(err), "decoding response: "+err.Error()+": "+httpx.Snippet(buf.Bytes())
		return buf, false
	}
	return buf, true
}

// bodyErrText describes an error while reading a body: the stream timer
// that fired, if one did, says more than "context canceled".
func bodyErrText(attempt context.Context, err error) string {
	var tt *streamTimeout
	if errors.As(context.Cause(attempt), &tt) {
		return tt.Error()
	}
	return err.Error()
}
