package main

import (
	"path/filepath"
	"strings"
	"testing"
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
}

func TestParseVolume(t *testing.T) {
	for in, want := range map[string]float64{"500M": 5e8, "500M/month": 5e8, "2.5k": 2500, "1e6": 1e6, "3B": 3e9} {
		if got, err := parseVolume(in); err != nil || got != want {
			t.Errorf("parseVolume(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "M", "ten"} {
		if _, err := parseVolume(bad); err == nil {
			t.Errorf("parseVolume(%q) accepted", bad)
		}
	}
}
