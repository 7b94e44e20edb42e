package policy

import (
	"math"
	"testing"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

func TestBackoffSequences(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		b    Backoff
		u    float64
		want []time.Duration // waits before retries 1, 2, 3, ...
	}{
		{"constant", Backoff{Kind: scenarios.BackoffConstant, Initial: 250 * ms}, 0.9,
			[]time.Duration{250 * ms, 250 * ms, 250 * ms}},
		{"exponential x2, capped", Backoff{Kind: scenarios.BackoffExponential, Initial: 100 * ms, Max: 500 * ms, Multiplier: 2}, 0.9,
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 500 * ms, 500 * ms}},
		{"exponential x3", Backoff{Initial: 10 * ms, Multiplier: 3}, 0,
			[]time.Duration{10 * ms, 30 * ms, 90 * ms, 270 * ms}},
		{"exponential default multiplier", Backoff{Initial: 10 * ms}, 0,
			[]time.Duration{10 * ms, 20 * ms, 40 * ms}},
		{"seed preset: 1 s, 2 s, 4 s", BackoffOf(ptrRetry(scenarios.RetryPresetSeed)), 0.5,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}},
		{"naive preset: no wait", BackoffOf(ptrRetry(scenarios.RetryPresetNaive)), 0.5,
			[]time.Duration{0, 0, 0}},
		{"full jitter: u x wait", Backoff{Initial: 100 * ms, Max: time.Second, Multiplier: 2, Jitter: scenarios.JitterFull}, 0.25,
			[]time.Duration{25 * ms, 50 * ms, 100 * ms, 200 * ms, 250 * ms}},
		{"equal jitter: wait/2 + u x wait/2", Backoff{Initial: 100 * ms, Multiplier: 2, Jitter: scenarios.JitterEqual}, 0.5,
			[]time.Duration{75 * ms, 150 * ms, 300 * ms}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range tc.want {
				if got := tc.b.Wait(i+1, 0, tc.u); got != want {
					t.Fatalf("retry %d: wait %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

func ptrRetry(preset string) *scenarios.Retry {
	r, ok := scenarios.RetryPreset(preset)
	if !ok {
		panic(preset)
	}
	return &r
}

func TestBackoffDecorrelated(t *testing.T) {
	ms := time.Millisecond
	b := Backoff{Kind: scenarios.BackoffDecorrelated, Initial: 100 * ms, Max: 2 * time.Second, Jitter: scenarios.JitterFull}
	// random(initial, 3 x prev): u=0 gives initial, u=1 gives 3 x prev;
	// the first retry grows from initial. Jitter does not apply.
	for _, tc := range []struct {
		prev time.Duration
		u    float64
		want time.Duration
	}{
		{0, 0, 100 * ms},
		{0, 1, 300 * ms},
		{0, 0.5, 200 * ms},
		{300 * ms, 1, 900 * ms},
		{300 * ms, 0.5, 500 * ms},
		{time.Second, 1, 2 * time.Second}, // capped
		{50 * ms, 0, 100 * ms},            // never below initial
	} {
		if got := b.Wait(2, tc.prev, tc.u); got != tc.want {
			t.Errorf("prev %v, u %v: wait %v, want %v", tc.prev, tc.u, got, tc.want)
		}
	}
	// A chain of draws stays within [initial, max] and grows on average.
	prev := time.Duration(0)
	for n := 1; n <= 50; n++ {
		w := b.Wait(n, prev, draw(7, 1, 2, n))
		if w < b.Initial || w > b.Max {
			t.Fatalf("retry %d: wait %v outside [%v, %v]", n, w, b.Initial, b.Max)
		}
		prev = w
	}
}

func TestBackoffJitterBounds(t *testing.T) {
	b := Backoff{Initial: 80 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2}
	for _, jitter := range []string{scenarios.JitterFull, scenarios.JitterEqual} {
		b.Jitter = jitter
		for n := 1; n <= 6; n++ {
			base := Backoff{Initial: b.Initial, Max: b.Max, Multiplier: 2}.Wait(n, 0, 0)
			lo := time.Duration(0)
			if jitter == scenarios.JitterEqual {
				lo = base / 2
			}
			var sum float64
			const draws = 2000
			for i := range draws {
				w := b.Wait(n, 0, draw(99, uint64(i), n, 1))
				if w < lo || w > base {
					t.Fatalf("%s retry %d: wait %v outside [%v, %v]", jitter, n, w, lo, base)
				}
				sum += float64(w)
			}
			// The mean of a uniform draw is the middle of its range.
			mid := float64(lo+base) / 2
			if mean := sum / draws; math.Abs(mean-mid) > 0.05*float64(base) {
				t.Fatalf("%s retry %d: mean wait %v, want about %v", jitter, n, time.Duration(mean), time.Duration(mid))
			}
		}
	}
}

func TestBackoffHugeExponentSaturates(t *testing.T) {
	b := Backoff{Initial: time.Second, Multiplier: 10}
	if w := b.Wait(400, 0, 0); w != math.MaxInt64 {
		t.Fatalf("wait %v, want saturation", w)
	}
}

func TestDrawIsSeededAndUniform(t *testing.T) {
	if draw(1, 2, 3, 4) != draw(1, 2, 3, 4) {
		t.Fatal("same inputs, different draws")
	}
	seen := map[float64]bool{}
	for _, d := range []float64{draw(1, 2, 3, 4), draw(2, 2, 3, 4), draw(1, 3, 3, 4), draw(1, 2, 4, 4), draw(1, 2, 3, 5)} {
		if seen[d] {
			t.Fatalf("draw %v repeats across different inputs", d)
		}
		seen[d] = true
	}
	var buckets [10]int
	for i := range 10000 {
		d := draw(5, uint64(i), i%7, 1)
		if d < 0 || d >= 1 {
			t.Fatalf("draw %v outside [0, 1)", d)
		}
		buckets[int(d*10)]++
	}
	for i, n := range buckets {
		if n < 850 || n > 1150 {
			t.Fatalf("bucket %d holds %d of 10000 draws", i, n)
		}
	}
}
