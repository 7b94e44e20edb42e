package mockprovider

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/anthropic"
	"github.com/mcpload/mcpload/wire/gemini"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// dialectCase is how a raw client speaks one dialect to provider
// "primary": its URL, headers and a first-turn body.
type dialectCase struct {
	api  string
	path func(stream bool) string
	hdr  []string
	body func(stream bool) string
	// errorOf decodes an error body into status-independent parts.
	errorOf func(t *testing.T, b []byte) (typ, msg string)
}

func dialectCases() []dialectCase {
	return []dialectCase{
		{
			api:  scenarios.APIOpenAI,
			path: func(bool) string { return "/providers/primary/v1/chat/completions" },
			body: func(stream bool) string { return firstTurn(testModel, stream, stream) },
			errorOf: func(t *testing.T, b []byte) (string, string) {
				e := errorBody(t, b)
				return e.Type, e.Message
			},
		},
		{
			api:  scenarios.APIAnthropic,
			path: func(bool) string { return "/providers/primary/v1/messages" },
			hdr:  []string{"X-Api-Key", "k", "Anthropic-Version", anthropic.Version},
			body: func(stream bool) string {
				return `{"model":"claude","max_tokens":100,"stream":` + boolJSON(stream) + `,"messages":[{"role":"user","content":"What's the weather in Paris?"}]}`
			},
			errorOf: func(t *testing.T, b []byte) (string, string) {
				var e anthropic.ErrorBody
				if err := json.Unmarshal(b, &e); err != nil || e.Type != "error" {
					t.Fatalf("not Anthropic's error shape: %s", b)
				}
				return e.Error.Type, e.Error.Message
			},
		},
		{
			api: scenarios.APIGemini,
			path: func(stream bool) string {
				if stream {
					return "/providers/primary/v1beta/models/gemini:streamGenerateContent?alt=sse"
				}
				return "/providers/primary/v1beta/models/gemini:generateContent"
			},
			hdr: []string{"X-Goog-Api-Key", "k"},
			body: func(bool) string {
				return `{"contents":[{"role":"user","parts":[{"text":"What's the weather in Paris?"}]}]}`
			},
			errorOf: func(t *testing.T, b []byte) (string, string) {
				var e gemini.ErrorBody
				if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == 0 {
					t.Fatalf("not Google's error shape: %s", b)
				}
				return e.Error.Status, e.Error.Message
			},
		},
	}
}

func boolJSON(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestDialectRateLimits puts provider limits (rpm 1) on the mock: every
// dialect counts against them and refuses the second request with its
// API's 429 and headers.
func TestDialectRateLimits(t *testing.T) {
	for _, dc := range dialectCases() {
		t.Run(dc.api, func(t *testing.T) {
			sc := testScenario()
			sc.Providers["primary"].Mock.Limits = &scenarios.Limits{RPM: 1}
			_, base := startMock(t, sc)
			resp, b := post(t, base+dc.path(false), dc.body(false), dc.hdr...)
			if resp.StatusCode != 200 {
				t.Fatalf("first request: %d %s", resp.StatusCode, b)
			}
			h := resp.Header
			switch dc.api {
			case scenarios.APIOpenAI:
				wantHeaders(t, h, "X-Ratelimit-Limit-Requests", "1", "X-Ratelimit-Remaining-Requests", "0")
			case scenarios.APIAnthropic:
				wantHeaders(t, h, "Anthropic-Ratelimit-Requests-Limit", "1", "Anthropic-Ratelimit-Requests-Remaining", "0")
				if h.Get("X-Ratelimit-Limit-Requests") != "" {
					t.Error("OpenAI's headers on an Anthropic answer")
				}
			case scenarios.APIGemini:
				for k := range h {
					if strings.Contains(strings.ToLower(k), "ratelimit") {
						t.Errorf("Gemini sends no rate limit headers, got %s", k)
					}
				}
			}

			resp, b = post(t, base+dc.path(false), dc.body(false), dc.hdr...)
			if resp.StatusCode != 429 {
				t.Fatalf("second request: %d %s", resp.StatusCode, b)
			}
			typ, msg := dc.errorOf(t, b)
			want := map[string]string{scenarios.APIOpenAI: "requests", scenarios.APIAnthropic: "rate_limit_error", scenarios.APIGemini: "RESOURCE_EXHAUSTED"}[dc.api]
			if typ != want || msg == "" {
				t.Errorf("429 %q %q, want type %s", typ, msg, want)
			}
			ra := resp.Header.Get("Retry-After")
			if (dc.api == scenarios.APIGemini) != (ra == "") {
				t.Errorf("Retry-After %q on a %s 429", ra, dc.api)
			}
		})
	}
}

// TestDialectFaults carries out faults of the timeline on every dialect:
// an http_error in the API's error shape, and a stream cut after its first
// delta, before the API's end of stream.
func TestDialectFaults(t *testing.T) {
	for _, dc := range dialectCases() {
		t.Run(dc.api, func(t *testing.T) {
			sc := faultScenario(
				scenarios.Fault{Kind: scenarios.FaultHTTPError, Target: "provider:primary", Status: 503, RetryAfter: sd(2 * time.Second), For: sd(time.Hour)},
			)
			s, base := startMock(t, sc)
			resp, b := post(t, base+dc.path(false), dc.body(false), dc.hdr...)
			if resp.StatusCode != 503 {
				t.Fatalf("http_error: %d %s", resp.StatusCode, b)
			}
			typ, _ := dc.errorOf(t, b)
			wantType := map[string]string{scenarios.APIOpenAI: typeServer, scenarios.APIAnthropic: "api_error", scenarios.APIGemini: "UNAVAILABLE"}[dc.api]
			if typ != wantType || resp.Header.Get("Retry-After") != "2" {
				t.Errorf("503 type %q Retry-After %q, want %s and 2", typ, resp.Header.Get("Retry-After"), wantType)
			}

			if err := s.SetFaults([]scenarios.Fault{{Kind: scenarios.FaultStreamCut, Target: "provider:primary", AfterChunks: 1}}); err != nil {
				t.Fatal(err)
			}
			r := send(newClient(5*time.Second), base+dc.path(true), dc.body(true), dc.hdr...)
			if r.resp == nil || r.resp.StatusCode != 200 {
				t.Fatalf("stream_cut: %+v", r)
			}
			if r.err == nil {
				t.Errorf("stream_cut: the body ended cleanly")
			}
			end := map[string]string{scenarios.APIOpenAI: openaichat.StreamDone, scenarios.APIAnthropic: "message_stop", scenarios.APIGemini: "finishReason"}[dc.api]
			if strings.Contains(string(r.body), end) {
				t.Errorf("stream_cut: the stream reached its end %q: %s", end, r.body)
			}
			// The start (OpenAI's role chunk, message_start) and one delta;
			// a Gemini stream starts with its first delta.
			want := 2
			if dc.api == scenarios.APIGemini {
				want = 1
			}
			if len(r.events) < want {
				t.Errorf("stream_cut: %d events before the cut, want %d", len(r.events), want)
			}
		})
	}
}
