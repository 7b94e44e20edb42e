package policy

import (
	"context"
	"net/http"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// Hedge sends another attempt when the one in flight has not answered
// after delay, up to max_hedges more, and takes the first success; the
// others are cancelled (their attempts end canceled). A failure that comes
// back while another attempt is still in flight waits for it; a failure of
// the only attempt in flight returns at once, for Retry to handle: a hedge
// is for slowness, not for errors. Each hedge is a record.EventHedge.
//
// Hedge waits for its cancelled attempts to return before it does, so that
// no attempt outlives its step (and its recording).
//
// failsafe-go's hedgepolicy is not used: it returns the first result of
// any kind unless told otherwise, and told to wait for a success it still
// sends the hedge after a fast failure, which doubles with Retry.
type Hedge struct {
	next      http.RoundTripper
	delay     time.Duration
	maxHedges int
	provider  string
}

// NewHedge returns hedging c around next, for provider (named in events).
// A zero max_hedges is 1. A delay <= 0 sends no hedge.
func NewHedge(next http.RoundTripper, provider string, c scenarios.Hedge) *Hedge {
	n := c.MaxHedges
	if n <= 0 {
		n = scenarios.DefaultMaxHedges
	}
	return &Hedge{next: next, delay: c.Delay.D(), maxHedges: n, provider: provider}
}

type hedgeResult struct {
	resp *http.Response
	err  error
}

// RoundTrip implements http.RoundTripper.
func (h *Hedge) RoundTrip(req *http.Request) (*http.Response, error) {
	if h.delay <= 0 {
		return h.next.RoundTrip(req)
	}
	ctx := req.Context()
	st := StepFrom(ctx)
	results := make(chan hedgeResult, h.maxHedges+1)
	cancels := make([]context.CancelFunc, 0, h.maxHedges+1)
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	launch := func() {
		actx, cancel := context.WithCancel(ctx)
		cancels = append(cancels, cancel)
		rq := req.WithContext(actx)
		if len(cancels) > 1 && req.GetBody != nil {
			if body, err := req.GetBody(); err == nil {
				rq.Body = body
			}
		}
		go func() {
			resp, err := h.next.RoundTrip(rq)
			results <- hedgeResult{resp, err}
		}()
	}
	launch()
	inFlight := 1
	timer := time.NewTimer(h.delay)
	defer timer.Stop()
	var failed hedgeResult // the latest failure, while others are in flight
	for {
		select {
		case r := <-results:
			inFlight--
			if OutcomeOf(r.resp, r.err) != record.OutcomeOK && inFlight > 0 {
				Discard(failed.resp)
				failed = r
				continue
			}
			Discard(failed.resp)
			for _, c := range cancels {
				c()
			}
			for ; inFlight > 0; inFlight-- {
				Discard((<-results).resp)
			}
			return r.resp, r.err
		case <-timer.C:
			if len(cancels) > h.maxHedges {
				continue
			}
			st.emit(record.Event{Kind: record.EventHedge, Attempt: st.Attempts(), Provider: h.provider})
			launch()
			inFlight++
			if len(cancels) <= h.maxHedges {
				timer.Reset(h.delay)
			}
		}
	}
}
