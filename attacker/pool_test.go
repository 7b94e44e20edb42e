package attacker

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
)

// burstJob holds its first burst jobs until release is closed, and
// records the slots it ran in and the slots released.
type burstJob struct {
	burst   int
	release chan struct{}

	mu       sync.Mutex
	started  int
	slots    map[int]bool
	released map[int]int
}

func (j *burstJob) Do(ctx context.Context, seq uint64, slot int, sink Sink) JobResult {
	j.mu.Lock()
	j.started++
	hold := j.started <= j.burst
	j.slots[slot] = true
	j.mu.Unlock()
	if hold {
		<-j.release
	}
	return JobResult{Outcome: record.OutcomeOK}
}

func (j *burstJob) Release(ctx context.Context, slot int) {
	j.mu.Lock()
	j.released[slot]++
	j.mu.Unlock()
}

// TestPoolRetiresIdleWorkers puts a burst of 20 conversations in flight,
// then runs one at a time: the pool hands them to the same worker, the 19
// others retire once idle and their slots are released, so that a long
// run's workers and sessions follow its recent concurrency, not its peak.
func TestPoolRetiresIdleWorkers(t *testing.T) {
	rec, err := NewRecorder(t.TempDir(), record.Run{Scenario: "pool", Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close(record.StatusComplete)
	const burst = 20
	job := &burstJob{burst: burst, release: make(chan struct{}), slots: map[int]bool{}, released: map[int]int{}}
	p := &pool{parked: make(chan struct{}, 1), limit: 100, maxIdle: 200 * time.Millisecond, job: job, rec: rec, ctx: context.Background()}

	for i := range burst {
		if !p.dispatch(hit{seq: uint64(i)}, true) {
			t.Fatal("dispatch refused")
		}
	}
	close(job.release)
	// One at a time: each waits for the last to be back in the pool.
	for i := burst; i < burst+200; i++ {
		for rec.c.inFlight.Load() > 0 {
			time.Sleep(time.Millisecond)
		}
		p.dispatch(hit{seq: uint64(i)}, true)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		p.mu.Lock()
		workers := p.workers
		p.mu.Unlock()
		job.mu.Lock()
		released := len(job.released)
		job.mu.Unlock()
		if workers <= 1 && released >= burst-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d workers left and %d slots released after the burst, want at most 1 and at least %d", workers, released, burst-1)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A new burst reuses the freed slots rather than new ones.
	for i := range 10 {
		p.dispatch(hit{seq: uint64(1000 + i)}, true)
	}
	p.close()
	job.mu.Lock()
	defer job.mu.Unlock()
	for slot, n := range job.released {
		if n != 1 {
			t.Errorf("slot %d released %d times", slot, n)
		}
	}
	for slot := range job.slots {
		if slot >= burst {
			t.Errorf("slot %d used: the freed slots below %d were not reused", slot, burst)
		}
	}
	if job.started != burst+210 {
		t.Errorf("%d jobs ran, want %d", job.started, burst+210)
	}
}
