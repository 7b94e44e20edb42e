package summary

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/internal/synth"
	"github.com/mcpload/mcpload/report/runfolder"
)

func TestRetryCountsInItsStepsSecond(t *testing.T) {
	s := synth.New(t, 12)
	// The step starts at 9.8 s; its retry goes at 10.3 s.
	s.Attempt(1, 0, 1, synth.Primary, 9.8, record.OutcomeTimeout)
	s.Attempt(1, 0, 2, synth.Primary, 10.3, record.OutcomeOK)
	s.Attempt(2, 0, 1, synth.Primary, 10.5, record.OutcomeOK)
	an := analyzeDir(t, s.Write())
	ts := an.series
	if ts.Offered["provider:primary"][10] != 2 {
		t.Errorf("offered at 10 s = %d, want 2: load counts when it is sent", ts.Offered["provider:primary"][10])
	}
	if ts.StepAttempts[9] != 2 || ts.Steps[9] != 1 || ts.StepAttempts[10] != 1 || ts.Steps[10] != 1 {
		t.Errorf("step attempts at 9, 10 s = %d/%d, %d/%d; want 2/1 and 1/1: a retry belongs to its step's second",
			ts.StepAttempts[9], ts.Steps[9], ts.StepAttempts[10], ts.Steps[10])
	}
}

