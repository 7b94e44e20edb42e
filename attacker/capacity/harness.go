package capacity

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mcpload/mcpload/record"
)

// HarnessWarning says, when the probes that decided the answer (those at
// either end of the final bracket) found mcpload itself at its limit, that
// the capacity may be the harness's rather than the target's; "" when
// they did not. A search must never report the generator's ceiling as the
// target's.
func HarnessWarning(probes []record.CapacityProbe, bracket [2]float64) string {
	var limited []string
	var worst float64
	for _, p := range probes {
		if !p.HarnessLimited || (p.Rate != bracket[0] && p.Rate != bracket[1]) {
			continue
		}
		limited = append(limited, p.Dir)
		worst = max(worst, p.ScheduleLagP99MS)
	}
	if len(limited) == 0 {
		return ""
	}
	lag := ""
	if worst > 0 {
		lag = " (schedule lag p99 up to " + strconv.FormatFloat(worst, 'f', 1, 64) + " ms)"
	}
	return fmt.Sprintf("%d of the probes that decided the answer found mcpload itself at its limit%s: %s. "+
		"The capacity may be the harness's, not the target's: see each probe's harness warning, and rerun on a quieter machine or with a larger load.max_in_flight.",
		len(limited), lag, strings.Join(limited, ", "))
}
