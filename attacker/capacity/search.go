// Package capacity finds the highest arrival rate at which a scenario's
// thresholds (its SLO) hold. It brackets the answer with probes at rates
// that grow (or shrink) geometrically, narrows the bracket by bisection to
// a relative tolerance, then repeats the probes at both ends of the
// bracket to give the answer a confidence interval. Probing is behind the
// Prober interface, so that the search is tested against a fake and run
// against real probe runs (cmd/mcpload capacity).
package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/mcpload/mcpload/record"
)

// Prober runs one probe at rate, conversations per second, and says
// whether it met the SLO. seq numbers the probes of a search from 1, for
// their folder names. A probe that could not run at all is an error; a
// probe that ran and failed (thresholds, saturation) is a Pass false.
type Prober interface {
	Probe(ctx context.Context, seq int, rate float64) (record.CapacityProbe, error)
}

// Options steer a search. Zero fields take the defaults of Search.
type Options struct {
	// Start is the first rate probed; Min and Max bound the search.
	Start, Min, Max float64
	// Growth is the factor between rates while bracketing.
	Growth float64
	// Tolerance is the relative width, (hi-lo)/lo, bisection narrows to.
	Tolerance float64
	// Repeats is how many times each end of the final bracket is probed
	// (the bracketing probe included).
	Repeats int
	// MaxProbes bounds the probes of the search.
	MaxProbes int
	// OnProbe, when set, is called after each probe.
	OnProbe func(record.CapacityProbe)
}

// Defaults of Options.
const (
	DefaultStart     = 10
	DefaultMin       = 0.1
	DefaultMax       = 100_000
	DefaultGrowth    = 2
	DefaultTolerance = 0.05
	DefaultRepeats   = 3
	DefaultMaxProbes = 30
)

// Statuses of a search (record.Capacity.Status).
const (
	StatusFound      = "found"
	StatusLimited    = "limited"
	StatusNone       = "none"
	StatusIncomplete = "incomplete"
)

// Result is what a search found.
type Result struct {
	Status string
	// Rate is the highest rate all of whose probes passed.
	Rate float64
	// Bracket is [last passing, first failing] of the bisection.
	Bracket [2]float64
	// Interval is the bracket once the votes at both ends agreed with
	// it: see Confidence.
	Interval [2]float64
	// Confidence is a lower bound on the chance that Interval holds the
	// rate where a probe's pass chance crosses one half, if probes are
	// independent: 1 less, for each end, the chance its vote would have
	// come out as it did were the end on the other side (tail). With
	// every one of 3 repeats agreeing, 1 - 2/8 = 75%.
	Confidence float64
	Probes     []record.CapacityProbe
}

// ErrOptions reports options that cannot make a search.
var ErrOptions = errors.New("capacity: invalid options")

// WithDefaults fills o's zero fields and checks them; an error wraps
// ErrOptions.
func (o Options) WithDefaults() (Options, error) {
	if o.Min == 0 {
		o.Min = DefaultMin
	}
	if o.Max == 0 {
		o.Max = DefaultMax
	}
	if o.Start == 0 {
		o.Start = min(max(DefaultStart, o.Min), o.Max)
	}
	if o.Growth == 0 {
		o.Growth = DefaultGrowth
	}
	if o.Tolerance == 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.Repeats == 0 {
		o.Repeats = DefaultRepeats
	}
	if o.MaxProbes == 0 {
		o.MaxProbes = DefaultMaxProbes
	}
	switch {
	case !(o.Min > 0) || !(o.Max >= o.Min) || math.IsInf(o.Max, 0):
		return o, fmt.Errorf("%w: need 0 < min_rate <= max_rate, got %g and %g", ErrOptions, o.Min, o.Max)
	case o.Start < o.Min || o.Start > o.Max:
		return o, fmt.Errorf("%w: the start rate %g is outside [%g, %g]", ErrOptions, o.Start, o.Min, o.Max)
	case !(o.Growth > 1):
		return o, fmt.Errorf("%w: growth must be above 1, got %g", ErrOptions, o.Growth)
	case !(o.Tolerance > 0 && o.Tolerance < 1):
		return o, fmt.Errorf("%w: tolerance must be between 0 and 1 (relative), got %g", ErrOptions, o.Tolerance)
	case o.Repeats < 1:
		return o, fmt.Errorf("%w: repeats must be at least 1, got %d", ErrOptions, o.Repeats)
	case o.MaxProbes < 2:
		return o, fmt.Errorf("%w: max_probes must be at least 2, got %d", ErrOptions, o.MaxProbes)
	}
	return o, nil
}