func analyzeDir(t *testing.T, dir string) *analysis {
	t.Helper()
	run, err := runfolder.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	an, err := analyze(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	return an
}

// recoveryRun: 20 s at 10 conversations/s, a fault from 5 s to 10 s.
// Conversations fail from 5 s to 11 s, succeed at 12 s, fail again at 13 s
// and succeed from 14 s on: success stays from 14 s, 4 s after the window.
func recoveryRun(t *testing.T) *synth.Folder {
	s := synth.New(t, 20)
	s.Faults = synth.HangFault + `
  - {target: "tool:get_weather", kind: tool_error, from: 15s}`
	for sec := 0; sec < 20; sec++ {
		bad := (sec >= 5 && sec <= 11) || sec == 13
		for j := 0; j < 10; j++ {
			at := float64(sec) + 0.05*float64(j)
			switch {
			case bad && j < 2:
				s.Conversation(at, 0, "dropped: max_in_flight reached")
			case bad:
				s.Conversation(at, 2*time.Second, "timeout: context deadline exceeded")
			default:
				s.Conversation(at, 200*time.Millisecond, "")
			}
		}
	}
	return s
}

func TestTimeToRecover(t *testing.T) {
	an := analyzeDir(t, recoveryRun(t).Write())
	r := an.res
	if r.BaselineSuccess == nil || *r.BaselineSuccess != 1 || r.RecoveryThreshold != 0.99 {
		t.Errorf("baseline = %v, threshold %v; want 1 and 0.99", r.BaselineSuccess, r.RecoveryThreshold)
	}
	if len(r.Faults) != 2 {
		t.Fatalf("faults = %d, want 2", len(r.Faults))
	}
	f := r.Faults[0]
	if !f.Recovered || f.RecoveryS == nil || *f.RecoveryS != 4 {
		t.Errorf("recovery = %v (recovered %v), want 4 s", f.RecoveryS, f.Recovered)
	}
	c := f.Conversations
	if c.Offered != 50 || c.OK != 0 || c.Failed != 40 || c.Dropped != 10 ||
		c.ByCause["timeout"] != 40 || c.ByCause["dropped"] != 10 {
		t.Errorf("window conversations = %+v, want 50 offered: 40 timeouts, 10 dropped", c)
	}
	// A fault without `for` lasts to the end, and has no recovery.
	open := r.Faults[1]
	if !open.ToEnd || open.EndS != 20 || open.Recovered || open.RecoveryS != nil {
		t.Errorf("open-ended fault = %+v, want to_end, end 20 s, no recovery", open)
	}
	run := r.Conversations
	if run.Offered != 200 || run.OK != 120 || run.Failed != 64 || run.Dropped != 16 || run.ByCause["timeout"] != 64 {
		t.Errorf("run conversations = %+v, want 200 offered, 120 ok, 64 timeouts, 16 dropped", run)
	}
	if run.SuccessRate != 60 {
		t.Errorf("success rate = %v, want 60%%", run.SuccessRate)
	}
	if got := an.series.Conversations.SuccessRatio; got[4] == nil || *got[4] != 1 || got[5] == nil || *got[5] != 0 {
		t.Errorf("success ratio series = %v, want 1 at 4 s and 0 at 5 s", got[3:7])
	}
	if got := an.series.Conversations.ByCause["dropped"]; got[5] != 2 || got[4] != 0 {
		t.Errorf("dropped series = %v, want 2 per bad second", got[3:7])
	}
}

func TestNeverRecovers(t *testing.T) {
	s := synth.New(t, 10)
	s.Faults = `faults:
  - {target: "provider:primary", kind: hang, from: 2s, for: 2s}`
	for sec := 0; sec < 10; sec++ {
		errText := ""
		if sec >= 2 && sec != 6 { // one good second is no recovery
			errText = "5xx: 503"
		}
		s.Conversation(float64(sec), 100*time.Millisecond, errText)
	}
	an := analyzeDir(t, s.Write())
	if f := an.res.Faults[0]; f.Recovered || f.RecoveryS != nil {
		t.Errorf("recovery = %v (recovered %v), want none: failures last to the end", f.RecoveryS, f.Recovered)
	}
}

func TestGoodputCountsOnlyInTimeSuccesses(t *testing.T) {
	build := func(client string) *Resilience {
		s := synth.New(t, 5)
		s.Client = client
		s.Conversation(0.1, time.Second, "")                     // in time
		s.Conversation(0.2, 2*time.Second, "")                   // exactly at the limit: in time
		s.Conversation(1.1, 3*time.Second, "")                   // ok, but late
		s.Conversation(1.2, 500*time.Millisecond, "timeout: x")  // fast, but failed
		s.Conversation(2.5, 0, "dropped: max_in_flight reached") // never ran
		return analyzeDir(t, s.Write()).res
	}
	g := build("client: {timeout: 2s}").Goodput
	if g.LimitS != 2 || g.Count != 2 || g.Share != 40 || g.RatePerS != 0.4 {
		t.Errorf("goodput = %+v, want limit 2 s, 2 conversations, 40%% of 5, 0.4/s over 5 s", g)
	}
	g = build("client: {timeout: 2s, conversation_timeout: 5s}").Goodput
	if g.LimitS != 5 || g.Count != 3 {
		t.Errorf("goodput with a conversation timeout = %+v, want limit 5 s and 3 conversations", g)
	}
}

func TestBreakerTimeline(t *testing.T) {
	s := synth.New(t, 12)
	s.Client = "client: {timeout: 2s, breaker: {failure_rate: 0.5}}"
	// Written out of order, as concurrent writers may.
	s.Event(record.Event{Time: s.At(7.5), Kind: record.EventBreaker, Provider: "primary", From: "open", To: "half_open"})
	s.Event(record.Event{Time: s.At(5.2), Kind: record.EventBreaker, Provider: "primary", From: "closed", To: "open"})
	s.Event(record.Event{Time: s.At(7.9), Kind: record.EventBreaker, Provider: "primary", From: "half_open", To: "closed"})
	s.Event(record.Event{Time: s.At(9.0), Kind: record.EventBreaker, Provider: "primary", From: "closed", To: "open"})
	s.Event(record.Event{Time: s.At(3.4), Kind: record.EventBreaker, Provider: "secondary", From: "closed", To: "open"})
	an := analyzeDir(t, s.Write())
	r := an.res
	if r.BreakerOpens != 3 {
		t.Errorf("breaker opens = %d, want 3", r.BreakerOpens)
	}
	var got []string
	for _, c := range r.Breaker {
		got = append(got, c.Provider+" "+c.To+"@"+strconv.FormatFloat(Round3(c.T), 'f', -1, 64)+"s")
	}
	want := []string{"secondary open@3.4s", "primary open@5.2s", "primary half_open@7.5s", "primary closed@7.9s", "primary open@9s"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("breaker timeline = %v, want %v", got, want)
	}
	// Each second shows the most severe state it saw.
	states := an.series.Breaker["primary"]
	wantStates := []string{"closed", "closed", "closed", "closed", "closed", "open", "open", "open", "closed", "open", "open", "open"}
	if !reflect.DeepEqual(states, wantStates) {
		t.Errorf("primary breaker by second = %v, want %v", states, wantStates)
	}
	if !an.relevant {
		t.Error("a run with a breaker policy is not treated as a resilience run")
	}
}

func TestPolicyEventsAndTokens(t *testing.T) {
	s := synth.New(t, 4)
	s.Client = "client: {timeout: 2s, cache: {ttl: 1m}}"
	s.Attempt(0, 0, 1, synth.Primary, 0.1, record.OutcomeTimeout)
	s.Attempts[0].PromptTokens, s.Attempts[0].CompletionTokens = 100, 7 // a failed attempt that reported usage
	s.Attempt(0, 0, 2, synth.Primary, 1.1, record.Outcome5xx)
	s.Attempt(0, 0, 3, synth.Secondary, 1.5, record.OutcomeOK)
	s.Attempts[2].PromptTokens, s.Attempts[2].CompletionTokens, s.Attempts[2].CachedTokens = 100, 20, 50
	s.Attempts = append(s.Attempts, record.Attempt{Conversation: 0, Kind: record.KindSession, Key: "mcp:tools/initialize", Attempt: 1, Start: s.At(0), Outcome: "ok"})
	s.Event(record.Event{Time: s.At(0.5), Kind: record.EventRetry, Reason: "timeout", DelayMS: 400})
	s.Event(record.Event{Time: s.At(1.2), Kind: record.EventRetry, Reason: "5xx", DelayMS: 100})
	s.Event(record.Event{Time: s.At(1.4), Kind: record.EventFallback, Provider: "primary", To: "secondary", Reason: "5xx"})
	s.Event(record.Event{Time: s.At(2.1), Kind: record.EventCacheHit})
	s.Event(record.Event{Time: s.At(2.2), Kind: record.EventCacheHit})
	s.Event(record.Event{Time: s.At(2.3), Kind: record.EventBudgetExhausted})
	s.Run.Attempts.CacheMisses = 2
	s.TornAttempts = true
	an := analyzeDir(t, s.Write())
	r := an.res
	if !reflect.DeepEqual(r.RetriesByReason, map[string]uint64{"timeout": 1, "5xx": 1}) {
		t.Errorf("retries by reason = %v, want timeout 1, 5xx 1", r.RetriesByReason)
	}
	if r.Fallbacks != 1 || r.FallbackRoutes["primary->secondary"] != 1 {
		t.Errorf("fallbacks = %d %v, want 1 primary->secondary", r.Fallbacks, r.FallbackRoutes)
	}
	if r.BudgetExhausted != 1 {
		t.Errorf("budget exhausted = %d, want 1", r.BudgetExhausted)
	}
	if c := r.Cache; c.Hits != 2 || c.Misses != 2 || c.HitRate != 0.5 || c.TokensSaved != 240 {
		t.Errorf("cache = %+v, want 2 hits, 2 misses, rate 0.5, ~240 tokens saved (2 x 120)", c)
	}
	want := TokenSpend{Prompt: 200, Completion: 27, Cached: 50, FailedPrompt: 100, FailedCompletion: 7}
	if r.Tokens != want {
		t.Errorf("tokens = %+v, want %+v", r.Tokens, want)
	}
	// Session set-up is no step, and the torn line is skipped.
	if r.Steps != 1 || r.StepAttempts != 3 || r.Amplification != 3 {
		t.Errorf("steps = %d, attempts %d, amplification %v; want 1, 3, 3", r.Steps, r.StepAttempts, r.Amplification)
	}
	if got := an.series.Offered["provider:secondary"]; len(got) != 4 || got[1] != 1 {
		t.Errorf("secondary offered = %v, want 1 at 1 s", got)
	}
	if got := an.series.Retries["5xx"]; got[1] != 1 {
		t.Errorf("5xx retries series = %v, want 1 at 1 s", got)
	}
}

func TestRunCountersWinOverEvents(t *testing.T) {
	s := synth.New(t, 2)
	s.Faults = synth.HangFault
	s.Run.Attempts = record.AttemptCounts{Steps: 10, StepAttempts: 15, Fallbacks: 4, BreakerOpens: 2, RetriesByReason: map[string]uint64{"timeout": 5}}
	// events.jsonl was cut short: it has fewer events than the counters.
	s.Event(record.Event{Time: s.At(0.5), Kind: record.EventRetry, Reason: "timeout"})
	r := analyzeDir(t, s.Write()).res
	if r.Amplification != 1.5 || r.Fallbacks != 4 || r.BreakerOpens != 2 || r.RetriesByReason["timeout"] != 5 {
		t.Errorf("resilience = amplification %v, fallbacks %d, opens %d, retries %v; want run.json's 1.5, 4, 2, timeout 5",
			r.Amplification, r.Fallbacks, r.BreakerOpens, r.RetriesByReason)
	}
}

func TestRecoveredSecondAllowsChance(t *testing.T) {
	for _, tc := range []struct {
		ok, offered uint64
		threshold   float64
		want        bool
	}{
		{20, 20, 1, true},
		{19, 20, 1, false}, // a perfect baseline tolerates nothing
		{19, 20, 0.99, true},
		{18, 20, 0.99, false},
		{18, 20, 0.967, true}, // 2 of 20 at a 96.7% baseline: chance
		{15, 20, 0.967, false},
		{0, 20, 0.5, false},
		{990, 1000, 0.99, true},
		{950, 1000, 0.99, false},
	} {
		if got := recoveredSecond(tc.ok, tc.offered, tc.threshold); got != tc.want {
			t.Errorf("recoveredSecond(%d/%d, %v) = %v, want %v", tc.ok, tc.offered, tc.threshold, got, tc.want)
		}
	}
}
