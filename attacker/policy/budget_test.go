package policy

import (
	"sync"
	"testing"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// fakeClock is a settable clock for budget and cache tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBudgetCapsRetriesAtRatioPlusFloor(t *testing.T) {
	clk := newFakeClock()
	b := NewBudget(scenarios.Budget{Ratio: 0.2, MinRetries: 1, Window: dur(10 * time.Second)}, WithBudgetClock(clk.now))
	for range 500 {
		b.Request()
	}
	allowed := 0
	for range 1000 {
		if b.TryRetry() {
			allowed++
		}
	}
	// 0.2 x 500 + 1/s x 10 s.
	if allowed != 110 {
		t.Fatalf("%d retries allowed, want 110", allowed)
	}
	// One more request earns a fifth of a retry: none yet, five earn one.
	b.Request()
	if b.TryRetry() {
		t.Fatal("a retry allowed after one more request")
	}
	for range 4 {
		b.Request()
	}
	if !b.TryRetry() {
		t.Fatal("no retry allowed after five more requests")
	}
}

func TestBudgetWindowSlides(t *testing.T) {
	clk := newFakeClock()
	b := NewBudget(scenarios.Budget{Ratio: 0.5, MinRetries: 0.1, Window: dur(time.Second)}, WithBudgetClock(clk.now))
	for range 100 {
		b.Request()
	}
	n := 0
	for b.TryRetry() {
		n++
	}
	if n != 50 { // 0.5 x 100 + floor(0.1/s x 1 s) = 50.1
		t.Fatalf("%d retries, want 50", n)
	}
	// Half a window later the same requests and retries still count.
	clk.advance(500 * time.Millisecond)
	if b.TryRetry() {
		t.Fatal("retry allowed within the window")
	}
	// A window later they have left it: only the floor is left, and it
	// is below one retry.
	clk.advance(600 * time.Millisecond)
	if b.TryRetry() {
		t.Fatal("retry allowed on an empty window with a floor below 1")
	}
	for range 10 {
		b.Request()
	}
	n = 0
	for b.TryRetry() {
		n++
	}
	if n != 5 {
		t.Fatalf("%d retries in the new window, want 5", n)
	}
}

func TestBudgetZeroValuesTakeDefaults(t *testing.T) {
	clk := newFakeClock()
	b := NewBudget(scenarios.Budget{Ratio: 0.1}, WithBudgetClock(clk.now))
	n := 0
	for b.TryRetry() {
		n++
	}
	// The floor alone: 1 retry/s over 10 s.
	if n != int(scenarios.DefaultBudgetMinRetries*scenarios.DefaultBudgetWindow.Seconds()) {
		t.Fatalf("%d retries on an idle budget", n)
	}
}

func TestBudgetConcurrent(t *testing.T) {
	b := NewBudget(scenarios.Budget{Ratio: 0.25, MinRetries: 1, Window: dur(time.Hour)})
	b.floor = 10 // as if the window were 10 s, which the test must not outlast
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 500 {
				b.Request()
				if b.TryRetry() {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	// Every goroutine asks for a retry after each request, so the last
	// ask sees all 4000 requests: exactly the cap is reached.
	if allowed != 0.25*4000+10 {
		t.Fatalf("%d retries allowed, want the cap, 1010", allowed)
	}
}
