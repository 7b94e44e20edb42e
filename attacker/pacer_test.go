package attacker

import (
	"math"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/scenarios"
)

func stage(rate float64, d, ramp time.Duration) scenarios.Stage {
	return scenarios.Stage{Rate: scenarios.Rate(rate), Duration: scenarios.Duration(d), Ramp: scenarios.Duration(ramp)}
}

// schedule runs p on a virtual clock, as the scheduler does: each hit is due
// at the previous hit's due time plus the wait. It returns the due times.
// step, when set, is how far the clock moves per hit while p is unbounded.
func schedule(t *testing.T, p vegeta.Pacer, limit int, step time.Duration) []time.Duration {
	t.Helper()
	var (
		due  time.Duration
		hits []time.Duration
	)
	for n := uint64(0); ; n++ {
		wait, stop := p.Pace(due, n)
		if stop {
			return hits
		}
		if wait < 0 {
			t.Fatalf("hit %d: negative wait %s", n, wait)
		}
		due += wait
		if isUnbounded(p, due) {
			due += step
		}
		hits = append(hits, due)
		if len(hits) > limit {
			t.Fatalf("more than %d hits: the pacer does not stop", limit)
		}
	}
}

// countIn counts the due times in [from, to).
func countIn(hits []time.Duration, from, to time.Duration) int {
	n := 0
	for _, h := range hits {
		if h >= from && h < to {
			n++
		}
	}
	return n
}

func within(t *testing.T, what string, got int, want, tol float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > tol {
		t.Errorf("%s: %d hits, want %.2f ± %.2f", what, got, want, tol)
	}
}

