package summary

import (
	"github.com/mcpload/mcpload/record"
)

// LocalNote is what summary.json and the terminal say of outcome local.
const LocalNote = "mcpload, not the target, was the limit: it ran out of its own descriptors, memory or ports " +
	"(outcome local), so these exchanges never reached the target and say nothing about it; " +
	"see docs/descriptors.md for what to change"

// Local counts the failures that were mcpload's own (outcome local). It
// is present in summary.json only when there were some; success_rate and
// the by_outcome counts include them, so that every conversation is
// counted once.
type Local struct {
	// Attempts is the exchanges that ended local.
	Attempts uint64 `json:"attempts"`
	// Conversations is the conversations that failed local.
	Conversations uint64 `json:"conversations"`
	// Note says that mcpload, not the target, was the limit.
	Note string `json:"note"`
}

// localOf returns run's local failures, or nil when it had none.
func localOf(run *record.Run) *Local {
	l := &Local{
		Attempts:      run.Attempts.ByOutcome[record.OutcomeLocal],
		Conversations: run.Conversations.ByOutcome[record.OutcomeLocal],
		Note:          LocalNote,
	}
	if l.Attempts == 0 && l.Conversations == 0 {
		return nil
	}
	return l
}
