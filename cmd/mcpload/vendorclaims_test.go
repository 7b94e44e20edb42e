package main

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/mcpload/mcpload/report/summary"
)

// TestVendorClaimsRun runs the embedded vendor-claims scenario: the relay
// and the incumbent each get a run, each priced on its own price sheet,
// and only the relay's run judges the relay's claims.
func TestVendorClaimsRun(t *testing.T) {
	// Not in parallel: its gates are latency thresholds.
	dir := filepath.Join(t.TempDir(), "vc")
	code, stdout, stderr := mcpload(t, "run", "vendor-claims", "--duration", "3s", "--out", dir, "--progress", "off")
	if code != exitPass {
		t.Fatalf("exit %d:\n%s\n%s", code, stdout, stderr)
	}
	inc := readSummary(t, filepath.Join(dir, "incumbent"))
	if len(inc.Claims) != 0 {
		t.Errorf("the incumbent's run judged %d claims; the claims are the relay's", len(inc.Claims))
	}
	if inc.Cost == nil || inc.Cost.Catalog != "list-prices" || inc.Cost.Baseline != nil {
		t.Errorf("incumbent cost %+v: want list prices and no baseline", inc.Cost)
	}

	relay := readSummary(t, filepath.Join(dir, "relay"))
	if relay.Cost == nil || relay.Cost.Catalog != "relay-example" || relay.Cost.Baseline == nil {
		t.Fatalf("relay cost %+v: want relay-example against list prices", relay.Cost)
	}
	if len(relay.Claims) != 3 {
		t.Fatalf("relay claims %+v, want 3", relay.Claims)
	}
	for _, c := range relay.Claims {
		switch c.Verdict {
		case summary.ClaimHolds, summary.ClaimRefuted, summary.ClaimInconclusive:
		default:
			t.Errorf("claim %q: verdict %q", c.Name, c.Verdict)
		}
		if c.Interval.N == 0 {
			t.Errorf("claim %q judged on no samples: %s", c.Name, c.Note)
		}
	}
	// The scripted conversation spends the same tokens every time, so the
	// saving is exact: gpt-4.1 at $1.20/$1.20 against $2/$8 per MTok.
	saving := relay.Claims[2]
	want := relay.Cost.Baseline.SavingPercent
	if saving.Verdict != summary.ClaimRefuted || math.Abs(saving.Interval.Estimate-want) > 0.01 || want < 40 || want > 55 {
		t.Errorf("85%% cheaper: %s at %.2f%% (baseline says %.2f%%), want refuted near 47%%", saving.Verdict, saving.Interval.Estimate, want)
	}
	if inc.Cost.PerSuccessfulConversationUSD <= relay.Cost.PerSuccessfulConversationUSD {
		t.Errorf("cost per ok conversation: incumbent $%g, relay $%g; the relay's sheet is cheaper", inc.Cost.PerSuccessfulConversationUSD, relay.Cost.PerSuccessfulConversationUSD)
	}
}
