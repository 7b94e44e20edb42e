package plot

import (
	"slices"
	"testing"

	gplot "gonum.org/v1/plot"
)

func tickLabels(ts []gplot.Tick) []string {
	var out []string
	for _, t := range ts {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

func TestPercentileTicks(t *testing.T) {
	got := tickLabels(percentileTicks{}.Ticks(1, 20000))
	want := []string{"0%", "90%", "99%", "99.9%", "99.99%"}
	if !slices.Equal(got, want) {
		t.Errorf("percentile labels = %v, want %v", got, want)
	}
}

func TestLinearTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 1.08, []string{"0", "0.2", "0.4", "0.6", "0.8", "1"}},
		{0, 130, []string{"0", "20", "40", "60", "80", "100", "120"}},
		{0, 601, []string{"0", "100", "200", "300", "400", "500", "600"}},
		{0, 21, []string{"0", "5", "10", "15", "20"}},
	} {
		if got := tickLabels(linearTicks{}.Ticks(c.lo, c.hi)); !slices.Equal(got, c.want) {
			t.Errorf("ticks of [%v, %v] = %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
}

func TestFitLog(t *testing.T) {
	p := newPlot("", "", "")
	fitLog(&p.Y, 83, 412)
	if p.Y.Min != 50 || p.Y.Max != 500 {
		t.Errorf("log axis of [83, 412] = [%v, %v], want [50, 500]", p.Y.Min, p.Y.Max)
	}
	// Both ends and the 1-2-5 marks between them are labelled.
	got := tickLabels(p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max))
	if want := []string{"50", "100", "200", "500"}; !slices.Equal(got, want) {
		t.Errorf("log labels = %v, want %v", got, want)
	}
	// Over many decades, powers of ten and the ends.
	fitLog(&p.Y, 4, 3100)
	got = tickLabels(p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max))
	if want := []string{"2", "10", "100", "1000", "5000"}; !slices.Equal(got, want) {
		t.Errorf("log labels = %v, want %v", got, want)
	}
}
