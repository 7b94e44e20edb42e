package mockprovider

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
)

// peakWaits runs fn while sampling s's waits in progress, and returns the
// most it saw at once. A request waits out its latency only in service, so
// the peak is the most requests the mock served at once.
func peakWaits(s *Server, fn func()) int64 {
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if n := s.waiting.Load(); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-sampled
	return peak.Load()
}

// concurrently runs n calls of fn at once and waits for them.
func concurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

func TestProviderConcurrencyQueues(t *testing.T) {
	const n, service = 2, 150 * time.Millisecond
	sc := testScenario()
	sc.Providers["primary"].Mock.Latency = fixed(service)
	sc.Providers["primary"].Mock.Concurrency = n
	s, base := startMock(t, sc)

	const requests = 6
	codes := make([]int, requests)
	start := time.Now()
	peak := peakWaits(s, func() {
		concurrently(requests, func(i int) {
			resp, _ := post(t, base+"/providers/primary/v1/chat/completions", firstTurn(testModel, false, false))
			codes[i] = resp.StatusCode
		})
	})
	elapsed := time.Since(start)
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("request %d: status %d, want 200: a queued request is served, not refused", i, c)
		}
	}
	if peak > n {
		t.Errorf("%d requests in service at once, want at most mock.concurrency %d", peak, n)
	}
	// Three rounds of two: a lower bound, which load only raises.
	if want := requests / n * service; elapsed < want {
		t.Errorf("%d requests took %v, want at least %v: the ones beyond %d must queue", requests, elapsed, want, n)
	}
	if c := s.providers["primary"].capacity; c.inService.Load() != 0 || len(c.slots) != 0 {
		t.Errorf("after the requests: %d in service, %d slots held, want 0", c.inService.Load(), len(c.slots))
	}
}

// A queued request whose client goes away leaves the queue, and its slot
// is never taken: the next request is served.
func TestProviderConcurrencyQueueCanceled(t *testing.T) {
	sc := testScenario()
	sc.Providers["primary"].Mock.Latency = fixed(300 * time.Millisecond)
	sc.Providers["primary"].Mock.Concurrency = 1
	s, base := startMock(t, sc)
	url := base + "/providers/primary/v1/chat/completions"

	holding := make(chan struct{})
	go func() {
		defer close(holding)
		post(t, url, firstTurn(testModel, false, false))
	}()
	for s.waiting.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(firstTurn(testModel, false, false)))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a queued request behind a 300ms answer came back with %d within 50ms", resp.StatusCode)
	}
	<-holding
	if resp, _ := post(t, url, firstTurn(testModel, false, false)); resp.StatusCode != http.StatusOK {
		t.Errorf("after a canceled queued request: status %d, want 200", resp.StatusCode)
	}
	c := s.providers["primary"].capacity
	deadline := time.Now().Add(10 * time.Second)
	for (c.inService.Load() != 0 || len(c.slots) != 0) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the handler releases after the body is sent
	}
	if c.inService.Load() != 0 || len(c.slots) != 0 {
		t.Errorf("%d in service, %d slots held after every request ended, want 0", c.inService.Load(), len(c.slots))
	}
}

func TestProviderLatencyPerInFlight(t *testing.T) {
	sc := testScenario()
	sc.Providers["primary"].Mock.Latency = fixed(200 * time.Millisecond)
	sc.Providers["primary"].Mock.LatencyPerInFlight = scenarios.Duration(100 * time.Millisecond)
	_, base := startMock(t, sc)
	const requests = 5
	start := time.Now()
	concurrently(requests, func(int) {
		post(t, base+"/providers/primary/v1/chat/completions", firstTurn(testModel, false, false))
	})
	// The last of requests that overlap finds at least one other in
	// service and takes 100ms more than its own 200ms; requests that do
	// not overlap took longer than that to arrive.
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
		t.Errorf("%d concurrent requests of 200ms took %v, want at least 300ms with latency_per_in_flight 100ms", requests, elapsed)
	}
}

func TestMCPConcurrencyQueues(t *testing.T) {
	const service = 150 * time.Millisecond
	sc := testScenario()
	sc.Tools[1].Mock.Latency = fixed(service)
	sc.MCPServers["weather"].Mock.Concurrency = 1
	s, base := startMock(t, sc)

	// The named endpoint and /mcp share the server's queue.
	urls := []string{base + "/mcp/weather", base + "/mcp", base + "/mcp/weather"}
	sessions := make([]*mcp.ClientSession, len(urls))
	for i, u := range urls {
		sessions[i] = connectMCP(t, u)
	}
	start := time.Now()
	errs := make([]error, len(urls))
	peak := peakWaits(s, func() {
		concurrently(len(urls), func(i int) {
			_, errs[i] = sessions[i].CallTool(context.Background(), &mcp.CallToolParams{Name: "get_time"})
		})
	})
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if peak > 1 {
		t.Errorf("%d tool calls in service at once, want at most mock.concurrency 1", peak)
	}
	if want := time.Duration(len(urls)) * service; elapsed < want {
		t.Errorf("%d calls took %v, want at least %v", len(urls), elapsed, want)
	}
}
