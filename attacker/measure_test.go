package attacker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// oneTurnScenario is a conversation of one model call with no tools, at a
// constant rate against the provider at baseURL ("mock" or a URL).
func oneTurnScenario(baseURL string, latency scenarios.Latency, rate float64, d time.Duration, cap int) *scenarios.Scenario {
	sc := &scenarios.Scenario{
		Version: 1, Name: "measure", Seed: 11,
		Providers: map[string]*scenarios.Provider{"primary": {
			API: "openai", BaseURL: baseURL, Model: "gpt-4.1-mini", APIKeyEnv: "MEASURE_KEY",
			Mock: scenarios.ProviderMock{Latency: latency},
		}},
		Conversation: &scenarios.Conversation{
			Provider: "primary", MaxSteps: 8,
			Turns: []scenarios.Turn{{User: "hi", Model: []scenarios.ModelReply{{Content: "hello"}}}},
		},
		Load: scenarios.LoadShape{
			Arrival:     scenarios.ArrivalConstant,
			Stages:      []scenarios.Stage{{Rate: scenarios.Rate(rate), Duration: scenarios.Duration(d)}},
			MaxInFlight: cap, OnCap: scenarios.OnCapQueue,
		},
		Client: scenarios.Client{Timeout: scenarios.Duration(10 * time.Second)},
	}
	return sc
}

