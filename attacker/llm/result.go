package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// Result is the outcome of one attempt or, from Client.Do, of a step.
type Result struct {
	// Msg is the assistant's answer, Finish why it ended (OpenAI's
	// finish_reason), Usage its tokens, normalised as OpenAI counts them.
	Msg    openaichat.Message
	Finish string
	Usage  openaichat.Usage
	// Status is the last HTTP status, 0 when there was none; Proto the
	// response's protocol, a constant of net/http's.
	Status int
	Proto  string
	// BytesIn sums the response bytes of every attempt.
	BytesIn int64
	// Outcome is record.OutcomeOK or the failure's class; Err describes
	// the failure, redacted and clipped.
	Outcome string
	Err     string
	// Start, Latency and TTFT (0 unless streamed) are the step's, from
	// Client.Do, or the attempt's.
	Start   time.Time
	Latency time.Duration
	TTFT    time.Duration
	// Provider is the provider that answered the step (Client.Do only).
	Provider string
	// stream times a streamed answer's events (an attempt's only).
	stream streamClock
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
func readJSONBody(ctx, actx context.Context, body io.Reader, v any, r *Result, maxCalls int, arrays []jsonPath) (buf *bytes.Buffer, ok bool) {
	buf = httpx.GetBuffer()
	if _, err := buf.ReadFrom(body); err != nil {
		r.Outcome, r.Err, r.broken = httpx.ClassifyBodyErr(ctx, actx, err), "reading response: "+bodyErrText(actx, err), true
		return buf, false
	}
	if e := arrayBound(buf.Bytes(), maxCalls, arrays); e != "" {
		r.Outcome, r.Err = record.OutcomeProtocol, e
		return buf, false
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		r.Outcome, r.Err = decodeOutcome(err), "decoding response: "+err.Error()+": "+httpx.Snippet(buf.Bytes())
		return buf, false
	}
	return buf, true
}
