package report

import (
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/pricing"
)

// costBuckets is the number of conversation buckets the cost.saving
// interval resamples: conversations are summed into conv % costBuckets,
// so that memory stays fixed however long the run. A run of fewer
// conversations has one per bucket, and the bucket bootstrap is the
// cluster bootstrap over conversations; a longer run resamples groups of
// conversations, which are still independent and identically drawn.
const costBuckets = 512

// claimCounts is what claims need from attempts.jsonl beyond the cost
// section's sums, counted in the analyzer's single pass over the file.
type claimCounts struct {
	// avail counts model attempts by attempt key (model:PROVIDER/MODEL)
	// and whether the provider answered.
	avail map[string]*answered
	// usage sums the tokens of model attempts by model key (PROVIDER/MODEL)
	// and conversation bucket, for the cost.saving interval: a price is
	// linear in tokens, so pricing the bucket's sum prices each attempt.
	usage map[string]*[costBuckets]pricing.Usage
}

// answered counts a provider's model attempts by whether it answered.
type answered struct {
	// Answered counts attempts that got an answer: ok, 429 and other 4xx.
	// A refusal is an answer: the service was up and said no.
	Answered uint64
	// Down counts attempts the provider did not answer: 5xx, timeout,
	// connection and protocol failures.
	Down uint64
}

// Total is the attempts that count towards availability.
func (a answered) Total() uint64 { return a.Answered + a.Down }

// add counts one attempt.
func (c *claimCounts) add(at *record.Attempt) {
	key, ok := strings.CutPrefix(at.Key, record.StepModel+":")
	if at.Kind != record.StepModel || !ok {
		return
	}
	if c.avail == nil {
		c.avail, c.usage = map[string]*answered{}, map[string]*[costBuckets]pricing.Usage{}
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
	b := c.usage[key]
	if b == nil {
		b = &[costBuckets]pricing.Usage{}
		c.usage[key] = b
	}
	i := at.Conversation % costBuckets
	b[i] = b[i].Add(pricing.Usage{Prompt: reportedTokens(at.PromptTokens), Cached: reportedTokens(at.CachedTokens), Completion: reportedTokens(at.CompletionTokens)})
}

func (c *claimCounts) count(key string) *answered {
	a := c.avail[key]
	if a == nil {
		a = &answered{}
		c.avail[key] = a
	}
	return a
}
