package markdown

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/internal/sample"
	"github.com/mcpload/mcpload/report/thresholds"
)

func TestWriteMarkdown(t *testing.T) {
	s := sample.Summary()
	s.Thresholds = thresholds.Evaluate(s, []string{"conversation.p99 < 2s", "success_rate >= 90%"})
	var b bytes.Buffer
	if err := Write(&b, s); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	lines := strings.Split(md, "\n")
	// The verdict comes first.
	if lines[0] != "### mcpload `synthetic`: ❌ FAIL" {
		t.Errorf("first line = %q, want the verdict", lines[0])
	}
	for _, want := range []string{
		"1 of 2 thresholds failed: `conversation.p99 < 2s`.",
		"| ❌ | `conversation.p99 < 2s` | 2.41s | 2s |",
		"| ✅ | `success_rate >= 90%` | 95% | 90% |",
		"| 196 | 190 | 6 | 4 | 95.00% |",
		"| conversation | 190 | 165.0 | 150.0 | 270.0 | 2410.0 | 3615.0 | 4820.0 |",
		"| step tool:get\\_weather | 380 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	// Every table row has as many cells as its header.
	cells := 0
	for _, l := range lines {
		if !strings.HasPrefix(l, "|") {
			cells = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|")
		if cells == 0 {
			cells = n
		} else if n != cells {
			t.Errorf("row %q has %d pipes, its header %d", l, n, cells)
		}
	}

	s.Thresholds = thresholds.Evaluate(s, []string{"success_rate >= 90%"})
	b.Reset()
	if err := Write(&b, s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "### mcpload `synthetic`: ✅ PASS\n\nThe threshold passed.") {
		t.Errorf("passing report.md starts:\n%s", b.String())
	}
	s.Status = record.StatusInterrupted
	b.Reset()
	if err := Write(&b, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "⚠️ INTERRUPTED") {
		t.Errorf("interrupted run's report.md:\n%s", b.String())
	}
}
