package summary

import (
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/pricing"
)

// CostBuckets is the number of conversation buckets the cost.saving
// interval resamples: conversations are summed into conv % CostBuckets,
// so that memory stays fixed however long the run. A run of fewer
// conversations has one per bucket, and the bucket bootstrap is the
// cluster bootstrap over conversations; a longer run resamples groups of
// conversations, which are still independent and identically drawn.
const CostBuckets = 512

// ClaimCounts is what claims need from attempts.jsonl beyond the cost
// section's sums, counted in the analyzer's single pass over the file.
type ClaimCounts struct {
	// Avail counts model attempts by attempt key (model:PROVIDER/MODEL)
	// and whether the provider answered.
	Avail map[string]*Answered
	// Usage sums the tokens of model attempts by model key (PROVIDER/MODEL)
	// and conversation bucket, for the cost.saving interval: a price is
	// linear in tokens, so pricing the bucket's sum prices each attempt.
	Usage map[string]*[CostBuckets]pricing.Usage
}

// Answered counts a provider's model attempts by whether it answered.
type Answered struct {
	// Answered counts attempts that got an answer: ok, 429 and other 4xx.
	// A refusal is an answer: the service was up and said no.
	Answered uint64
	// Down counts attempts the provider did not answer: 5xx, timeout,
	// connection and protocol failures.
	Down uint64
}

// Total is the attempts that count towards availability.
func (a Answered) Total() uint64 { return a.Answered + a.Down }

// add counts one attempt.
func (c *ClaimCounts) add(at *record.Attempt) {
	key, ok := strings.CutPrefix(at.Key, record.StepModel+":")
	if at.Kind != record.StepModel || !ok {
		return
	}
	if c.Avail == nil {
		c.Avail, c.Usage = map[string]*Answered{}, map[string]*[CostBuckets]pricing.Usage{}
	}
	switch at.Outcome {
	case record.OutcomeOK, record.Outcome429, record.Outcome4xx:
		c.count(at.Key).Answered++
	case record.Outcome5xx, record.OutcomeTimeout, record.OutcomeConnection, record.OutcomeProtocol, record.OutcomeBadUsage:
		c.count(at.Key).Down++
	default:
		// Canceled (the run stopped, or a hedge won) and breaker_open (no
		// request was sent) say nothing about the provider either way.
	}
	if at.PromptTokens == 0 && at.CompletionTokens == 0 && at.CachedTokens == 0 {
		return
	}
	b := c.Usage[key]
	if b == nil {
		b = &[CostBuckets]pricing.Usage{}
		c.Usage[key] = b
	}
	i := at.Conversation % CostBuckets
	b[i] = b[i].Add(cost.AttemptUsage(at))
}

func (c *ClaimCounts) count(key string) *Answered {
	a := c.Avail[key]
	if a == nil {
		a = &Answered{}
		c.Avail[key] = a
	}
	return a
}
