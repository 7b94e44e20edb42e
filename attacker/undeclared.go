package attacker

import (
	"strconv"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
)

// maxToolNameShown is how much of an undeclared tool's name attempts.jsonl
// keeps: a declared name has at most 64 characters.
const maxToolNameShown = 64

// undeclaredKey is the step and attempt key of every undeclared tool.
var undeclaredKey = record.ToolKey(record.UndeclaredTool)

// undeclaredTool answers a call, as step step, to a tool the scenario does
// not declare. The model picks such names, so they share one key
// (record.UndeclaredTool) instead of one histogram each; the name, redacted
// and cut short, goes into the call's line of attempts.jsonl only, as an
// attempt that was never sent (status 0). The model is told, as a real
// agent would tell it, and the conversation is spoiled with tool_error.
func (c *conversation) undeclaredTool(turn, step int, name string) (string, bool) {
	start := time.Now()
	shown := strconv.Quote(httpx.Truncate(c.j.redact.Redact(name), maxToolNameShown))
	c.sink.Attempt(&record.Attempt{
		Conversation: c.seq,
		Step:         step,
		Kind:         record.StepTool,
		Key:          undeclaredKey,
		Attempt:      1,
		Start:        start,
		Outcome:      record.OutcomeToolError,
		Error:        "undeclared tool " + shown,
	})
	c.sink.Step(StepRecord{
		Conversation: c.seq,
		Kind:         record.StepTool,
		Key:          undeclaredKey,
		Start:        start,
		Latency:      time.Since(start),
		Outcome:      record.OutcomeToolError,
	})
	c.spoil(record.OutcomeToolError, "turn "+strconv.Itoa(turn+1)+", tool "+record.UndeclaredTool+
		": the model called a tool the scenario does not declare (its name is in attempts.jsonl)")
	return "error: unknown tool " + shown, true
}
