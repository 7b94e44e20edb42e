package markdown

import (
	"fmt"
	"strings"

	"github.com/mcpload/mcpload/report/summary"
)

// markdownHarness writes the harness's warnings as a quote under the
// verdict, and its figures in one line.
func markdownHarness(b *strings.Builder, h *summary.Harness) {
	if h == nil {
		return
	}
	for _, msg := range h.Warnings {
		fmt.Fprintf(b, "> ⚠️ **Harness:** %s\n\n", Text(msg))
	}
}
