package cost

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
