// Package record defines the files of a run folder: their names and the
// records in them. The attacker writes them as the run goes; the report
// package reads them. Neither imports the other, so this is their contract.
//
// A run folder holds:
//
//	scenario.yaml      the resolved scenario, secrets removed
//	run.json           Run: metadata and counters, rewritten every interval
//	attempts.jsonl.gz  one Attempt per HTTP attempt, streamed, as gzip members
//	                   (attempts.jsonl, plain, from older runs)
//	results.bin        one vegeta Result per conversation (vegeta's gob encoding)
//	histograms.hlog    HdrHistogram interval log, one histogram per tag per interval
//	events.jsonl       one Event per client-policy event (retry, fallback, breaker...)
//	run.lock           held (flock) while a run writes the folder; names the holder
//
// and, once report has run, summary.json and one .hgrm file per tag.
package record

import "time"

// File names inside a run folder.
const (
	ScenarioFile   = "scenario.yaml"
	RunFile        = "run.json"
	AttemptsFile   = "attempts.jsonl"
	ResultsFile    = "results.bin"
	HistogramsFile = "histograms.hlog"
	EventsFile     = "events.jsonl"
	SummaryFile    = "summary.json"
)

// Histogram settings, shared by writer and reader: values in microseconds,
// from 1 µs to 1 hour, 3 significant digits.
const (
	HistLowest  = 1
	HistHighest = int64(time.Hour / time.Microsecond)
	HistSigFigs = 3
)

// Outcome classes of an attempt, a step or a conversation.
const (
	OutcomeOK         = "ok"
	OutcomeTimeout    = "timeout"
	Outcome429        = "429"
	Outcome5xx        = "5xx"
	Outcome4xx        = "4xx"
	OutcomeConnection = "connection"
	OutcomeProtocol   = "protocol"   // malformed body, bad SSE, JSON-RPC error
	OutcomeToolError  = "tool_error" // MCP isError or invalid tool arguments
	OutcomeCanceled   = "canceled"   // the run was stopped mid-flight
	OutcomeDropped    = "dropped"    // never started: max_in_flight was full
	// OutcomeLocal: mcpload itself ran out of descriptors, memory or
	// ports (EMFILE, ENFILE, ENOMEM, ENOBUFS, EADDRNOTAVAIL); the target
	// was never reached, and is not to blame.
	OutcomeLocal = "local"
	// OutcomeBreakerOpen: a circuit breaker refused the request; no HTTP
	// attempt was made.
	OutcomeBreakerOpen = "breaker_open"
	// OutcomeRedirect: the target answered 3xx and the redirect was not
	// followed (client.follow_redirects), or was one hop of those followed.
	OutcomeRedirect = "redirect"
	// OutcomeBadUsage: the answer reported token counts that cannot be
	// true (negative, not integers, or above MaxReportedTokens); none of
	// them is counted.
	OutcomeBadUsage = "bad_usage"
	// OutcomeSessionExpired: an MCP server answered 404 to a request on
	// its session, and the request, retried once on a new session, failed
	// the same way (or the new session could not be opened).
	OutcomeSessionExpired = "session_expired"
)

// MaxReportedTokens is the most tokens of one kind (prompt, completion,
// cached) that one answer may report: no model reads or writes a billion
// tokens in one request, and sums of counts below it cannot overflow.
const MaxReportedTokens = 1_000_000_000

// Step kinds.
const (
	StepModel = "model"
	StepTool  = "tool"
	StepMCP   = "mcp" // an MCP-direct operation
)

// KindSession marks attempts that set up or tear down an MCP session
// (initialize, the initialized notification, DELETE). They belong to no
// logical step, so they count in attempts but not in retry amplification.
const KindSession = "session"

// KindServerRequest marks the answer to a request an MCP server sent the
// client (roots/list, sampling/createMessage, elicitation/create, ping):
// the latency is the time from the request's arrival to the answer sent.
// Like session attempts, they count in attempts but not in amplification.
const KindServerRequest = "server_request"

