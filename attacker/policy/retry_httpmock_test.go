package policy

import (
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// TestRetryHonoursServerHintsHTTPMock drives the retry policy over an
// httpmock transport: a provider that answers a scripted sequence, with
// the headers real providers send.
func TestRetryHonoursServerHintsHTTPMock(t *testing.T) {
	const url = "http://127.0.0.1:1/v1/chat/completions"
	cfg := quick(record.Outcome429, record.Outcome5xx)
	cfg.RetryAfter = ptr(true)
	cfg.Max = dur(0)

	t.Run("retry-after-ms", func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		rate := httpmock.NewStringResponse(http.StatusTooManyRequests, `{"error":{"type":"requests"}}`)
		rate.Header.Set("Retry-After", "1")
		rate.Header.Set("retry-after-ms", "40")
		mt.RegisterResponder(http.MethodPost, url, httpmock.ResponderFromMultipleResponses(
			[]*http.Response{rate, httpmock.NewStringResponse(http.StatusOK, `{}`)}, t.Log))
		_, sink, req := newStep(t, t.Context())
		resp, err := NewRetry(mt, cfg, WithProvider("primary")).RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("resp %v, err %v", resp, err)
		}
		if n := mt.GetTotalCallCount(); n != 2 {
			t.Fatalf("%d calls, want 2", n)
		}
		// retry-after-ms wins over the rounded Retry-After, as OpenAI's SDK does.
		ev := sink.snapshot()
		if len(ev) != 1 || ev[0].Kind != record.EventRetry || ev[0].Reason != record.Outcome429 || ev[0].DelayMS != 40 {
			t.Fatalf("events %+v, want one retry after 40 ms for a 429", ev)
		}
	})

	t.Run("x-should-retry false", func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		unavailable := httpmock.NewStringResponse(http.StatusServiceUnavailable, `{"error":{"type":"server_error"}}`)
		unavailable.Header.Set("x-should-retry", "false")
		mt.RegisterResponder(http.MethodPost, url, httpmock.ResponderFromResponse(unavailable))
		_, sink, req := newStep(t, t.Context())
		resp, err := NewRetry(mt, cfg, WithProvider("primary")).RoundTrip(req)
		if err == nil && resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("resp %v, err %v, want the 503", resp, err)
		}
		if n := mt.GetTotalCallCount(); n != 1 {
			t.Errorf("%d calls: x-should-retry: false must stop a retry of a 5xx", n)
		}
		if k := sink.kinds(); k[record.EventRetry] != 0 {
			t.Errorf("events %v, want no retry", k)
		}
	})

	t.Run("x-should-retry true", func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		conflict := httpmock.NewStringResponse(http.StatusConflict, `{}`)
		conflict.Header.Set("x-should-retry", "true")
		mt.RegisterResponder(http.MethodPost, url, httpmock.ResponderFromMultipleResponses(
			[]*http.Response{conflict, httpmock.NewStringResponse(http.StatusOK, `{}`)}, t.Log))
		_, _, req := newStep(t, t.Context())
		only5xx := cfg
		only5xx.On = []string{scenarios.On5xx}
		resp, err := NewRetry(mt, only5xx, WithProvider("primary")).RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusOK || mt.GetTotalCallCount() != 2 {
			t.Errorf("resp %v, err %v, %d calls: x-should-retry: true must force a retry of a 4xx", resp, err, mt.GetTotalCallCount())
		}
	})
}
