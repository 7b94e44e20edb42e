package attacker

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/attacker/secrets"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

func TestConversationAgainstMock(t *testing.T) {
	for _, stream := range []bool{false, true} {
		name := "json"
		if stream {
			name = "stream"
		}
		t.Run(name, func(t *testing.T) {
			sc := jobsConversationScenario()
			sc.Providers["primary"].Stream = stream
			base := jobsStartMock(t, sc, mockprovider.WithMCPStreaming(stream))
			j := jobsNewJob(t, sc, jobConfig{MockURL: base})
			sink := &jobsSink{}

			res := j.Do(context.Background(), 9, 0, sink)
			if res.Outcome != record.OutcomeOK || res.Err != "" {
				t.Fatalf("result %+v", res)
			}
			if res.Code != 200 || res.BytesIn == 0 || res.URL != base+"/providers/primary/v1/chat/completions" {
				t.Fatalf("result %+v", res)
			}

			attempts, steps, invalid := sink.snapshot()
			if invalid != 0 {
				t.Fatalf("%d invalid tool args", invalid)
			}
			// model, three tools, model.
			if len(steps) != 5 {
				t.Fatalf("%d steps, want 5: %+v", len(steps), steps)
			}
			tools := map[string]bool{}
			for i, s := range steps {
				if s.Conversation != 9 || s.Outcome != record.OutcomeOK || s.Latency <= 0 {
					t.Fatalf("step %d: %+v", i, s)
				}
				if s.Kind == record.StepTool {
					tools[s.Key] = true
				} else if s.Kind != record.StepModel || s.Key != "model:primary" {
					t.Fatalf("step %d: %+v", i, s)
				} else if stream != (s.TTFT > 0) {
					t.Fatalf("model step TTFT %v with stream=%v", s.TTFT, stream)
				}
			}
			if steps[0].Kind != record.StepModel || steps[4].Kind != record.StepModel ||
				!tools["tool:get_weather"] || !tools["tool:get_time"] || !tools["tool:search"] {
				t.Fatalf("steps %+v", steps)
			}

			var model []record.Attempt
			stepIdx := map[int]bool{}
			for _, a := range attempts {
				if a.Outcome != record.OutcomeOK {
					t.Fatalf("attempt %+v", a)
				}
				switch a.Kind {
				case record.StepModel:
					model = append(model, a)
				case record.StepTool:
					stepIdx[a.Step] = true
				}
			}
			if len(model) != 2 || model[0].Key != "model:primary/gpt-4.1-mini" || model[0].Step != 0 || model[1].Step != 4 {
				t.Fatalf("model attempts %+v", model)
			}
			// Tokens as scripted.
			if model[0].PromptTokens != 120 || model[0].CompletionTokens != 30 ||
				model[1].PromptTokens != 200 || model[1].CompletionTokens != 25 || model[1].CachedTokens != 64 {
				t.Fatalf("tokens %+v", model)
			}
			if !stepIdx[1] || !stepIdx[2] || !stepIdx[3] {
				t.Fatalf("tool attempt steps %v, want 1..3", stepIdx)
			}
			// The first conversation on a slot pays the handshake...
			if n := sink.countAttempts(record.KindSession, "mcp:tools/initialize"); n != 1 {
				t.Fatalf("%d initialize attempts", n)
			}
			// ...the next one on that slot reuses the session.
			sink2 := &jobsSink{}
			if res := j.Do(context.Background(), 10, 0, sink2); res.Outcome != record.OutcomeOK {
				t.Fatalf("second conversation %+v", res)
			}
			if n := sink2.countAttempts(record.KindSession, "mcp:tools/initialize"); n != 0 {
				t.Fatalf("second conversation initialized %d sessions", n)
			}
			if err := j.(jobCloser).Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConversationRunsToolsInParallel(t *testing.T) {
	const lat = 300 * time.Millisecond
	sc := jobsConversationScenario()
	for _, tool := range sc.Tools {
		tool.Mock.Latency = scenarios.Latency{Dist: scenarios.DistFixed, Value: scenarios.Duration(lat)}
	}
	base := jobsStartMock(t, sc)
	j := jobsNewJob(t, sc, jobConfig{MockURL: base})
	// Warm the slot's session so that the handshake is not in the way.
	if res := j.Do(context.Background(), 0, 0, &jobsSink{}); res.Outcome != record.OutcomeOK {
		t.Fatalf("warm-up %+v", res)
	}
	sink := &jobsSink{}
	if res := j.Do(context.Background(), 1, 0, sink); res.Outcome != record.OutcomeOK {
		t.Fatalf("result %+v", res)
	}
	_, steps, _ := sink.snapshot()
	var first, last time.Time
	var firstEnd time.Time
	n := 0
	for _, s := range steps {
		if s.Kind != record.StepTool {
			continue
		}
		n++
		if s.Latency < lat {
			t.Fatalf("tool step %s took %v, less than the mock's %v", s.Key, s.Latency, lat)
		}
		end := s.Start.Add(s.Latency)
		if first.IsZero() || s.Start.Before(first) {
			first = s.Start
		}
		if end.After(last) {
			last = end
		}
		if firstEnd.IsZero() || end.Before(firstEnd) {
			firstEnd = end
		}
	}
	if n != 3 {
		t.Fatalf("%d tool steps", n)
	}
	// Overlap: every call started before any finished. That cannot happen
	// sequentially, however loaded the machine is.
	for _, s := range steps {
		if s.Kind == record.StepTool && !s.Start.Before(firstEnd) {
			t.Fatalf("tool %s started after another finished: not parallel", s.Key)
		}
	}
	if span := last.Sub(first); span >= 3*lat {
		t.Fatalf("three %v tools took %v together: not parallel", lat, span)
	}
}

func TestConversationToolIsError(t *testing.T) {
	sc := jobsConversationScenario()
	sc.Tools[1].Mock = scenarios.ToolMock{Result: "clock unavailable", IsError: true} // get_time
	base := jobsStartMock(t, sc)
	j := jobsNewJob(t, sc, jobConfig{MockURL: base})
	sink := &jobsSink{}
	res := j.Do(context.Background(), 0, 0, sink)
	if res.Outcome != record.OutcomeToolError || !strings.Contains(res.Err, "get_time") || !strings.Contains(res.Err, "clock unavailable") {
		t.Fatalf("result %+v", res)
	}
	_, steps, _ := sink.snapshot()
	// The conversation goes on to its final answer.
	if len(steps) != 5 || steps[4].Kind != record.StepModel || steps[4].Outcome != record.OutcomeOK {
		t.Fatalf("steps %+v", steps)
	}
	failed := 0
	for _, s := range steps {
		if s.Outcome == record.OutcomeToolError {
			failed++
			if s.Key != "tool:get_time" {
				t.Fatalf("failed step %+v", s)
			}
		}
	}
	if failed != 1 {
		t.Fatalf("%d failed steps", failed)
	}
}

func TestConversationInvalidToolArgs(t *testing.T) {
	sc := jobsConversationScenario()
	calls := sc.Conversation.Turns[0].Model[0].ToolCalls
	calls[0].Arguments = map[string]any{"city": 42}          // wrong type
	calls[2].Arguments = map[string]any{"query": "misnamed"} // missing required q
	base := jobsStartMock(t, sc)
	j := jobsNewJob(t, sc, jobConfig{MockURL: base})
	sink := &jobsSink{}
	res := j.Do(context.Background(), 0, 0, sink)
	if res.Outcome != record.OutcomeToolError || !strings.Contains(res.Err, "inputSchema") {
		t.Fatalf("result %+v", res)
	}
	attempts, steps, invalid := sink.snapshot()
	if invalid != 2 {
		t.Fatalf("InvalidToolArgs counted %d, want 2", invalid)
	}
	for _, a := range attempts {
		if a.Key == "tool:get_weather" || a.Key == "tool:search" {
			t.Fatalf("a call with invalid arguments was sent: %+v", a)
		}
	}
	if sink.countAttempts(record.StepTool, "tool:get_time") != 1 {
		t.Fatal("the valid call was not sent")
	}
	if len(steps) != 5 || steps[4].Outcome != record.OutcomeOK {
		t.Fatalf("steps %+v", steps)
	}
}

func TestConversationUnknownToolAndMaxSteps(t *testing.T) {
	sc := jobsConversationScenario()
	sc.Conversation.Turns[0].Model[0].ToolCalls = append(sc.Conversation.Turns[0].Model[0].ToolCalls,
		scenarios.ToolCall{Name: "launch_rockets"})
	base := jobsStartMock(t, sc)
	j := jobsNewJob(t, sc, jobConfig{MockURL: base})
	sink := &jobsSink{}
	res := j.Do(context.Background(), 0, 0, sink)
	if res.Outcome != record.OutcomeToolError || !strings.Contains(res.Err, "does not declare") || strings.Contains(res.Err, "launch_rockets") {
		t.Fatalf("result %+v", res)
	}
	// The name is in attempts.jsonl only, under the shared key.
	attempts, _, _ := sink.snapshot()
	named := false
	for _, a := range attempts {
		named = named || (a.Key == "tool:_undeclared" && a.Error == `undeclared tool "launch_rockets"`)
	}
	if !named {
		t.Fatalf("no tool:_undeclared attempt names the tool: %+v", attempts)
	}

	// A model that never stops calling tools hits max_steps. The mock
	// repeats a turn's last scripted reply, so a script of tool calls only
	// loops.
	sc = jobsConversationScenario()
	sc.Conversation.Turns[0].Model = sc.Conversation.Turns[0].Model[:1]
	sc.Conversation.MaxSteps = 3
	base = jobsStartMock(t, sc)
	j = jobsNewJob(t, sc, jobConfig{MockURL: base})
	sink = &jobsSink{}
	res = j.Do(context.Background(), 0, 0, sink)
	if res.Outcome != record.OutcomeProtocol || !strings.Contains(res.Err, "max_steps") {
		t.Fatalf("result %+v", res)
	}
	if n := sink.countAttempts(record.StepModel, "model:primary/gpt-4.1-mini"); n != 3 {
		t.Fatalf("%d model attempts, want 3", n)
	}
	// The last model step's calls are not run: no step is left to read them.
	if n := sink.countAttempts(record.StepTool, "tool:get_weather"); n != 2 {
		t.Fatalf("%d get_weather attempts, want 2", n)
	}
}

func TestConversationMultiTurn(t *testing.T) {
	sc := jobsConversationScenario()
	sc.Conversation.Turns = append(sc.Conversation.Turns, scenarios.Turn{
		User:  "Thanks!",
		Model: []scenarios.ModelReply{{Content: "You're welcome."}},
	})
	base := jobsStartMock(t, sc)
	j := jobsNewJob(t, sc, jobConfig{MockURL: base})
	sink := &jobsSink{}
	if res := j.Do(context.Background(), 0, 0, sink); res.Outcome != record.OutcomeOK {
		t.Fatalf("result %+v", res)
	}
	_, steps, _ := sink.snapshot()
	if len(steps) != 6 || steps[5].Kind != record.StepModel {
		t.Fatalf("steps %+v", steps)
	}
}

// jobsRealProvider points the scenario's provider at url as a real
// (non-mock) provider on loopback, with key in $JOBS_KEY.
func jobsRealProvider(sc *scenarios.Scenario, url string) {
	sc.Providers["primary"] = &scenarios.Provider{API: "openai", BaseURL: url + "/v1", Model: "gpt-x", APIKeyEnv: "JOBS_KEY"}
}

func TestConversationModelFailureEndsIt(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(502)
		io.WriteString(w, "bad gateway")
	}))
	defer ts.Close()
	sc := jobsConversationScenario()
	jobsRealProvider(sc, ts.URL)
	j := jobsNewJob(t, sc, jobConfig{MockURL: "http://127.0.0.1:1", Getenv: jobsEnv(map[string]string{"JOBS_KEY": "k-123456"})})
	sink := &jobsSink{}
	res := j.Do(context.Background(), 0, 0, sink)
	if res.Outcome != record.Outcome5xx || res.Code != 502 || res.URL != ts.URL+"/v1/chat/completions" || !strings.Contains(res.Err, "bad gateway") {
		t.Fatalf("result %+v", res)
	}
	_, steps, _ := sink.snapshot()
	if len(steps) != 1 {
		t.Fatalf("steps %+v", steps)
	}
}

// TestConversationNeverLeaksKey runs against a provider that echoes the
// request's Authorization header and key in its error bodies.
func TestConversationNeverLeaksKey(t *testing.T) {
	const key = "sk-live-0123456789abcdef"
	for _, status := range []int{401, 500} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			auth := r.Header.Get("Authorization")
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+strings.TrimPrefix(auth, "Bearer ")+` (header `+auth+`)"}}`)
		}))
		sc := jobsConversationScenario()
		jobsRealProvider(sc, ts.URL)
		j := jobsNewJob(t, sc, jobConfig{MockURL: "http://127.0.0.1:1", Getenv: jobsEnv(map[string]string{"JOBS_KEY": key})})
		sink := &jobsSink{}
		res := j.Do(context.Background(), 0, 0, sink)
		ts.Close()
		attempts, _, _ := sink.snapshot()
		if len(attempts) != 1 || !strings.Contains(attempts[0].Error, "Incorrect API key") {
			t.Fatalf("attempts %+v", attempts)
		}
		for _, s := range []string{attempts[0].Error, res.Err} {
			if strings.Contains(s, key) || strings.Contains(s, key[8:]) || !strings.Contains(s, secrets.Redacted) {
				t.Fatalf("status %d: key leaked or not redacted: %q", status, s)
			}
		}
	}
}