// search is the state of one search.
type search struct {
	ctx context.Context
	p   Prober
	o   Options
	res Result
	// verdicts holds every verdict at each rate probed.
	verdicts map[float64][]bool
}

// errBudget ends a search whose probes ran out.
var errBudget = errors.New("capacity: max probes reached")

// probe runs one probe at rate, within the budget.
func (s *search) probe(rate float64) (bool, error) {
	if len(s.res.Probes) >= s.o.MaxProbes {
		return false, errBudget
	}
	if err := s.ctx.Err(); err != nil {
		return false, err
	}
	pr, err := s.p.Probe(s.ctx, len(s.res.Probes)+1, rate)
	if err != nil {
		return false, fmt.Errorf("probe at %g/s: %w", rate, err)
	}
	pr.Rate = rate
	s.res.Probes = append(s.res.Probes, pr)
	s.verdicts[rate] = append(s.verdicts[rate], pr.Pass)
	if s.o.OnProbe != nil {
		s.o.OnProbe(pr)
	}
	return pr.Pass, nil
}

// Search finds the highest rate at which p's probes pass. It returns the
// result so far with an error when a probe could not run or ctx ended;
// running out of probes is not an error but the status incomplete.
func Search(ctx context.Context, p Prober, o Options) (*Result, error) {
	o, err := o.WithDefaults()
	if err != nil {
		return nil, err
	}
	s := &search{ctx: ctx, p: p, o: o, verdicts: map[float64][]bool{}}
	err = s.run()
	if errors.Is(err, errBudget) {
		s.res.Status, err = StatusIncomplete, nil
	}
	if err != nil && s.res.Status == "" {
		s.res.Status = StatusIncomplete
	}
	return &s.res, err
}

// run brackets, bisects and confirms, going back to bisection when a
// confirmation shows the bracket was wrong.
func (s *search) run() error {
	lo, hi, err := s.bracket()
	if err != nil || s.res.Status != "" {
		return err
	}
	for {
		if lo, hi, err = s.bisect(lo, hi); err != nil {
			return err
		}
		moved, err := s.confirm(lo, hi)
		if err != nil {
			return err
		}
		if moved == 0 {
			break
		}
		// A majority of the repeats went against the bracket: that end
		// was a fluke. Look again past it.
		if moved > 0 {
			lo, hi = hi, s.above(hi)
			if hi == 0 {
				s.res.Status, s.res.Rate = StatusLimited, lo
				s.res.Bracket, s.res.Interval = [2]float64{lo, 0}, [2]float64{lo, 0}
				return nil
			}
			continue
		}
		lo, hi = s.below(lo), lo
		if lo == 0 {
			s.res.Status, s.res.Rate = StatusNone, 0
			s.res.Bracket, s.res.Interval = [2]float64{0, hi}, [2]float64{0, hi}
			return nil
		}
	}
	s.res.Status = StatusFound
	return nil
}

