// Package plot draws a run folder's plots with gonum/plot, as PNG and SVG
// files in the folder's plots/ directory.
//
// Run draws one run: latency percentiles over time and their whole-run
// distribution (from histograms.hlog), throughput against the target
// rate, attempt outcomes, conversations in flight, client-policy events
// and breaker states (from timeseries.json and the resolved scenario), and
// cost per model (from the summary). Comparison draws the policies of a
// policy comparison side by side. A plot with nothing to show is not
// drawn, and only the files written are returned.
package plot

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

// Dir is the folder, inside a run folder, that holds the plots.
const Dir = "plots"

// File is one plot, drawn twice.
type File struct {
	// Name is the file name without extension, as in "latency".
	Name string `json:"name"`
	// Title is what the plot shows; Caption says how to read it.
	Title   string `json:"title"`
	Caption string `json:"caption,omitempty"`
	// PNG and SVG are paths relative to the run folder.
	PNG string `json:"png"`
	SVG string `json:"svg"`
}

// run is what the plots of one run folder are drawn from.
type run struct {
	dir string
	s   *summary.Summary
	// ts is timeseries.json; nil when the folder has none.
	ts *summary.Timeseries
	// sc is the resolved scenario; nil when the folder has none.
	sc     *scenarios.Scenario
	axis   timeAxis
	faults []faultSpan
	// lat holds the latency series of the tags the plots draw.
	lat  map[string]*latencySeries
	unit unit
}

// unit names what a run counts: conversations, or MCP operations.
type unit struct{ singular, plural string }

// runPlots are the plots of a run, in the order the report shows them.
var runPlots = []struct {
	name string
	draw func(*run) *figure
}{
	{"latency", latencyOverTime},
	{"latency-distribution", latencyDistribution},
	{"throughput", throughput},
	{"attempt-outcomes", attemptOutcomes},
	{"in-flight", inFlight},
	{"schedule-lag", scheduleLag},
	{"resilience", resilience},
	{"cost", cost},
}

// Run draws the plots of the run folder dir, whose summary is s.
func Run(dir string, s *summary.Summary) ([]File, error) {
	if s == nil {
		return nil, errors.New("plots: no summary")
	}
	r, err := loadRun(dir, s)
	if err != nil {
		return nil, err
	}
	figs := make([]*figure, 0, len(runPlots))
	for _, rp := range runPlots {
		if f := rp.draw(r); f != nil {
			figs = append(figs, f)
		}
	}
	return saveAll(dir, figs, runPlotNames())
}

func runPlotNames() []string {
	names := make([]string, len(runPlots))
	for i, rp := range runPlots {
		names[i] = rp.name
	}
	return names
}

// loadRun reads what the plots need from the run folder.
func loadRun(dir string, s *summary.Summary) (*run, error) {
	r := &run{dir: dir, s: s, unit: unit{"conversation", "conversations"}}
	if s.Kind == scenarios.KindMCPDirect {
		r.unit = unit{"operation", "operations"}
	}
	ts, err := summary.ReadTimeseries(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("plots: %w", err)
	default:
		r.ts = ts
	}
	if r.sc, err = runfolder.ReadScenario(dir); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}

	n := 0
	if r.ts != nil {
		n = len(r.ts.T)
		r.faults = faultSpans(r.ts.Faults)
	}
	if n == 0 && s.DurationS > 0 {
		n = int(math.Ceil(s.DurationS))
	}
	r.axis = newTimeAxis(n)

	r.lat, err = readLatency(dir, s.Started, r.axis, wantLatency)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	return r, nil
}

// wantLatency picks the histogram tags the latency-over-time plot draws:
// successful conversations and steps.
func wantLatency(tag string) bool {
	return tag == record.LevelConversation || tag == record.LevelScheduleLag ||
		strings.HasPrefix(tag, record.LevelStep+".") && !strings.HasSuffix(tag, record.FailedSuffix)
}

// saveAll writes figs into dir/plots and removes the files of the other
// known plots, left by an earlier rendering of the folder, so that the
// folder holds what was returned.
func saveAll(dir string, figs []*figure, known []string) ([]File, error) {
	if err := os.MkdirAll(filepath.Join(dir, Dir), 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	files := make([]File, 0, len(figs))
	written := map[string]bool{}
	for _, f := range figs {
		file, err := f.save(dir)
		if err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
		files = append(files, file)
		written[f.name] = true
	}
	for _, name := range known {
		if written[name] {
			continue
		}
		for _, ext := range []string{".png", ".svg"} {
			if err := os.Remove(filepath.Join(dir, Dir, name+ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("plots: %w", err)
			}
		}
	}
	return files, nil
}
