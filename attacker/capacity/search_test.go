package capacity

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mcpload/mcpload/record"
)

// fakeProber passes a probe when pass says so, and records the rates.
type fakeProber struct {
	pass  func(rate float64) bool
	rates []float64
	seqs  []int
	err   error
}

func (f *fakeProber) Probe(_ context.Context, seq int, rate float64) (record.CapacityProbe, error) {
	f.rates = append(f.rates, rate)
	f.seqs = append(f.seqs, seq)
	if f.err != nil && len(f.rates) == 3 {
		return record.CapacityProbe{}, f.err
	}
	return record.CapacityProbe{Pass: f.pass(rate)}, nil
}

// below is a target whose capacity is c: every probe at or below it
// passes, every one above fails.
func below(c float64) func(float64) bool { return func(r float64) bool { return r <= c } }

func TestSearchFindsKnownCapacity(t *testing.T) {
	for _, c := range []float64{3.7, 10, 237, 500, 9000} {
		f := &fakeProber{pass: below(c)}
		res, err := Search(context.Background(), f, Options{Start: 10, Tolerance: 0.05})
		if err != nil {
			t.Fatalf("capacity %g: %v", c, err)
		}
		if res.Status != StatusFound {
			t.Errorf("capacity %g: status %q, want found", c, res.Status)
		}
		if res.Rate > c || res.Rate < c*0.95 {
			t.Errorf("capacity %g: found %g, want within 5%% below", c, res.Rate)
		}
		lo, hi := res.Bracket[0], res.Bracket[1]
		if !(lo <= c && c < hi) || (hi-lo)/lo > 0.05 {
			t.Errorf("capacity %g: bracket %v does not hold it within the tolerance", c, res.Bracket)
		}
		// A deterministic target: every repeat agrees, the interval is
		// the bracket.
		if res.Interval != res.Bracket || res.Confidence != 0.75 {
			t.Errorf("capacity %g: interval %v, confidence %g; want the bracket %v at 75%% (3 of 3 at each end)", c, res.Interval, res.Confidence, res.Bracket)
		}
		for _, end := range res.Bracket {
			if n := countOf(f.rates, end); n != DefaultRepeats {
				t.Errorf("capacity %g: %g probed %d times, want %d repeats", c, end, n, DefaultRepeats)
			}
		}
		if len(res.Probes) != len(f.rates) || !slices.Equal(f.seqs, seq(len(f.rates))) {
			t.Errorf("capacity %g: %d probes recorded for %d run, seqs %v", c, len(res.Probes), len(f.rates), f.seqs)
		}
	}
}

func countOf(xs []float64, x float64) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

// The bracket grows geometrically from the start, then bisects.
func TestSearchBracketsThenBisects(t *testing.T) {
	f := &fakeProber{pass: below(100)}
	if _, err := Search(context.Background(), f, Options{Start: 10, Growth: 2, Tolerance: 0.1, Repeats: 1}); err != nil {
		t.Fatal(err)
	}
	want := []float64{10, 20, 40, 80, 160, 120, 100, 110}
	if !slices.Equal(f.rates, want) {
		t.Errorf("rates probed %v, want %v", f.rates, want)
	}
	f = &fakeProber{pass: below(30)}
	if _, err := Search(context.Background(), f, Options{Start: 100, Growth: 2, Tolerance: 0.2, Repeats: 1}); err != nil {
		t.Fatal(err)
	}
	want = []float64{100, 50, 25, 37.5, 31.25, 28.125}
	if !slices.Equal(f.rates, want) {
		t.Errorf("starting above: rates probed %v, want %v", f.rates, want)
	}
}

func TestSearchLimitsAndNone(t *testing.T) {
	res, err := Search(context.Background(), &fakeProber{pass: below(1e9)}, Options{Start: 10, Max: 50})
	if err != nil || res.Status != StatusLimited || res.Rate != 50 {
		t.Errorf("max passes: %+v, %v; want limited at 50", res, err)
	}
	res, err = Search(context.Background(), &fakeProber{pass: below(0)}, Options{Start: 10, Min: 1})
	if err != nil || res.Status != StatusNone || res.Rate != 0 || res.Bracket[1] != 1 {
		t.Errorf("min fails: %+v, %v; want none, failing at 1", res, err)
	}
}