func TestStagedPacerConstantStages(t *testing.T) {
	sp, err := NewStagedPacer([]scenarios.Stage{
		stage(10, 3*time.Second, 0),
		stage(0.5, 5*time.Second, 0), // fractional: 2.5 hits
		stage(33.3, 2*time.Second, 0),
		stage(1000, 10*time.Second, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sp.Duration(), 20*time.Second; got != want {
		t.Fatalf("Duration = %s, want %s", got, want)
	}
	hits := schedule(t, sp, 20000, 0)
	within(t, "stage 1", countIn(hits, 0, 3*time.Second), 30, 1)
	within(t, "stage 2", countIn(hits, 3*time.Second, 8*time.Second), 2.5, 1)
	within(t, "stage 3", countIn(hits, 8*time.Second, 10*time.Second), 66.6, 1)
	within(t, "stage 4", countIn(hits, 10*time.Second, 20*time.Second), 10000, 1)
	within(t, "all", len(hits), 30+2.5+66.6+10000, 1)
	if hits[0] != 0 {
		t.Errorf("first hit due at %s, want at once", hits[0])
	}
	for i := 1; i < len(hits); i++ {
		if hits[i] < hits[i-1] {
			t.Fatalf("hit %d due at %s, before hit %d at %s", i, hits[i], i-1, hits[i-1])
		}
	}
	// Evenly spaced within a stage: 0.5/s is one hit every 2s.
	var slow []time.Duration
	for _, h := range hits {
		if h >= 3*time.Second && h < 8*time.Second {
			slow = append(slow, h)
		}
	}
	for i := 1; i < len(slow); i++ {
		if gap := slow[i] - slow[i-1]; gap != 2*time.Second {
			t.Errorf("gap at 0.5/s = %s, want 2s", gap)
		}
	}
	if got := sp.Rate(4 * time.Second); got != 0.5 {
		t.Errorf("Rate(4s) = %v, want 0.5", got)
	}
	if got := sp.Rate(25 * time.Second); got != 0 {
		t.Errorf("Rate past the end = %v, want 0", got)
	}
}

func TestStagedPacerRamps(t *testing.T) {
	sp, err := NewStagedPacer([]scenarios.Stage{
		stage(100, 10*time.Second, 4*time.Second), // 0 -> 100 over 4s, then 6s at 100
		stage(20, 5*time.Second, 2*time.Second),   // 100 -> 20 over 2s, then 3s at 20
		stage(20.5, 1*time.Second, time.Second),   // 20 -> 20.5 over the whole stage
	})
	if err != nil {
		t.Fatal(err)
	}
	hits := schedule(t, sp, 2000, 0)
	// The trapezoids' areas.
	within(t, "ramp up", countIn(hits, 0, 4*time.Second), 200, 1)
	within(t, "hold 100", countIn(hits, 4*time.Second, 10*time.Second), 600, 1)
	within(t, "ramp down", countIn(hits, 10*time.Second, 12*time.Second), 120, 1)
	within(t, "hold 20", countIn(hits, 12*time.Second, 15*time.Second), 60, 1)
	within(t, "slight ramp", countIn(hits, 15*time.Second, 16*time.Second), 20.25, 1)
	// A half of the ramp up holds a quarter of its hits.
	within(t, "first half of the ramp", countIn(hits, 0, 2*time.Second), 50, 1)

	for _, c := range []struct {
		at   time.Duration
		want float64
	}{{0, 0}, {time.Second, 25}, {2 * time.Second, 50}, {5 * time.Second, 100}, {11 * time.Second, 60}, {13 * time.Second, 20}} {
		if got := sp.Rate(c.at); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Rate(%s) = %v, want %v", c.at, got, c.want)
		}
	}
	if got, want := sp.Hits(16*time.Second), 200+600+120+60+20.25; math.Abs(got-want) > 1e-9 {
		t.Errorf("Hits(end) = %v, want %v", got, want)
	}
}

func TestStagedPacerUnboundedStage(t *testing.T) {
	sp, err := NewStagedPacer([]scenarios.Stage{
		stage(10, time.Second, 0),
		stage(0, time.Second, 0), // as fast as possible
		stage(10, time.Second, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sp.Unbounded(1500*time.Millisecond) || sp.Unbounded(500*time.Millisecond) {
		t.Fatal("Unbounded is wrong about which stage runs at rate 0")
	}
	// In the rate-0 stage, the virtual clock moves 1ms per hit, as if each
	// hit waited 1ms for a slot.
	hits := schedule(t, sp, 5000, time.Millisecond)
	within(t, "stage 1", countIn(hits, 0, time.Second), 10, 1)
	within(t, "rate-0 stage", countIn(hits, time.Second, 2*time.Second), 1000, 2)
	// The hits of the rate-0 stage must not eat into or inflate the next.
	within(t, "stage 3", countIn(hits, 2*time.Second, 3*time.Second), 10, 1)
}

func TestStagedPacerStopsAtTheEnd(t *testing.T) {
	sp, err := NewStagedPacer([]scenarios.Stage{stage(10, time.Second, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, stop := sp.Pace(time.Second, 0); !stop {
		t.Error("Pace at the end does not stop")
	}
	if _, stop := sp.Pace(500*time.Millisecond, 10); !stop {
		t.Error("Pace after the last hit of the schedule does not stop")
	}
	// Behind schedule: hit 5 was due at 500ms; at 700ms it is due at once.
	if wait, stop := sp.Pace(700*time.Millisecond, 5); stop || wait != 0 {
		t.Errorf("Pace behind schedule = %s, %v; want 0, false", wait, stop)
	}
}

func TestPoissonPacerMeanRateAndSeed(t *testing.T) {
	const rate, secs = 200.0, 500
	sp, err := NewStagedPacer([]scenarios.Stage{stage(rate, secs*time.Second, 0)})
	if err != nil {
		t.Fatal(err)
	}
	hits := schedule(t, NewPoissonPacer(sp, 42), 2*rate*secs, 0)
	mean := float64(len(hits)) / secs
	if math.Abs(mean-rate)/rate > 0.02 {
		t.Errorf("mean rate %.2f/s, want %v/s ± 2%%", mean, rate)
	}
	// Exponential gaps: their standard deviation equals their mean.
	var sum, sumSq float64
	for i := 1; i < len(hits); i++ {
		g := (hits[i] - hits[i-1]).Seconds()
		sum += g
		sumSq += g * g
	}
	n := float64(len(hits) - 1)
	m := sum / n
	cv := math.Sqrt(sumSq/n-m*m) / m
	if math.Abs(cv-1) > 0.05 {
		t.Errorf("gaps' coefficient of variation %.3f, want 1 ± 0.05 (exponential)", cv)
	}

	again := schedule(t, NewPoissonPacer(sp, 42), 2*rate*secs, 0)
	if len(again) != len(hits) {
		t.Fatalf("same seed: %d hits, then %d", len(hits), len(again))
	}
	for i := range hits {
		if hits[i] != again[i] {
			t.Fatalf("same seed: hit %d due at %s, then at %s", i, hits[i], again[i])
		}
	}
	other := schedule(t, NewPoissonPacer(sp, 43), 2*rate*secs, 0)
	if len(other) == len(hits) && other[10] == hits[10] {
		t.Error("another seed gives the same arrivals")
	}
}

func TestPoissonPacerFollowsRamps(t *testing.T) {
	sp, err := NewStagedPacer([]scenarios.Stage{
		stage(1000, 200*time.Second, 100*time.Second), // ramp area 50000, hold 100000
	})
	if err != nil {
		t.Fatal(err)
	}
	hits := schedule(t, NewPoissonPacer(sp, 7), 300000, 0)
	within(t, "ramp", countIn(hits, 0, 100*time.Second), 50000, 0.02*50000)
	within(t, "hold", countIn(hits, 100*time.Second, 200*time.Second), 100000, 0.02*100000)
}

// TestPoissonPacerWrapsVegetaPacers checks the numeric path, for pacers that
// do not know their integral.
func TestPoissonPacerWrapsVegetaPacers(t *testing.T) {
	sine := vegeta.SinePacer{
		Period: 10 * time.Second,
		Mean:   vegeta.Rate{Freq: 100, Per: time.Second},
		Amp:    vegeta.Rate{Freq: 50, Per: time.Second},
	}
	pp := NewPoissonPacer(sine, 1)
	var (
		due  time.Duration
		hits int
	)
	for n := uint64(0); due < 200*time.Second; n++ {
		wait, stop := pp.Pace(due, n)
		if stop {
			t.Fatal("stopped early")
		}
		due += wait
		hits++
	}
	// 20 whole periods: the sine averages out to the mean.
	within(t, "sine", hits, 20000, 0.03*20000)
}

func TestNewPacer(t *testing.T) {
	load := scenarios.LoadShape{Arrival: scenarios.ArrivalPoisson, Stages: []scenarios.Stage{stage(5, 2*time.Second, 0)}}
	p, planned, err := NewPacer(load, 1)
	if err != nil {
		t.Fatal(err)
	}
	if planned != 2*time.Second {
		t.Errorf("planned = %s, want 2s", planned)
	}
	if _, ok := p.(*PoissonPacer); !ok {
		t.Errorf("poisson arrival gives a %T", p)
	}
	if !strings.Contains(p.(*PoissonPacer).String(), "5/s for 2s") {
		t.Errorf("String() = %s", p)
	}
	load.Arrival = ""
	if p, _, _ := NewPacer(load, 1); p == nil {
		t.Error("empty arrival is not constant")
	} else if _, ok := p.(*StagedPacer); !ok {
		t.Errorf("constant arrival gives a %T", p)
	}

	bad := []struct {
		name string
		load scenarios.LoadShape
		want string
	}{
		{"no stages", scenarios.LoadShape{}, "no stages"},
		{"ramp too long", scenarios.LoadShape{Stages: []scenarios.Stage{stage(5, time.Second, 2*time.Second)}}, "longer than"},
		{"zero duration", scenarios.LoadShape{Stages: []scenarios.Stage{stage(5, 0, 0)}}, "duration"},
		{"rate 0 without a cap", scenarios.LoadShape{Stages: []scenarios.Stage{stage(0, time.Second, 0)}}, "max_in_flight"},
		{"ramp to rate 0", scenarios.LoadShape{MaxInFlight: 2, Stages: []scenarios.Stage{stage(0, time.Second, time.Second)}}, "ramp"},
		{"ramp from rate 0", scenarios.LoadShape{MaxInFlight: 2, Stages: []scenarios.Stage{stage(0, time.Second, 0), stage(5, time.Second, time.Second)}}, "ramp"},
		{"unknown arrival", scenarios.LoadShape{Arrival: "bursty", Stages: []scenarios.Stage{stage(5, time.Second, 0)}}, "bursty"},
		{"NaN", scenarios.LoadShape{Stages: []scenarios.Stage{stage(math.NaN(), time.Second, 0)}}, "rate"},
	}
	for _, c := range bad {
		if _, _, err := NewPacer(c.load, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestMeanRate(t *testing.T) {
	sp, _ := NewStagedPacer([]scenarios.Stage{stage(100, 10*time.Second, 10*time.Second)})
	if got := meanRate(sp, sp.Duration()); math.Abs(got-50) > 1e-9 {
		t.Errorf("mean of a ramp 0->100 = %v, want 50", got)
	}
	if got := meanRate(NewPoissonPacer(sp, 1), sp.Duration()); math.Abs(got-50) > 1e-9 {
		t.Errorf("mean of its Poisson version = %v, want 50", got)
	}
	c := vegeta.ConstantPacer{Freq: 30, Per: time.Second}
	if got := meanRate(c, time.Minute); math.Abs(got-30) > 1e-6 {
		t.Errorf("mean of vegeta's constant pacer = %v, want 30", got)
	}
}
