// Package pricing prices token usage: a catalog of USD-per-million-token
// rates, the list prices embedded in mcpload, and loaders for an override
// file in mcpload's YAML schema or LiteLLM's model_prices_and_context_window.json.
package pricing

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mcpload/mcpload/record"
)

//go:embed catalog.yaml
var catalogYAML []byte

//go:embed relay-example.yaml
var relayYAML []byte

// Names of the embedded catalogs, accepted by Open in place of a path.
const (
	DefaultName = "list-prices"
	RelayName   = "relay-example"
)

// Price is one model's rates, in USD per million tokens.
type Price struct {
	Model    string  `yaml:"model" json:"model"`
	Provider string  `yaml:"provider,omitempty" json:"provider,omitempty"`
	Input    float64 `yaml:"input_per_mtok" json:"input_per_mtok"`
	// CachedInput is the rate of prompt tokens served from the provider's
	// prompt cache; nil when the source gave none, and then cached tokens
	// are priced at Input, an upper bound.
	CachedInput *float64 `yaml:"cached_input_per_mtok,omitempty" json:"cached_input_per_mtok,omitempty"`
	Output      float64  `yaml:"output_per_mtok" json:"output_per_mtok"`
	// Source is where the price was read; Checked the date it was verified.
	Source  string `yaml:"source,omitempty" json:"source,omitempty"`
	Checked string `yaml:"checked,omitempty" json:"checked,omitempty"`
	// Mode is LiteLLM's mode of the entry (chat, embedding, rerank, ...);
	// "" in mcpload's catalogs, whose models are all chat models.
	Mode string `yaml:"mode,omitempty" json:"mode,omitempty"`
}

// Chat reports whether p prices a chat model: what-if lists only those.
func (p Price) Chat() bool { return p.Mode == "" || p.Mode == "chat" }

// Usage counts tokens as OpenAI-compatible providers report them: Prompt
// includes Cached.
type Usage struct {
	Prompt     int64 `json:"prompt"`
	Cached     int64 `json:"cached"`
	Completion int64 `json:"completion"`
}

// Add returns u plus v. A negative count adds nothing and a sum stops at
// math.MaxInt64: the counts come from targets, and a wrapped or negative
// sum would price a run below what it spent.
func (u Usage) Add(v Usage) Usage {
	return Usage{Prompt: addTokens(u.Prompt, v.Prompt), Cached: addTokens(u.Cached, v.Cached), Completion: addTokens(u.Completion, v.Completion)}
}

