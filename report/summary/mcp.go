package summary

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/scenarios"
)

// BytesPerToken is the rule of thumb the tool-schema token estimates use:
// about four bytes of JSON per token. It is an estimate; each model's own
// tokenizer gives its own count.
const BytesPerToken = 4

// MCP is summary.json's mcp section: JSON-RPC errors by code, the progress
// notifications MCP responses carried, and what shipping tool schemas to a
// model costs. It is absent when the run has none of them.
type MCP struct {
	// RPCErrors counts attempts answered with a JSON-RPC error, by code,
	// with the code's name and the outcomes they were counted as.
	RPCErrors []RPCErrorCount `json:"rpc_errors,omitempty"`
	// Progress sums the notifications/progress read on responses.
	Progress *MCPProgress `json:"progress,omitempty"`
	// ToolsSchema measures each tool list: the scenario's tools (which a
	// conversation sends with every model request), and the list of each
	// tools/list operation.
	ToolsSchema []ToolsSchemaCost `json:"tools_schema,omitempty"`
	// Lanes counts the MCP attempts by key and by the protocol revision
	// they spoke (attempts' mcp_protocol): the lane each server's
	// sessions were opened in, which protocol: auto negotiates.
	Lanes []MCPLane `json:"lanes,omitempty"`
	// OutputSchema counts, by tool, the tools/call results whose
	// structuredContent failed the tool's outputSchema (their outcome is
	// unchanged).
	OutputSchema []OutputSchemaCount `json:"output_schema,omitempty"`
	// ServerRequests counts the requests servers sent the client, by
	// attempt key (mcp:SERVER/METHOD, mcp:SERVER/unsupported), with the
	// outcomes of their answers.
	ServerRequests []ServerRequestCount `json:"server_requests,omitempty"`
	// SessionExpired counts the attempts a server answered 404 on their
	// session (each is sent again once on a new session).
	SessionExpired uint64 `json:"session_expired,omitempty"`
}

// MCPLane is the attempts of one key in one protocol revision.
type MCPLane struct {
	Key      string `json:"key"`
	Protocol string `json:"protocol"`
	Attempts uint64 `json:"attempts"`
}

// OutputSchemaCount is the tools/call attempts of one tool whose result
// failed its outputSchema.
type OutputSchemaCount struct {
	// Key is the tool's attempt key, tool:NAME.
	Key        string `json:"key"`
	Mismatches uint64 `json:"mismatches"`
	// Example is the first mismatch's message.
	Example string `json:"example"`
}

// ServerRequestCount is the requests of one method a server sent.
type ServerRequestCount struct {
	Key       string            `json:"key"`
	Requests  uint64            `json:"requests"`
	ByOutcome map[string]uint64 `json:"by_outcome"`
}

// RPCErrorCount is the attempts answered with one JSON-RPC error code.
type RPCErrorCount struct {
	Code int `json:"code"`
	// Name is the code's name (see record.RPCCodeName), "" for others.
	Name     string `json:"name"`
	Attempts uint64 `json:"attempts"`
	// ByOutcome says which outcome class the attempts were counted as.
	ByOutcome map[string]uint64 `json:"by_outcome"`
}

// MCPProgress sums progress notifications.
type MCPProgress struct {
	// Notifications counts notifications/progress read before responses.
	Notifications uint64 `json:"notifications"`
	// Attempts counts the attempts whose response carried at least one.
	Attempts uint64 `json:"attempts"`
	// FirstMeanMS and FirstMaxMS are the time from sending a request to
	// its first progress notification, over those attempts.
	FirstMeanMS float64 `json:"first_mean_ms"`
	FirstMaxMS  float64 `json:"first_max_ms"`
}

