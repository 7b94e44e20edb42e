package attacker

import (
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// Schedule lag is an arrival's actual start less its intended start: what
// the harness itself added to every latency measured from the intended
// start. It is recorded on the hot path from the two times the worker
// already has, in the schedule_lag histogram (record.LevelScheduleLag) and,
// when the load has several stages, in its stage's.

// harness returns the run's Harness as of now: the sampler's last
// aggregate and the scheduler's counts; nil before the first sample.
func (r *Recorder) harness() *record.Harness {
	if r.self == nil {
		return nil
	}
	h := r.self.Harness()
	if h == nil {
		return nil
	}
	h.Queued, h.QueuedLate = r.lag.queued.Load(), r.lag.queuedLate.Load()
	return h
}

// stageIndex finds the load stage of a point of the schedule. The
// scheduler asks in non-decreasing order, so a cursor makes each answer
// O(1).
type stageIndex struct {
	// ends holds each stage's end, from the start of the schedule; nil
	// when there is one stage, which needs no histogram of its own.
	ends []time.Duration
	i    int
}

func newStageIndex(stages []scenarios.Stage) stageIndex {
	if len(stages) < 2 {
		return stageIndex{}
	}
	ends := make([]time.Duration, len(stages))
	var t time.Duration
	for i, st := range stages {
		t += st.Duration.D()
		ends[i] = t
	}
	return stageIndex{ends: ends}
}

// at returns the stage, from 1, that holds d; 0 when there is no per-stage
// histogram.
func (s *stageIndex) at(d time.Duration) int {
	if len(s.ends) == 0 {
		return 0
	}
	for s.i < len(s.ends)-1 && d >= s.ends[s.i] {
		s.i++
	}
	return s.i + 1
}

// lagHists are the schedule-lag histograms of a run, looked up once so
// that recording a lag is one histogram update per histogram.
type lagHists struct {
	all *tagHist
	// stages holds each stage's, from stage 1; nil for a single stage.
	stages []*tagHist
}

func newLagHists(rec *Recorder, stages int) lagHists {
	l := lagHists{all: rec.hists.single(record.LevelScheduleLag, "")}
	if stages > 1 {
		l.stages = make([]*tagHist, stages)
		for i := range l.stages {
			l.stages[i] = rec.hists.single(record.LevelScheduleLag, record.StageKey(i+1))
		}
	}
	return l
}

// lagCounts counts the arrivals that waited for a slot.
type lagCounts struct {
	queued, queuedLate atomic.Uint64
}

// scheduleLag records the lag of h, which a worker started at start, in
// lag. Arrivals of a rate-0 stage have no intended start and are not
// recorded.
func (r *Recorder) scheduleLag(h hit, start time.Time, lag lagHists) {
	if h.intended.IsZero() {
		return
	}
	us := start.Sub(h.intended).Microseconds()
	if lag.all != nil {
		lag.all.record(us)
	}
	if h.stage > 0 && h.stage <= len(lag.stages) {
		lag.stages[h.stage-1].record(us)
	}
	if h.queued {
		r.lag.queued.Add(1)
		if us > record.LagBoundUS {
			r.lag.queuedLate.Add(1)
		}
	}
}

// single returns the one histogram of level and key, created on first
// use: levels such as schedule lag have no failures to keep apart.
func (h *histograms) single(level, key string) *tagHist {
	k := pairKey{level, key}
	h.mu.RLock()
	p := h.pairs[k]
	h.mu.RUnlock()
	if p != nil {
		return p.ok
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if p = h.pairs[k]; p == nil {
		p = &histPair{ok: newTagHist(sanitizeTag(record.Tag(level, key)))}
		h.pairs[k] = p
		h.order = append(h.order, p.ok)
	}
	return p.ok
}
