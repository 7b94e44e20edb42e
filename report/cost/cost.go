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

// Cost is the priced usage of a run, from the tokens each model attempt
// reported, retries and fallbacks included (see PriceRun).
type Cost struct {
	// TotalUSD covers the priced models only: see Complete.
	TotalUSD float64 `json:"total_usd"`
	// PerConversationUSD divides TotalUSD over started conversations,
	// PerSuccessfulConversationUSD over ok ones.
	PerConversationUSD           float64 `json:"per_conversation_usd"`
	PerSuccessfulConversationUSD float64 `json:"per_successful_conversation_usd"`
	// RetryOverheadUSD is what attempts that failed cost.
	RetryOverheadUSD float64 `json:"retry_overhead_usd"`
	// CacheSavingsUSD prices the response cache's tokens_saved_estimate at
	// the run's mean price per token; absent without cache hits.
	CacheSavingsUSD *float64    `json:"cache_savings_usd,omitempty"`
	ByModel         []ModelCost `json:"by_model"`
	// Catalog names the price catalog used.
	Catalog string `json:"catalog"`
	// Complete is false when some model with usage had no price.
	Complete    bool     `json:"complete"`
	Assumptions []string `json:"assumptions"`
	Notes       []string `json:"notes,omitempty"`

	// Baseline prices the same measured usage on the baseline catalog
	// (cost.baseline; by default the list prices when the run is priced
	// on another catalog); absent when the run is priced on the baseline
	// itself, or no model is priced in both (a note says so).
	Baseline *Baseline `json:"baseline,omitempty"`
	// Monthly projects the run to the scenario's monthly volume.
	Monthly *Monthly `json:"monthly,omitempty"`
	// Payback is the payback and ROI of switching from the baseline's
	// prices to the run's, with the scenario's switch costs; it needs
	// Baseline and Monthly.
	Payback *Payback `json:"payback,omitempty"`
	// WhatIf prices the same measured usage on every model of the
	// catalog, cheapest first; at most MaxWhatIfRows of them.
	WhatIf []WhatIfRow `json:"what_if,omitempty"`

	// vendors maps the run's providers to the vendors whose prices apply
	// (vendor.go), for the baseline.
	vendors map[string]string
}

// Baseline is the run's usage priced on another catalog.
type Baseline struct {
	Catalog string `json:"catalog"`
	// TotalUSD covers the models the baseline catalog prices.
	TotalUSD float64 `json:"total_usd"`
	// SavingUSD is the baseline's cost less the run's, over the models
	// both catalogs price.
	SavingUSD float64 `json:"saving_usd"`
	// SavingPercent is 100 × (1 − run cost / baseline cost) over the
	// models both catalogs price: what the run's prices save over the
	// baseline's (the cost.saving metric). Negative when the run costs
	// more.
	SavingPercent float64 `json:"saving_percent"`
	// Complete is false when some model with usage is missing from
	// either catalog and so from the saving; notes name it.
	Complete bool `json:"complete"`
}

// Monthly is the run's cost scaled to a monthly volume.
type Monthly struct {
	// Basis says what was scaled, as in "500M tokens/month".
	Basis string `json:"basis"`
	// Scale multiplies the run's measured usage into a month's: the
	// volume over the run's started conversations, or over its model
	// tokens (prompt plus completion).
	Scale float64 `json:"scale"`
	// USD and Baseline are the run's total_usd and the baseline's,
	// scaled.
	USD      float64  `json:"usd"`
	Baseline *float64 `json:"baseline_usd,omitempty"`
}

// Payback is the seed calculator's arithmetic: implementation cost =
// hours × rate; monthly saving = the baseline's saving_usd, scaled;
// payback months = implementation cost / monthly saving; 12-month ROI =
// (12 × monthly saving − implementation cost) / implementation cost.
type Payback struct {
	ImplementationHours float64 `json:"implementation_hours"`
	HourlyRateUSD       float64 `json:"hourly_rate_usd"`
	ImplementationUSD   float64 `json:"implementation_usd"`
	MonthlySavingUSD    float64 `json:"monthly_saving_usd"`
	AnnualSavingUSD     float64 `json:"annual_saving_usd"`
	// PaybackMonths is null when there is no saving: it never pays back.
	// It is 0 when switching costs nothing.
	PaybackMonths *float64 `json:"payback_months"`
	// ROI12Percent is null when switching costs nothing: there is no
	// cost to return on.
	ROI12Percent *float64 `json:"roi_12_month_percent"`
}

// WhatIfRow is the run's whole measured usage priced on one model.
type WhatIfRow struct {
	Model              string   `json:"model"`
	Provider           string   `json:"provider,omitempty"`
	InputPerMTok       float64  `json:"input_per_mtok"`
	CachedInputPerMTok *float64 `json:"cached_input_per_mtok,omitempty"`
	OutputPerMTok      float64  `json:"output_per_mtok"`
	USD                float64  `json:"usd"`
	// MonthlyUSD is set when there is a monthly volume.
	MonthlyUSD *float64 `json:"monthly_usd,omitempty"`
}

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