func TestConversationCanceled(t *testing.T) {
	sc := jobsConversationScenario()
	sc.Providers["primary"].Mock.Latency = scenarios.Latency{Dist: scenarios.DistFixed, Value: scenarios.Duration(5 * time.Second)}
	base := jobsStartMock(t, sc)
	j := jobsNewJob(t, sc, jobConfig{MockURL: base})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	res := j.Do(ctx, 0, 0, &jobsSink{})
	if res.Outcome != record.OutcomeCanceled {
		t.Fatalf("result %+v", res)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("Do took %v after cancel", d)
	}
}

// jobsBenchProvider answers every chat completion with a final answer.
func jobsBenchProvider(b *testing.B) *httptest.Server { return fixture.OKServer(b) }

// BenchmarkConversationOneTurn runs a whole one-turn conversation (one
// model step, no tools) through the Job, as the scheduler does.
func BenchmarkConversationOneTurn(b *testing.B) {
	ts := jobsBenchProvider(b)
	sc := jobsConversationScenario()
	jobsRealProvider(sc, ts.URL)
	sc.Providers["primary"].BaseURL = ts.URL
	j := jobsNewJob(b, sc, jobConfig{MockURL: "http://127.0.0.1:1", Getenv: jobsEnv(map[string]string{"JOBS_KEY": "sk-bench"})})
	sink := &jobsNopSink{}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if r := j.Do(ctx, uint64(i), 0, sink); r.Outcome != record.OutcomeOK {
			b.Fatal(r.Err)
		}
	}
}

