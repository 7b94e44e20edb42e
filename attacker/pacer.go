package attacker

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/scenarios"
)

// NewPacer builds the arrival schedule of load: its stages, one after the
// other, evenly spaced (constant) or as a Poisson process with the same mean
// rate (poisson, drawn from seed). It also returns the planned length of the
// schedule.
func NewPacer(load scenarios.LoadShape, seed int64) (vegeta.Pacer, time.Duration, error) {
	sp, err := NewStagedPacer(load.Stages)
	if err != nil {
		return nil, 0, err
	}
	if sp.hasUnbounded() && load.MaxInFlight <= 0 {
		return nil, 0, errors.New("load: a stage with rate 0 (as fast as possible) needs max_in_flight")
	}
	switch load.Arrival {
	case "", scenarios.ArrivalConstant:
		return sp, sp.Duration(), nil
	case scenarios.ArrivalPoisson:
		return NewPoissonPacer(sp, seed), sp.Duration(), nil
	default:
		return nil, 0, fmt.Errorf("load: unknown arrival %q (want %s or %s)",
			load.Arrival, scenarios.ArrivalConstant, scenarios.ArrivalPoisson)
	}
}

// StagedPacer paces an attack through stages, one after the other, and stops
// after the last. A stage holds its rate for its duration; with a ramp, the
// rate first moves linearly from the previous stage's rate over the ramp,
// which is part of the duration. A stage with rate 0 runs as fast as the
// in-flight cap allows (vegeta's -rate=0): its Pace waits 0 and the scheduler
// starts a hit whenever a slot frees up.
//
// Hit n (from 0) is due when the integral of the rate reaches n, so the first
// hit is due at once and a stage of rate r and duration d holds r·d hits, ±1.
// Fractional rates such as 0.5/s are exact: the schedule is computed in
// floating point rather than with vegeta's integer Freq per Per, and the
// fraction of a hit left at the end of one stage carries into the next.
//
// A StagedPacer is not safe for concurrent use: after a rate-0 stage it
// remembers how many hits that stage took, so that the next stage counts its
// hits from there.
type StagedPacer struct {
	pieces []piece
	total  time.Duration

	// shift is subtracted from the hits Pace is given, to count the hits
	// of a rate-0 stage out of the schedule.
	shift         float64
	wasUnbounded  bool
	stagesForText []scenarios.Stage
}

// piece is a span of the schedule whose rate is constant or linear.
type piece struct {
	start, end float64 // seconds since the start of the attack
	r0, r1     float64 // rate at start and end, hits per second
	h0         float64 // hits due before start
	unbounded  bool    // rate 0: as fast as possible
}

func (p piece) slope() float64 { return (p.r1 - p.r0) / (p.end - p.start) }

// hits returns the hits due in the first tau seconds of p.
func (p piece) hits(tau float64) float64 {
	if p.unbounded {
		return 0
	}
	return p.r0*tau + p.slope()*tau*tau/2
}

// area returns the hits due over the whole of p.
func (p piece) area() float64 { return p.hits(p.end - p.start) }

// at returns how long after p's start y hits are due; y is within p's area.
func (p piece) at(y float64) float64 {
	if y <= 0 {
		return 0
	}
	k := p.slope()
	if math.Abs(k) < 1e-12 {
		return y / p.r0
	}
	// Solves k/2·τ² + r0·τ = y. This form of the root stays accurate when
	// k is small or negative, and when r0 is 0 (a ramp from nothing).
	disc := math.Max(p.r0*p.r0+2*k*y, 0)
	den := p.r0 + math.Sqrt(disc)
	if den <= 0 {
		return p.end - p.start
	}
	return math.Min(2*y/den, p.end-p.start)
}

