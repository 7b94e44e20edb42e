package thresholds

import (
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

// StopThreshold prefixes the stop_reason of a run that a threshold with
// abort_on_fail stopped: such a run failed its gate, whatever its partial
// figures say.
const StopThreshold = "threshold failed: "

// Verdicts of a policy's run (PolicyRow.Verdict).
const (
	VerdictPass = "pass"
	VerdictFail = "fail"
	// VerdictExpectedFail is a fail of a policy with expect: fail, the
	// baseline meant to lose: it does not fail the comparison.
	VerdictExpectedFail = "expected_fail"
	// VerdictUnexpectedPass is a pass of a policy with expect: fail: the
	// baseline no longer loses, so the comparison no longer shows what it
	// was written to show.
	VerdictUnexpectedPass = "unexpected_pass"
)

// Judgement is a run's verdict against what its policy expects.
type Judgement struct {
	// Failed says whether the run failed its gate: a threshold failed, or
	// one stopped it (abort_on_fail).
	Failed bool
	// Verdict is one of the Verdict constants.
	Verdict string
	// Met says whether the verdict is the one expected: false makes
	// `mcpload run` exit 3.
	Met bool
}

// Judge gives the verdict of the run s for a policy that expects expect
// ("", "pass" or "fail"; see scenarios.Policy.Expect). An interrupted run
// is judged on what it recorded; the caller decides what an interruption
// means.
func Judge(s *summary.Summary, expect string) Judgement {
	j := Judgement{Failed: len(Failed(s.Thresholds)) > 0 ||
		s.Status == record.StatusAborted && strings.HasPrefix(s.StopReason, StopThreshold)}
	switch {
	case expect == scenarios.ExpectFail && j.Failed:
		j.Verdict, j.Met = VerdictExpectedFail, true
	case expect == scenarios.ExpectFail:
		j.Verdict = VerdictUnexpectedPass
	case j.Failed:
		j.Verdict = VerdictFail
	default:
		j.Verdict, j.Met = VerdictPass, true
	}
	return j
}

// VerdictText is a verdict as the tables print it: "expected fail".
func VerdictText(v string) string { return strings.ReplaceAll(v, "_", " ") }
