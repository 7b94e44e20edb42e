package capacity

import (
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
)

func TestHarnessWarning(t *testing.T) {
	probes := []record.CapacityProbe{
		{Rate: 100, Dir: "probes/001", HarnessLimited: true, ScheduleLagP99MS: 40}, // not at the bracket
		{Rate: 200, Dir: "probes/002", Pass: true},
		{Rate: 400, Dir: "probes/003", HarnessLimited: true, ScheduleLagP99MS: 12.5},
	}
	if w := HarnessWarning(probes, [2]float64{200, 400}); !strings.Contains(w, "1 of the probes") || !strings.Contains(w, "probes/003") ||
		strings.Contains(w, "probes/001") || !strings.Contains(w, "12.5 ms") {
		t.Errorf("warning %q", w)
	}
	probes[2].HarnessLimited = false
	if w := HarnessWarning(probes, [2]float64{200, 400}); w != "" {
		t.Errorf("no limited probe at the bracket, yet %q", w)
	}
}