// ToolsSchemaCost is one tool list, measured and priced.
type ToolsSchemaCost struct {
	// Source is "scenario" (the scenario's tools) or the key of the
	// tools/list operation, mcp:SERVER/tools/list.
	Source string `json:"source"`
	Tools  int    `json:"tools"`
	// Bytes is the JSON of the MCP tools array.
	Bytes int `json:"bytes"`
	// Lists counts the ok tools/list attempts measured (0 for the
	// scenario's tools); the largest list is reported.
	Lists int `json:"lists,omitempty"`
	// Dialects is the same list as a model request of each API carries
	// it: openai, anthropic, gemini.
	Dialects map[string]DialectSchema `json:"dialects"`
	// Models prices the list as input on the scenario's models, or, with
	// no model in the scenario, on every model of the cost catalog.
	Models []SchemaModelCost `json:"models,omitempty"`
}

// DialectSchema is a tool list in one API's request.
type DialectSchema struct {
	Bytes int `json:"bytes"`
	// TokensEstimated is Bytes / BytesPerToken, rounded up.
	TokensEstimated int `json:"tokens_estimated"`
}

// SchemaModelCost is a tool list priced as input on one model.
type SchemaModelCost struct {
	Model string `json:"model"`
	// API is the dialect the model is sent the list in.
	API             string  `json:"api"`
	TokensEstimated int     `json:"tokens_estimated"`
	InputPerMTok    float64 `json:"input_per_mtok"`
	// USDPer1kCalls is what 1,000 model calls that offer the tools pay
	// for them as input.
	USDPer1kCalls float64 `json:"usd_per_1k_calls"`
}

// mcpScan gathers the MCP measures of attempts.jsonl.
type mcpScan struct {
	byCode                map[int]*RPCErrorCount
	progress              MCPProgress
	firstSumUS, firstMaxU int64
	lists                 map[string]*ToolsSchemaCost
	lanes                 map[MCPLane]uint64 // Attempts left 0
	outputs               map[string]*OutputSchemaCount
	serverRequests        map[string]*ServerRequestCount
	sessionExpired        uint64
}

// mcpMarkers are the fields that make a line of attempts.jsonl worth
// decoding here; the scan skips the rest without parsing them.
var mcpMarkers = [][]byte{[]byte(`"rpc_code"`), []byte(`"progress"`), []byte(`"tools_schema"`), []byte(`"mcp_protocol"`), []byte(`"output_schema_error"`),
	[]byte(`"` + record.KindServerRequest + `"`), []byte(`"` + record.OutcomeSessionExpired + `"`)}

// summarizeMCP builds the mcp section of the run in dir, and the
// attempts' counts by JSON-RPC code (keyed by the code in decimal). sc may
// be nil; cat prices the tool lists (nil: the list prices).
func summarizeMCP(dir string, sc *scenarios.Scenario, cat *pricing.Catalog) (*MCP, map[string]uint64, error) {
	scan := &mcpScan{byCode: map[int]*RPCErrorCount{}, lists: map[string]*ToolsSchemaCost{}, lanes: map[MCPLane]uint64{},
		outputs: map[string]*OutputSchemaCount{}, serverRequests: map[string]*ServerRequestCount{}}
	if err := scan.read(dir); err != nil {
		return nil, nil, err
	}
	if cat == nil {
		cat = pricing.Default()
	}
	m := &MCP{}
	var byCode map[string]uint64
	for _, code := range slices.Sorted(maps.Keys(scan.byCode)) {
		rc := scan.byCode[code]
		m.RPCErrors = append(m.RPCErrors, *rc)
		if byCode == nil {
			byCode = map[string]uint64{}
		}
		byCode[strconv.Itoa(code)] = rc.Attempts
	}
	if p := scan.progress; p.Notifications > 0 {
		p.FirstMeanMS = Round3(float64(scan.firstSumUS) / float64(p.Attempts) / runfolder.USPerMS)
		p.FirstMaxMS = Round3(float64(scan.firstMaxU) / runfolder.USPerMS)
		m.Progress = &p
	}
	if sc != nil && sc.Kind() == scenarios.KindConversation && len(sc.Tools) > 0 {
		ts, err := scenarioToolsSchema(sc.Tools)
		if err != nil {
			return nil, nil, err
		}
		m.ToolsSchema = append(m.ToolsSchema, *ts)
	}
	for _, k := range slices.Sorted(maps.Keys(scan.lists)) {
		m.ToolsSchema = append(m.ToolsSchema, *scan.lists[k])
	}
	models := schemaModels(sc, cat)
	for i := range m.ToolsSchema {
		m.ToolsSchema[i].price(models)
	}
	for _, l := range slices.SortedFunc(maps.Keys(scan.lanes), func(a, b MCPLane) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Protocol, b.Protocol))
	}) {
		l.Attempts = scan.lanes[l]
		m.Lanes = append(m.Lanes, l)
	}
	for _, k := range slices.Sorted(maps.Keys(scan.outputs)) {
		m.OutputSchema = append(m.OutputSchema, *scan.outputs[k])
	}
	for _, k := range slices.Sorted(maps.Keys(scan.serverRequests)) {
		m.ServerRequests = append(m.ServerRequests, *scan.serverRequests[k])
	}
	m.SessionExpired = scan.sessionExpired
	if m.RPCErrors == nil && m.Progress == nil && m.ToolsSchema == nil && m.Lanes == nil && m.OutputSchema == nil &&
		m.ServerRequests == nil && m.SessionExpired == 0 {
		return nil, byCode, nil
	}
	return m, byCode, nil
}

