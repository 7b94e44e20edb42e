package mockprovider

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
	"google.golang.org/genai"

	"github.com/mcpload/mcpload/scenarios"
)

// TestRequestIDs checks that every answer carries its dialect's request id,
// errors included, as the real APIs do: OpenAI's x-request-id and
// Anthropic's request-id ("req_" and 24 alphanumerics, each its own), as
// the Anthropic SDK reads it into its error; and that Gemini 3's function
// calls carry ids where 2.x's do not.
func TestRequestIDs(t *testing.T) {
	sc := anthropicScenario()
	sc.Providers["primary"].Mock.Limits = &scenarios.Limits{RPM: 1}
	sc.Providers["claude"].Mock.Limits = &scenarios.Limits{RPM: 1}
	sc.Providers["gemini"] = &scenarios.Provider{API: scenarios.APIGemini, BaseURL: scenarios.MockURL, Model: testGemini}
	sc.Providers["gemini3"] = &scenarios.Provider{API: scenarios.APIGemini, BaseURL: scenarios.MockURL, Model: "gemini-3-pro-preview"}
	_, base := startMock(t, sc)

	seen := map[string]bool{}
	checkID := func(what, id string) {
		t.Helper()
		if !strings.HasPrefix(id, "req_") || len(id) != 4+requestIDLen || seen[id] {
			t.Errorf("%s: request id %q, want a new req_ and %d alphanumerics", what, id, requestIDLen)
		}
		seen[id] = true
	}
	body := `{"model":"` + testModel + `","messages":[{"role":"user","content":"hi"}]}`
	for i, status := range []int{http.StatusOK, http.StatusTooManyRequests} {
		resp, b := post(t, base+"/providers/primary/v1/chat/completions", body, "Authorization", "Bearer k")
		if resp.StatusCode != status {
			t.Fatalf("openai request %d: status %d, want %d: %s", i, resp.StatusCode, status, b)
		}
		checkID("openai "+http.StatusText(status), resp.Header.Get("x-request-id"))
	}

	ctx := context.Background()
	claude := newAnthropic(base, "claude")
	var raw *http.Response
	if _, err := claude.Messages.New(ctx, anthropicParams(t, sc), option.WithResponseInto(&raw)); err != nil {
		t.Fatal(err)
	}
	checkID("anthropic ok", raw.Header.Get("request-id"))
	_, err := claude.Messages.New(ctx, anthropicParams(t, sc))
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("anthropic second request: %v, want a 429", err)
	}
	checkID("anthropic 429 (the SDK's Error.RequestID)", apiErr.RequestID)

	for _, tc := range []struct {
		provider string
		ids      bool
	}{{"gemini", false}, {"gemini3", true}} {
		g := newGenAI(t, base, tc.provider, nil)
		model := sc.Providers[tc.provider].Model
		resp, err := g.Models.GenerateContent(ctx, model, genai.Text(sc.Conversation.Turns[0].User), geminiConfig(sc))
		if err != nil {
			t.Fatal(err)
		}
		calls := resp.FunctionCalls()
		checkFunctionCalls(t, calls)
		for _, c := range calls {
			if got := c.ID != ""; got != tc.ids {
				t.Errorf("%s: functionCall %s has id %q; want one: %t", model, c.Name, c.ID, tc.ids)
			}
		}
		if resp.ResponseID == "" {
			t.Errorf("%s: no responseId", model)
		}
	}
}

// TestMockGateway plays both gateways and checks their headers against
// the mock's own counts, on the admin API too.
func TestMockGateway(t *testing.T) {
	for _, style := range scenarios.GatewayStyles() {
		t.Run(style, func(t *testing.T) {
			sc := testScenario()
			sc.Providers["primary"].Mock.Gateway = &scenarios.MockGateway{
				Style:     style,
				Retries:   scenarios.GatewayRetries{Probability: 1, Max: 2},
				Upstreams: []string{"https://a.example/v1", "https://b.example/v1"},
			}
			s, base := startMock(t, sc, WithAdmin(true))
			body := `{"model":"` + testModel + `","messages":[{"role":"user","content":"hi"}]}`
			answered := map[string]int{}
			for range 6 {
				resp, b := post(t, base+"/providers/primary/v1/chat/completions", body, "Authorization", "Bearer k")
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, b)
				}
				retries, upstream := resp.Header.Get(hdrLiteLLMRetries), resp.Header.Get(hdrLiteLLMAPIBase)
				if style == scenarios.GatewayPortkey {
					retries, upstream = resp.Header.Get(hdrPortkeyRetries), resp.Header.Get(hdrPortkeyProvider)
				}
				if retries != "2" || !strings.HasPrefix(upstream, "https://") {
					t.Fatalf("headers %v: want 2 retries and an upstream", resp.Header)
				}
				answered[upstream]++
			}
			got := s.GatewayCounts()["primary"]
			if got.Style != style || got.Requests != 6 || got.Retries != 12 || got.UpstreamCalls != 18 {
				t.Errorf("counts %+v, want 6 requests, 12 retries, 18 upstream calls", got)
			}
			for u, n := range answered {
				if got.ByUpstream[u] != uint64(3*n) {
					t.Errorf("upstream %s: %d calls counted, %d answers of 3 calls seen", u, got.ByUpstream[u], n)
				}
			}
			if other := s.GatewayCounts()["backup"]; other.Requests != 0 || other.Style != "" {
				t.Errorf("backup counts %+v, want none", other)
			}
			resp, err := http.Get(base + "/admin/gateway")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var doc map[string]GatewayCounts
			if err := json.Unmarshal(b, &doc); err != nil || doc["primary"].UpstreamCalls != 18 {
				t.Errorf("GET /admin/gateway: %v %s", err, b)
			}
		})
	}
}
