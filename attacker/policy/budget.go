package policy

import (
	"sync"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// budgetBuckets divides a budget's window into slices that expire one at a
// time, so that old traffic leaves the window gradually.
const budgetBuckets = 10

// Budget caps retries at a ratio of requests over a sliding window, as
// Finagle's and gRPC's retry budgets and the Google SRE book do: a retry is
// allowed only if, counting it, the retries in the window stay within
//
//	ratio x requests in the window + min_retries_per_second x window
//
// The window slides in tenths of its length. So within any window that
// ends at a retry the inequality holds, and a run shorter than the window
// makes at most ratio x requests + min_retries_per_second x window retries:
// retry amplification is capped at 1 + ratio, plus a floor that vanishes as
// requests grow.
//
// failsafe-go has a budget too, but it caps concurrent retries against
// concurrent executions (as Envoy's does): it gives no bound on the number
// of retries over time, which is what a storm against a failing provider is
// made of. Hence this one.
type Budget struct {
	ratio  float64
	floor  float64
	bucket int64 // nanoseconds per bucket
	now    func() time.Time

	mu      sync.Mutex
	buckets [budgetBuckets]budgetBucket
}

type budgetBucket struct {
	index             int64 // which slice of time it holds, in bucket lengths since the epoch
	requests, retries int64
}

// BudgetOption configures a Budget.
type BudgetOption func(*Budget)

// WithBudgetClock sets the budget's clock (tests).
func WithBudgetClock(now func() time.Time) BudgetOption { return func(b *Budget) { b.now = now } }

// NewBudget returns the budget of c. A zero min_retries_per_second or
// window takes the scenario default; a ratio outside (0, 1] is clamped.
func NewBudget(c scenarios.Budget, opts ...BudgetOption) *Budget {
	c = c.WithDefaults()
	window, minRetries := c.Window.D(), c.MinRetries
	b := &Budget{
		ratio:  min(max(c.Ratio, 0), 1),
		floor:  minRetries * window.Seconds(),
		bucket: max(int64(window)/budgetBuckets, 1),
		now:    time.Now,
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Request counts one request: a step that reaches the retry policy.
func (b *Budget) Request() {
	b.mu.Lock()
	b.current().requests++
	b.mu.Unlock()
}

// TryRetry counts a retry and returns true if the budget allows it, and
// returns false, counting nothing, if not.
func (b *Budget) TryRetry() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.current()
	var requests, retries int64
	for i := range b.buckets {
		if bk := &b.buckets[i]; bk.index > cur.index-budgetBuckets {
			requests += bk.requests
			retries += bk.retries
		}
	}
	if float64(retries+1) > b.ratio*float64(requests)+b.floor {
		return false
	}
	cur.retries++
	return true
}

// current returns the bucket of now, emptied if it held an older slice.
// b.mu must be held.
func (b *Budget) current() *budgetBucket {
	idx := b.now().UnixNano() / b.bucket
	bk := &b.buckets[idx%budgetBuckets]
	if bk.index != idx {
		*bk = budgetBucket{index: idx}
	}
	return bk
}
