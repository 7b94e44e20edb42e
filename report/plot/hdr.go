package plot

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
)

// Percentile distributions.
const (
	// maxAttemptSeries is how many attempt keys the distribution draws
	// before it leaves them all out.
	maxAttemptSeries = 6
	// minSeriesCount is the fewest values a key needs to be drawn: MCP
	// session set-up makes a handful of attempts, too few for a curve.
	minSeriesCount = 10
)

// latencyDistribution draws the whole run's percentile distribution of
// every level on HdrHistogram's "1/(1-p)" axis, from the .hgrm files
// report.Write leaves, as HdrHistogram's plotter reads them: the
// conversation, the service time, each step key, and each attempt key in
// the colour of its step, dashed.
func latencyDistribution(r *run) *figure {
	type curve struct {
		label string
		tag   string
		style lineSpec
	}
	l := r.s.LatencyMS
	var curves []curve
	add := func(label, tag string, st *summary.Stats, style lineSpec) {
		if st != nil && st.Count >= minSeriesCount {
			curves = append(curves, curve{label, tag, style})
		}
	}
	add(r.unit.singular, record.LevelConversation, l.Conversation, lineSpec{colTarget, 2, solidLine})
	add(r.unit.singular+", failed", record.LevelConversation+record.FailedSuffix, l.ConversationFailed, lineSpec{colFailed, 1.6, dottedLine})
	add("service time (from actual start)", record.LevelService, l.Service, lineSpec{rgb(0x99, 0x99, 0x99), 1.6, dashedLine})

	stepColor := map[string]int{}
	for i, key := range sortedKeys(l.Step) {
		stepColor[key] = i
		add("step "+key, record.Tag(record.LevelStep, key), l.Step[key], lineSpec{seriesColor(i), 1.5, solidLine})
	}
	// Attempt and TTFT keys, in their step's colour.
	var attempts []string
	for _, key := range sortedKeys(l.Attempt) {
		if _, ok := stepColor[stepOfAttempt(key)]; ok && l.Attempt[key].Count >= minSeriesCount {
			attempts = append(attempts, key)
		}
	}
	note := ""
	if len(attempts) > maxAttemptSeries {
		note = itoa(len(attempts)) + " attempt keys left out: see attempt.*.hgrm"
		attempts = nil
	}
	for _, key := range attempts {
		add("attempt "+key, record.Tag(record.LevelAttempt, key), l.Attempt[key], lineSpec{seriesColor(stepColor[stepOfAttempt(key)]), 1.2, dashedLine})
	}
	for _, key := range sortedKeys(l.TTFT) {
		if i, ok := stepColor[key]; ok {
			add("TTFT "+key, record.Tag(record.LevelTTFT, key), l.TTFT[key], lineSpec{seriesColor(i), 1.2, dottedLine})
		}
	}
	// Streams: the first tool call and the inter-token gaps of each
	// attempt key, in their step's colour, as many as attempt keys.
	for _, lv := range []struct {
		label, level string
		m            map[string]*summary.Stats
		style        func(i int) lineSpec
	}{
		{"first tool call ", record.LevelFirstToolCall, l.FirstToolCall, func(i int) lineSpec { return lineSpec{seriesColor(i), 2, dottedLine} }},
		{"inter-token ", record.LevelInterToken, l.InterToken, func(i int) lineSpec { return lineSpec{seriesColor(i), 0.8, solidLine} }},
	} {
		keys := sortedKeys(lv.m)
		if len(keys) > maxAttemptSeries {
			if note != "" {
				note += "; "
			}
			note += itoa(len(keys)) + " " + strings.TrimSpace(lv.label) + " keys left out: see " + lv.level + ".*.hgrm"
			continue
		}
		for _, key := range keys {
			if i, ok := stepColor[stepOfAttempt(key)]; ok {
				add(lv.label+key, record.Tag(lv.level, key), lv.m[key], lv.style(i))
			}
		}
	}

	p := newPlot("", "percentile", "latency (ms)")
	g := newLegend()
	lo, hi, xmax := math.Inf(1), math.Inf(-1), 10.0
	drawn := 0
	for _, c := range curves {
		pts, err := readHgrm(filepath.Join(r.dir, runfolder.HgrmFile(c.tag)))
		if err != nil || len(pts) == 0 {
			continue
		}
		xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
		for i, pt := range pts {
			xs[i], ys[i] = pt.X, pt.Y
			lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
			xmax = math.Max(xmax, pt.X)
		}
		g.add(c.label, addLine(p, xs, ys, c.style.style()))
		drawn++
	}
	if drawn == 0 {
		return nil
	}
	p.X.Scale = gplot.LogScale{}
	p.X.Tick.Marker = percentileTicks{}
	p.X.Min, p.X.Max = 1, xmax*1.15
	fitLog(&p.Y, lo, hi)
	return &figure{
		name:  "latency-distribution",
		title: "Latency percentile distribution",
		caption: "Each level's latency over the whole run at every percentile, on HdrHistogram's 1/(1-p) axis, from the " +
			".hgrm files: the tail stretches to the right. Steps include their retries and backoff; attempts (dashed) " +
			"are single HTTP exchanges, in their step's colour. Streams add time to first token (dotted), the first " +
			"tool call (thick dots) and every inter-token gap (thin). Successes only, but for the failed " + r.unit.plural + ".",
		panels: []*gplot.Plot{p},
		legend: g,
		note:   note,
	}
}

// stepOfAttempt maps an attempt key to its step key: a model attempt
// (model:PROVIDER/MODEL) to its provider's step, a tool's to itself.
func stepOfAttempt(key string) string {
	if rest, ok := strings.CutPrefix(key, record.StepModel+":"); ok {
		provider, _, _ := strings.Cut(rest, "/")
		return record.ModelKey(provider)
	}
	return key
}

// readHgrm reads a percentile distribution file, as
// hdrhistogram.PercentilesPrint writes it: x is 1/(1-p), y the value in
// milliseconds. The 100th percentile, at infinity, is left out. A missing
// file gives no points.
func readHgrm(path string) (plotter.XYs, error) {
	f, err := record.OpenRegular(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	var pts plotter.XYs
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 4 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		v, err1 := strconv.ParseFloat(fields[0], 64)
		x, err2 := strconv.ParseFloat(fields[3], 64)
		if err1 != nil || err2 != nil || math.IsInf(x, 0) || math.IsNaN(x) || x < 1 {
			continue
		}
		pts = append(pts, plotter.XY{X: x, Y: v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	return pts, nil
}
