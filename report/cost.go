package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/runfolder"
)

// CostAssumption states how attempts without usage are priced.
const CostAssumption = "attempts that failed without reporting usage are counted as 0 tokens: providers do not bill requests that return no completion"

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

// modelUsage sums the tokens of model attempts by attempt key
// (PROVIDER/MODEL): what pricing needs from attempts.jsonl.
type modelUsage map[string]*usageAcc

type usageAcc struct {
	attempts     int64
	usage, retry pricing.Usage
}

func (m modelUsage) add(a *record.Attempt) {
	key, ok := strings.CutPrefix(a.Key, record.StepModel+":")
	if a.Kind != record.StepModel || !ok {
		return
	}
	acc := m[key]
	if acc == nil {
		acc = &usageAcc{}
		m[key] = acc
	}
	u := pricing.Usage{Prompt: reportedTokens(a.PromptTokens), Cached: reportedTokens(a.CachedTokens), Completion: reportedTokens(a.CompletionTokens)}
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

// PriceRun prices the model attempts of the run in dir with cat and
// returns the cost section of its summary s. A summary from Summarize
// already holds the token sums of its single pass over attempts.jsonl; a
// summary built otherwise has the file read here.
func PriceRun(dir string, s *Summary, cat *pricing.Catalog) (*Cost, error) {
	var byKey modelUsage
	if s.analysis != nil {
		byKey = s.analysis.models
	}
	if byKey == nil {
		byKey = modelUsage{}
		if _, err := runfolder.EachJSONLine(dir, record.AttemptsFile, byKey.add); err != nil {
			return nil, err
		}
	}
	sc, err := runfolder.ReadScenario(dir)
	if err != nil {
		return nil, err
	}
	c := &Cost{Catalog: cat.Name, Complete: true, ByModel: []ModelCost{}, Assumptions: []string{CostAssumption}, vendors: providerVendors(sc)}
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
	if n := s.Conversations.Started; n > 0 {
		c.PerConversationUSD = c.TotalUSD / float64(n)
	}
	if n := s.Conversations.OK; n > 0 {
		c.PerSuccessfulConversationUSD = c.TotalUSD / float64(n)
	}
	if res := s.resilience(); res != nil && res.Cache.TokensSaved > 0 && pricedTokens > 0 {
		// The hits would have cost what the run's priced tokens cost on
		// average: the mix of models and of input and output it measured.
		saved := c.TotalUSD / float64(pricedTokens) * float64(res.Cache.TokensSaved)
		c.CacheSavingsUSD = &saved
	}
	return c, nil
}

// resilience returns the resilience analysis, whether or not the summary
// shows it.
func (s *Summary) resilience() *Resilience {
	if s.Resilience != nil {
		return s.Resilience
	}
	if s.analysis != nil {
		return s.analysis.res
	}
	return nil
}
