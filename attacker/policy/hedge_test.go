package policy

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// slowFirst is a provider whose first attempt of each step hangs until
// cancelled, and whose later attempts answer at once.
type slowFirst struct {
	mu       sync.Mutex
	canceled []int // attempts that ended cancelled
	later    func(*http.Request) (*http.Response, error)
}

func (s *slowFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	n := StepFrom(r.Context()).NextAttempt()
	if n == 1 {
		select {
		case <-r.Context().Done():
			s.mu.Lock()
			s.canceled = append(s.canceled, n)
			s.mu.Unlock()
			return nil, outcomeErr(record.OutcomeCanceled)
		case <-time.After(10 * time.Second):
			return response(200), nil
		}
	}
	return s.later(r)
}

func TestHedgeWinsOverSlowAttempt(t *testing.T) {
	s := &slowFirst{later: status(200)}
	h := NewHedge(s, "primary", scenarios.Hedge{Delay: dur(30 * time.Millisecond)})
	st, sink, req := newStep(t, context.Background())
	start := time.Now()
	resp, err := h.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("resp %v err %v", resp, err)
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	// The loser was cancelled, and had returned before RoundTrip did.
	s.mu.Lock()
	canceled := append([]int(nil), s.canceled...)
	s.mu.Unlock()
	if len(canceled) != 1 || canceled[0] != 1 || st.Attempts() != 2 {
		t.Fatalf("canceled %v, %d attempts", canceled, st.Attempts())
	}
	ev := sink.snapshot()
	if len(ev) != 1 || ev[0].Kind != record.EventHedge || ev[0].Provider != "primary" || ev[0].Attempt != 1 {
		t.Fatalf("events %+v", ev)
	}
}

func TestHedgeFastFailureIsNotHedged(t *testing.T) {
	s := &script{answers: []func(*http.Request) (*http.Response, error){status(503)}}
	h := NewHedge(s, "p", scenarios.Hedge{Delay: dur(time.Hour)})
	st, sink, req := newStep(t, context.Background())
	resp, err := h.RoundTrip(req)
	if err != nil || resp.StatusCode != 503 || st.Attempts() != 1 || len(sink.snapshot()) != 0 {
		t.Fatalf("resp %v err %v, %d attempts, events %v", resp, err, st.Attempts(), sink.snapshot())
	}
}

func TestHedgeWaitsForOtherAfterFailure(t *testing.T) {
	// Attempt 1 is slow then fails; the hedge (attempt 2) is slower but
	// succeeds: the success wins.
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		n := StepFrom(r.Context()).NextAttempt()
		if n == 1 {
			time.Sleep(60 * time.Millisecond)
			return response(500), nil
		}
		time.Sleep(80 * time.Millisecond)
		return response(200), nil
	})
	h := NewHedge(rt, "p", scenarios.Hedge{Delay: dur(20 * time.Millisecond), MaxHedges: 1})
	_, _, req := newStep(t, context.Background())
	resp, err := h.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("resp %v err %v", resp, err)
	}
}

func TestHedgeMaxHedges(t *testing.T) {
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		n := StepFrom(r.Context()).NextAttempt()
		if n < 3 {
			<-r.Context().Done()
			return nil, outcomeErr(record.OutcomeCanceled)
		}
		return response(200), nil
	})
	h := NewHedge(rt, "p", scenarios.Hedge{Delay: dur(10 * time.Millisecond), MaxHedges: 2})
	st, sink, req := newStep(t, context.Background())
	resp, err := h.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 || st.Attempts() != 3 || sink.kinds()[record.EventHedge] != 2 {
		t.Fatalf("resp %v err %v, %d attempts, %v", resp, err, st.Attempts(), sink.kinds())
	}
}
