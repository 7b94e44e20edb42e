package runfolder

import (
	"testing"

	"github.com/mcpload/mcpload/report/internal/synth"
)

func TestTornLogKeepsWholeIntervals(t *testing.T) {
	dir := synth.HistogramFolder(t, true)
	hs, err := ReadHistograms(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := hs["conversation"].TotalCount(); n != 1000 {
		t.Errorf("conversation count = %d after a torn tail, want the 1000 whole-line values", n)
	}
}
