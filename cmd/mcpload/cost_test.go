package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	costreport "github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/pricing"
)

func TestCostCommandOnQuickstart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, errs := mcpload(t, "run", "quickstart", "--duration", "2s", "--out", dir); code != exitPass {
		t.Fatalf("run exit %d: %s", code, errs)
	}
	s := readSummary(t, dir)
	if s.Cost == nil || s.Cost.Catalog != "list-prices" || !s.Cost.Complete || s.Cost.TotalUSD <= 0 || len(s.Cost.ByModel) == 0 {
		t.Fatalf("summary cost %+v: want quickstart's gpt-4.1-mini priced", s.Cost)
	}
	code, out, errs := mcpload(t, "cost", dir, "--tokens", "500M/month")
	if code != exitPass {
		t.Fatalf("cost exit %d: %s", code, errs)
	}
	for _, want := range []string{"gpt-4.1-mini", "Monthly at 500M tokens/month", "What if", "deepseek-v3.2", "0 tokens"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// what-if is sorted cheapest first: deepseek before claude-sonnet.
	if strings.Index(out, "deepseek-v3.2") > strings.Index(out, "claude-sonnet-4.5") {
		t.Errorf("what-if not sorted by cost:\n%s", out)
	}
	code, out, _ = mcpload(t, "cost", dir, "--catalog", "relay-example", "--volume", "1M")
	if code != exitPass || !strings.Contains(out, "catalog relay-example") || !strings.Contains(out, "unpriced") || !strings.Contains(out, "Monthly at 1M conversations/month") {
		t.Errorf("relay catalog exit %d:\n%s", code, out)
	}
	if code, _, _ := mcpload(t, "cost", dir, "--volume", "lots"); code != exitInvalid {
		t.Errorf("bad volume exit %d, want %d", code, exitInvalid)
	}

	// A relay at a tenth of the list prices, against the list prices, with
	// a volume and switch costs: the payback of switching.
	list := pricing.Default()
	p, ok := list.Lookup("gpt-4.1-mini")
	if !ok || p.CachedInput == nil {
		t.Fatalf("list prices lack gpt-4.1-mini with a cached rate: %+v", p)
	}
	tenth := filepath.Join(t.TempDir(), "tenth.yaml")
	body := fmt.Sprintf("name: tenth\nmodels:\n  - {model: gpt-4.1-mini, input_per_mtok: %g, cached_input_per_mtok: %g, output_per_mtok: %g}\n", p.Input/10, *p.CachedInput/10, p.Output/10)
	if err := os.WriteFile(tenth, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = mcpload(t, "cost", dir, "--catalog", tenth, "--baseline", "list-prices", "--volume", "2M/month", "--hours", "40", "--hourly-rate", "100")
	if code != exitPass {
		t.Fatalf("payback exit %d: %s", code, errs)
	}
	for _, want := range []string{"catalog tenth", "on list-prices: saving 90.00%", "Monthly at 2M conversations/month", "40 h × $100.00/h = $4,000.00", "12-month ROI", "months"} {
		if !strings.Contains(out, want) {
			t.Errorf("payback output lacks %q:\n%s", want, out)
		}
	}
	// The monthly figures follow from the summary: the run's list-price
	// total scaled to 2M conversations, and a tenth of it at the relay.
	listUSD := s.Cost.TotalUSD * 2e6 / float64(s.Conversations.Started)
	for _, want := range []string{costreport.USD(roundCents(listUSD / 10)), "(baseline " + costreport.USD(roundCents(listUSD)) + ")"} {
		if !strings.Contains(out, want) {
			t.Errorf("payback output lacks %q (from the summary's $%g list-price total):\n%s", want, s.Cost.TotalUSD, out)
		}
	}
	if code, out, _ = mcpload(t, "cost", dir, "--catalog", tenth, "--baseline", "none", "--tokens", "500M", "--hours", "1"); code != exitPass || strings.Contains(out, "Baseline ") || strings.Contains(out, "Payback ") || !strings.Contains(out, "no payback") {
		t.Errorf("--baseline none exit %d:\n%s", code, out)
	}

	gone := filepath.Join(t.TempDir(), "gone.yaml")
	if code, _, errs := mcpload(t, "cost", dir, "--catalog", gone); code != exitInvalid || !strings.Contains(errs, gone) {
		t.Errorf("missing catalog exit %d, stderr %q: want %d naming the file", code, errs, exitInvalid)
	}
	if code, _, _ := mcpload(t, "cost", dir, "--volume", "1M", "--tokens", "1M"); code != exitInvalid {
		t.Errorf("--volume with --tokens exit %d, want %d", code, exitInvalid)
	}
	if code, _, _ := mcpload(t, "cost", dir, "--hours", "-1"); code != exitInvalid {
		t.Errorf("negative hours exit %d, want %d", code, exitInvalid)
	}
}

// roundCents rounds as the printed figures do, so that a sum that lands
// on half a cent compares alike.
func roundCents(v float64) float64 { return math.Round(v*100) / 100 }

func TestParseVolume(t *testing.T) {
	for in, want := range map[string]float64{"500M": 5e8, "500M/month": 5e8, "2.5k": 2500, "1e6": 1e6, "3B": 3e9} {
		if got, err := parseVolume(in); err != nil || got != want {
			t.Errorf("parseVolume(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "0", "M", "ten"} {
		if _, err := parseVolume(bad); err == nil {
			t.Errorf("parseVolume(%q) accepted", bad)
		}
	}
}
