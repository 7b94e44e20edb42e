package mockprovider

import (
	"context"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/mcpload/mcpload/scenarios"
)

// TestOpenAIClientRetries injects a 429 and a 503 and lets openai-go's own
// retry policy see them, as it would see OpenAI's: it must retry both,
// wait what the 429's retry-after-ms says (not its rounded-up Retry-After),
// and succeed on the third attempt.
func TestOpenAIClientRetries(t *testing.T) {
	sc := faultScenario(
		scenarios.Fault{Kind: scenarios.FaultRateLimit, Target: "provider:primary", From: 0, For: sd(time.Minute), RetryAfter: sd(1500 * time.Millisecond)},
		scenarios.Fault{Kind: scenarios.FaultHTTPError, Status: 503, Target: "provider:primary", From: sd(time.Minute), For: sd(time.Minute)},
	)
	base, rec := retryMock(t, sc)

	c := openai.NewClient(
		option.WithBaseURL(base+"/providers/primary/v1/"),
		option.WithAPIKey("sk-test"),
		option.WithMaxRetries(2),
		option.WithRequestTimeout(20*time.Second),
	)
	start := time.Now()
	resp, err := c.Chat.Completions.New(context.Background(), testParams(testModel))
	if err != nil {
		t.Fatalf("the SDK gave up: %v", err)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("answer %+v, want the script's tool calls", resp.Choices)
	}
	exs := rec.all()
	if len(exs) != 3 || exs[0].status != 429 || exs[1].status != 503 || exs[2].status != 200 {
		var got []int
		for _, ex := range exs {
			got = append(got, ex.status)
		}
		t.Fatalf("attempts answered %v, want [429 503 200]", got)
	}
	// retry-after-ms is 1500; Retry-After, in whole seconds, says 2.
	wantHeaders(t, exs[0].header, "Retry-After", "2", "Retry-After-Ms", "1500", "X-Should-Retry", "true")
	if gap := exs[1].at.Sub(exs[0].at); gap < 1400*time.Millisecond {
		t.Errorf("the SDK retried the 429 after %v; its retry-after-ms said 1.5s", gap)
	}
	// The SDK numbers its retries; the mock must not mind.
	if n := exs[2].reqHdr.Get("X-Stainless-Retry-Count"); n != "2" {
		t.Errorf("third attempt X-Stainless-Retry-Count %q, want 2", n)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}
