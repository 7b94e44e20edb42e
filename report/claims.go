package report

import "github.com/mcpload/mcpload/report/confidence"

// Claim verdicts.
const (
	ClaimHolds        = "holds"
	ClaimRefuted      = "refuted"
	ClaimInconclusive = "inconclusive"
)

// Claim is one vendor claim of the scenario and its verdict.
type Claim struct {
	Name   string `json:"name"`
	Source string `json:"source,omitempty"`
	Expect string `json:"expect"`
	// Verdict is holds when the whole 95% interval satisfies Expect,
	// refuted when the whole interval breaks it, inconclusive otherwise
	// (and when there was nothing to measure).
	Verdict string `json:"verdict"`
	// Interval is the measured value and its 95% interval, in the
	// metric's base unit (ms, percent).
	Interval confidence.Interval `json:"interval"`
	// Measured is the estimate with its unit, and Range the interval,
	// as in "41.2ms" and "[39.8ms, 42.9ms]".
	Measured string `json:"measured,omitempty"`
	Range    string `json:"range,omitempty"`
	// Note says why a claim is inconclusive, or which key decided.
	Note string `json:"note,omitempty"`
}