// jobsNopSink discards everything, so benchmarks measure the client.
type jobsNopSink struct{}

func (jobsNopSink) Attempt(*record.Attempt) {}
func (jobsNopSink) Step(StepRecord)         {}
func (jobsNopSink) InvalidToolArgs()        {}
func (jobsNopSink) Event(*record.Event)     {}

// TestConversationTimeout cuts a conversation whose provider hangs: the
// conversation ends with outcome timeout (not canceled), promptly.
func TestConversationTimeout(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer ts.Close()
	sc := jobsConversationScenario()
	jobsRealProvider(sc, ts.URL)
	sc.Client = scenarios.Client{Timeout: sd(20 * time.Second), ConversationTimeout: sd(200 * time.Millisecond), Retry: quickRetry()}
	j := jobsNewJob(t, sc, jobConfig{MockURL: "http://127.0.0.1:1", Getenv: jobsEnv(map[string]string{"JOBS_KEY": "sk-x"})})
	sink := &jobsSink{}
	start := time.Now()
	res := j.Do(context.Background(), 0, 0, sink)
	if res.Outcome != record.OutcomeTimeout || !strings.Contains(res.Err, "conversation_timeout") {
		t.Fatalf("result %+v", res)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Fatalf("Do took %v", d)
	}
	attempts, steps, _ := sink.snapshot()
	if len(attempts) != 1 || attempts[0].Outcome != record.OutcomeTimeout || len(steps) != 1 || steps[0].Outcome != record.OutcomeTimeout {
		t.Fatalf("attempts %+v, steps %+v", attempts, steps)
	}
}
