package mockprovider

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

func fixed(d time.Duration) scenarios.Latency {
	return scenarios.Latency{Dist: scenarios.DistFixed, Value: scenarios.Duration(d)}
}

func TestLatencyApplied(t *testing.T) {
	sc := testScenario()
	sc.Providers["primary"].Mock.Latency = fixed(200 * time.Millisecond)
	sc.Providers["backup"].Mock.Latency = fixed(100 * time.Millisecond)
	sc.Providers["backup"].Mock.TTFT = fixed(100 * time.Millisecond)
	_, base := startMock(t, sc)

	start := time.Now()
	resp, body := post(t, base+"/providers/primary/v1/chat/completions", firstTurn(testModel, false, false))
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("JSON response after %v, want at least the 200ms latency", d)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}

	// A stream: latency before the headers, TTFT before the first delta.
	req, _ := http.NewRequest(http.MethodPost, base+"/providers/backup/v1/chat/completions", strings.NewReader(firstTurn(testBackupModel, true, false)))
	start = time.Now()
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Body.Close()
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("stream headers after %v, want at least the 100ms latency", d)
	}
	b, err := io.ReadAll(r2.Body)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("stream done after %v, want at least latency+ttft = 200ms", d)
	}
	if !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
		t.Errorf("stream did not finish: %q", b)
	}
}

func TestClientGoneStopsWait(t *testing.T) {
	sc := testScenario()
	sc.Providers["primary"].Mock.Latency = fixed(time.Hour)
	sc.Providers["backup"].Mock.TTFT = fixed(time.Hour)
	s, base := startMock(t, sc)

	for _, c := range []struct{ provider, body string }{
		{"primary", firstTurn(testModel, false, false)},
		{"backup", firstTurn(testBackupModel, true, false)},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/providers/"+c.provider+"/v1/chat/completions", strings.NewReader(c.body))
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			errc <- err
		}()
		waitFor(t, func() bool { return s.waiting.Load() == 1 })
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("%s: got %v, want the client's cancellation", c.provider, err)
		}
		// The server notices the client is gone and stops sleeping.
		waitFor(t, func() bool { return s.waiting.Load() == 0 })
	}
}

func TestCloseEndsWaits(t *testing.T) {
	sc := testScenario()
	sc.Providers["primary"].Mock.Latency = fixed(time.Hour)
	sc.Providers["backup"].Mock.TTFT = fixed(time.Hour)
	s, base := startMock(t, sc)

	type result struct {
		status int
		body   string
		err    error
	}
	results := make(chan result, 2)
	for _, p := range []struct{ url, body string }{
		{base + "/providers/primary/v1/chat/completions", firstTurn(testModel, false, false)},
		{base + "/providers/backup/v1/chat/completions", firstTurn(testBackupModel, true, false)},
	} {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, p.url, strings.NewReader(p.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			results <- result{resp.StatusCode, string(b), err}
		}()
	}
	// Both are sleeping: the JSON request its latency, the stream its TTFT.
	waitFor(t, func() bool { return s.waiting.Load() == 2 })

	closeStart := time.Now()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(closeStart); d >= shutdownGrace {
		t.Errorf("Close took %v: waits did not end", d)
	}
	for range 2 {
		r := <-results
		switch {
		case r.status == http.StatusServiceUnavailable:
			var eb openaichat.ErrorBody
			if err := json.Unmarshal([]byte(r.body), &eb); err != nil || eb.Error.Type != typeServer {
				t.Errorf("503 body %q", r.body)
			}
		case r.status == 200:
			if strings.Contains(r.body, "[DONE]") {
				t.Errorf("stream finished despite a 1h TTFT: %q", r.body)
			}
		default:
			t.Errorf("request ended with %d %q %v", r.status, r.body, r.err)
		}
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeterministicIDs(t *testing.T) {
	ids := func(seed int64, seq string) (string, string) {
		_, base := startMock(t, testScenario(), WithSeed(seed))
		var hdr []string
		if seq != "" {
			hdr = []string{HeaderSeq, seq}
		}
		_, body := post(t, base+"/providers/primary/v1/chat/completions", firstTurn(testModel, false, false), hdr...)
		var r openaichat.Response
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return r.ID, r.Choices[0].Message.ToolCalls[0].ID
	}
	a1, c1 := ids(1, "5")
	a2, c2 := ids(1, "5")
	if a1 != a2 || c1 != c2 {
		t.Errorf("same seed and seq: ids %s %s vs %s %s", a1, c1, a2, c2)
	}
	if a3, _ := ids(2, "5"); a3 == a1 {
		t.Errorf("another seed gave the same id %s", a3)
	}
	if a4, _ := ids(1, "6"); a4 == a1 {
		t.Errorf("another conversation gave the same id %s", a4)
	}
	// Without the header, the shared seeded RNG: a fresh server with the same
	// seed repeats its first draw.
	b1, _ := ids(1, "")
	b2, _ := ids(1, "")
	if b1 != b2 {
		t.Errorf("first draw of the shared RNG differs: %s vs %s", b1, b2)
	}
}

func TestStartReportsLoopbackURL(t *testing.T) {
	s, err := New(testScenario())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("base URL %q", base)
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewRejectsBadTools(t *testing.T) {
	sc := testScenario()
	sc.Tools[0].InputSchema = map[string]any{"type": "string"}
	if _, err := New(sc); err == nil || !strings.Contains(err.Error(), "get_weather") {
		t.Errorf("New with a non-object schema: %v", err)
	}
	sc = testScenario()
	sc.Tools[1].Mock.Result = map[string]any{"bad": func() {}}
	if _, err := New(sc); err == nil || !strings.Contains(err.Error(), "get_time") {
		t.Errorf("New with an unencodable result: %v", err)
	}
}

func TestCloseDropsUnusedConnections(t *testing.T) {
	// A client's transport may dial a connection it never sends a request
	// on; http.Server.Shutdown would wait 5 s for it.
	s, err := New(testScenario())
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitFor(t, func() bool {
		n := 0
		s.fresh.Range(func(any, any) bool { n++; return true })
		return n == 1
	})
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Errorf("Close with an unused connection open: %v after %v", err, time.Since(start))
	}
	// The server hung up on it.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Errorf("read %d bytes from a connection Close should have closed", n)
	}
}