// read scans attempts.jsonl(.gz), decoding only the lines that carry an MCP
// measure. A missing file is empty; a torn line is skipped.
func (s *mcpScan) read(dir string) error {
	_, err := record.EachLine(dir, record.AttemptsFile, func(line []byte) {
		if !slices.ContainsFunc(mcpMarkers, func(m []byte) bool { return bytes.Contains(line, m) }) {
			return
		}
		var a record.Attempt
		if json.Unmarshal(line, &a) != nil {
			return
		}
		s.add(&a)
	})
	return err
}

func (s *mcpScan) add(a *record.Attempt) {
	if a.MCPProtocol != "" {
		s.lanes[MCPLane{Key: a.Key, Protocol: a.MCPProtocol}]++
	}
	if a.Kind == record.KindServerRequest {
		sr := s.serverRequests[a.Key]
		if sr == nil {
			sr = &ServerRequestCount{Key: a.Key, ByOutcome: map[string]uint64{}}
			s.serverRequests[a.Key] = sr
		}
		sr.Requests++
		sr.ByOutcome[a.Outcome]++
	}
	if a.Outcome == record.OutcomeSessionExpired {
		s.sessionExpired++
	}
	if a.RPCCode != 0 {
		rc := s.byCode[a.RPCCode]
		if rc == nil {
			rc = &RPCErrorCount{Code: a.RPCCode, Name: record.RPCCodeName(a.RPCCode), ByOutcome: map[string]uint64{}}
			s.byCode[a.RPCCode] = rc
		}
		rc.Attempts++
		rc.ByOutcome[a.Outcome]++
	}
	if a.Progress > 0 {
		s.progress.Notifications += uint64(a.Progress)
		s.progress.Attempts++
		s.firstSumUS += a.FirstProgressUS
		s.firstMaxU = max(s.firstMaxU, a.FirstProgressUS)
	}
	if a.OutputSchemaError != "" {
		oc := s.outputs[a.Key]
		if oc == nil {
			oc = &OutputSchemaCount{Key: a.Key, Example: a.OutputSchemaError}
			s.outputs[a.Key] = oc
		}
		oc.Mismatches++
	}
	if t := a.ToolsSchema; t != nil && a.Outcome == record.OutcomeOK {
		ts := s.lists[a.Key]
		if ts == nil {
			ts = &ToolsSchemaCost{Source: a.Key}
			s.lists[a.Key] = ts
		}
		ts.Lists++
		// The largest list, so that the result does not depend on which
		// of several lists came last.
		if t.Bytes > ts.Bytes || ts.Dialects == nil {
			ts.Tools, ts.Bytes, ts.Dialects = t.Tools, t.Bytes, dialectSchemas(t.DialectBytes)
		}
	}
}

