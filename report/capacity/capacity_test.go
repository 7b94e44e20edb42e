package capacity

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
)

func sample() *record.Capacity {
	month, per := 1234.5, 0.0002
	return &record.Capacity{
		Schema: record.CapacitySchema, Scenario: "s", Status: "found", Rate: 187.5,
		Bracket: [2]float64{187.5, 200}, Interval: [2]float64{175, 200}, Confidence: 0.75, Tolerance: 0.05, Repeats: 3,
		SLO: []string{"conversation.p99 < 150ms"},
		At:  &record.CapacityAt{Concurrency: 14.2, MeasuredInFlight: 13.9, GoodputPerS: 187, TokensPerS: 540, CostPerConversationUSD: &per, MonthlyCostUSD: &month},
		Probes: []record.CapacityProbe{
			{Rate: 187.5, Pass: true, Dir: "probes/001-rate-187.5", P99MS: 120},
			{Rate: 400, Saturated: true, Reason: "stopped early: backlog", Dir: "probes/002-rate-400", P99MS: 900},
		},
	}
}

func TestGates(t *testing.T) {
	c := sample()
	cases := []struct {
		expr string
		pass bool
		got  float64
	}{
		{"capacity.rate >= 150", true, 187.5},
		{"capacity.rate >= 150/s", true, 187.5},
		{"capacity.rate > 200", false, 187.5},
		{"capacity.interval_low>=175", true, 175},
		{"capacity.concurrency <= 10", false, 14.2},
		{"capacity.goodput != 0", true, 187},
		{"capacity.tokens_per_s < 1000", true, 540},
		{"capacity.monthly_cost_usd <= $2000", true, 1234.5},
		{"capacity.rate == 187.5", true, 187.5},
	}
	for _, tc := range cases {
		g, err := ParseGate(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if v := g.Judge(c); v.Pass != tc.pass || v.Measured != tc.got || v.Expr != tc.expr {
			t.Errorf("%s: %+v, want pass %v measured %g", tc.expr, v, tc.pass, tc.got)
		}
	}
	// A figure the search did not measure fails, with a note.
	c.At.MonthlyCostUSD = nil
	g, _ := ParseGate("capacity.monthly_cost_usd < 1")
	if v := g.Judge(c); v.Pass || !strings.Contains(v.Note, "not priced") {
		t.Errorf("unpriced: %+v", v)
	}
	none := &record.Capacity{Status: "incomplete"}
	g, _ = ParseGate("capacity.rate >= 0")
	if v := g.Judge(none); v.Pass || !strings.Contains(v.Note, "incomplete") {
		t.Errorf("incomplete search: %+v", v)
	}
	for _, bad := range []string{"rate >= 1", "capacity.rate", "capacity.speed > 1", "capacity.rate => 1", "capacity.rate >= x", "capacity.rate >= NaN"} {
		if _, err := ParseGate(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestWriteAndRead(t *testing.T) {
	dir := t.TempDir()
	c := sample()
	c.Gates = []record.CapacityGate{{Expr: "capacity.rate >= 500", Measured: 187.5}}
	c.Warnings = []string{"1 of the probes that decided the answer found mcpload itself at its limit"}
	if err := Write(dir, c, Plot{PNG: "plots/capacity.png", SVG: "plots/capacity.svg", Caption: "cap"}); err != nil {
		t.Fatal(err)
	}
	back, err := Read(dir)
	if err != nil || back.Rate != 187.5 || len(back.Probes) != 2 || back.At == nil || *back.At.MonthlyCostUSD != 1234.5 {
		t.Fatalf("read back %+v, %v", back, err)
	}
	for _, f := range []string{"report.md", "report.html"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"187.5/s", "measured in flight 13.9, within 2%", "[175, 200]/s", "75% confidence", "FAIL", "capacity.rate &gt;= 500", "saturated", "probes/002-rate-400", "plots/capacity.", "Warning (harness):</strong> 1 of the probes"} {
			if f == "report.md" {
				want = strings.ReplaceAll(strings.ReplaceAll(want, "&gt;", ">"), "</strong>", "**")
			}
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("%s lacks %q", f, want)
			}
		}
	}
}
