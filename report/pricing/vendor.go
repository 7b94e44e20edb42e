package pricing

import (
	"net/url"
	"slices"
	"strings"
)

// Vendors: the names of catalog providers (LiteLLM's litellm_provider and
// key prefixes, mcpload's provider field) that Vendor returns.
const (
	VendorOpenAI     = "openai"
	VendorAnthropic  = "anthropic"
	VendorGemini     = "gemini"
	VendorDeepSeek   = "deepseek"
	VendorOpenRouter = "openrouter"
)

// vendorHosts maps an API host to the vendor whose prices apply to it.
var vendorHosts = map[string]string{
	"api.openai.com":                    VendorOpenAI,
	"api.anthropic.com":                 VendorAnthropic,
	"generativelanguage.googleapis.com": VendorGemini,
	"api.deepseek.com":                  VendorDeepSeek,
	"openrouter.ai":                     VendorOpenRouter,
	"api.mistral.ai":                    "mistral",
	"api.groq.com":                      "groq",
	"api.together.xyz":                  "together_ai",
	"api.together.ai":                   "together_ai",
	"api.fireworks.ai":                  "fireworks_ai",
	"api.x.ai":                          "xai",
	"api.deepinfra.com":                 "deepinfra",
	"api.cerebras.ai":                   "cerebras",
	"api.perplexity.ai":                 "perplexity",
}

// vendorAliases are other provider names of one vendor's entries:
// mcpload's catalog says google, LiteLLM gemini; LiteLLM files OpenAI's
// completion models under text-completion-openai.
var vendorAliases = map[string][]string{
	VendorGemini: {"google"},
	VendorOpenAI: {"text-completion-openai"},
}

// Vendor is the vendor whose prices apply to a provider of api (the
// scenario's openai, anthropic or gemini) at baseURL: its host's vendor
// when the host is a known API's (api.deepseek.com is deepseek whatever
// the dialect), else the dialect's own (the mock, a gateway, a relay).
func Vendor(api, baseURL string) string {
	if u, err := url.Parse(baseURL); err == nil {
		host := strings.ToLower(u.Hostname())
		if v, ok := vendorHosts[host]; ok {
			return v
		}
		if strings.HasSuffix(host, ".openai.azure.com") {
			return "azure"
		}
	}
	switch api {
	case "", "openai":
		return VendorOpenAI
	case "anthropic":
		return VendorAnthropic
	case "gemini":
		return VendorGemini
	}
	return ""
}

// familyVendor is the vendor that makes model, from its name: the second
// choice when the provider's vendor has no entry for it (a mock playing
// Claude on the OpenAI dialect, a relay).
func familyVendor(model string) string {
	m := strings.ToLower(baseName(model))
	switch {
	case strings.HasPrefix(m, "claude"):
		return VendorAnthropic
	case strings.HasPrefix(m, "gemini"):
		return VendorGemini
	case strings.HasPrefix(m, "gpt-"), strings.HasPrefix(m, "chatgpt"), strings.HasPrefix(m, "o1"), strings.HasPrefix(m, "o3"), strings.HasPrefix(m, "o4"):
		return VendorOpenAI
	case strings.HasPrefix(m, "deepseek"):
		return VendorDeepSeek
	case strings.HasPrefix(m, "grok"):
		return "xai"
	case strings.HasPrefix(m, "mistral"), strings.HasPrefix(m, "ministral"), strings.HasPrefix(m, "codestral"):
		return "mistral"
	}
	return ""
}

// sells reports whether p is vendor v's own entry: its provider is v (or
// an alias), or its key starts with "v/".
func sells(p Price, v string) bool {
	if v == "" {
		return false
	}
	prov := strings.ToLower(p.Provider)
	return prov == v || slices.Contains(vendorAliases[v], prov) || strings.HasPrefix(strings.ToLower(p.Model), v+"/")
}

// LookupFor finds the price of model as served by vendor (see Vendor):
// the entry whose name is model exactly, whatever its vendor; else, among
// the entries that match model by name (case, provider prefix, canonical
// spelling, as Lookup does), vendor's own, then the entries of the
// vendor that makes the model, then an entry without a provider prefix,
// then any; the closer name match first within each. An id such as
// deepseek-v3.2 that several vendors resell is so priced at DeepSeek's own
// rate on api.deepseek.com, never at the first reseller's in name order.
func (c *Catalog) LookupFor(model, vendor string) (Price, bool) {
	for _, p := range c.Models {
		if p.Model == model {
			return p, true
		}
	}
	family := familyVendor(model)
	base, want := baseName(model), canonical(model)
	best, bestRank := -1, [3]int{}
	for i, p := range c.Models {
		var match int
		switch {
		case strings.EqualFold(p.Model, model):
			match = 0
		case strings.EqualFold(baseName(p.Model), base):
			match = 1
		case canonical(p.Model) == want:
			match = 2
		default:
			continue
		}
		tier := 3
		switch {
		case sells(p, vendor):
			tier = 0
		case sells(p, family):
			tier = 1
		case !strings.Contains(p.Model, "/"):
			tier = 2
		}
		// A chat entry before an embedding or rerank of the same name.
		chat := 0
		if !p.Chat() {
			chat = 1
		}
		rank := [3]int{tier, chat, match}
		if best < 0 || less(rank, bestRank) || rank == bestRank && c.Models[i].Model < c.Models[best].Model {
			best, bestRank = i, rank
		}
	}
	if best < 0 {
		return Price{}, false
	}
	return c.Models[best], true
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
