package attacker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// These tests put the resilient client in front of the real mock, on
// loopback, with the mock's own fault timeline.

// faultScenario is a one-turn conversation (no tools) on mock providers
// primary and secondary, with faults.
func faultScenario(stream bool, faults ...scenarios.Fault) *scenarios.Scenario {
	return fixture.Faults(stream, faults...)
}

// startFaultMock starts the mock of sc and sets its epoch to now.
func startFaultMock(t *testing.T, sc *scenarios.Scenario) (*mockprovider.Server, string) {
	return fixture.StartFaultMock(t, sc)
}

// TestToolCallRetriesAgainstMock fails the first attempt of every
// tools/call with the mock's fault timeline (probability draws per
// attempt would not do: a proxy fails attempt 1), and checks that the tool
// step is retried with numbered attempts and its own retry event.
func TestToolCallRetries(t *testing.T) {
	sc := jobsConversationScenario()
	sc.Client.Retry = quickRetry()
	m, err := mockprovider.New(sc, mockprovider.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	proxy := newAttemptProxy(m, func(attempt int, isToolCall bool) int {
		if isToolCall && attempt == 1 {
			return 503
		}
		return 0
	})
	defer proxy.Close()
	j := jobsNewJob(t, sc, jobConfig{MockURL: proxy.URL})
	sink := &jobsSink{}
	res := j.Do(context.Background(), 0, 0, sink)
	if res.Outcome != record.OutcomeOK {
		t.Fatalf("result %+v", res)
	}
	attempts, _, _ := sink.snapshot()
	perStep := map[int][]string{}
	for _, a := range attempts {
		if a.Kind == record.StepTool {
			perStep[a.Step] = append(perStep[a.Step], a.Outcome)
			if !strings.HasPrefix(a.Key, "tool:") {
				t.Fatalf("attempt %+v", a)
			}
		}
	}
	if len(perStep) != 3 {
		t.Fatalf("tool steps %v", perStep)
	}
	for step, outcomes := range perStep {
		if strings.Join(outcomes, ",") != "5xx,ok" {
			t.Fatalf("step %d attempts %v", step, outcomes)
		}
	}
	retries := 0
	for _, e := range sink.eventsSnapshot() {
		if e.Kind == record.EventRetry && strings.HasPrefix(e.Key, "tool:") && e.Reason == record.Outcome5xx {
			retries++
		}
	}
	if retries != 3 {
		t.Fatalf("%d tool retry events", retries)
	}
}

// TestRunRecordsPolicyEvents runs a scenario whose provider rate-limits
// part of the time through Run: events.jsonl gets a line per retry, and
// run.json counts them by reason.
func TestRunRecordsPolicyEvents(t *testing.T) {
	sc := faultScenario(false, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 503,
		Probability: ptrTo(0.3)})
	sc.Load.Stages = []scenarios.Stage{{Rate: 100, Duration: sd(time.Second)}}
	sc.Load.MaxInFlight = 50
	sc.Client = scenarios.Client{Timeout: sd(5 * time.Second), Retry: quickRetry(),
		Budget: &scenarios.Budget{Ratio: 0.5}, Cache: &scenarios.Cache{TTL: sd(time.Millisecond)}}
	_, base := startFaultMock(t, sc)
	dir := filepath.Join(t.TempDir(), "run")
	run, err := Run(context.Background(), sc, dir, WithMockURL(base), WithInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	a := run.Attempts
	if a.RetriesByReason[record.Outcome5xx] == 0 || a.CacheMisses == 0 || a.Retries < a.RetriesByReason[record.Outcome5xx] {
		t.Fatalf("attempt counts %+v", a)
	}
	f, err := os.Open(filepath.Join(dir, record.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	sc2 := bufio.NewScanner(f)
	for sc2.Scan() {
		var e record.Event
		if err := json.Unmarshal(sc2.Bytes(), &e); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		if e.Kind == record.EventCacheMiss {
			t.Fatal("a cache miss was written")
		}
		lines++
	}
	want := a.RetriesByReason[record.Outcome5xx] + a.BudgetExhausted + a.CacheHits
	if uint64(lines) != want {
		t.Fatalf("%d lines in events.jsonl, want %d (%+v)", lines, want, a)
	}
}

// newAttemptProxy serves the mock's handler behind a filter: fail returns
// a status to answer instead of the mock (0: pass), from the request's
// Mcpload-Attempt and whether it is a tools/call.
func newAttemptProxy(m *mockprovider.Server, fail func(attempt int, isToolCall bool) int) *httptest.Server {
	h := m.Handler()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if code := fail(attemptOf(r), bytes.Contains(body, []byte(`"method":"tools/call"`))); code != 0 {
			w.WriteHeader(code)
			return
		}
		h.ServeHTTP(w, r)
	}))
}

func sd(d time.Duration) scenarios.Duration { return scenarios.Duration(d) }

// attemptOf returns the Mcpload-Attempt of r, 0 when absent.
func attemptOf(r *http.Request) int {
	n, _ := strconv.Atoi(r.Header.Get(httpx.HdrAttempt))
	return n
}

// quickRetry retries at once, three attempts, honouring server hints.
func quickRetry() *scenarios.Retry { return fixture.QuickRetry() }

func ptrTo[T any](v T) *T { return &v }
