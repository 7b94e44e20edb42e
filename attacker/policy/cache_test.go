package policy

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// cacheReq returns a request with body, carrying a step with sink.
func cacheReq(t *testing.T, sink *eventSink, body string) *http.Request {
	t.Helper()
	st := &Step{Key: "model:primary", Sink: sink}
	req, err := http.NewRequestWithContext(WithStep(context.Background(), st), http.MethodPost, "http://127.0.0.1:1/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return string(b)
}

func TestCacheHitRateAndTTL(t *testing.T) {
	clk := newFakeClock()
	calls := 0
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		b, _ := io.ReadAll(r.Body)
		return &http.Response{StatusCode: 200, Header: http.Header{"X-N": {"1"}}, Body: io.NopCloser(strings.NewReader("answer to " + string(b)))}, nil
	})
	c := NewCache(rt, "primary", scenarios.Cache{TTL: dur(time.Minute)}, WithCacheClock(clk.now))
	sink := &eventSink{}
	for range 10 {
		resp, err := c.RoundTrip(cacheReq(t, sink, "same"))
		if err != nil || resp.StatusCode != 200 || readBody(t, resp) != "answer to same" || resp.Header.Get("X-N") != "1" {
			t.Fatalf("resp %v err %v", resp, err)
		}
	}
	if calls != 1 {
		t.Fatalf("%d calls for 10 identical requests", calls)
	}
	k := sink.kinds()
	if k[record.EventCacheHit] != 9 || k[record.EventCacheMiss] != 1 {
		t.Fatalf("events %v, want 9 hits and 1 miss", k)
	}
	// Another body is another key.
	resp, _ := c.RoundTrip(cacheReq(t, sink, "other"))
	if readBody(t, resp) != "answer to other" || calls != 2 {
		t.Fatalf("other request: %d calls", calls)
	}
	// After the TTL, the entry is gone.
	clk.advance(time.Minute)
	c.RoundTrip(cacheReq(t, sink, "same"))
	if calls != 3 {
		t.Fatalf("%d calls: the entry outlived its TTL", calls)
	}
	c.RoundTrip(cacheReq(t, sink, "same"))
	if calls != 3 {
		t.Fatalf("%d calls: the refreshed entry was not used", calls)
	}
}

func TestCacheKeepsOnlySuccesses(t *testing.T) {
	calls := 0
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		return response(503), nil
	})
	c := NewCache(rt, "primary", scenarios.Cache{TTL: dur(time.Minute)})
	sink := &eventSink{}
	for range 3 {
		if resp, _ := c.RoundTrip(cacheReq(t, sink, "x")); resp.StatusCode != 503 {
			t.Fatal(resp.StatusCode)
		}
	}
	if calls != 3 || c.Len() != 0 {
		t.Fatalf("%d calls, %d entries: a failure was cached", calls, c.Len())
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	calls := map[string]int{}
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		calls[string(b)]++
		return response(200), nil
	})
	c := NewCache(rt, "primary", scenarios.Cache{TTL: dur(time.Minute), MaxEntries: 2})
	sink := &eventSink{}
	for _, b := range []string{"a", "b", "a", "c", "a", "b"} {
		resp, _ := c.RoundTrip(cacheReq(t, sink, b))
		readBody(t, resp)
	}
	// a, b cached; a used again; c evicts b (least recent); a hit; b again.
	if calls["a"] != 1 || calls["b"] != 2 || calls["c"] != 1 || c.Len() != 2 {
		t.Fatalf("calls %v, %d entries", calls, c.Len())
	}
}

// replayBody is a ReplayableBody that counts its replays.
type replayBody struct {
	v       []string
	replays *int
}

func (b *replayBody) Read([]byte) (int, error) { return 0, io.EOF }
func (b *replayBody) Close() error             { return nil }
func (b *replayBody) Replay() io.ReadCloser {
	*b.replays++
	return &replayBody{v: append([]string(nil), b.v...), replays: b.replays}
}

func TestCacheReplaysParsedBodies(t *testing.T) {
	replays := 0
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &replayBody{v: []string{"x"}, replays: &replays}}, nil
	})
	c := NewCache(rt, "primary", scenarios.Cache{TTL: dur(time.Minute)})
	sink := &eventSink{}
	first, _ := c.RoundTrip(cacheReq(t, sink, "q"))
	first.Body.(*replayBody).v[0] = "changed by the caller"
	hit, _ := c.RoundTrip(cacheReq(t, sink, "q"))
	got := hit.Body.(*replayBody).v[0]
	if got != "x" || replays != 2 {
		t.Fatalf("hit body %q after %d replays: the cache kept the caller's copy", got, replays)
	}
}
