package attacker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/attacker/secrets"
	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

// clientCapsYAML declares roots and sampling, not elicitation.
const clientCapsYAML = `client: {roots: [{uri: "file:///work/repo", name: repo}], sampling: {text: scripted}}`

// runHostileClient runs four conversations over 1 s whose tool calls go to
// the MCP server h, declared with server (the inside of its mapping after
// url), under a client.timeout of timeout. It returns the run folder,
// reported.
func runHostileClient(t *testing.T, h http.Handler, server, timeout string) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	scenario := func(base string) *scenarios.Scenario {
		y := string(hostile.MCPScenario(base, srv.URL+"/mcp", 4, "1s", timeout, ""))
		y = strings.Replace(y, `tools: {url: "`+srv.URL+`/mcp"}`, `tools: {url: "`+srv.URL+`/mcp", `+server+`}`, 1)
		sc, err := scenarios.Parse("hostile-client.yaml", []byte(y))
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	mock, err := mockprovider.New(scenario(scenarios.MockURL))
	if err != nil {
		t.Fatal(err)
	}
	ms := httptest.NewServer(mock.Handler())
	t.Cleanup(ms.Close)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	run, err := Run(ctx, scenario(ms.URL+"/providers/p/v1"), dir, WithInterval(100*time.Millisecond),
		WithGetenv(func(string) string { return "sk-test-key-0123456789" }))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if took := time.Since(start); run.Status != record.StatusComplete || run.Conversations.Started != 4 || took > 40*time.Second {
		t.Fatalf("run %s, %d conversations started, %v", run.Status, run.Conversations.Started, took)
	}
	if _, err := report.Write(dir); err != nil {
		t.Fatalf("report: %v", err)
	}
	return dir
}

