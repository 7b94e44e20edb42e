package text

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
)

// TestLocalShownApart: failures that were mcpload's own are counted in
// summary.json's local object and printed on a line of their own that
// says the target was not the limit; a run without any has neither.
func TestLocalShownApart(t *testing.T) {
	run := &record.Run{
		Scenario:      "s",
		Conversations: record.Counts{Started: 10, OK: 6, Failed: 4, ByOutcome: map[string]uint64{record.OutcomeLocal: 3, record.OutcomeTimeout: 1}},
		Attempts:      record.AttemptCounts{Total: 12, ByOutcome: map[string]uint64{record.OutcomeOK: 7, record.OutcomeLocal: 4, record.OutcomeTimeout: 1}},
	}
	s := summary.NewSummary(run, runfolder.Histograms{})
	if s.Local == nil || s.Local.Attempts != 4 || s.Local.Conversations != 3 || !strings.Contains(s.Local.Note, "not the target") {
		t.Fatalf("local = %+v", s.Local)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"local":{"attempts":4,"conversations":3,"note":"mcpload, not the target, was the limit`) {
		t.Errorf("summary.json lacks the local object:\n%s", b)
	}
	var out bytes.Buffer
	if err := Print(&out, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Harness limit") || !strings.Contains(out.String(), "4, 3: mcpload, not the target, was the limit") {
		t.Errorf("the terminal summary does not show local apart:\n%s", out.String())
	}

	delete(run.Conversations.ByOutcome, record.OutcomeLocal)
	delete(run.Attempts.ByOutcome, record.OutcomeLocal)
	s = summary.NewSummary(run, runfolder.Histograms{})
	out.Reset()
	if err := Print(&out, s); err != nil {
		t.Fatal(err)
	}
	if s.Local != nil || strings.Contains(out.String(), "Harness limit") {
		t.Errorf("a run without local failures shows some: %+v\n%s", s.Local, out.String())
	}
}