// NewStagedPacer builds a StagedPacer from stages.
func NewStagedPacer(stages []scenarios.Stage) (*StagedPacer, error) {
	if len(stages) == 0 {
		return nil, errors.New("load: no stages")
	}
	sp := &StagedPacer{stagesForText: stages}
	var (
		t, h          float64
		prev          float64
		prevUnbounded bool
	)
	for i, st := range stages {
		rate := float64(st.Rate)
		d := st.Duration.D().Seconds()
		ramp := st.Ramp.D().Seconds()
		switch {
		case math.IsNaN(rate) || math.IsInf(rate, 0) || rate < 0:
			return nil, fmt.Errorf("load: stage %d: rate must be a finite number >= 0, got %v", i+1, rate)
		case d <= 0:
			return nil, fmt.Errorf("load: stage %d: duration must be positive", i+1)
		case ramp > d:
			return nil, fmt.Errorf("load: stage %d: ramp %s is longer than the stage's duration %s", i+1, st.Ramp.D(), st.Duration.D())
		case rate == 0 && ramp > 0:
			return nil, fmt.Errorf("load: stage %d: cannot ramp to rate 0 (as fast as possible); give a rate", i+1)
		case ramp > 0 && prevUnbounded:
			return nil, fmt.Errorf("load: stage %d: cannot ramp from the previous stage's rate 0 (as fast as possible)", i+1)
		}
		if rate == 0 {
			sp.pieces = append(sp.pieces, piece{start: t, end: t + d, h0: h, unbounded: true})
		} else {
			if ramp > 0 {
				p := piece{start: t, end: t + ramp, r0: prev, r1: rate, h0: h}
				sp.pieces = append(sp.pieces, p)
				h += p.area()
			}
			if d > ramp {
				p := piece{start: t + ramp, end: t + d, r0: rate, r1: rate, h0: h}
				sp.pieces = append(sp.pieces, p)
				h += p.area()
			}
		}
		t += d
		sp.total += st.Duration.D()
		prev, prevUnbounded = rate, rate == 0
	}
	return sp, nil
}

// Duration returns the planned length of the schedule.
func (sp *StagedPacer) Duration() time.Duration { return sp.total }

func (sp *StagedPacer) hasUnbounded() bool {
	for _, p := range sp.pieces {
		if p.unbounded {
			return true
		}
	}
	return false
}

// pieceAt returns the index of the piece that holds elapsed seconds, or -1
// past the end.
func (sp *StagedPacer) pieceAt(e float64) int {
	for i, p := range sp.pieces {
		if e < p.end {
			return i
		}
	}
	return -1
}

// Pace implements vegeta.Pacer. It expects a non-decreasing elapsed.
func (sp *StagedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if elapsed >= sp.total {
		return 0, true
	}
	i := sp.pieceAt(max(elapsed.Seconds(), 0))
	if i < 0 {
		return 0, true
	}
	if sp.pieces[i].unbounded {
		sp.wasUnbounded = true
		return 0, false
	}
	if sp.wasUnbounded {
		// Coming out of a rate-0 stage: its hits were not on the schedule,
		// so count from here as if the schedule had been met.
		sp.wasUnbounded = false
		sp.shift = float64(hits) - sp.Hits(elapsed)
	}
	due, ok := sp.TimeAt(float64(hits)-sp.shift, elapsed)
	if !ok {
		return 0, true
	}
	return due - elapsed, false
}

// Rate implements vegeta.Pacer: the target rate at elapsed, 0 past the end
// and in rate-0 stages.
func (sp *StagedPacer) Rate(elapsed time.Duration) float64 {
	e := elapsed.Seconds()
	i := sp.pieceAt(max(e, 0))
	if i < 0 || sp.pieces[i].unbounded {
		return 0
	}
	p := sp.pieces[i]
	return p.r0 + p.slope()*(e-p.start)
}

// Unbounded reports whether elapsed falls in a rate-0 stage, where hits start
// as fast as slots free up.
func (sp *StagedPacer) Unbounded(elapsed time.Duration) bool {
	i := sp.pieceAt(max(elapsed.Seconds(), 0))
	return i >= 0 && sp.pieces[i].unbounded
}

// Hits returns the hits due by elapsed: the integral of the rate from the
// start. Rate-0 stages add nothing.
func (sp *StagedPacer) Hits(elapsed time.Duration) float64 {
	e := max(elapsed.Seconds(), 0)
	var h float64
	for _, p := range sp.pieces {
		if e < p.end {
			return p.h0 + p.hits(max(e-p.start, 0))
		}
		h = p.h0 + p.area()
	}
	return h
}

// TimeAt returns the first time, not before after, by which the integral of
// the rate reaches hits: the inverse of Hits. If a rate-0 stage comes first,
// it returns when that stage starts (or after, if later). It returns false
// when the schedule ends first.
func (sp *StagedPacer) TimeAt(hits float64, after time.Duration) (time.Duration, bool) {
	i := sp.pieceAt(max(after.Seconds(), 0))
	if i < 0 {
		return 0, false
	}
	for _, p := range sp.pieces[i:] {
		if p.unbounded {
			return max(seconds(p.start), after), true
		}
		if hits < p.h0+p.area() {
			return max(seconds(p.start+p.at(max(hits-p.h0, 0))), after), true
		}
	}
	return 0, false
}