// scenarioToolsSchema measures the scenario's tools, which a conversation
// offers the model on every call.
func scenarioToolsSchema(tools []*scenarios.Tool) (*ToolsSchemaCost, error) {
	dialects, err := scenarios.ToolsBytes(tools)
	if err != nil {
		return nil, fmt.Errorf("measure the scenario's tools: %w", err)
	}
	n, err := scenarios.MCPToolsBytes(tools)
	if err != nil {
		return nil, fmt.Errorf("measure the scenario's tools: %w", err)
	}
	return &ToolsSchemaCost{Source: "scenario", Tools: len(tools), Bytes: n, Dialects: dialectSchemas(dialects)}, nil
}

func dialectSchemas(sizes map[string]int) map[string]DialectSchema {
	out := make(map[string]DialectSchema, len(sizes))
	for api, n := range sizes {
		out[api] = DialectSchema{Bytes: n, TokensEstimated: estimateTokens(n)}
	}
	return out
}

// estimateTokens is n bytes over BytesPerToken, rounded up.
func estimateTokens(n int) int { return (n + BytesPerToken - 1) / BytesPerToken }

// schemaModel is a model a tool list is priced on, with its dialect.
type schemaModel struct {
	name, api string
	price     pricing.Price
}

// schemaModels lists the models a tool list is priced on: the scenario's
// providers' models that cat prices, in provider order; with none in the
// scenario, every model of cat, each in the dialect of its provider
// (anthropic, google's gemini, and OpenAI's for the rest, which are
// OpenAI-compatible).
func schemaModels(sc *scenarios.Scenario, cat *pricing.Catalog) []schemaModel {
	var out []schemaModel
	if sc != nil && len(sc.Providers) > 0 {
		for _, name := range slices.Sorted(maps.Keys(sc.Providers)) {
			p := sc.Providers[name]
			if p == nil {
				continue
			}
			if price, ok := cat.LookupFor(p.Model, pricing.Vendor(p.API, p.BaseURL)); ok && !slices.ContainsFunc(out, func(m schemaModel) bool { return m.name == p.Model && m.api == apiOf(p.API) }) {
				out = append(out, schemaModel{p.Model, apiOf(p.API), price})
			}
		}
		return out
	}
	for _, price := range cat.Models {
		out = append(out, schemaModel{price.Model, catalogAPI(price), price})
	}
	return out
}

func apiOf(api string) string {
	if api == "" {
		return scenarios.APIOpenAI
	}
	return api
}

// catalogAPI guesses the dialect a catalog model is called in.
func catalogAPI(p pricing.Price) string {
	switch provider, model := strings.ToLower(p.Provider), strings.ToLower(p.Model); {
	case provider == "anthropic" || strings.HasPrefix(model, "claude"):
		return scenarios.APIAnthropic
	case provider == "google" || provider == "gemini" || strings.HasPrefix(model, "gemini"):
		return scenarios.APIGemini
	}
	return scenarios.APIOpenAI
}

// price prices t on each model, in that model's dialect.
func (t *ToolsSchemaCost) price(models []schemaModel) {
	for _, m := range models {
		d, ok := t.Dialects[m.api]
		if !ok {
			continue
		}
		usd := float64(d.TokensEstimated) * m.price.Input / 1e6 * 1000
		t.Models = append(t.Models, SchemaModelCost{
			Model: m.name, API: m.api, TokensEstimated: d.TokensEstimated,
			InputPerMTok: m.price.Input, USDPer1kCalls: math.Round(usd*1e6) / 1e6,
		})
	}
}

// RPCErrorLabel is a JSON-RPC error code with its name: "-32004 rate
// limited", or the code alone when it has none.
func RPCErrorLabel(e RPCErrorCount) string {
	if e.Name == "" {
		return strconv.Itoa(e.Code)
	}
	return strconv.Itoa(e.Code) + " " + e.Name
}

// SchemaAPIs lists the APIs of a tool list's dialects, in report order.
func SchemaAPIs() []string { return scenarios.APIs() }

// LaneTotals sums the MCP attempts by the protocol revision they spoke.
func (m *MCP) LaneTotals() map[string]uint64 {
	out := make(map[string]uint64, 2)
	for _, l := range m.Lanes {
		out[l.Protocol] += l.Attempts
	}
	return out
}