// Histogram tags. A tag is a level, optionally a key, and a ".failed" suffix
// for failures, which are kept out of the success histograms:
//
//	conversation            intended start -> final answer (ok conversations)
//	conversation.failed
//	service                 actual start -> final answer (ok conversations)
//	step.model:primary      one model turn, with its retries (per provider)
//	step.tool:get_weather   one tool call, with its retries (per tool)
//	attempt.model:primary/gpt-4.1-mini
//	attempt.tool:get_weather
//	ttft.model:primary      streams: time to first content or tool-call delta
//
// and, for streamed model attempts, per attempt key (see the README's
// "Streaming metrics" for the events that start and end each):
//
//	first_tool_call.model:primary/gpt-4.1-mini     sending -> first tool-call event
//	tool_args_complete.model:primary/gpt-4.1-mini  sending -> every call's arguments known
//	inter_token.model:primary/gpt-4.1-mini         each gap between output events
//	tpot.model:primary/gpt-4.1-mini                time per output token after the first event
const (
	LevelConversation     = "conversation"
	LevelService          = "service"
	LevelStep             = "step"
	LevelAttempt          = "attempt"
	LevelTTFT             = "ttft"
	LevelFirstToolCall    = "first_tool_call"
	LevelToolArgsComplete = "tool_args_complete"
	LevelInterToken       = "inter_token"
	LevelTPOT             = "tpot"
	FailedSuffix          = ".failed"
)

// Tag builds a histogram tag from a level and an optional key.
func Tag(level, key string) string {
	if key == "" {
		return level
	}
	return level + "." + key
}

// ModelKey is the step key of a provider, and AttemptModelKey its attempt
// key, which adds the model.
func ModelKey(provider string) string               { return StepModel + ":" + provider }
func AttemptModelKey(provider, model string) string { return StepModel + ":" + provider + "/" + model }

// ToolKey is the step and attempt key of a tool.
func ToolKey(tool string) string { return StepTool + ":" + tool }

// UndeclaredTool is the one key name, ToolKey(UndeclaredTool), of every
// tool a model calls that the scenario does not declare: the model picks
// those names, and a key per name would let it grow the run's histograms
// without bound. The names themselves are in attempts.jsonl only. No
// scenario may declare a tool of this name.
const UndeclaredTool = "_undeclared"

