package report

import (
	"fmt"
	"io"

	"github.com/mcpload/mcpload/record"
)

// localNote is what summary.json and the terminal say of outcome local.
const localNote = "mcpload, not the target, was the limit: it ran out of its own descriptors, memory or ports " +
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
		Note:          localNote,
	}
	if l.Attempts == 0 && l.Conversations == 0 {
		return nil
	}
	return l
}

// printLocal writes the terminal's line for l, if any: apart from the
// target's failures, and saying whose limit it was.
func printLocal(w io.Writer, l *Local) {
	if l == nil {
		return
	}
	fmt.Fprintf(w, "Harness limit\t[local attempts, conversations]\t%d, %d: %s\n", l.Attempts, l.Conversations, localNote)
}
