package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/runfolder"
)

const (
	primary   = "model:primary/gpt-4.1-mini"
	secondary = "model:secondary/gpt-4.1-nano"
	weather   = "tool:get_weather"
	hangFault = `faults:
  - {target: "provider:primary", kind: hang, from: 5s, for: 5s}`
)

// stormRun is 20 s at 10 conversations/s, each a model step then a tool
// step. From 5 s to 10 s the primary hangs: each model step takes three
// attempts, all sent in the second the step started, so the load offered
// to the primary triples in the window.
func stormRun(t *testing.T) *synthRun {
	s := newSynthRun(t, 20)
	s.faults = hangFault
	for sec := 0; sec < 20; sec++ {
		for j := 0; j < 10; j++ {
			conv := uint64(sec*10 + j)
			t0 := float64(sec) + 0.01*float64(j)
			if sec >= 5 && sec < 10 {
				s.attempt(conv, 0, 1, primary, t0, record.OutcomeTimeout)
				s.attempt(conv, 0, 2, primary, t0+0.3, record.OutcomeTimeout)
				s.attempt(conv, 0, 3, primary, t0+0.6, record.OutcomeOK)
			} else {
				s.attempt(conv, 0, 1, primary, t0, record.OutcomeOK)
			}
			s.attempt(conv, 1, 1, weather, t0+0.8, record.OutcomeOK)
			s.conversation(t0, 100*time.Millisecond, "")
		}
	}
	return s
}

func TestRetryStormShowsAsPeakOfferedLoad(t *testing.T) {
	dir := stormRun(t).write()
	s, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Resilience
	if r == nil {
		t.Fatal("a run with faults has no resilience block")
	}
	if !reflect.DeepEqual(r.FailingTargets, []string{"provider:primary"}) {
		t.Errorf("failing targets = %v, want [provider:primary]", r.FailingTargets)
	}
	if len(r.Faults) != 1 {
		t.Fatalf("faults = %+v, want one window", r.Faults)
	}
	f := r.Faults[0]
	if f.Name != "hang@provider:primary" || f.FromS != 5 || f.EndS != 10 || f.ToEnd {
		t.Errorf("window = %s %v-%v (to end %v), want hang@provider:primary 5-10", f.Name, f.FromS, f.EndS, f.ToEnd)
	}
	in, out := f.Offered["provider:primary"], r.OfferedOutsideFaults["provider:primary"]
	if in.PeakRPS != 30 || in.MeanRPS != 30 || in.Attempts != 150 || in.Failed != 100 {
		t.Errorf("primary during the window = %+v, want peak 30/s, mean 30/s, 150 attempts, 100 failed", in)
	}
	if out.PeakRPS != 10 || out.MeanRPS != 10 || out.Failed != 0 {
		t.Errorf("primary outside the window = %+v, want peak and mean 10/s, no failures", out)
	}
	if tool := f.Offered[weather]; tool.PeakRPS != 10 {
		t.Errorf("the tool's load in the window = %+v, want 10/s: retries of the model are not the tool's", tool)
	}
	// In the window: 50 model steps of 3 attempts, 50 tool steps of 1.
	if f.Amplification != 2 {
		t.Errorf("window amplification = %v, want 2 (200 attempts / 100 steps)", f.Amplification)
	}
	// The run: 400 steps, 500 attempts (run.json's counters are zero, so
	// the attempts stand in for them).
	if r.Steps != 400 || r.StepAttempts != 500 || r.Amplification != 1.25 {
		t.Errorf("run amplification = %v (%d/%d), want 1.25 (500/400)", r.Amplification, r.StepAttempts, r.Steps)
	}

	ts, err := ReadTimeseries(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.T) != 20 || len(ts.Offered["provider:primary"]) != 20 {
		t.Fatalf("series length = %d, %d, want 20 one-second intervals", len(ts.T), len(ts.Offered["provider:primary"]))
	}
	if got := ts.Offered["provider:primary"]; got[4] != 10 || got[5] != 30 || got[9] != 30 || got[10] != 10 {
		t.Errorf("offered series around the window = %v, want 10 then 30 from 5 to 9 then 10", got[3:12])
	}
	if a := ts.Amplification[7]; a == nil || *a != 2 {
		t.Errorf("amplification at 7 s = %v, want 2", a)
	}
	if len(ts.Faults) != 1 || ts.Faults[0].FromS != 5 || ts.Faults[0].EndS != 10 {
		t.Errorf("series faults = %+v, want the 5-10 s window", ts.Faults)
	}
}

