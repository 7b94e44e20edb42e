package attacker

import (
	"context"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// uncappedSlots bounds the slots when load.max_in_flight is 0 (no cap), so
// that a stalled target cannot grow goroutines without limit. Past it, hits
// queue, and the wait counts in their latency as with on_cap: queue.
const uncappedSlots = 1 << 16

// scheduler starts jobs on a pacer's schedule, open-model: a hit is due at
// its place in the schedule whatever the hits before it are doing, and its
// latency runs from that intended start, so a stall of the target shows up
// in latency rather than slowing the schedule (no coordinated omission).
type scheduler struct {
	pacer vegeta.Pacer
	// planned bounds pacers that never stop by themselves; 0 leaves it to
	// the pacer.
	planned time.Duration
	job     Job
	rec     *Recorder
	// slots is the most jobs in flight at once.
	slots int
	// drop drops a hit when every slot is busy at its intended start,
	// instead of queueing it.
	drop bool
	// stages finds each hit's load stage, for its schedule lag.
	stages stageIndex
	// shard numbers the hits of a shard from the global sequence.
	shard ShardSpec
}

// hit is one arrival handed to a worker.
type hit struct {
	seq uint64
	// intended is when the schedule wanted the hit to start; zero in a
	// rate-0 stage, where it is the actual start.
	intended time.Time
	// stage is the hit's load stage from 1, 0 when the load has one.
	stage int
	// queued: every slot was busy when the hit was handed over.
	queued bool
}

// run dispatches hits until the pacer stops or ctx is done, then waits for
// the jobs in flight. Jobs get ctx, so cancelling it cancels them too; they
// are still recorded.
//
// The schedule is kept in virtual time: hit n is due at began plus the sum of
// the pacer's waits, computed from the previous hit's due time, not from
// when the loop got to it. After a stall (on_cap: queue, every slot busy) the
// loop is behind, waits 0 and catches up, as wrk2 does, so the backlog's
// waiting is measured instead of omitted.
func (s *scheduler) run(ctx context.Context, began time.Time) {
	p := &pool{
		parked:  make(chan struct{}, 1),
		limit:   s.slots,
		maxIdle: workerMaxIdle,
		job:     s.job,
		rec:     s.rec,
		ctx:     ctx,
		lag:     newLagHists(s.rec, len(s.stages.ends)),
	}
	defer p.close()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	sleepUntil := func(at time.Time) bool {
		d := time.Until(at)
		if d <= 0 {
			return ctx.Err() == nil
		}
		timer.Reset(d)
		select {
		case <-timer.C:
			return true
		case <-ctx.Done():
			return false
		}
	}

	var due time.Duration // the previous hit's place in the schedule
	for seq := uint64(0); ctx.Err() == nil; seq++ {
		wait, stop := s.pacer.Pace(due, seq)
		if stop {
			return
		}
		next := due + wait
		if s.planned > 0 && next >= s.planned {
			return
		}
		if !sleepUntil(began.Add(next)) {
			return
		}
		if isUnbounded(s.pacer, next) {
			// As fast as slots free up: wait for one, whatever on_cap says;
			// the hit's intended start is its actual start.
			if !p.dispatch(hit{seq: s.shard.seq(seq)}, true) {
				return
			}
			due = max(time.Since(began), next)
			continue
		}
		due = next
		h := hit{seq: s.shard.seq(seq), intended: began.Add(next), stage: s.stages.at(next)}
		if !p.dispatch(h, !s.drop) {
			if ctx.Err() != nil {
				return
			}
			s.rec.dropped(h.seq, h.intended)
		}
	}
}

// workerMaxIdle is how long a worker waits for a hit before it retires
// and frees its slot's state.
const workerMaxIdle = 10 * time.Second

// pool is a lazily grown pool of workers, one per slot: a worker always
// runs its jobs in its slot, so a job can keep per-slot state such as an
// MCP session. A handoff to a parked worker measured cheaper than a
// goroutine per hit, and a worker's stack stays warm.
//
// Parked workers form a stack: the one parked last takes the next hit. So
// the workers a burst added stay parked once it is over, and retire after
// workerMaxIdle, releasing their slot's state (slotReleaser): the pool,
// the MCP sessions and the connections follow the load's recent
// concurrency rather than the highest it ever reached, and a long run's
// memory stays flat however many stalls it went through.
type pool struct {
	mu      sync.Mutex
	idle    []*worker // parked, the last parked on top
	free    []int     // slots of retired workers, for reuse
	workers int       // live workers
	next    int       // the lowest slot never used
	closed  bool
	// parked is signalled when a worker parks, for a dispatch that waits.
	parked chan struct{}

	limit   int
	maxIdle time.Duration
	wg      sync.WaitGroup

	job Job
	rec *Recorder
	ctx context.Context
	// lag holds the run's schedule-lag histograms.
	lag lagHists
}

// worker is one slot's goroutine.
type worker struct {
	slot int
	// hits holds the hit handed to the worker; it has room for one, so a
	// handoff never blocks.
	hits chan hit
}

// slotReleaser is implemented by jobs that keep per-slot state: the pool
// calls Release when a slot's worker retires.
type slotReleaser interface {
	Release(ctx context.Context, slot int)
}

// dispatch hands h to a worker. When every slot is busy it waits for one if
// wait is set, and otherwise returns false at once. It returns false if ctx
// is done first.
func (p *pool) dispatch(h hit, wait bool) bool {
	// The in-flight count is raised here, before the handoff, and lowered
	// by the worker as soon as the job returns, so "every slot is busy" is
	// exact: it does not depend on how soon a worker gets back to park.
	n := p.rec.enter()
	if n > int64(p.limit) {
		if !wait {
			p.rec.leave()
			return false
		}
		h.queued = true
	}
	for {
		p.mu.Lock()
		if k := len(p.idle); k > 0 {
			w := p.idle[k-1]
			p.idle = p.idle[:k-1]
			p.mu.Unlock()
			w.hits <- h
			return true
		}
		// A worker whose job returned is on its way to park: wait for it
		// rather than add a slot.
		if p.workers < p.limit && p.rec.c.inFlight.Load() > int64(p.workers) {
			w := p.spawnLocked()
			p.mu.Unlock()
			w.hits <- h
			return true
		}
		p.mu.Unlock()
		select {
		case <-p.parked:
		case <-p.ctx.Done():
			p.rec.leave()
			return false
		}
	}
}

func (p *pool) spawnLocked() *worker {
	w := &worker{hits: make(chan hit, 1)}
	if k := len(p.free); k > 0 {
		w.slot = p.free[k-1]
		p.free = p.free[:k-1]
	} else {
		w.slot = p.next
		p.next++
	}
	p.workers++
	p.wg.Add(1)
	go p.work(w)
	return w
}

func (p *pool) work(w *worker) {
	defer p.wg.Done()
	idle := time.NewTimer(p.maxIdle)
	defer idle.Stop()
	for {
		select {
		case h, ok := <-w.hits:
			if !ok {
				return
			}
			p.do(w.slot, h)
			if !p.park(w) {
				return
			}
			idle.Reset(p.maxIdle)
		case <-idle.C:
			if p.retire(w) {
				if r, ok := p.job.(slotReleaser); ok {
					ctx, cancel := context.WithTimeout(context.WithoutCancel(p.ctx), closeTimeout)
					r.Release(ctx, w.slot)
					cancel()
				}
				p.freeSlot(w.slot)
				return
			}
			// Taken as it timed out: its hit is on the way.
			idle.Reset(p.maxIdle)
		}
	}
}

// do runs h's job in slot and records it.
func (p *pool) do(slot int, h hit) {
	start := time.Now()
	p.rec.started(start)
	p.rec.scheduleLag(h, start, p.lag)
	res := doJob(p.ctx, p.job, h.seq, slot, p.rec)
	end := time.Now()
	p.rec.finished()
	intended := h.intended
	if intended.IsZero() {
		intended = start
	}
	p.rec.conversation(h.seq, intended, start, end, res)
}

// park puts w on the idle stack; false when the pool is closed and w
// should stop.
func (p *pool) park(w *worker) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	p.idle = append(p.idle, w)
	p.mu.Unlock()
	select {
	case p.parked <- struct{}{}:
	default:
	}
	return true
}

// retire takes w off the idle stack and returns true; false when w was
// just handed a hit. The slot stays taken until freeSlot, so that a new
// worker never shares it with a release in progress.
func (p *pool) retire(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	// The longest idle are at the bottom.
	for i, x := range p.idle {
		if x == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return true
		}
	}
	return false
}

// freeSlot ends a retired worker, for its slot to be reused.
func (p *pool) freeSlot(slot int) {
	p.mu.Lock()
	p.workers--
	p.free = append(p.free, slot)
	p.mu.Unlock()
	select {
	case p.parked <- struct{}{}:
	default:
	}
}

// close stops the workers once they finish their jobs, and waits for them.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	for _, w := range p.idle {
		close(w.hits)
	}
	p.idle = nil
	p.mu.Unlock()
	p.wg.Wait()
}