// summaryMCP reads summary.json's mcp section and attempt outcomes.
func summaryMCP(t *testing.T, dir string) (summary.MCP, map[string]uint64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		MCP      summary.MCP `json:"mcp"`
		Attempts struct {
			ByOutcome map[string]uint64 `json:"by_outcome"`
		} `json:"attempts"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s.MCP, s.Attempts.ByOutcome
}

// TestHostileServerRequests runs conversations against MCP servers that
// send the client requests during a tool call: each request is answered
// (a declared capability) or refused with -32601 (anything else), each is
// counted as a server_request, and a server that floods the stream or
// never takes the answers costs the call a classified outcome within its
// bound.
func TestHostileServerRequests(t *testing.T) {
	t.Run("answered and refused", func(t *testing.T) {
		asker := &hostile.MCPAsker{Ask: []string{"roots/list", "sampling/createMessage", "elicitation/create", "bogus/method"}, Wait: 5 * time.Second}
		dir := runHostileClient(t, asker, clientCapsYAML, "10s")
		for _, a := range readAttempts(t, dir) {
			if a.Key == "tool:get_weather" && a.Outcome != record.OutcomeOK {
				t.Errorf("tool attempt %s %q", a.Outcome, a.Error)
			}
		}
		ans := asker.Answers()
		if !strings.Contains(ans["ask-1"], "file:///work/repo") || !strings.Contains(ans["ask-2"], "scripted") ||
			!strings.Contains(ans["ask-3"], "-32601") || !strings.Contains(ans["ask-4"], "-32601") {
			t.Errorf("the server received %v", ans)
		}
		m, _ := summaryMCP(t, dir)
		got := map[string]string{}
		for _, sr := range m.ServerRequests {
			b, _ := json.Marshal(sr.ByOutcome)
			got[sr.Key] = string(b)
		}
		want := map[string]string{
			"mcp:tools/roots/list":             `{"ok":4}`,
			"mcp:tools/sampling/createMessage": `{"ok":4}`,
			"mcp:tools/elicitation/create":     `{"protocol":4}`,
			"mcp:tools/unsupported":            `{"protocol":4}`,
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("summary server_requests %s = %s, want %s (all %v)", k, got[k], v, got)
			}
		}
	})
	t.Run("flood", func(t *testing.T) {
		dir := runHostileClient(t, &hostile.MCPAsker{Flood: 100000, Wait: time.Second}, clientCapsYAML, "10s")
		pings := 0
		for _, a := range readAttempts(t, dir) {
			switch {
			case a.Key == "tool:get_weather" && (a.Outcome != record.OutcomeProtocol || !strings.Contains(a.Error, "requests on one call")):
				t.Errorf("tool attempt %s %q", a.Outcome, a.Error)
			case a.Kind == record.KindServerRequest:
				pings++
			}
		}
		if pings != 4*100 {
			t.Errorf("%d pings answered, want %d per call", pings, 100)
		}
	})
	t.Run("answers never taken", func(t *testing.T) {
		dir := runHostileClient(t, &hostile.MCPAsker{Ask: []string{"roots/list"}, StallAnswers: true, Wait: time.Minute}, clientCapsYAML, "2s")
		for _, a := range readAttempts(t, dir) {
			if (a.Key == "tool:get_weather" || a.Kind == record.KindServerRequest) && a.Outcome != record.OutcomeTimeout {
				t.Errorf("%s attempt %s %q", a.Key, a.Outcome, a.Error)
			}
		}
	})
}

// TestHostileSessionExpiry runs conversations against a server that
// forgets each session after three requests: every call that finds its
// session gone re-initializes and is sent again, so every conversation
// succeeds, and the expiries are counted as session_expired.
func TestHostileSessionExpiry(t *testing.T) {
	srv := &hostile.MCPExpiring{Every: 3}
	dir := runHostileClient(t, srv, `client: {roots: []}`, "5s")
	if r := readRun(t, dir); r.Conversations.OK != 4 {
		t.Errorf("conversations %+v, want all ok", r.Conversations)
	}
	m, byOutcome := summaryMCP(t, dir)
	if srv.Expired.Load() == 0 || m.SessionExpired != uint64(srv.Expired.Load()) || byOutcome[record.OutcomeSessionExpired] != m.SessionExpired {
		t.Errorf("server expired %d, summary mcp.session_expired %d, attempts.by_outcome %v", srv.Expired.Load(), m.SessionExpired, byOutcome)
	}
}

// mockAskScenario serves tool ask from the mock's MCP server: it samples
// (sampling/createMessage) and elicits (elicitation/create) before it
// answers with both. The client samples with provider p, the mock's
// model, and accepts the elicitation as scripted.
const mockAskScenario = `version: 1
name: ask
seed: 1
providers:
  p: {base_url: mock, model: gpt-4.1-mini}
mcp_servers:
  s:
    url: mock
    mock: {response: sse}
    client:
      sampling: {provider: p}
      elicitation: {content: {username: ada, email: ada@example.test}}
tools:
  - name: ask
    inputSchema: {type: object, properties: {q: {type: string}}}
    mock:
      sampling:
        prompt: "{{q}}"
      elicitation:
        message: "who?"
        requestedSchema: {type: object, properties: {username: {type: string}, email: {type: string}}, required: [username, email]}
      result: "LLM: {{sampling}} / {{elicitation}}"
mcp_direct:
  mix:
    - {tool: ask, arguments: {q: "meaning?"}}
load:
  stages: [{rate: 1, duration: 1s}]
`

// TestMockSamplingAndElicitation runs the mock's sampling and
// elicitation fixtures end to end: the mock's tool asks the client, which
// samples with a provider of the scenario (the mock's model, recorded as a
// model attempt of the call) and answers the elicitation as scripted.
func TestMockSamplingAndElicitation(t *testing.T) {
	sc, err := scenarios.Parse("ask.yaml", []byte(mockAskScenario))
	if err != nil {
		t.Fatal(err)
	}
	base := jobsStartMock(t, sc)
	c, err := newMCPClient(sc, "s", jobConfig{MockURL: base, HTTPClient: jobsHTTPClient(t)}, 10*time.Second, secrets.NewRedactor(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sink := &jobsSink{}
	s, hs := c.Handshake(ctx, 3, 0, sink)
	if s == nil {
		t.Fatalf("handshake: %+v", hs)
	}
	defer c.End(ctx, s, 3, 2, nil)
	r := c.Call(ctx, s, 3, 1, mcp.ToolCall("ask", []byte(`{"q":"meaning?"}`), false), sink)
	want := `LLM: This is the mcpload mock provider. / action=accept content={"email":"ada@example.test","username":"ada"}`
	if r.Outcome != record.OutcomeOK || r.Text != want {
		t.Fatalf("ask: %s %q %q", r.Outcome, r.Text, r.Err)
	}
	kinds := map[string]string{}
	for _, a := range sink.Attempts() {
		if a.Conversation == 3 && a.Step == 1 {
			kinds[a.Key] = a.Kind + " " + a.Outcome
		}
	}
	for key, w := range map[string]string{
		"model:p/gpt-4.1-mini":         "model ok",
		"mcp:s/sampling/createMessage": "server_request ok",
		"mcp:s/elicitation/create":     "server_request ok",
		"tool:ask":                     "tool ok",
	} {
		if kinds[key] != w {
			t.Errorf("attempt %s: %q, want %q (all %v)", key, kinds[key], w, kinds)
		}
	}
}

// countOutcome counts the attempts that ended with outcome.
func (s *jobsSink) countOutcome(outcome string) int {
	n := 0
	for _, a := range s.Attempts() {
		if a.Outcome == outcome {
			n++
		}
	}
	return n
}
