package plot

import (
	"math"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
)

// logLabelDecades is the span of a log axis, in decades, above which only
// powers of ten are labelled.
const logLabelDecades = 2.5

// logTicks marks a log axis: every power of ten, and 2 and 5 times it
// when the axis spans few decades, so that a latency axis from 80 to
// 400 ms still has labels.
type logTicks struct{}

// Ticks implements gonum's Ticker.
func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	if lo <= 0 || hi <= 0 || hi < lo {
		return nil
	}
	steps := []float64{1, 2, 5}
	if math.Log10(hi/lo) > logLabelDecades {
		steps = []float64{1}
	}
	var ticks []gplot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := base * float64(m)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := gplot.Tick{Value: v}
			for _, s := range steps {
				if float64(m) == s {
					t.Label = formatNumber(v)
				}
			}
			if math.Abs(v-lo) <= lo*1e-9 || math.Abs(v-hi) <= hi*1e-9 {
				// Both ends carry a label (fitLog puts them on marks).
				t.Label = formatNumber(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// linearTicks marks a linear axis at a round step (1, 2, 2.5 or 5 times
// a power of ten) that gives about six labels, written without
// trailing zeros: gonum's default pads every label to the precision of
// the finest one.
type linearTicks struct{}

// Ticks implements gonum's Ticker.
func (linearTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []gplot.Tick{{Value: lo, Label: formatNumber(lo)}}
	}
	raw := (hi - lo) / 7
	e := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * e
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*e >= raw {
			step = m * e
			break
		}
	}
	var ticks []gplot.Tick
	first := math.Ceil(lo/step-1e-9) * step
	for k := 0; ; k++ {
		v := first + float64(k)*step
		if v > hi+step*1e-9 {
			break
		}
		v = math.Round(v/step) * step
		ticks = append(ticks, gplot.Tick{Value: v, Label: formatNumber(round(v, step))})
		if mid := v + step/2; mid < hi {
			ticks = append(ticks, gplot.Tick{Value: mid})
		}
	}
	return ticks
}

// round rounds v to the precision of step, against float noise such as
// 0.30000000000000004.
func round(v, step float64) float64 {
	digits := max(0, 1-int(math.Floor(math.Log10(step))))
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// fitLog sets a log axis's range to the 1-2-5 marks around [lo, hi],
// so that both ends carry a label.
func fitLog(a *gplot.Axis, lo, hi float64) {
	if lo <= 0 || math.IsInf(lo, 0) || math.IsNaN(lo) {
		lo = 1
	}
	if hi < lo || math.IsInf(hi, 0) || math.IsNaN(hi) {
		hi = lo
	}
	a.Min, a.Max = niceDown(lo), niceUp(hi)
	if a.Max <= a.Min {
		a.Max = niceUp(a.Min * 1.01)
	}
	a.Scale = gplot.LogScale{}
	a.Tick.Marker = logTicks{}
}

// niceDown is the largest 1, 2 or 5 times a power of ten at or below v.
func niceDown(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{5, 2, 1} {
		if m*e <= v*(1+1e-9) {
			return m * e
		}
	}
	return e
}

// niceUp is the smallest 1, 2 or 5 times a power of ten at or above v.
func niceUp(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v*(1-1e-9) {
			return m * e
		}
	}
	return 10 * e
}

// formatNumber writes v with no exponent and no trailing zeros.
func formatNumber(v float64) string {
	if v != 0 && math.Abs(v) < 0.001 {
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// percentileTicks marks the "1/(1-p)" axis of a percentile distribution:
// 1 is the 0th percentile, 10 the 90th, 100 the 99th, and so on.
type percentileTicks struct{}

// Ticks implements gonum's Ticker.
func (percentileTicks) Ticks(lo, hi float64) []gplot.Tick {
	var ticks []gplot.Tick
	for e := 0; e <= 9; e++ {
		v := math.Pow(10, float64(e))
		if v > hi*(1+1e-9) {
			break
		}
		if v >= lo*(1-1e-9) {
			ticks = append(ticks, gplot.Tick{Value: v, Label: percentileLabel(e)})
		}
		for m := 2; m <= 9 && e < 9; m++ {
			if mv := v * float64(m); mv >= lo && mv <= hi {
				ticks = append(ticks, gplot.Tick{Value: mv})
			}
		}
	}
	return ticks
}

// percentileLabel is the percentile at 10^e on the 1/(1-p) axis: 0%,
// 90%, 99%, 99.9%...
func percentileLabel(e int) string {
	switch e {
	case 0:
		return "0%"
	case 1:
		return "90%"
	case 2:
		return "99%"
	}
	return "99." + strings.Repeat("9", e-2) + "%"
}

// itoa formats an int.
func itoa(n int) string { return strconv.Itoa(n) }