// Attempt is one HTTP exchange, one line of attempts.jsonl.
type Attempt struct {
	// Conversation is the sequence number of the conversation (results.bin's Seq).
	Conversation uint64 `json:"conv"`
	// Step counts the conversation's steps from 0, in order of start.
	Step int    `json:"step"`
	Kind string `json:"kind"` // StepModel, StepTool, StepMCP or KindSession
	// Key is the attempt key: model:PROVIDER/MODEL, tool:NAME, or for
	// MCP the handshake's mcp:SERVER/initialize and the MCP-direct
	// operations' keys (ToolsListKey, ResourceKey, PromptKey).
	Key string `json:"key"`
	// Attempt counts from 1 within its step.
	Attempt   int       `json:"attempt"`
	Start     time.Time `json:"start"`
	LatencyUS int64     `json:"latency_us"`
	// TTFTUS is the time to the first streamed delta, for streams.
	TTFTUS int64 `json:"ttft_us,omitempty"`
	// Stream metrics, for streams (README "Streaming metrics"), all from
	// the attempt's start but GenUS and TPOTUS. FirstToolUS is the time to
	// the first tool-call event; ArgsDoneUS to the event after which every
	// tool call's arguments were known (whole answers with tool calls
	// only). OutputEvents counts the events that carried output (text or
	// tool-call data); GenUS is the time from the first of them to the
	// last; TPOTUS is GenUS / (CompletionTokens - 1), for ok attempts with
	// two output events and two completion tokens or more.
	FirstToolUS  int64 `json:"first_tool_us,omitempty"`
	ArgsDoneUS   int64 `json:"args_done_us,omitempty"`
	OutputEvents int   `json:"output_events,omitempty"`
	GenUS        int64 `json:"gen_us,omitempty"`
	TPOTUS       int64 `json:"tpot_us,omitempty"`
	// InterTokenUS holds the gaps between consecutive output events, in
	// µs: OutputEvents-1 of them. It is not written to attempts.jsonl (the
	// inter_token histograms hold it), and it is valid only during the
	// Sink's Attempt call: a sink that keeps it copies it.
	InterTokenUS []int64 `json:"-"`

	Status int `json:"status,omitempty"`
	// Proto is the HTTP version the response came in, as net/http names
	// it: "HTTP/1.1" or "HTTP/2.0"; empty when no response came (stdio,
	// or a failure before one).
	Proto   string `json:"proto,omitempty"`
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	BytesIn int64  `json:"bytes_in,omitempty"`

	PromptTokens     int `json:"prompt_tokens,omitempty"`
	CompletionTokens int `json:"completion_tokens,omitempty"`
	CachedTokens     int `json:"cached_tokens,omitempty"`

	// RequestID is the provider's id of a model attempt's request: its
	// x-request-id or request-id header, or Gemini's responseId. Headers
	// holds, by lower-case name, the response headers recorded: rate
	// limits, gateways' retry and upstream headers, and the scenario's
	// record_headers (docs/gateways.md). Both are redacted and cut.
	RequestID string            `json:"request_id,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`

	// RPCCode is the code of the JSON-RPC error an MCP server answered
	// (see RPCCodeName), 0 when there was none.
	RPCCode int `json:"rpc_code,omitempty"`
	// Progress counts the notifications/progress an MCP response's event
	// stream carried before the response; FirstProgressUS is the time from
	// sending the request to the first of them.
	Progress        int   `json:"progress,omitempty"`
	FirstProgressUS int64 `json:"first_progress_us,omitempty"`
	// ToolsSchema measures the tool list of an ok tools/list attempt.
	ToolsSchema *ToolsSchema `json:"tools_schema,omitempty"`
	// OutputSchemaError says how the structuredContent of a tools/call
	// result failed its tool's outputSchema. The attempt's outcome is
	// not changed by it.
	OutputSchemaError string `json:"output_schema_error,omitempty"`
	// MCPProtocol is the MCP revision an MCP exchange spoke: the lane
	// chosen (2026-07-28 for the stateless lane, the negotiated version
	// of an initialize session, 2024-11-05 for HTTP+SSE). Empty for model
	// exchanges and for a handshake that failed before a lane was known.
	MCPProtocol string `json:"mcp_protocol,omitempty"`
}

// ToolsSchema is the size of a tool list: as an MCP server lists it, and
// as each model API's request carries it, which is what a model is billed
// for on every call that offers the tools.
type ToolsSchema struct {
	Tools int `json:"tools"`
	// Bytes is the JSON of the list's tools array, as the server sent it.
	Bytes int `json:"bytes"`
	// DialectBytes is the JSON of the same tools in a model request of
	// each API (openai, anthropic, gemini): the value of its "tools" field.
	DialectBytes map[string]int `json:"dialect_bytes"`
}

// MCP step and attempt keys of the MCP-direct operations besides
// tools/call (ToolKey): tools/list under the server's name, like the
// handshake's mcp:SERVER/initialize.
func ToolsListKey(server string) string { return "mcp:" + server + "/tools/list" }
func ResourceKey(uri string) string     { return "resource:" + uri }
func PromptKey(name string) string      { return "prompt:" + name }

// JSON-RPC error codes that mcpload names: JSON-RPC 2.0's own, and the
// seed's MCP server's tool errors. Attempts record any code; these have
// names in reports.
const (
	RPCParseError      = -32700
	RPCInvalidRequest  = -32600
	RPCMethodNotFound  = -32601
	RPCInvalidParams   = -32602
	RPCInternalError   = -32603
	RPCToolNotFound    = -32001
	RPCExecutionFailed = -32002
	RPCTimeout         = -32003
	RPCRateLimited     = -32004
)

