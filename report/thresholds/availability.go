package thresholds

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

// Availability sums the answered and unanswered model attempts of the
// keys that filters match: every model attempt without a filter. note
// names the keys when several were summed.
func Availability(s *summary.Summary, filters []scenarios.TagFilter) (summary.Answered, string, bool) {
	counts := s.ClaimCounts()
	if counts == nil {
		return summary.Answered{}, "availability is counted from the run folder's attempts.jsonl, which this summary was not built from", false
	}
	var sum summary.Answered
	var keys []string
	for _, key := range slices.Sorted(maps.Keys(counts.Avail)) {
		k, _ := strings.CutPrefix(key, record.StepModel+":")
		if !KeyMatches(key, record.StepModel, filters) {
			continue
		}
		a := counts.Avail[key]
		sum.Answered += a.Answered
		sum.Down += a.Down
		keys = append(keys, k)
	}
	if sum.Total() == 0 {
		what := "no model attempts"
		if len(filters) > 0 {
			what += " match " + FilterText(filters)
		}
		return sum, what + " (or all were canceled or refused by a breaker)", false
	}
	note := ""
	if len(keys) > 1 {
		note = fmt.Sprintf("%d keys summed: %s", len(keys), strings.Join(keys, ", "))
	}
	return sum, note, true
}
