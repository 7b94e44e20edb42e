package plot

import (
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/summary"
)

// checkFiles asserts that every file exists, that each PNG decodes at
// 900 px wide and its expected height (450 px unless heights says
// otherwise) with more than a background in it, and that each SVG is
// well-formed XML with an <svg> root.
func checkFiles(t *testing.T, dir string, files []File, heights map[string]int) {
	t.Helper()
	for _, f := range files {
		if f.Title == "" || f.Caption == "" {
			t.Errorf("%s: title %q, caption %q: both are shown by the report", f.Name, f.Title, f.Caption)
		}
		in, err := os.Open(filepath.Join(dir, f.PNG))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(in)
		in.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.PNG, err)
		}
		want := 450
		if h, ok := heights[f.Name]; ok {
			want = h
		}
		if b := img.Bounds(); b.Dx() != 900 || b.Dy() != want {
			t.Errorf("%s is %dx%d, want 900x%d", f.PNG, b.Dx(), b.Dy(), want)
		}
		colors := map[[4]uint32]bool{}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y && len(colors) < 20; y += 3 {
			for x := b.Min.X; x < b.Max.X; x += 3 {
				r, g, bl, a := img.At(x, y).RGBA()
				colors[[4]uint32{r, g, bl, a}] = true
			}
		}
		if len(colors) < 10 {
			t.Errorf("%s has %d colours: nothing drawn?", f.PNG, len(colors))
		}

		in, err = os.Open(filepath.Join(dir, f.SVG))
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(in)
		root := ""
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f.SVG, err)
			}
			if se, ok := tok.(xml.StartElement); ok && root == "" {
				root = se.Name.Local
			}
		}
		in.Close()
		if root != "svg" {
			t.Errorf("%s: root element %q, want svg", f.SVG, root)
		}
	}
}

func names(files []File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Name
	}
	return out
}

func TestRunDrawsEveryPlot(t *testing.T) {
	t.Parallel()
	dir := stormRun(t, true).write("")
	s, err := report.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Run(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"latency", "latency-distribution", "throughput", "attempt-outcomes", "in-flight", "resilience", "cost"}
	if got := names(files); !slices.Equal(got, want) {
		t.Fatalf("plots = %v, want %v", got, want)
	}
	// The latency plot has a panel for the conversation and one per step
	// key (model:primary, model:secondary, tool:get_weather).
	checkFiles(t, dir, files, map[string]int{"latency": 70 + 170*4, "resilience": 544, "cost": 234})

	// The analyzer's attempt outcomes, which the outcome plot draws: from
	// 4 s to 7 s, five conversations a second each send two primary
	// attempts that fail with 5xx.
	ts, err := summary.ReadTimeseries(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range ts.AttemptOutcomes["5xx"] {
		want := uint64(0)
		if i >= 4 && i < 7 {
			want = 10
		}
		if n != want {
			t.Errorf("5xx attempts in second %d = %d, want %d", i, n, want)
		}
	}
	// Every attempt has one outcome: the series add up to all 55
	// conversations' two attempts, and the 15 in the fault's two more.
	var sum uint64
	for _, v := range ts.AttemptOutcomes {
		sum += total(v)
	}
	if want := uint64(55*2 + 15*2); sum != want {
		t.Errorf("attempts by outcome add up to %d, want %d", sum, want)
	}
}

func TestRunSkipsEmptyPlots(t *testing.T) {
	t.Parallel()
	dir := stormRun(t, false).write("")
	s, err := report.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A plot left by an earlier rendering, which has nothing to show now.
	must(t, os.MkdirAll(filepath.Join(dir, Dir), 0o755))
	stale := filepath.Join(dir, Dir, "resilience.png")
	must(t, os.WriteFile(stale, []byte("old"), 0o644))

	files, err := Run(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	// No failed attempt, no policy event, no fault: no outcome or
	// resilience plot.
	want := []string{"latency", "latency-distribution", "throughput", "in-flight", "cost"}
	if got := names(files); !slices.Equal(got, want) {
		t.Fatalf("plots = %v, want %v", got, want)
	}
	checkFiles(t, dir, files, map[string]int{"latency": 70 + 170*3, "cost": 192})
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale %s left behind (err %v)", stale, err)
	}
}

func TestComparison(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var runs []compare.PolicyRun
	for _, name := range []string{"retry", "fallback"} {
		pdir := stormRun(t, true).write(filepath.Join(dir, name))
		runs = append(runs, compare.PolicyRun{Name: name, Dir: pdir})
	}
	cmp, err := compare.Policies(runs)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Comparison(dir, cmp)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"policies", "policy-success", "policy-load"}
	if got := names(files); !slices.Equal(got, want) {
		t.Fatalf("plots = %v, want %v", got, want)
	}
	// Six panels (success, p99, amplification, peak load, cost,
	// recovery) in three rows of two policies each.
	checkFiles(t, dir, files, map[string]int{"policies": 70 + 40*4*3})
}

// TestInFlight checks the analyzer's in-flight series on known
// conversations: three overlapping ones and a dropped one, which never
// was in flight.
func TestInFlight(t *testing.T) {
	s := newSynthRun(t, 2)
	s.conversation(0.0, 1000*time.Millisecond, "")
	s.conversation(0.2, 1000*time.Millisecond, "")
	s.conversation(0.5, 1000*time.Millisecond, "timeout: deadline exceeded")
	s.conversation(0.3, 0, "dropped: max_in_flight")
	dir := s.write("")
	if _, err := report.Write(dir); err != nil {
		t.Fatal(err)
	}
	ts, err := summary.ReadTimeseries(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Second 0: in flight for 1, 0.8 and 0.5 s, all three at once from
	// 0.5 s. Second 1: for 0, 0.2 and 0.5 s, two at once until 1.2 s.
	wantMean, wantMax := []float64{2.3, 0.7}, []uint64{3, 2}
	if len(ts.InFlightMean) != 2 || len(ts.InFlightMax) != 2 {
		t.Fatalf("in-flight series of %d and %d seconds, want 2", len(ts.InFlightMean), len(ts.InFlightMax))
	}
	for i := range 2 {
		if math.Abs(ts.InFlightMean[i]-wantMean[i]) > 0.011 || ts.InFlightMax[i] != wantMax[i] {
			t.Errorf("second %d: in flight mean %v max %d, want %v and %d", i, ts.InFlightMean[i], ts.InFlightMax[i], wantMean[i], wantMax[i])
		}
	}
}
