package live

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mcpload/mcpload/record"
)

// grafanaDashboard is the dashboard shipped for the exporter's metrics.
var grafanaDashboard = filepath.Join("..", "deploy", "grafana", "mcpload.json")

// TestGrafanaDashboardQueriesServedMetrics parses the shipped Grafana
// dashboard and checks that every metric its queries name is one the
// exporter serves for a frame that has every part.
func TestGrafanaDashboardQueriesServedMetrics(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(grafanaDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", grafanaDashboard, err)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "query") {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(exprs) < 10 {
		t.Fatalf("%s: %d queries, want a dashboard", grafanaDashboard, len(exprs))
	}
	served := servedNames(t)
	names := regexp.MustCompile(`mcpload_[a-z_]+`)
	seen := 0
	for _, e := range exprs {
		for _, n := range names.FindAllString(e, -1) {
			seen++
			if !served[n] {
				t.Errorf("%s queries %s, which the exporter does not serve (query %s)", grafanaDashboard, n, e)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no mcpload_ metric in the dashboard's queries")
	}
}

// servedNames returns the series names the exporter serves for a frame
// with every part: a histogram family gives its _bucket, _count and _sum.
func servedNames(t *testing.T) map[string]bool {
	t.Helper()
	hub := NewHub()
	usd := 0.5
	lat := newDist("conversation", histOf(t, 1000, 200000))
	hub.publish(&Frame{
		Run: "r", Scenario: "s", Status: record.StatusRunning, At: time.Now(),
		Conversations: record.Counts{Started: 3, OK: 1, Failed: 1, Dropped: 1, ByOutcome: map[string]uint64{record.Outcome5xx: 1}},
		Attempts:      record.AttemptCounts{Total: 2, ByOutcome: map[string]uint64{record.OutcomeOK: 1, record.Outcome5xx: 1}},
		CostUSD:       &usd,
		Latency:       []*Dist{lat},
		ScheduleLag:   newDist(record.LevelScheduleLag, histOf(t, 10, 900)),
		Harness:       &record.HarnessSample{CPUCores: 0.5, Goroutines: 10},
		Faults:        []Window{{Name: "f", FromS: 1, ToS: 2}},
		Breakers:      []Breaker{{Provider: "p", State: record.BreakerOpen}},
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewMetrics(hub))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, mf := range mfs {
		out[mf.GetName()] = true
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				out[mf.GetName()+s] = true
			}
		}
	}
	return out
}