func TestSearchBudget(t *testing.T) {
	f := &fakeProber{pass: below(1000)}
	res, err := Search(context.Background(), f, Options{Start: 1, MaxProbes: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusIncomplete || len(f.rates) != 5 || res.Rate != 16 {
		t.Errorf("5 probes from 1/s: status %q, %d probes, rate %g; want incomplete, 5, 16", res.Status, len(f.rates), res.Rate)
	}
}

func TestSearchProbeError(t *testing.T) {
	boom := errors.New("boom")
	f := &fakeProber{pass: below(100), err: boom}
	res, err := Search(context.Background(), f, Options{Start: 10})
	if !errors.Is(err, boom) || res == nil || res.Status != StatusIncomplete || res.Rate != 20 {
		t.Errorf("third probe fails to run: %+v, %v; want incomplete at 20 with the error", res, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Search(ctx, &fakeProber{pass: below(100)}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// A noisy boundary: near it a probe passes or fails by chance. The votes
// at the ends decide, the interval holds the noisy band's edge, and the
// confidence falls when a vote was split.
func TestSearchNoisyBoundary(t *testing.T) {
	const c = 200
	split := 0
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 1))
		// Within 10% of c the verdict is a coin flip.
		f := &fakeProber{pass: func(rate float64) bool {
			if rate < c*0.9 {
				return true
			}
			if rate > c*1.1 {
				return false
			}
			return r.IntN(2) == 0
		}}
		res, err := Search(context.Background(), f, Options{Start: 10, MaxProbes: 80})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != StatusFound {
			t.Fatalf("seed %d: status %q", seed, res.Status)
		}
		lo, hi := res.Interval[0], res.Interval[1]
		if res.Interval != res.Bracket || res.Rate != lo {
			t.Errorf("seed %d: rate %g, interval %v, bracket %v", seed, res.Rate, res.Interval, res.Bracket)
		}
		if lo > c*1.1 || hi < c*0.9 {
			t.Errorf("seed %d: interval %v misses the noisy band around %d", seed, res.Interval, c)
		}
		var atLo, atHi []bool
		for _, p := range res.Probes {
			switch p.Rate {
			case lo:
				atLo = append(atLo, p.Pass)
			case hi:
				atHi = append(atHi, p.Pass)
			}
		}
		if !majority(atLo) || majority(atHi) || len(atLo) < DefaultRepeats || len(atHi) < DefaultRepeats {
			t.Errorf("seed %d: votes %v at %g and %v at %g; want a passing and a failing majority of 3 or more", seed, atLo, lo, atHi, hi)
		}
		unanimous := all(atLo, true) && all(atHi, false)
		if unanimous != (res.Confidence == 0.75) || res.Confidence > 0.75 {
			t.Errorf("seed %d: confidence %g with votes %v and %v", seed, res.Confidence, atLo, atHi)
		}
		if !unanimous {
			split++
		}
	}
	if split == 0 {
		t.Error("no seed split a vote: the test does not test a noisy boundary")
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		vs   []bool
		want float64
	}{
		{[]bool{true, true, true}, 1.0 / 8},
		{[]bool{true, true, false}, 4.0 / 8},
		{[]bool{true}, 0.5},
		{[]bool{true, true, true, true, false}, 6.0 / 32},
	} {
		if got := tail(tc.vs, true); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("tail(%v) = %g, want %g", tc.vs, got, tc.want)
		}
	}
}

func TestOptionsInvalid(t *testing.T) {
	for _, o := range []Options{
		{Min: -1}, {Min: 10, Max: 5}, {Start: 1000, Max: 100}, {Growth: 1}, {Tolerance: 1.5}, {Repeats: -1}, {MaxProbes: 1},
	} {
		if _, err := Search(context.Background(), &fakeProber{pass: below(1)}, o); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v, want ErrOptions", o, err)
		}
	}
}

// flukes is a target of capacity c whose probes numbered in bad (from 1)
// go the wrong way, as a probe hit by a load spike on the machine does.
func flukes(c float64, bad ...int) *fakeProber {
	f := &fakeProber{}
	f.pass = func(rate float64) bool {
		ok := rate <= c
		if slices.Contains(bad, len(f.rates)) {
			return !ok
		}
		return ok
	}
	return f
}

// One probe that went the wrong way while bracketing must not decide the
// answer: the repeats at that end outvote it, and the search looks again
// past it.
func TestSearchOutvotesAFluke(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *fakeProber
	}{
		{"a fluke failure of the first probe, below the capacity", flukes(250, 1)},
		{"a fluke pass above the capacity", flukes(250, 2)},
		{"a fluke failure while bisecting", flukes(250, 4)},
	} {
		res, err := Search(context.Background(), tc.f, Options{Start: 150, Tolerance: 0.05, MaxProbes: 60})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != StatusFound || res.Rate > 250 || res.Rate < 250*0.9 {
			t.Errorf("%s: %s at %g (interval %v) after %v; want found within 10%% below 250", tc.name, res.Status, res.Rate, res.Interval, tc.f.rates)
		}
	}
}

// all reports whether every verdict in vs is want.
func all(vs []bool, want bool) bool {
	for _, v := range vs {
		if v != want {
			return false
		}
	}
	return true
}
