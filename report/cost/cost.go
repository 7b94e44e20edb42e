// Package cost prices a run: the tokens its model attempts reported, on a
// price catalog (package pricing), compared with a baseline catalog,
// projected to a monthly volume, with the payback of switching and what
// the same usage costs on every other model. Package summary puts the
// result in summary.json's cost section; the renderers show it.
package cost

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/runfolder"
)

// Assumption states how attempts without usage are priced.
const Assumption = "attempts that failed without reporting usage are counted as 0 tokens: providers do not bill requests that return no completion"

// ModelCost is the usage and price of one provider's model.
type ModelCost struct {
	// Model is PROVIDER/MODEL, as in the attempt key.
	Model    string `json:"model"`
	Attempts int64  `json:"attempts"`
	pricing.Usage
	// USD is nil when the catalog has no price for the model.
	USD *float64 `json:"usd"`
	// RetryUSD is the part of USD spent on attempts that failed.
	RetryUSD float64 `json:"retry_usd"`
	// CatalogEntry is the catalog's entry the model was priced with, and
	// CatalogProvider its vendor: with LiteLLM's map, one id can be sold
	// by several (pricing.LookupFor says which is chosen).
	CatalogEntry    string `json:"catalog_entry,omitempty"`
	CatalogProvider string `json:"catalog_provider,omitempty"`
}

// ModelUsage sums the tokens of model attempts by attempt key
// (PROVIDER/MODEL): what pricing needs from attempts.jsonl.
type ModelUsage map[string]*usageAcc

type usageAcc struct {
	attempts     int64
	usage, retry pricing.Usage
}

// Add counts one attempt; other kinds than model attempts count nothing.
func (m ModelUsage) Add(a *record.Attempt) {
	key, ok := strings.CutPrefix(a.Key, record.StepModel+":")
	if a.Kind != record.StepModel || !ok {
		return
	}
	acc := m[key]
	if acc == nil {
		acc = &usageAcc{}
		m[key] = acc
	}
	u := AttemptUsage(a)
	acc.attempts++
	acc.usage = acc.usage.Add(u)
	// Retries only follow failures, so a failed attempt's usage is what
	// retrying cost; a hedge's loser is canceled, hence failed.
	if a.Outcome != record.OutcomeOK {
		acc.retry = acc.retry.Add(u)
	}
}

// reportedTokens is a count of attempts.jsonl as pricing takes it: from 0
// to record.MaxReportedTokens. The attacker classifies answers outside that
// range as bad_usage and records no tokens for them; a run folder written
// otherwise (an older mcpload, a hand-edited file) must still not price a
// run below 0.
func reportedTokens(n int) int64 { return int64(min(max(n, 0), record.MaxReportedTokens)) }

// AttemptUsage is the usage an attempt reported, as pricing takes it (see
// reportedTokens).
func AttemptUsage(a *record.Attempt) pricing.Usage {
	return pricing.Usage{Prompt: reportedTokens(a.PromptTokens), Cached: reportedTokens(a.CachedTokens), Completion: reportedTokens(a.CompletionTokens)}
}

// Measured is what pricing takes of a run besides its model usage.
type Measured struct {
	// Started and OK are the run's started and ok conversations, which
	// the per-conversation figures divide by.
	Started, OK uint64
	// TokensSaved is the response cache's tokens_saved_estimate (see
	// summary.CacheEffect); 0 for none.
	TokensSaved int64
	// Usage is the model usage of a single pass over attempts.jsonl that
	// the caller made already; nil has PriceRun read the file.
	Usage ModelUsage
}

// PriceRun prices the model attempts of the run in dir with cat and
// returns the cost section of its summary. A summary's single pass over
// attempts.jsonl already holds the token sums (in.Usage); without them the
// file is read here.
func PriceRun(dir string, in Measured, cat *pricing.Catalog) (*Cost, error) {
	byKey := in.Usage
	if byKey == nil {
		byKey = ModelUsage{}
		if _, err := runfolder.EachJSONLine(dir, record.AttemptsFile, byKey.Add); err != nil {
			return nil, err
		}
	}
	sc, err := runfolder.ReadScenario(dir)
	if err != nil {
		return nil, err
	}
	c := &Cost{Catalog: cat.Name, Complete: true, ByModel: []ModelCost{}, Assumptions: []string{Assumption}, vendors: providerVendors(sc)}
	var pricedTokens int64
	for key, m := range byKey {
		mc := ModelCost{Model: key, Attempts: m.attempts, Usage: m.usage}
		if p, model, ok := lookupKey(cat, key, c.vendors); ok {
			usd := p.Cost(m.usage)
			mc.USD = &usd
			mc.CatalogEntry, mc.CatalogProvider = p.Model, p.Provider
			mc.RetryUSD = p.Cost(m.retry)
			c.TotalUSD += usd
			c.RetryOverheadUSD += mc.RetryUSD
			pricedTokens += m.usage.Prompt + m.usage.Completion
			if p.CachedInput == nil && m.usage.Cached > 0 {
				c.Notes = append(c.Notes, fmt.Sprintf("%s: the catalog has no cached-input rate, so its %d cached tokens are priced at the input rate", model, m.usage.Cached))
			}
		} else if m.usage.Prompt+m.usage.Completion > 0 {
			_, model, _ := strings.Cut(key, "/")
			c.Complete = false
			c.Notes = append(c.Notes, fmt.Sprintf("%s is not in the %s catalog: its tokens are counted but not priced, and total_usd leaves them out", model, cat.Name))
		}
		c.ByModel = append(c.ByModel, mc)
	}
	slices.SortFunc(c.ByModel, func(a, b ModelCost) int { return cmp.Compare(a.Model, b.Model) })
	slices.Sort(c.Notes)
	if n := in.Started; n > 0 {
		c.PerConversationUSD = c.TotalUSD / float64(n)
	}
	if n := in.OK; n > 0 {
		c.PerSuccessfulConversationUSD = c.TotalUSD / float64(n)
	}
	if in.TokensSaved > 0 && pricedTokens > 0 {
		// The hits would have cost what the run's priced tokens cost on
		// average: the mix of models and of input and output it measured.
		saved := c.TotalUSD / float64(pricedTokens) * float64(in.TokensSaved)
		c.CacheSavingsUSD = &saved
	}
	return c, nil
}

// Lookup prices the model of an attempt key's PROVIDER/MODEL on cat, as
// the run's provider's vendor sells it (see PriceRun), and returns the
// model too.
func (c *Cost) Lookup(cat *pricing.Catalog, key string) (pricing.Price, string, bool) {
	return lookupKey(cat, key, c.vendors)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
