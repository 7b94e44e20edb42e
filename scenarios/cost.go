package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Cost says how a run is priced and projected. Every field is optional:
// without a cost: section a run is priced on the embedded list prices.
//
//	cost:
//	  catalog: relay-example        # the prices this run pays
//	  baseline: list-prices         # the prices it is compared to
//	  monthly: {tokens: 500M}       # or {conversations: 2M}
//	  switch: {implementation_hours: 40, hourly_rate_usd: 100}
type Cost struct {
	// Catalog names the price catalog of the run: an embedded catalog
	// (list-prices, relay-example) or a file, mcpload's YAML or LiteLLM's
	// model_prices_and_context_window.json. Default list-prices. `mcpload
	// run --catalog` overrides it.
	Catalog string `yaml:"catalog,omitempty"`
	// Baseline is the catalog the run's cost is compared with: the cost
	// of the same measured tokens at the baseline's prices gives the
	// saving (cost.saving) and the payback of switching.
	Baseline string `yaml:"baseline,omitempty"`
	// Monthly is the volume that the monthly projection scales the run to.
	Monthly *Monthly `yaml:"monthly,omitempty"`
	// Switch is what moving to the run's prices from the baseline's costs
	// in engineering time, for payback and 12-month ROI.
	Switch *Switch `yaml:"switch,omitempty"`
}

// Monthly is a monthly volume: conversations or tokens (prompt plus
// completion), exactly one of them.
type Monthly struct {
	Conversations Count `yaml:"conversations,omitempty"`
	Tokens        Count `yaml:"tokens,omitempty"`
}

// Switch is the one-off cost of switching providers: implementation hours
// times an hourly rate, as the seed's ROI calculator counts it.
type Switch struct {
	ImplementationHours float64 `yaml:"implementation_hours"`
	HourlyRateUSD       float64 `yaml:"hourly_rate_usd"`
}

// SpendCap stops a run when what it has spent reaches MaxUSD, priced on
// the run's catalog as the attempts report their tokens.
type SpendCap struct {
	MaxUSD float64 `yaml:"max_usd"`
}

// Count is a large count: a number, or a number with a k, M, B or T suffix
// ("500M", "2.5k"); "/month" may follow.
type Count float64

// UnmarshalYAML reads a number or a suffixed count.
func (c *Count) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a count such as 500M or 2000000, got %s", describe(n))
	}
	v, err := ParseCount(n.Value)
	if err != nil {
		return err
	}
	*c = Count(v)
	return nil
}

// MarshalYAML writes c as a plain number.
func (c Count) MarshalYAML() (any, error) { return float64(c), nil }

// ParseCount reads a count such as 500M, 2.5k, 1e6 or 500M/month.
func ParseCount(s string) (float64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "/month")
	mult := 1.0
	if t != "" {
		switch t[len(t)-1] {
		case 'k', 'K':
			mult = 1e3
		case 'M':
			mult = 1e6
		case 'B', 'G':
			mult = 1e9
		case 'T':
			mult = 1e12
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("expected a count such as 500M, 2.5k or 1e6, got %q", s)
	}
	return v * mult, nil
}

// cost checks the cost: and budget: sections. Catalog files are opened by
// the report, which owns the pricing formats; here only shapes are checked.
func (v *validator) cost(s *Scenario) {
	v.costSection("cost", s.Cost)
	if b := s.Budget; b != nil && b.MaxUSD <= 0 {
		v.errorf("budget.max_usd", "must be more than 0 USD; leave budget out for no cap")
	}
}

// costSection checks the cost: section at path (the scenario's, or a
// policy's), nil when absent.
func (v *validator) costSection(path string, c *Cost) {
	if c == nil {
		return
	}
	if m := c.Monthly; m != nil {
		mp := field(path, "monthly")
		switch {
		case m.Conversations > 0 && m.Tokens > 0:
			v.errorf(mp, "give conversations or tokens, not both")
		case m.Conversations == 0 && m.Tokens == 0:
			v.errorf(mp, "give a monthly volume: conversations (such as 2M) or tokens (such as 500M)")
		}
	}
	if sw := c.Switch; sw != nil {
		if sw.ImplementationHours < 0 {
			v.errorf(field(path, "switch.implementation_hours"), "must not be negative")
		}
		if sw.HourlyRateUSD < 0 {
			v.errorf(field(path, "switch.hourly_rate_usd"), "must not be negative")
		}
	}
}