// addTokens adds two token counts, each taken as at least 0, saturating.
func addTokens(a, b int64) int64 {
	a, b = max(a, 0), max(b, 0)
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Cost prices u. Cached tokens are priced at the cached rate and not again
// at the input rate.
//
// The cost is never negative: negative counts are taken as 0.
func (p Price) Cost(u Usage) float64 {
	u.Prompt, u.Completion = max(u.Prompt, 0), max(u.Completion, 0)
	cached := min(max(u.Cached, 0), u.Prompt)
	cachedRate := p.Input
	if p.CachedInput != nil {
		cachedRate = *p.CachedInput
	}
	return (float64(u.Prompt-cached)*p.Input + float64(cached)*cachedRate + float64(u.Completion)*p.Output) / 1e6
}

// Catalog is a named list of prices.
type Catalog struct {
	Name   string  `yaml:"name" json:"name"`
	Models []Price `yaml:"models" json:"models"`
}

// Default returns the embedded list prices.
func Default() *Catalog { return mustParse(DefaultName, catalogYAML) }

// RelayExample returns the seed article's relay price table.
func RelayExample() *Catalog { return mustParse(RelayName, relayYAML) }

func mustParse(name string, data []byte) *Catalog {
	c, err := Parse(name, data)
	if err != nil {
		panic(fmt.Sprintf("pricing: embedded catalog %s: %v", name, err))
	}
	return c
}

// Open returns an embedded catalog by name (DefaultName, RelayName), or
// loads the file at path.
func Open(nameOrPath string) (*Catalog, error) {
	switch nameOrPath {
	case "", DefaultName:
		return Default(), nil
	case RelayName, "relay":
		return RelayExample(), nil
	}
	return Load(nameOrPath)
}

// Load reads a catalog file: mcpload's YAML schema or a LiteLLM JSON price
// map, told apart by content.
func Load(path string) (*Catalog, error) {
	data, err := record.ReadRegular(path, record.MaxDocumentBytes)
	if err != nil {
		return nil, fmt.Errorf("pricing: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	c, err := Parse(name, data)
	if err != nil {
		return nil, fmt.Errorf("pricing: %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a catalog. A document that is a JSON object of objects
// carrying input_cost_per_token is read as LiteLLM's price map; anything
// else as mcpload's YAML. name is used when the document names none.
func Parse(name string, data []byte) (*Catalog, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var probe map[string]json.RawMessage
		if json.Unmarshal(t, &probe) == nil {
			if _, ok := probe["models"]; !ok {
				return parseLiteLLM(name, probe)
			}
		}
	}
	var c Catalog
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decode catalog: %w", err)
	}
	if c.Name == "" {
		c.Name = name
	}
	return &c, c.validate()
}

func (c *Catalog) validate() error {
	if len(c.Models) == 0 {
		return errors.New("catalog lists no models")
	}
	seen := map[string]bool{}
	for i, p := range c.Models {
		switch {
		case p.Model == "":
			return fmt.Errorf("models[%d]: model is required", i)
		case !validPrice(p.Input) || !validPrice(p.Output) || (p.CachedInput != nil && !validPrice(*p.CachedInput)):
			return fmt.Errorf("models[%d] (%s): prices must be finite and not negative", i, p.Model)
		case seen[p.Model]:
			return fmt.Errorf("models[%d]: %s is listed twice", i, p.Model)
		}
		seen[p.Model] = true
	}
	return nil
}

// validPrice reports whether a price per million tokens is one a cost can
// be computed with: finite and not negative.
func validPrice(usd float64) bool { return usd >= 0 && finite(usd) }

// liteLLMEntry holds the fields mcpload reads from one LiteLLM model.
type liteLLMEntry struct {
	Input  *float64 `json:"input_cost_per_token"`
	Output *float64 `json:"output_cost_per_token"`
	Cached *float64 `json:"cache_read_input_token_cost"`
	// CacheHit is DeepSeek's entries' name of the cached-input rate.
	CacheHit *float64 `json:"input_cost_per_token_cache_hit"`
	Provider string   `json:"litellm_provider"`
	Mode     string   `json:"mode"`
}

// liteLLMSampleSpec is the key of the schema example in LiteLLM's file.
const liteLLMSampleSpec = "sample_spec"

func parseLiteLLM(name string, m map[string]json.RawMessage) (*Catalog, error) {
	c := &Catalog{Name: name}
	for model, raw := range m {
		// "sample_spec" documents the schema with zero rates: it is no model.
		if model == liteLLMSampleSpec {
			continue
		}
		var e liteLLMEntry
		// Non-token-priced entries (images, audio) carry no per-token
		// rates: skip them, not the file.
		if json.Unmarshal(raw, &e) != nil || e.Input == nil || e.Output == nil {
			continue
		}
		p := Price{Model: model, Provider: e.Provider, Mode: e.Mode, Input: perMTok(*e.Input), Output: perMTok(*e.Output), Source: "LiteLLM model_prices_and_context_window.json"}
		if e.Cached == nil {
			e.Cached = e.CacheHit
		}
		if e.Cached != nil {
			v := perMTok(*e.Cached)
			p.CachedInput = &v
		}
		if ci := p.CachedInput; p.Input < 0 || p.Output < 0 || !finite(p.Input) || !finite(p.Output) || ci != nil && (*ci < 0 || !finite(*ci)) {
			continue // a rate no cost can be computed from, as above
		}
		c.Models = append(c.Models, p)
	}
	if len(c.Models) == 0 {
		return nil, errors.New("no model in the JSON has input_cost_per_token and output_cost_per_token")
	}
	sortPrices(c.Models)
	return c, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// perMTok converts a per-token rate; the rounding removes float noise such
// as 1.9999999999999998 from 0.000002*1e6.
func perMTok(perToken float64) float64 { return math.Round(perToken*1e6*1e9) / 1e9 }

// Lookup finds model's price by name alone: LookupFor with no provider's
// vendor. By exact name, then case-insensitively, then with any provider
// prefix ("openai/gpt-4.1") stripped from either side, then by canonical
// name (see canonical), so that the API's id "claude-sonnet-4-5-20250929"
// finds the catalog's "claude-sonnet-4.5".
func (c *Catalog) Lookup(model string) (Price, bool) { return c.LookupFor(model, "") }

// canonical is a model name as vendors' ids and price lists both spell it:
// lower case, no provider prefix, dots as dashes (Anthropic's API says
// claude-sonnet-4-5 where price pages say 4.5), and no snapshot date or
// "-latest" suffix (claude-haiku-4-5-20251001, gpt-4.1-2025-04-14).
func canonical(model string) string {
	m := strings.ToLower(baseName(model))
	m = strings.ReplaceAll(m, ".", "-")
	m = strings.TrimSuffix(m, "-latest")
	// A trailing date: -YYYYMMDD, or -YYYY-MM-DD.
	if n := len(m); n > 9 && m[n-9] == '-' && allDigits(m[n-8:]) {
		m = m[:n-9]
	} else if n > 11 && m[n-11] == '-' && allDigits(m[n-10:n-6]) && m[n-6] == '-' && allDigits(m[n-5:n-3]) && m[n-3] == '-' && allDigits(m[n-2:]) {
		m = m[:n-11]
	}
	return m
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func baseName(model string) string {
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		return model[i+1:]
	}
	return model
}
func sortPrices(ps []Price) {
	slices.SortFunc(ps, func(a, b Price) int { return cmp.Compare(a.Model, b.Model) })
}