// TestCoordinatedOmissionAgainstMock stalls the real mock for 500 ms while
// load runs at a fixed rate through one slot. The stall must show in
// conversation latency (measured from the intended start), and service time
// must not carry it: only the one stalled request was being served.
func TestCoordinatedOmissionAgainstMock(t *testing.T) {
	mockSc := oneTurnScenario(scenarios.MockURL, scenarios.Latency{Dist: scenarios.DistFixed, Value: scenarios.Duration(2 * time.Millisecond)}, 40, 4*time.Second, 1)
	mock, err := mockprovider.New(mockSc, mockprovider.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Close()
	var stalled atomic.Bool
	began := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if time.Since(began) > 1500*time.Millisecond && stalled.CompareAndSwap(false, true) {
			time.Sleep(500 * time.Millisecond)
		}
		mock.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()

	sc := oneTurnScenario(srv.URL+"/providers/primary/v1", scenarios.Latency{}, 40, 4*time.Second, 1)
	dir := filepath.Join(t.TempDir(), "run")
	run, err := Run(context.Background(), sc, dir, WithGetenv(func(string) string { return "sk-measure" }), WithInterval(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !stalled.Load() {
		t.Fatal("the stall never happened")
	}
	if run.Conversations.OK != run.Conversations.Started || run.Conversations.Started < 150 {
		t.Fatalf("conversations %+v, want ~160 all ok", run.Conversations)
	}
	f := readRunFolder(t, dir)
	conv, svc := f.hists[record.LevelConversation], f.hists[record.LevelService]
	convP99, svcP99 := time.Duration(conv.ValueAtQuantile(99))*time.Microsecond, time.Duration(svc.ValueAtQuantile(99))*time.Microsecond
	t.Logf("conversation p99 %v max %v; service p99 %v max %v", convP99, time.Duration(conv.Max())*time.Microsecond, svcP99, time.Duration(svc.Max())*time.Microsecond)
	// ~20 arrivals queue behind the stall, waiting up to 500 ms each: far
	// more than 1% of ~160 conversations.
	if convP99 < 400*time.Millisecond {
		t.Errorf("conversation p99 = %v: the 500 ms stall is hidden (coordinated omission)", convP99)
	}
	if svcP99 > 250*time.Millisecond {
		t.Errorf("service p99 = %v: service time carries the queueing delay", svcP99)
	}
	if svcMax := time.Duration(svc.Max()) * time.Microsecond; svcMax < 450*time.Millisecond {
		t.Errorf("service max = %v: the stalled request itself should take ~500 ms", svcMax)
	}
}

// TestLatencyFidelity has the mock draw a known lognormal latency and checks
// that mcpload measures it. Draws are seeded per conversation, so the
// sample is the same on every run. Below the draw, the tolerance covers the
// sampling error of ~900 draws (p99 ±2.5 standard errors): measuring less
// than the mock slept is a bug on any machine. Above it, a busy CI machine
// adds scheduling delay, so the bound is loose; `make bench` holds the tight
// overhead claim.
func TestLatencyFidelity(t *testing.T) {
	const p50, p99 = 40 * time.Millisecond, 160 * time.Millisecond
	lat := scenarios.Latency{Dist: scenarios.DistLognormal, P50: scenarios.Duration(p50), P99: scenarios.Duration(p99)}
	sc := oneTurnScenario(scenarios.MockURL, lat, 150, 6*time.Second, 1000)
	url := jobsStartMock(t, sc, mockprovider.WithSeed(sc.Seed))
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), sc, dir, WithMockURL(url)); err != nil {
		t.Fatal(err)
	}
	h := readRunFolder(t, dir).hists[record.Tag(record.LevelAttempt, record.AttemptModelKey("primary", "gpt-4.1-mini"))]
	if count(h) < 850 {
		t.Fatalf("%d attempts, want ~900", count(h))
	}
	for _, q := range []struct {
		name        string
		want        time.Duration
		got         time.Duration
		below, over float64
	}{
		{"p50", p50, time.Duration(h.ValueAtQuantile(50)) * time.Microsecond, 0.10, 0.75},
		{"p99", p99, time.Duration(h.ValueAtQuantile(99)) * time.Microsecond, 0.20, 0.75},
	} {
		rel := (q.got.Seconds() - q.want.Seconds()) / q.want.Seconds()
		t.Logf("%s: mock %v, measured %v (%+.1f%%)", q.name, q.want, q.got, 100*rel)
		if rel < -q.below || rel > q.over {
			t.Errorf("%s measured %v, mock drew around %v: off by %+.1f%%, tolerance -%.0f%%/+%.0f%%", q.name, q.got, q.want, 100*rel, 100*q.below, 100*q.over)
		}
	}
}

// TestRetryAfterInAttemptsFile runs load through Run against the mock's
// rate_limit fault and reads attempts.jsonl as a user would: every retry
// after a 429 starts at least Retry-After after the 429 ended.
func TestRetryAfterInAttemptsFile(t *testing.T) {
	const retryAfter = 300 * time.Millisecond
	sc := oneTurnScenario(scenarios.MockURL, scenarios.Latency{}, 20, 2*time.Second, 100)
	half := 0.5
	sc.Faults = []scenarios.Fault{{Target: "provider:primary", Kind: scenarios.FaultRateLimit,
		Probability: &half, RetryAfter: scenarios.Duration(retryAfter)}}
	on := true
	sc.Client.Retry = &scenarios.Retry{MaxAttempts: 4, Backoff: scenarios.BackoffConstant, Initial: scenarios.Duration(time.Millisecond),
		Jitter: scenarios.JitterNone, On: []string{record.Outcome429}, RetryAfter: &on}
	url := jobsStartMock(t, sc, mockprovider.WithSeed(sc.Seed))
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), sc, dir, WithMockURL(url)); err != nil {
		t.Fatal(err)
	}
	type stepKey struct {
		conv uint64
		step int
	}
	byStep := map[stepKey]map[int]record.Attempt{}
	for _, a := range readRunFolder(t, dir).attempts {
		k := stepKey{a.Conversation, a.Step}
		if byStep[k] == nil {
			byStep[k] = map[int]record.Attempt{}
		}
		byStep[k][a.Attempt] = a
	}
	retried := 0
	for k, attempts := range byStep {
		for n, a := range attempts {
			next, ok := attempts[n+1]
			if !ok {
				continue
			}
			if a.Status != 429 {
				t.Errorf("conv %d step %d: attempt %d retried after status %d", k.conv, k.step, n, a.Status)
			}
			end := a.Start.Add(time.Duration(a.LatencyUS) * time.Microsecond)
			if gap := next.Start.Sub(end); gap < retryAfter {
				t.Errorf("conv %d step %d: attempt %d started %v after the 429, Retry-After said %v", k.conv, k.step, n+1, gap, retryAfter)
			}
			retried++
		}
	}
	// Half of ~40 first attempts are refused: expect a good many retries.
	if retried < 10 {
		t.Fatalf("only %d retries in attempts.jsonl; the fault did not bite", retried)
	}
}