func TestRetryCountsInItsStepsSecond(t *testing.T) {
	s := newSynthRun(t, 12)
	// The step starts at 9.8 s; its retry goes at 10.3 s.
	s.attempt(1, 0, 1, primary, 9.8, record.OutcomeTimeout)
	s.attempt(1, 0, 2, primary, 10.3, record.OutcomeOK)
	s.attempt(2, 0, 1, primary, 10.5, record.OutcomeOK)
	an := analyzeDir(t, s.write())
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
func recoveryRun(t *testing.T) *synthRun {
	s := newSynthRun(t, 20)
	s.faults = hangFault + `
  - {target: "tool:get_weather", kind: tool_error, from: 15s}`
	for sec := 0; sec < 20; sec++ {
		bad := (sec >= 5 && sec <= 11) || sec == 13
		for j := 0; j < 10; j++ {
			at := float64(sec) + 0.05*float64(j)
			switch {
			case bad && j < 2:
				s.conversation(at, 0, "dropped: max_in_flight reached")
			case bad:
				s.conversation(at, 2*time.Second, "timeout: context deadline exceeded")
			default:
				s.conversation(at, 200*time.Millisecond, "")
			}
		}
	}
	return s
}

func TestTimeToRecover(t *testing.T) {
	an := analyzeDir(t, recoveryRun(t).write())
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
	s := newSynthRun(t, 10)
	s.faults = `faults:
  - {target: "provider:primary", kind: hang, from: 2s, for: 2s}`
	for sec := 0; sec < 10; sec++ {
		errText := ""
		if sec >= 2 && sec != 6 { // one good second is no recovery
			errText = "5xx: 503"
		}
		s.conversation(float64(sec), 100*time.Millisecond, errText)
	}
	an := analyzeDir(t, s.write())
	if f := an.res.Faults[0]; f.Recovered || f.RecoveryS != nil {
		t.Errorf("recovery = %v (recovered %v), want none: failures last to the end", f.RecoveryS, f.Recovered)
	}
}

func TestGoodputCountsOnlyInTimeSuccesses(t *testing.T) {
	build := func(client string) *Resilience {
		s := newSynthRun(t, 5)
		s.client = client
		s.conversation(0.1, time.Second, "")                     // in time
		s.conversation(0.2, 2*time.Second, "")                   // exactly at the limit: in time
		s.conversation(1.1, 3*time.Second, "")                   // ok, but late
		s.conversation(1.2, 500*time.Millisecond, "timeout: x")  // fast, but failed
		s.conversation(2.5, 0, "dropped: max_in_flight reached") // never ran
		return analyzeDir(t, s.write()).res
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
	s := newSynthRun(t, 12)
	s.client = "client: {timeout: 2s, breaker: {failure_rate: 0.5}}"
	// Written out of order, as concurrent writers may.
	s.event(record.Event{Time: s.at(7.5), Kind: record.EventBreaker, Provider: "primary", From: "open", To: "half_open"})
	s.event(record.Event{Time: s.at(5.2), Kind: record.EventBreaker, Provider: "primary", From: "closed", To: "open"})
	s.event(record.Event{Time: s.at(7.9), Kind: record.EventBreaker, Provider: "primary", From: "half_open", To: "closed"})
	s.event(record.Event{Time: s.at(9.0), Kind: record.EventBreaker, Provider: "primary", From: "closed", To: "open"})
	s.event(record.Event{Time: s.at(3.4), Kind: record.EventBreaker, Provider: "secondary", From: "closed", To: "open"})
	an := analyzeDir(t, s.write())
	r := an.res
	if r.BreakerOpens != 3 {
		t.Errorf("breaker opens = %d, want 3", r.BreakerOpens)
	}
	var got []string
	for _, c := range r.Breaker {
		got = append(got, c.Provider+" "+c.To+"@"+seconds(c.T))
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
	s := newSynthRun(t, 4)
	s.client = "client: {timeout: 2s, cache: {ttl: 1m}}"
	s.attempt(0, 0, 1, primary, 0.1, record.OutcomeTimeout)
	s.attempts[0].PromptTokens, s.attempts[0].CompletionTokens = 100, 7 // a failed attempt that reported usage
	s.attempt(0, 0, 2, primary, 1.1, record.Outcome5xx)
	s.attempt(0, 0, 3, secondary, 1.5, record.OutcomeOK)
	s.attempts[2].PromptTokens, s.attempts[2].CompletionTokens, s.attempts[2].CachedTokens = 100, 20, 50
	s.attempts = append(s.attempts, record.Attempt{Conversation: 0, Kind: record.KindSession, Key: "mcp:tools/initialize", Attempt: 1, Start: s.at(0), Outcome: "ok"})
	s.event(record.Event{Time: s.at(0.5), Kind: record.EventRetry, Reason: "timeout", DelayMS: 400})
	s.event(record.Event{Time: s.at(1.2), Kind: record.EventRetry, Reason: "5xx", DelayMS: 100})
	s.event(record.Event{Time: s.at(1.4), Kind: record.EventFallback, Provider: "primary", To: "secondary", Reason: "5xx"})
	s.event(record.Event{Time: s.at(2.1), Kind: record.EventCacheHit})
	s.event(record.Event{Time: s.at(2.2), Kind: record.EventCacheHit})
	s.event(record.Event{Time: s.at(2.3), Kind: record.EventBudgetExhausted})
	s.run.Attempts.CacheMisses = 2
	s.tornAttempts = true
	an := analyzeDir(t, s.write())
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
	s := newSynthRun(t, 2)
	s.faults = hangFault
	s.run.Attempts = record.AttemptCounts{Steps: 10, StepAttempts: 15, Fallbacks: 4, BreakerOpens: 2, RetriesByReason: map[string]uint64{"timeout": 5}}
	// events.jsonl was cut short: it has fewer events than the counters.
	s.event(record.Event{Time: s.at(0.5), Kind: record.EventRetry, Reason: "timeout"})
	r := analyzeDir(t, s.write()).res
	if r.Amplification != 1.5 || r.Fallbacks != 4 || r.BreakerOpens != 2 || r.RetriesByReason["timeout"] != 5 {
		t.Errorf("resilience = amplification %v, fallbacks %d, opens %d, retries %v; want run.json's 1.5, 4, 2, timeout 5",
			r.Amplification, r.Fallbacks, r.BreakerOpens, r.RetriesByReason)
	}
}

// A plain run (the quickstart's kind): no faults, no policies, no
// events.jsonl. It still summarizes, without a resilience block.
func TestPlainRunHasNoResilienceBlock(t *testing.T) {
	s := newSynthRun(t, 3)
	s.noEvents = true
	for i := 0; i < 30; i++ {
		s.attempt(uint64(i), 0, 1, primary, float64(i)/10, record.OutcomeOK)
		s.conversation(float64(i)/10, 50*time.Millisecond, "")
	}
	dir := s.write()
	sum, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resilience != nil {
		t.Errorf("plain run has a resilience block: %+v", sum.Resilience)
	}
	raw, err := os.ReadFile(filepath.Join(dir, record.SummaryFile))
	must(t, err)
	var doc map[string]any
	must(t, json.Unmarshal(raw, &doc))
	if _, ok := doc["resilience"]; ok {
		t.Error("summary.json of a plain run has a resilience key")
	}
	var b strings.Builder
	must(t, PrintText(&b, sum))
	if strings.Contains(b.String(), "Resilience") {
		t.Errorf("plain run prints a resilience block:\n%s", b.String())
	}
	// The series are written anyway, for plots.
	ts, err := ReadTimeseries(dir)
	must(t, err)
	if len(ts.T) != 3 || ts.Conversations.OK[0] != 10 || ts.Offered["provider:primary"][2] != 10 {
		t.Errorf("series = %d intervals, ok %v, offered %v; want 3 intervals of 10", len(ts.T), ts.Conversations.OK, ts.Offered)
	}
}

// A folder with nothing but run.json (a run that recorded nothing) still
// summarizes.
func TestBareRunFolder(t *testing.T) {
	s := newSynthRun(t, 0)
	s.run.Ended = time.Time{}
	s.noScenario, s.noEvents = true, true
	sum, err := Write(s.write())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resilience != nil {
		t.Error("bare run has a resilience block")
	}
}

func TestResilienceText(t *testing.T) {
	s := stormRun(t)
	s.event(record.Event{Time: s.at(5.5), Kind: record.EventBreaker, Provider: "primary", From: "closed", To: "open"})
	s.event(record.Event{Time: s.at(5.6), Kind: record.EventRetry, Reason: "timeout"})
	sum, err := Write(s.write())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	must(t, PrintText(&b, sum))
	out := b.String()
	for _, want := range []string{
		"\nResilience\n",
		"1.25 (500 attempts, 400 steps)",
		"timeout 1",
		"primary open@5.5s",
		"hang@provider:primary",
		"5s-10s",
		"provider:primary 30/30.0 | 10/10.0",
		"0s after the window",
		"2.00; retries timeout 1",
		"Goodput",
		"100.00% before the first fault",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary text lacks %q:\n%s", want, out)
		}
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
