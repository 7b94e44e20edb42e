package attacker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/llm"
	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/markdown"
	"github.com/mcpload/mcpload/scenarios"
)

// gatewayScenario is 30 conversations against the mock playing a gateway
// of style in front of two upstreams, which retries behind the client; a
// fault answers 503 to a third of the requests, and the client retries
// those too, so that client and gateway retries both happen.
func gatewayScenario(style string) []byte {
	return fmt.Appendf(nil, `version: 1
name: gateway
seed: 3
providers:
  gw:
    api: openai
    base_url: mock
    model: gpt-4.1-mini
    mock:
      latency: 1ms
      gateway:
        style: %s
        retries: {probability: 0.5, max: 3}
        upstreams: [https://api.openai.com/v1, https://eu.example.com/v1]
mcp_servers:
  tools: {url: mock}
tools:
  - name: get_weather
    description: Weather of a city
    server: tools
    inputSchema: {type: object}
    mock: {latency: 1ms, result: sunny}
conversation:
  provider: gw
  max_steps: 3
  turns:
    - user: hi
      model: [{content: hello}]
load:
  stages: [{rate: 30, duration: 1s}]
faults:
  - {target: "provider:gw", kind: http_error, status: 503, probability: 0.33, from: 0s}
client:
  timeout: 10s
  retry: {max_attempts: 3, backoff: constant, initial: 1ms, on: [5xx]}
`, style)
}

// TestGatewayRetriesReconcile runs the mock as a LiteLLM and as a Portkey
// gateway and checks that the summary's gateway section is exactly what
// the mock reported: retries behind the client, the calls each upstream
// took, and the amplification; and that every model attempt recorded the
// mock's request id and the gateway's headers.
func TestGatewayRetriesReconcile(t *testing.T) {
	for _, style := range scenarios.GatewayStyles() {
		t.Run(style, func(t *testing.T) {
			sc, err := scenarios.Parse("gateway.yaml", gatewayScenario(style))
			if err != nil {
				t.Fatal(err)
			}
			mock, dir := runWithMock(t, sc)
			s, err := report.Write(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := mock.GatewayCounts()["gw"]
			g := s.Gateway
			if g == nil || g.ByProvider["gw"] == nil {
				t.Fatalf("summary has no gateway section; the mock counted %+v", want)
			}
			p := g.ByProvider["gw"]
			if p.Style != style || p.ClientAttempts != want.Requests || p.Retries != want.Retries || p.UpstreamCalls != want.UpstreamCalls || p.Unreported != 0 {
				t.Errorf("summary %+v, the mock counted %+v", p, want)
			}
			if want.Retries == 0 || s.Attempts.Retries == 0 || p.ClientAttempts != s.Attempts.Total {
				t.Errorf("want retries on both sides: the gateway's %d, the client's %d; client attempts %d of %d", want.Retries, s.Attempts.Retries, p.ClientAttempts, s.Attempts.Total)
			}
			if amp := float64(want.UpstreamCalls) / float64(want.Requests); g.Amplification != float64(int(amp*1000+0.5))/1000 {
				t.Errorf("amplification %.3f, want %.3f", g.Amplification, amp)
			}
			// The upstreams: by name for LiteLLM, by option index for Portkey.
			names := sc.Providers["gw"].Mock.Gateway.Upstreams
			for i, name := range names {
				label := name
				if style == scenarios.GatewayPortkey {
					label = fmt.Sprintf("config.targets[%d]", i)
				}
				if u := p.ByUpstream[label]; u == nil || u.UpstreamCalls != want.ByUpstream[name] {
					t.Errorf("upstream %s: summary %+v, the mock counted %d calls", label, u, want.ByUpstream[name])
				}
			}
			for _, a := range readAttempts(t, dir) {
				if a.Kind != record.StepModel {
					continue
				}
				if !strings.HasPrefix(a.RequestID, "req_") || len(a.Headers) < 3 {
					t.Fatalf("attempt %+v: no request id or gateway headers", a)
				}
			}
			b, err := os.ReadFile(filepath.Join(dir, record.SummaryFile))
			if err != nil || !strings.Contains(string(b), `"gateway"`) {
				t.Errorf("summary.json has no gateway section: %v", err)
			}
			md, err := os.ReadFile(filepath.Join(dir, markdown.File))
			if err != nil || !strings.Contains(string(md), "#### Behind the gateway") {
				t.Errorf("report.md has no gateway section: %v", err)
			}
		})
	}
}

// TestRecordHeaders runs against a server that sends a request id, the
// headers the scenario lists and one it does not, one echoing the key and
// one too long: the attempts keep the listed ones, the key redacted and
// the long one cut.
func TestRecordHeaders(t *testing.T) {
	const key = "sk-hostile-record-headers-key-0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Request-Id", "req_fixed123")
		h.Set("X-Upstream-Region", "eu-west-1")
		h.Set("X-Echo", "got Bearer "+key)
		h.Set("X-Long", strings.Repeat("z", 1000))
		h.Set("X-Not-Listed", "hidden")
		h.Set("X-Ratelimit-Remaining-Requests", "41")
		h.Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": "hello"}}},
			"usage":   map[string]any{"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
		})
	}))
	t.Cleanup(srv.Close)
	sc, err := scenarios.Parse("rh.yaml", hostile.DialectScenario(hostile.OpenAI, srv.URL+"/v1", false, 2, "1s", "10s",
		"  record_headers: [x-upstream-region, X-Echo]\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc.Providers["p"].RecordHeaders = []string{"x-long"}
	_, dir := runWithMock(t, sc, WithGetenv(func(string) string { return key }))
	n := 0
	for _, a := range readAttempts(t, dir) {
		if a.Kind != record.StepModel {
			continue
		}
		n++
		h := a.Headers
		if a.RequestID != "req_fixed123" || h["x-upstream-region"] != "eu-west-1" || h["x-ratelimit-remaining-requests"] != "41" {
			t.Errorf("attempt: request id %q, headers %v", a.RequestID, h)
		}
		if _, ok := h["x-not-listed"]; ok {
			t.Errorf("an unlisted header was recorded: %v", h)
		}
		if strings.Contains(h["x-echo"], "sk-hostile") || !strings.Contains(h["x-echo"], "[REDACTED]") {
			t.Errorf("x-echo %q: the key must be redacted", h["x-echo"])
		}
		if l := h["x-long"]; !strings.HasPrefix(l, "zzz") || len(l) > llm.MaxHeaderValue+len("…") {
			t.Errorf("x-long is %d bytes, want it cut to %d", len(l), llm.MaxHeaderValue)
		}
	}
	if n == 0 {
		t.Fatal("no model attempt")
	}
}

// runWithMock runs sc against its mock (on a loopback server) into a new
// folder, with opts, and returns the mock and the folder.
func runWithMock(t *testing.T, sc *scenarios.Scenario, opts ...Option) (*mockprovider.Server, string) {
	t.Helper()
	mock, err := mockprovider.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	ms := httptest.NewServer(mock.Handler())
	t.Cleanup(ms.Close)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := Run(ctx, sc, dir, append([]Option{WithMockURL(ms.URL), WithInterval(100 * time.Millisecond)}, opts...)...); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return mock, dir
}