// bisect narrows [lo, hi] to the tolerance.
func (s *search) bisect(lo, hi float64) (float64, float64, error) {
	for (hi-lo)/lo > s.o.Tolerance {
		s.res.Bracket = [2]float64{lo, hi}
		s.res.Rate, s.res.Interval = lo, [2]float64{lo, hi}
		mid := (lo + hi) / 2
		ok, err := s.probe(mid)
		if err != nil {
			return lo, hi, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	s.res.Bracket = [2]float64{lo, hi}
	s.res.Rate, s.res.Interval = lo, [2]float64{lo, hi}
	return lo, hi, nil
}

// above is a rate above r to bracket from: the lowest rate above r that
// a majority of its probes failed, else r times the growth (probed and
// found failing), or 0 when Max passed.
func (s *search) above(r float64) float64 {
	best := 0.0
	for rate, vs := range s.verdicts {
		if rate > r && !majority(vs) && (best == 0 || rate < best) {
			best = rate
		}
	}
	if best > 0 {
		return best
	}
	for r < s.o.Max {
		r = min(r*s.o.Growth, s.o.Max)
		ok, err := s.probe(r)
		if err != nil {
			return r // the caller's next probe meets the same error
		}
		if !ok {
			return r
		}
	}
	return 0
}

// below is a rate below r to bracket from: the highest rate below r that
// a majority of its probes passed, else r over the growth (probed and
// found passing), or 0 when Min failed.
func (s *search) below(r float64) float64 {
	best := 0.0
	for rate, vs := range s.verdicts {
		if rate < r && majority(vs) && rate > best {
			best = rate
		}
	}
	if best > 0 {
		return best
	}
	for r > s.o.Min {
		r = max(r/s.o.Growth, s.o.Min)
		ok, err := s.probe(r)
		if err != nil {
			return r
		}
		if ok {
			return r
		}
	}
	return 0
}

// majority reports whether more than half of vs passed.
func majority(vs []bool) bool {
	n := 0
	for _, v := range vs {
		if v {
			n++
		}
	}
	return 2*n > len(vs)
}

// bracket finds a passing rate lo and a failing rate hi above it. When
// Max passes or Min fails it sets the status itself.
func (s *search) bracket() (lo, hi float64, err error) {
	rate := s.o.Start
	ok, err := s.probe(rate)
	if err != nil {
		return 0, 0, err
	}
	if ok {
		for ok {
			lo = rate
			if rate >= s.o.Max {
				s.res.Status, s.res.Rate = StatusLimited, lo
				s.res.Bracket, s.res.Interval = [2]float64{lo, 0}, [2]float64{lo, 0}
				return lo, 0, nil
			}
			rate = min(rate*s.o.Growth, s.o.Max)
			if ok, err = s.probe(rate); err != nil {
				s.res.Rate = lo
				return 0, 0, err
			}
		}
		return lo, rate, nil
	}
	for !ok {
		hi = rate
		if rate <= s.o.Min {
			s.res.Status = StatusNone
			s.res.Bracket, s.res.Interval = [2]float64{0, hi}, [2]float64{0, hi}
			return 0, hi, nil
		}
		rate = max(rate/s.o.Growth, s.o.Min)
		if ok, err = s.probe(rate); err != nil {
			return 0, 0, err
		}
	}
	return rate, hi, nil
}

// confirm takes a vote at both ends of the bracket: each is probed until
// it has at least Repeats verdicts and one side has more (at most
// 2·Repeats+1 probes). When the vote at an end goes against the bracket
// (the probe that put it there was a fluke), it reports the direction
// the boundary moved, +1 above hi or -1 below lo, for the search to look
// again. Otherwise the bracket is the interval, and its confidence comes
// from the votes (see tail).
func (s *search) confirm(lo, hi float64) (int, error) {
	if err := s.vote(hi); err != nil {
		return 0, err
	}
	if majority(s.verdicts[hi]) {
		return +1, nil
	}
	if err := s.vote(lo); err != nil {
		return 0, err
	}
	if !majority(s.verdicts[lo]) {
		return -1, nil
	}
	s.res.Rate, s.res.Interval = lo, [2]float64{lo, hi}
	s.res.Confidence = max(0, 1-tail(s.verdicts[lo], true)-tail(s.verdicts[hi], false))
	return 0, nil
}

// vote probes rate until it has at least Repeats verdicts and they are
// not tied, or 2·Repeats+1 of them.
func (s *search) vote(rate float64) error {
	for {
		vs := s.verdicts[rate]
		pass := 0
		for _, v := range vs {
			if v {
				pass++
			}
		}
		if len(vs) >= 2*s.o.Repeats+1 || (len(vs) >= s.o.Repeats && 2*pass != len(vs)) {
			return nil
		}
		if _, err := s.probe(rate); err != nil {
			return err
		}
	}
}

// tail is the chance that the verdicts vs would agree with want as
// often as they did if the rate were on the other side of the boundary,
// where a probe agrees with want with a chance of one half at most: the
// binomial tail P(X >= agreeing) for X ~ Bin(len(vs), 1/2). All of 3
// agreeing gives 1/8; 2 of 3, 1/2.
func tail(vs []bool, want bool) float64 {
	n, k := len(vs), 0
	for _, v := range vs {
		if v == want {
			k++
		}
	}
	p, c := 0.0, 1.0 // c is n choose i, from i = 0
	for i := 0; i <= n; i++ {
		if i >= k {
			p += c
		}
		c = c * float64(n-i) / float64(i+1)
	}
	return p / math.Pow(2, float64(n))
}
