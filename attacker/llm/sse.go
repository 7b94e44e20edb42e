package llm

import (
	"context"
	"errors"
	"io"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
)

// eventReader reads the events of one streamed answer, in every dialect:
// the Server-Sent Events framing (httpx.SSEReader, which the MCP client
// reads its streams with too), the idle timer started again by each event,
// and the bound on an event's arrays (arrayBound), checked before the
// dialect decodes it. What an event means is the dialect's.
type eventReader struct {
	sr        *httpx.SSEReader
	ctx, actx context.Context
	w         *streamWatch
	maxCalls  int
	arrays    []jsonPath
}

// newEventReader reads body, an answer of at most maxCalls tool calls
// whose events hold arrays; ctx is the step's, actx the attempt's, w its
// stream timers (nil: none). release gives its buffer back.
func newEventReader(ctx, actx context.Context, body io.Reader, w *streamWatch, maxCalls int, arrays []jsonPath) eventReader {
	return eventReader{sr: httpx.NewSSEReader(body), ctx: ctx, actx: actx, w: w, maxCalls: maxCalls, arrays: arrays}
}

func (e *eventReader) release() { e.sr.Release() }

// next returns the data of the next event, valid until the following
// call, or io.EOF at the end of the body. Any other error ends the
// stream; fail classifies it.
func (e *eventReader) next() ([]byte, error) {
	data, err := e.sr.Next()
	if err != nil {
		return nil, err
	}
	e.w.event()
	if msg := arrayBound(data, e.maxCalls, e.arrays); msg != "" {
		return nil, boundError(msg)
	}
	return data, nil
}

// fail returns the outcome and the error text of a stream that next
// ended with err.
func (e *eventReader) fail(err error) (outcome, text string) {
	var b boundError
	if errors.As(err, &b) {
		return record.OutcomeProtocol, string(b)
	}
	return httpx.ClassifyBodyErr(e.ctx, e.actx, err), "reading stream: " + bodyErrText(e.actx, err)
}

// boundError is an event whose arrays are past the bound (arrayBound's
// text): it was not decoded.
type boundError string

func (b boundError) Error() string { return string(b) }

// bodyErrText describes an error while reading a body: the stream timer
// that fired, if one did, says more than "context canceled".
func bodyErrText(attempt context.Context, err error) string {
	var tt *streamTimeout
	if errors.As(context.Cause(attempt), &tt) {
		return tt.Error()
	}
	return err.Error()
}