// String describes the stages, as vegeta's pacers describe themselves.
func (sp *StagedPacer) String() string {
	var b strings.Builder
	b.WriteString("Staged{")
	for i, st := range sp.stagesForText {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%g/s for %s", float64(st.Rate), st.Duration.D())
		if st.Ramp > 0 {
			fmt.Fprintf(&b, " (ramp %s)", st.Ramp.D())
		}
	}
	b.WriteString("}")
	return b.String()
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// cumulative is a pacer that knows its integral exactly, as StagedPacer does.
type cumulative interface {
	Hits(elapsed time.Duration) float64
	TimeAt(hits float64, after time.Duration) (time.Duration, bool)
}

// unbounder is a pacer with stages that run as fast as possible.
type unbounder interface {
	Unbounded(elapsed time.Duration) bool
}

// isUnbounded reports whether p wants hits as fast as slots allow at elapsed.
func isUnbounded(p vegeta.Pacer, elapsed time.Duration) bool {
	switch p := p.(type) {
	case unbounder:
		return p.Unbounded(elapsed)
	case vegeta.ConstantPacer:
		return p.Freq == 0 || p.Per == 0 // vegeta's -rate=0
	}
	return false
}

// PoissonPacer makes the arrivals of another pacer a Poisson process: the
// gaps are drawn from an exponential distribution, with the other pacer's
// Rate as the (possibly changing) mean rate. By time rescaling, arrival n is
// due when the integral of the rate since arrival n-1 reaches a unit
// exponential draw, so a changing rate gives a non-homogeneous Poisson
// process. The draws come from a generator seeded by the seed, so the same
// seed gives the same arrivals.
//
// A PoissonPacer is not safe for concurrent use.
type PoissonPacer struct {
	base vegeta.Pacer
	rng  *rand.Rand

	last    time.Duration // when the previous arrival was due
	next    time.Duration // when arrival nextFor is due
	nextFor uint64
	drawn   bool
}

// NewPoissonPacer returns a PoissonPacer with base's mean rate, drawing from
// a generator seeded with seed.
func NewPoissonPacer(base vegeta.Pacer, seed int64) *PoissonPacer {
	return &PoissonPacer{
		base: base,
		rng:  rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
	}
}

// Pace implements vegeta.Pacer. It expects a non-decreasing elapsed. It
// stops when base's schedule ends before the next arrival; base's own stop
// is not consulted, so a base pacer that never stops needs a duration bound.
func (pp *PoissonPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if isUnbounded(pp.base, elapsed) {
		// As fast as possible: nothing to draw. Resume the process from
		// wherever the rate-0 stage leaves off.
		pp.last, pp.drawn = elapsed, false
		return 0, false
	}
	if !pp.drawn || hits != pp.nextFor {
		due, ok := pp.arrival(pp.last, pp.rng.ExpFloat64())
		if !ok {
			return 0, true
		}
		pp.last, pp.next, pp.nextFor, pp.drawn = due, due, hits, true
	}
	return max(pp.next-elapsed, 0), false
}

// arrival returns when the integral of the rate from from reaches area.
func (pp *PoissonPacer) arrival(from time.Duration, area float64) (time.Duration, bool) {
	if c, ok := pp.base.(cumulative); ok {
		return c.TimeAt(c.Hits(from)+area, from)
	}
	return integrateRate(pp.base, from, area)
}

// Rate implements vegeta.Pacer: the mean rate at elapsed.
func (pp *PoissonPacer) Rate(elapsed time.Duration) float64 { return pp.base.Rate(elapsed) }

// Unbounded reports whether base runs as fast as possible at elapsed.
func (pp *PoissonPacer) Unbounded(elapsed time.Duration) bool { return isUnbounded(pp.base, elapsed) }

// String describes the pacer.
func (pp *PoissonPacer) String() string { return fmt.Sprintf("Poisson{%v}", pp.base) }

// poissonHorizon bounds the numeric search for an arrival of a pacer whose
// rate stays at zero.
const poissonHorizon = 24 * time.Hour

// integrateRate finds numerically when the integral of p's Rate from from
// reaches area, for pacers that do not know their integral. Steps are a
// small fraction of the expected gap, so the error is a small fraction of a
// hit.
func integrateRate(p vegeta.Pacer, from time.Duration, area float64) (time.Duration, bool) {
	t := from
	var acc float64
	for t-from < poissonHorizon {
		r := max(p.Rate(t), 0)
		dt := 100 * time.Millisecond
		if r > 0 {
			dt = min(max(time.Duration(0.01/r*1e9), time.Microsecond), dt)
		}
		r2 := max(p.Rate(t+dt), 0)
		step := (r + r2) / 2 * dt.Seconds()
		if acc+step >= area {
			// Finish inside the step, linearly.
			frac := (area - acc) / step
			return t + time.Duration(frac*float64(dt)), true
		}
		acc += step
		t += dt
	}
	return 0, false
}

// ShardPacer paces one shard of a deterministic schedule, as k6's
// execution segments do: shard Index of Count takes the hits Index,
// Index+Count, Index+2·Count... of base, each at its place in base's
// schedule, so that the shards together run base's schedule exactly, hit
// for hit, and every hit keeps its global intended start. The hits of the
// other shards are still paced through base (cheaply), so that base keeps
// its state as one process would.
//
// A ShardPacer is not safe for concurrent use.
type ShardPacer struct {
	base         vegeta.Pacer
	index, count uint64

	k   uint64        // the next global hit to pace through base
	due time.Duration // the place of global hit k-1
}

// NewShardPacer returns shard index of count of base's schedule.
func NewShardPacer(base vegeta.Pacer, index, count int) *ShardPacer {
	return &ShardPacer{base: base, index: uint64(index), count: uint64(count)}
}

// Pace implements vegeta.Pacer for the shard's own hits, counted from 0.
// It expects a non-decreasing elapsed.
func (sp *ShardPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	g := hits*sp.count + sp.index
	// After a rate-0 stage elapsed is the actual time, which may be past
	// the schedule: base continues from there, as in one process.
	sp.due = max(sp.due, elapsed)
	for ; sp.k <= g; sp.k++ {
		wait, stop := sp.base.Pace(sp.due, sp.k)
		if stop {
			return 0, true
		}
		sp.due += wait
	}
	return sp.due - elapsed, false
}

// Rate implements vegeta.Pacer: the shard's share of base's rate.
func (sp *ShardPacer) Rate(elapsed time.Duration) float64 {
	return sp.base.Rate(elapsed) / float64(sp.count)
}

// Unbounded reports whether base runs as fast as possible at elapsed.
func (sp *ShardPacer) Unbounded(elapsed time.Duration) bool { return isUnbounded(sp.base, elapsed) }

// String describes the pacer.
func (sp *ShardPacer) String() string {
	return fmt.Sprintf("Shard{%d/%d of %v}", sp.index, sp.count, sp.base)
}

// NewShardedPacer builds the arrivals of shard index of count of load's
// schedule (NewPacer's, for count 1). Constant arrivals interleave
// (ShardPacer). Poisson arrivals are the superposition of count
// independent Poisson processes of rate r/count, which is a Poisson
// process of rate r: each shard draws its own, from ShardSeed.
func NewShardedPacer(load scenarios.LoadShape, seed int64, index, count int) (vegeta.Pacer, time.Duration, error) {
	if count <= 1 {
		return NewPacer(load, seed)
	}
	if index < 0 || index >= count {
		return nil, 0, fmt.Errorf("shard %d of %d: the index must be from 0 to %d", index, count, count-1)
	}
	if load.Arrival == scenarios.ArrivalPoisson {
		share := load
		share.Stages = make([]scenarios.Stage, len(load.Stages))
		for i, st := range load.Stages {
			st.Rate /= scenarios.Rate(count)
			share.Stages[i] = st
		}
		return NewPacer(share, ShardSeed(seed, index, count))
	}
	base, planned, err := NewPacer(load, seed)
	if err != nil {
		return nil, 0, err
	}
	return NewShardPacer(base, index, count), planned, nil
}

// ShardSeed is the seed of shard index of count's own draws (Poisson
// arrivals, the mock's latency and fault draws): seed itself for one
// shard, so that one shard replays the unsharded run, and otherwise a
// seed mixed from seed and index.
func ShardSeed(seed int64, index, count int) int64 {
	if count <= 1 {
		return seed
	}
	return int64(splitmix64(uint64(seed)^splitmix64(uint64(index)+1)) >> 1)
}
