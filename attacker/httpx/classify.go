package httpx

import (
	"context"
	"errors"
	"net"

	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
)

// ClassifyStatus maps a non-2xx HTTP status to an outcome class.
func ClassifyStatus(code int) string { return policy.StatusOutcome(code) }

// ClassifyTransportErr classifies an error from Client.Do, before any
// response: the step being cut short (the run stopping: canceled; the
// conversation's deadline: timeout) beats the harness running out of its
// own resources (local), which beats the attempt's own timeout, which
// beats a network failure (policy.TransportOutcome).
func ClassifyTransportErr(parent, attempt context.Context, err error) string {
	if o := policy.StopOutcome(parent); o != "" {
		return o
	}
	if !policy.IsLocal(err) && IsTimeout(attempt, err) {
		return record.OutcomeTimeout
	}
	if IsH2Refused(err) {
		return record.OutcomeProtocol
	}
	return policy.TransportOutcome(err)
}

// ClassifyBodyErr classifies an error while reading a response body. The
// response had started, so anything that is neither the step being cut
// short nor a timeout is a truncated, unusable reply: a protocol failure.
func ClassifyBodyErr(parent, attempt context.Context, err error) string {
	if o := policy.StopOutcome(parent); o != "" {
		return o
	}
	if policy.IsLocal(err) {
		return record.OutcomeLocal
	}
	if IsTimeout(attempt, err) {
		return record.OutcomeTimeout
	}
	return record.OutcomeProtocol
}

// IsTimeout reports whether the attempt ended by a timer: its deadline, a
// stream timer, or a network timeout.
func IsTimeout(attempt context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(attempt.Err(), context.DeadlineExceeded) {
		return true
	}
	// A stream timer cancels the attempt with a cause that says it timed out.
	var tt interface{ Timeout() bool }
	if errors.As(context.Cause(attempt), &tt) && tt.Timeout() {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
