package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// drainLimit bounds what Discard reads from a body nobody needs: a small
// body is read to its end so that its connection goes back to the pool; a
// big one is cut, and its connection dropped.
const drainLimit = 64 << 10

// OutcomeError is an error that knows its outcome class (record.Outcome*,
// or OutcomeBreakerOpen). The attempt RoundTripper returns one for a
// failure without a usable response: a timeout, a connection failure, a
// malformed body.
type OutcomeError interface {
	error
	Outcome() string
}

// OutcomeBreakerOpen is the outcome of a request the circuit breaker
// refused: no HTTP attempt was made.
const OutcomeBreakerOpen = record.OutcomeBreakerOpen

// OutcomeOf classifies the result of a round trip: an OutcomeError's own
// class; for other errors, canceled, or else TransportOutcome's class; and
// for a response, ok (2xx), 429, 5xx or 4xx.
func OutcomeOf(resp *http.Response, err error) string {
	if err != nil {
		var oe OutcomeError
		if errors.As(err, &oe) {
			return oe.Outcome()
		}
		if errors.Is(err, context.Canceled) {
			return record.OutcomeCanceled
		}
		return TransportOutcome(err)
	}
	if resp == nil {
		return record.OutcomeProtocol
	}
	return StatusOutcome(resp.StatusCode)
}

// TransportOutcome classifies an error that came instead of a response:
// local when mcpload ran out of its own descriptors, memory or ports (see
// IsLocal), timeout for a deadline or a network timeout, else connection.
// It is the one classifier of transport errors: the model and MCP clients
// use it, through OutcomeOf or directly.
func TransportOutcome(err error) string {
	if IsLocal(err) {
		return record.OutcomeLocal
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return record.OutcomeTimeout
	}
	return record.OutcomeConnection
}

// StatusOutcome maps an HTTP status to an outcome class.
func StatusOutcome(code int) string {
	switch {
	case code >= 200 && code <= 299:
		return record.OutcomeOK
	case code == http.StatusTooManyRequests:
		return record.Outcome429
	case code >= 500:
		return record.Outcome5xx
	case code >= 400:
		return record.Outcome4xx
	case code >= 300:
		return record.OutcomeRedirect
	default:
		return record.OutcomeProtocol // 1xx left over: not an answer
	}
}

// Discard drains (bounded) and closes the body of a response nobody will
// read, so that its connection is reused. It accepts nil.
func Discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	resp.Body.Close()
}

// conversationDeadline is the cause of a context cut by
// client.conversation_timeout. It wraps context.DeadlineExceeded, so that
// code which only knows about deadlines still sees one.
type conversationDeadline struct{ d time.Duration }

func (e conversationDeadline) Error() string {
	return fmt.Sprintf("conversation_timeout (%s) exceeded", e.d)
}
func (e conversationDeadline) Unwrap() error { return context.DeadlineExceeded }

// WithConversationTimeout bounds ctx by client.conversation_timeout d (no
// bound when d <= 0). A step cut by it ends with outcome timeout, where one
// cut by the run stopping ends canceled: see StopOutcome.
func WithConversationTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, d, conversationDeadline{d})
}

// StopOutcome returns the outcome of work cut short because ctx is done:
// timeout when client.conversation_timeout cut it, canceled when the run
// stopped. It returns "" while ctx is live.
func StopOutcome(ctx context.Context) string {
	if ctx.Err() == nil {
		return ""
	}
	var cd conversationDeadline
	if errors.As(context.Cause(ctx), &cd) {
		return record.OutcomeTimeout
	}
	return record.OutcomeCanceled
}

// stopError is the error of a step cut short while a policy waited.
type stopError struct {
	outcome string
	cause   error
}

func (e *stopError) Error() string   { return e.cause.Error() }
func (e *stopError) Outcome() string { return e.outcome }
func (e *stopError) Unwrap() error   { return e.cause }

// stopped returns the error of a step whose ctx is done.
func stopped(ctx context.Context, while string) error {
	return &stopError{outcome: StopOutcome(ctx), cause: fmt.Errorf("%s: %w", while, context.Cause(ctx))}
}

// outcomeSet is a set of outcome classes, for the on: lists.
type outcomeSet uint16

var outcomeBits = map[string]outcomeSet{
	record.OutcomeTimeout:       1 << 0,
	record.Outcome429:           1 << 1,
	record.Outcome5xx:           1 << 2,
	record.Outcome4xx:           1 << 3,
	record.OutcomeConnection:    1 << 4,
	record.OutcomeProtocol:      1 << 5,
	scenarios.OnBreakerOpen:     1 << 6,
	scenarios.OnBudgetExhausted: 1 << 7,
	record.OutcomeToolError:     1 << 8,
	record.OutcomeRedirect:      1 << 9,
	record.OutcomeBadUsage:      1 << 10,
}

// newOutcomeSet builds the set of outcomes in list; unknown names are
// ignored (the scenario's validation reports them).
func newOutcomeSet(list []string) outcomeSet {
	var s outcomeSet
	for _, o := range list {
		s |= outcomeBits[o]
	}
	return s
}

func (s outcomeSet) has(outcome string) bool {
	b, ok := outcomeBits[outcome]
	return ok && s&b != 0
}
