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
}

// hit is one arrival handed to a worker.
type hit struct {
	seq uint64
	// intended is when the schedule wanted the hit to start; zero in a
	// rate-0 stage, where it is the actual start.
	intended time.Time
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
		hits:  make(chan hit),
		limit: s.slots,
		job:   s.job,
		rec:   s.rec,
		ctx:   ctx,
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
			if !p.dispatch(hit{seq: seq}, true) {
				return
			}
			due = max(time.Since(began), next)
			continue
		}
		due = next
		h := hit{seq: seq, intended: began.Add(next)}
		if !p.dispatch(h, !s.drop) {
			if ctx.Err() != nil {
				return
			}
			s.rec.dropped(h.seq, h.intended)
		}
	}
}

// pool is a lazily grown pool of workers, one per slot: worker i always runs
// its jobs in slot i, so a job can keep per-slot state such as an MCP
// session. A handoff to a parked worker measured cheaper than a goroutine per
// hit (about 150-300 ns and no allocation, against about 400 ns and 2
// allocations, on 2 cores), and a worker's stack stays warm.
type pool struct {
	hits    chan hit
	limit   int
	workers int // spawned so far; only the dispatching goroutine touches it
	wg      sync.WaitGroup

	job Job
	rec *Recorder
	ctx context.Context
}

// dispatch hands h to a worker. When every slot is busy it waits for one if
// wait is set, and otherwise returns false at once. It returns false if ctx
// is done first.
func (p *pool) dispatch(h hit, wait bool) bool {
	// The in-flight count is raised here, before the handoff, and lowered
	// by the worker as soon as the job returns, so "every slot is busy" is
	// exact: it does not depend on how soon a worker gets back to receive.
	n := p.rec.enter()
	if !wait && n > int64(p.limit) {
		p.rec.leave()
		return false
	}
	select {
	case p.hits <- h:
		return true
	default:
	}
	if p.workers < p.limit {
		p.spawn()
	}
	select {
	case p.hits <- h:
		return true
	case <-p.ctx.Done():
		p.rec.leave()
		return false
	}
}

func (p *pool) spawn() {
	slot := p.workers
	p.workers++
	p.wg.Add(1)
	go p.work(slot)
}

func (p *pool) work(slot int) {
	defer p.wg.Done()
	for h := range p.hits {
		start := time.Now()
		p.rec.started(start)
		res := doJob(p.ctx, p.job, h.seq, slot, p.rec)
		end := time.Now()
		p.rec.finished()
		intended := h.intended
		if intended.IsZero() {
			intended = start
		}
		p.rec.conversation(h.seq, intended, start, end, res)
	}
}

// close stops the workers once they finish their jobs, and waits for them.
func (p *pool) close() {
	close(p.hits)
	p.wg.Wait()
}
