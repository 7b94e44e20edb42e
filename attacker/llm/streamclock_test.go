package llm

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// TestStreamIdleTimerRetriesEveryDialect stalls the first attempt's stream
// after its first output event, inside a stream_stall window of the mock;
// client.stream.idle, the inter-token timer, cuts it as a timeout and the
// retry, after the window, gets the whole stream. OpenAI's stream is
// tested the same way in resilience_test.go.
func TestStreamIdleTimerRetriesEveryDialect(t *testing.T) {
	const idle = 200 * time.Millisecond
	for _, api := range []string{scenarios.APIAnthropic, scenarios.APIGemini} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			sc := fixture.Faults(true, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultStreamStall,
				For: sd(time.Second), AfterChunks: 1, Latency: scenarios.Latency{Dist: scenarios.DistFixed, Value: sd(10 * time.Second)}})
			// A gap between chunks, so that the retry's TPOT is not a
			// few microseconds that round to 0 on a fast machine.
			sc.Providers["primary"].Mock.TokenGap = scenarios.Latency{Dist: scenarios.DistFixed, Value: sd(2 * time.Millisecond)}
			_, base := fixture.StartFaultMock(t, sc)
			d, _ := dialectFor(api)
			client := &scenarios.Client{Timeout: sd(20 * time.Second), Stream: scenarios.StreamTimeouts{Idle: sd(idle)},
				Retry: &scenarios.Retry{MaxAttempts: 2, Backoff: scenarios.BackoffConstant, Initial: sd(1500 * time.Millisecond),
					Jitter: scenarios.JitterNone, On: []string{record.OutcomeTimeout}}}
			c := newPolicyClient(t, fixture.HTTPClient(t), client,
				testProvider{name: "primary", url: base + "/providers/primary" + d.basePath(), stream: true, api: api})
			sink := &fixture.Sink{}
			start := time.Now()
			r := c.Do(context.Background(), 1, 0, fixture.Msgs, sink)
			if r.Outcome != record.OutcomeOK || r.Msg.Text() != "hello there, how are you today?" {
				t.Fatalf("step %s: %s %q", r.Outcome, r.Err, r.Msg.Text())
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Fatalf("step took %v: the idle timer did not cut the 10s stall", d)
			}
			attempts := sink.Attempts()
			if len(attempts) != 2 {
				t.Fatalf("attempts %+v", attempts)
			}
			a := attempts[0]
			lat := time.Duration(a.LatencyUS) * time.Microsecond
			if a.Outcome != record.OutcomeTimeout || !strings.Contains(a.Error, "client.stream.idle") || lat < idle || lat > 5*time.Second ||
				a.OutputEvents != 1 || a.TTFTUS == 0 || a.TPOTUS != 0 {
				t.Fatalf("stalled attempt: %+v after %v", a, lat)
			}
			if b := attempts[1]; b.Outcome != record.OutcomeOK || b.OutputEvents < 2 || b.TPOTUS == 0 {
				t.Fatalf("retry %+v", b)
			}
		})
	}
}

// TestStreamIdleTimerIgnoresComments keeps a stalled stream's connection
// busy with SSE comment lines, as proxies do to keep it open: they are not
// events, so they do not reset the idle timer, which still cuts the
// attempt.
func TestStreamIdleTimerIgnoresComments(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		writeChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{Role: "assistant", Content: openaichat.Str("Hel")}}}})
		w.(http.Flusher).Flush()
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Second):
				return
			case <-tick.C:
				io.WriteString(w, ": keep-alive\n\n")
				w.(http.Flusher).Flush()
			}
		}
	}))
	defer ts.Close()
	client := &scenarios.Client{Timeout: sd(20 * time.Second), Stream: scenarios.StreamTimeouts{Idle: sd(200 * time.Millisecond)}}
	c := newPolicyClient(t, fixture.HTTPClient(t), client, testProvider{name: "primary", url: ts.URL, stream: true})
	start := time.Now()
	r := c.Do(context.Background(), 0, 0, fixture.Msgs, &fixture.Sink{})
	if r.Outcome != record.OutcomeTimeout || !strings.Contains(r.Err, "client.stream.idle") {
		t.Fatalf("step %s: %s", r.Outcome, r.Err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v: comments kept the stream alive", d)
	}
}

// TestStreamClockRelease checks that a released clock holds no gaps and
// that a clock with one output event takes no gap slice.
func TestStreamClockRelease(t *testing.T) {
	c := streamClock{start: time.Now()}
	c.output(nil)
	if c.gaps != nil {
		t.Fatal("one output event took a gap slice")
	}
	c.output(nil)
	c.output(nil)
	if c.gaps == nil || len(c.gaps.us) != 2 || c.events != 3 {
		t.Fatalf("clock %+v", c)
	}
	var a record.Attempt
	a.Outcome, a.CompletionTokens = record.OutcomeOK, 1
	c.fill(&a)
	if a.OutputEvents != 3 || len(a.InterTokenUS) != 2 || a.TPOTUS != 0 {
		t.Fatalf("attempt %+v: one completion token has no TPOT", a)
	}
	c.release()
	if c.gaps != nil {
		t.Fatal("released clock keeps its gaps")
	}
}

// BenchmarkStreamStep measures one streamed model step against the mock,
// in each dialect: what the stream metrics cost on the client's side (the
// mock's own allocations are in the figures too, the same before and
// after).
func BenchmarkStreamStep(b *testing.B) {
	for _, api := range []string{scenarios.APIOpenAI, scenarios.APIAnthropic, scenarios.APIGemini} {
		b.Run(api, func(b *testing.B) {
			sc := fixture.Faults(true)
			_, base := fixture.StartFaultMock(b, sc)
			d, _ := dialectFor(api)
			c := newPolicyClient(b, fixture.HTTPClient(b), &scenarios.Client{Timeout: sd(10 * time.Second)},
				testProvider{name: "primary", url: base + "/providers/primary" + d.basePath(), stream: true, api: api})
			sink := &nopSink{}
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if r := c.Do(ctx, uint64(i), 0, fixture.Msgs, sink); r.Outcome != record.OutcomeOK {
					b.Fatal(r.Err)
				}
			}
		})
	}
}
