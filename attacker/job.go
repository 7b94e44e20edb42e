package attacker

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/mcpload/mcpload/record"
)

// A Job is the unit of work the scheduler starts at each arrival: a whole
// tool-use conversation, or one MCP-direct operation. Do must return when ctx
// is done. It reports every HTTP attempt and every step to sink as they
// finish; the scheduler records the conversation level from the JobResult.
type Job interface {
	Do(ctx context.Context, seq uint64, slot int, sink Sink) JobResult
}

// JobResult is how one unit of work ended.
type JobResult struct {
	// Outcome is record.OutcomeOK or the failure class that ended or spoiled
	// the unit (record.Outcome*).
	Outcome string
	// Code is the HTTP status of the last attempt, 0 when there was none.
	Code uint16
	// BytesIn sums the response bytes of every attempt.
	BytesIn uint64
	// Err describes the failure, secrets redacted; "" on success.
	Err string
	// URL is the endpoint of the unit's first request, for results.bin.
	URL string
}

// Sink receives what a Job measures. It is safe for concurrent use.
// *Recorder implements it.
type Sink interface {
	// Attempt records one HTTP exchange: a line of attempts.jsonl, the
	// attempt histogram of its key (failures kept apart), outcome and token
	// counters.
	Attempt(a *record.Attempt)
	// Step records one logical step (a model turn or a tool call, with any
	// retries) in the step histogram of its key.
	Step(s StepRecord)
	// InvalidToolArgs counts a tool call whose arguments did not parse or
	// did not validate against the tool's inputSchema.
	InvalidToolArgs()
	// Event records one client-policy event (a line of events.jsonl) and
	// counts it.
	Event(e *record.Event)
}

// StepRecord is one logical step.
type StepRecord struct {
	Conversation uint64
	Kind         string // record.StepModel, record.StepTool, record.StepMCP
	Key          string // record.ModelKey(provider), record.ToolKey(tool), ...
	Start        time.Time
	Latency      time.Duration
	Outcome      string
	// TTFT is the time to first delta of a streamed model step, else 0.
	TTFT time.Duration
}

// jobConfig is what newJob needs beyond the scenario.
type jobConfig struct {
	// MockURL is the base URL of the built-in mock (http://127.0.0.1:PORT),
	// used for providers and MCP servers whose URL is "mock".
	// Providers are at MockURL+"/providers/NAME/v1", MCP servers at
	// MockURL+"/mcp/NAME".
	MockURL string
	// HTTPClient sends every request. Its transport is shared and keeps
	// connections alive; the job sets per-attempt timeouts itself.
	HTTPClient *http.Client
	// Getenv looks up API keys (os.Getenv in production).
	Getenv func(string) string
	// Slots is the number of concurrent slots (max_in_flight, or a large
	// bound when uncapped); Do's slot argument is below it.
	Slots int
	// AllowRemote permits providers and MCP servers that are not on loopback
	// (--allow-remote). Without it newJob refuses them: a real target spends
	// real money, so loading one must be an explicit opt-in.
	AllowRemote bool
	// Proxy is the proxy each request would use (httpx.ProxyFunc), for
	// refusing one off loopback before any load; nil: none.
	Proxy func(*http.Request) (*url.URL, error)
	// Clones collects the clients made for targets with their own TLS
	// options (targetClient); nil: not collected.
	Clones *clientClones
	// RunDir is the run folder, where stdio servers' stderr logs go;
	// "" discards them.
	RunDir string
	// Self is the binary a stdio command "mcpload" runs (see
	// scenarios.SelfCommand); "" is the running executable.
	Self string
}