// RPCCodeName names a JSON-RPC error code, or returns "" for a code
// mcpload does not know.
func RPCCodeName(code int) string {
	switch code {
	case RPCParseError:
		return "parse error"
	case RPCInvalidRequest:
		return "invalid request"
	case RPCMethodNotFound:
		return "method not found"
	case RPCInvalidParams:
		return "invalid params"
	case RPCInternalError:
		return "internal error"
	case RPCToolNotFound:
		return "tool not found"
	case RPCExecutionFailed:
		return "execution failed"
	case RPCTimeout:
		return "timeout"
	case RPCRateLimited:
		return "rate limited"
	}
	return ""
}

// Run status values.
const (
	StatusRunning     = "running"
	StatusComplete    = "complete"
	StatusInterrupted = "interrupted" // Ctrl-C or a deadline: a partial run
	// StatusAborted: the run stopped itself before its schedule ended,
	// because a threshold with abort_on_fail failed or the spend cap was
	// reached; StopReason says which.
	StatusAborted = "aborted"
	StatusFailed  = "failed"
)

// Run is the metadata and counters of a run (run.json). The attacker
// rewrites it every interval, so a crash leaves counters at most one
// interval old.
type Run struct {
	Scenario string `json:"scenario"`
	Kind     string `json:"kind"`
	Seed     int64  `json:"seed"`
	Version  string `json:"mcpload_version"`
	Status   string `json:"status"`
	// StopReason says why an aborted run stopped.
	StopReason string `json:"stop_reason,omitempty"`

	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitempty"`
	// Planned is the length of the arrival schedule.
	Planned time.Duration `json:"planned_ns"`

	Rate RunRate `json:"rate"`

	Conversations Counts        `json:"conversations"`
	Attempts      AttemptCounts `json:"attempts"`
	Tokens        Tokens        `json:"tokens"`

	// InvalidToolArgs counts tool calls whose arguments did not parse or did
	// not validate against the tool's inputSchema.
	InvalidToolArgs uint64 `json:"invalid_tool_args"`
	// PeakInFlight is the most conversations in flight at once.
	PeakInFlight int64 `json:"peak_in_flight"`

	// Streams sums, per model attempt key, the ok streamed attempts whose
	// output rate can be measured (those with a TPOT), for output tokens
	// per second as a ratio of sums.
	Streams map[string]StreamTotals `json:"streams,omitempty"`

	// Harness is the harness's check of itself (harness.go); absent from
	// runs that predate it.
	Harness *Harness `json:"harness,omitempty"`

	// Warnings are what the run said loudly at its start, such as a
	// target whose certificate is not verified.
	Warnings []string `json:"warnings,omitempty"`

	// ScenarioHash is ScenarioHash of the folder's scenario.yaml, which
	// merge compares across shards.
	ScenarioHash string `json:"scenario_hash,omitempty"`
	// Shard is set in the folder of one shard of a sharded run, Merged
	// in the folder merge wrote from the shards (shard.go).
	Shard  *Shard  `json:"shard,omitempty"`
	Merged *Merged `json:"merged,omitempty"`
}

// StreamTotals sums the ok streamed attempts of one attempt key that have a
// TPOT (Attempt.TPOTUS): their count, completion tokens and generation
// time (Attempt.GenUS). Output tokens per second is then
// (CompletionTokens - Streams) / GenerationUS, as TPOT divides by n-1: one
// token of each stream came with its first output event, at TTFT, before
// its generation time began.
type StreamTotals struct {
	Streams          int64 `json:"streams"`
	CompletionTokens int64 `json:"completion_tokens"`
	GenerationUS     int64 `json:"generation_us"`
}

// RunRate compares the schedule with what happened, in conversations per second.
type RunRate struct {
	// Target is the mean rate of the schedule over its planned length.
	Target float64 `json:"target"`
	// Achieved is conversations started over the time it took to start them.
	Achieved float64 `json:"achieved"`
	// Throughput is ok conversations per second of the whole run, as vegeta
	// reports it.
	Throughput float64 `json:"throughput"`
}

// Counts counts conversations (or MCP-direct operations) by fate.
type Counts struct {
	Started uint64 `json:"started"`
	OK      uint64 `json:"ok"`
	Failed  uint64 `json:"failed"`
	Dropped uint64 `json:"dropped"`
	// ByOutcome counts failed conversations by the outcome that failed them.
	ByOutcome map[string]uint64 `json:"by_outcome"`
}

// AttemptCounts counts HTTP attempts.
type AttemptCounts struct {
	Total uint64 `json:"total"`
	// Retries counts retries scheduled (EventRetry). Hedged and fallback
	// attempts are not retries: Hedges and Fallbacks count them.
	Retries   uint64            `json:"retries"`
	Fallbacks uint64            `json:"fallbacks"`
	ByOutcome map[string]uint64 `json:"by_outcome"`
	// RetriesByReason counts retries by the outcome that caused them.
	RetriesByReason map[string]uint64 `json:"retries_by_reason,omitempty"`
	// BreakerOpens counts transitions of any breaker to open.
	BreakerOpens uint64 `json:"breaker_opens"`
	// ByProto counts the attempts that got a response, by the HTTP
	// version it came in (Attempt.Proto).
	ByProto map[string]uint64 `json:"by_proto,omitempty"`
	// BudgetExhausted counts retries the budget refused.
	BudgetExhausted uint64 `json:"budget_exhausted"`
	// Hedges counts hedged attempts sent.
	Hedges uint64 `json:"hedges"`
	// CacheHits and CacheMisses count model requests the response cache
	// answered, and those it could not.
	CacheHits   uint64 `json:"cache_hits"`
	CacheMisses uint64 `json:"cache_misses"`
	// Steps counts logical steps, and StepAttempts the attempts made for
	// them (Total less session attempts), so that StepAttempts/Steps is
	// retry amplification.
	Steps        uint64 `json:"steps"`
	StepAttempts uint64 `json:"step_attempts"`
}

// Tokens sums the usage that providers reported.
type Tokens struct {
	Prompt     int64 `json:"prompt"`
	Completion int64 `json:"completion"`
	Cached     int64 `json:"cached"`
}

// Event kinds, one per policy decision.
const (
	EventRetry           = "retry"            // a retry is scheduled after Delay, for Reason
	EventBudgetExhausted = "budget_exhausted" // the budget refused a retry
	EventFallback        = "fallback"         // the step moves from Provider to To, for Reason
	EventBreaker         = "breaker"          // Provider's breaker moves From -> To (closed, open, half_open)
	EventHedge           = "hedge"            // a hedged attempt is sent
	EventCacheHit        = "cache_hit"        // the cache answered the step
	// EventCacheMiss: the cache could not answer the step. Misses are the
	// common case, so they are counted (CacheMisses) but not written to
	// events.jsonl.
	EventCacheMiss = "cache_miss"
)

// Breaker states.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half_open"
)

// Event is one client-policy event, one line of events.jsonl.
type Event struct {
	Time time.Time `json:"t"`
	Kind string    `json:"kind"`
	// Conversation and Step locate the event; Attempt is the attempt the
	// event follows (for retries, the failed one).
	Conversation uint64 `json:"conv"`
	Step         int    `json:"step"`
	Attempt      int    `json:"attempt,omitempty"`
	// Key is the step key (model:PROVIDER, tool:NAME); Provider the provider
	// concerned.
	Key      string `json:"key,omitempty"`
	Provider string `json:"provider,omitempty"`
	// Reason is the outcome class that caused a retry or fallback.
	Reason string `json:"reason,omitempty"`
	// DelayMS is the wait before a retry, in milliseconds.
	DelayMS float64 `json:"delay_ms,omitempty"`
	// To is the fallback's target provider, or the breaker's new state;
	// From the breaker's old state.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}
