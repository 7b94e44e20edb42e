// Package anthropic holds the wire types of Anthropic's Messages API
// (POST /v1/messages), JSON and SSE streaming, as far as tool use needs
// them. The mock serves them and the attacker reads them; both import this
// package so that they cannot drift apart.
//
// The reference is the API as anthropic-sdk-go reads and writes it: the
// mock's conformance tests run that SDK against the mock.
package anthropic

import "encoding/json"

// Version is the anthropic-version header mcpload sends. The API refuses a
// request without one.
const Version = "2023-06-01"

// Header names of the API, in canonical form.
const (
	HeaderAPIKey  = "X-Api-Key"
	HeaderVersion = "Anthropic-Version"
	// HeaderRequestID is the id of a request, on every answer.
	HeaderRequestID = "Request-Id"
)

// Rate limit headers. Each limit comes as -limit, -remaining and -reset
// (an RFC 3339 time).
const (
	HeaderRateLimitRequests     = "Anthropic-Ratelimit-Requests-"
	HeaderRateLimitTokens       = "Anthropic-Ratelimit-Tokens-"
	HeaderRateLimitInputTokens  = "Anthropic-Ratelimit-Input-Tokens-"
	HeaderRateLimitOutputTokens = "Anthropic-Ratelimit-Output-Tokens-"
)

// Request is a message creation request. System and message contents are
// strings or arrays of blocks on the wire; Request carries what the client
// sends as it sent it.
type Request struct {
	Model      string          `json:"model"`
	MaxTokens  int             `json:"max_tokens"`
	System     json.RawMessage `json:"system,omitempty"`
	Messages   []Message       `json:"messages"`
	Tools      []Tool          `json:"tools,omitempty"`
	ToolChoice *ToolChoice     `json:"tool_choice,omitempty"`
	Stream     bool            `json:"stream,omitempty"`
}

// ToolChoice says whether and which tools the model may use: Type "auto",
// "any" (some tool), "tool" (Name) or "none".
type ToolChoice struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	// DisableParallelToolUse makes the model call one tool at most
	// (auto) or exactly one (any, tool) per answer.
	DisableParallelToolUse bool `json:"disable_parallel_tool_use,omitempty"`
}

// Message is one input message: role "user" or "assistant", content a
// string or an array of ContentBlocks.
type Message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// Tool is a client tool offered to the model: MCP's inputSchema goes in
// InputSchema unchanged.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// Block types.
const (
	BlockText       = "text"
	BlockToolUse    = "tool_use"
	BlockToolResult = "tool_result"
)

// ContentBlock is one block of a message's content: text, a tool_use the
// model asks for, or (in requests) the tool_result that answers it.
type ContentBlock struct {
	Type string `json:"type"`
	// Text is set on text blocks; a pointer, so that an empty text block
	// (the start of a streamed one) still has "text": "".
	Text *string `json:"text,omitempty"`
	// ID, Name and Input are a tool_use block's. Input is a JSON object.
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
	// ToolUseID, Content and IsError are a tool_result block's. Content is
	// a string or an array of text blocks.
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
}

// Response is a whole message, the answer of a non-streaming request and
// the message of a stream's message_start event.
type Response struct {
	ID           string         `json:"id"`
	Type         string         `json:"type"` // "message"
	Role         string         `json:"role"` // "assistant"
	Model        string         `json:"model"`
	Content      []ContentBlock `json:"content"`
	StopReason   *string        `json:"stop_reason"`
	StopSequence *string        `json:"stop_sequence"`
	Usage        Usage          `json:"usage"`
}

// Stop reasons.
const (
	StopEndTurn   = "end_turn"
	StopToolUse   = "tool_use"
	StopMaxTokens = "max_tokens"
)

// Usage is the token accounting of a message. InputTokens leaves out the
// tokens read from or written to the prompt cache, which have fields of
// their own: the whole prompt is the sum of the three.
type Usage struct {
	InputTokens              int            `json:"input_tokens"`
	CacheCreationInputTokens int            `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int            `json:"cache_read_input_tokens"`
	CacheCreation            *CacheCreation `json:"cache_creation,omitempty"`
	OutputTokens             int            `json:"output_tokens"`
	ServiceTier              string         `json:"service_tier,omitempty"`
}

// CacheCreation splits cache writes by the cache entry's lifetime.
type CacheCreation struct {
	Ephemeral5mInputTokens int `json:"ephemeral_5m_input_tokens"`
	Ephemeral1hInputTokens int `json:"ephemeral_1h_input_tokens"`
}

// Prompt returns the whole prompt: input, cache writes and cache reads.
func (u *Usage) Prompt() int {
	return u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens
}

// Stream event types, the value of both the SSE "event:" field and the
// data's "type".
const (
	EventMessageStart      = "message_start"
	EventContentBlockStart = "content_block_start"
	EventContentBlockDelta = "content_block_delta"
	EventContentBlockStop  = "content_block_stop"
	EventMessageDelta      = "message_delta"
	EventMessageStop       = "message_stop"
	EventPing              = "ping"
	EventError             = "error"
)

// Delta types of content_block_delta events.
const (
	DeltaText      = "text_delta"
	DeltaInputJSON = "input_json_delta"
)

// StreamEvent is the data of one SSE event. Which fields are set depends on
// Type.
type StreamEvent struct {
	Type string `json:"type"`
	// Message is message_start's.
	Message *Response `json:"message,omitempty"`
	// Index is the content block of content_block_* events.
	Index *int `json:"index,omitempty"`
	// ContentBlock is content_block_start's: a text block with empty text,
	// or a tool_use block with empty input.
	ContentBlock *ContentBlock `json:"content_block,omitempty"`
	// Delta is content_block_delta's and message_delta's.
	Delta *Delta `json:"delta,omitempty"`
	// Usage is message_delta's: the whole message's counts so far.
	Usage *DeltaUsage `json:"usage,omitempty"`
	// Error is an error event's.
	Error *ErrorDetail `json:"error,omitempty"`
}

// Delta is the incremental part of a content_block_delta (Type text_delta
// or input_json_delta) or a message_delta (StopReason).
type Delta struct {
	Type        string  `json:"type,omitempty"`
	Text        *string `json:"text,omitempty"`
	PartialJSON *string `json:"partial_json,omitempty"`
	// StopReason and StopSequence are message_delta's, always sent, null
	// when they do not apply.
	StopReason   *string          `json:"stop_reason,omitempty"`
	StopSequence *json.RawMessage `json:"stop_sequence,omitempty"`
}

// DeltaUsage is message_delta's usage: output_tokens always, the input
// counts when the API sends them.
type DeltaUsage struct {
	OutputTokens             int  `json:"output_tokens"`
	InputTokens              *int `json:"input_tokens,omitempty"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens,omitempty"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens,omitempty"`
}

// ErrorBody is the API's error shape: {"type":"error","error":{...}}.
type ErrorBody struct {
	Type      string      `json:"type"` // "error"
	Error     ErrorDetail `json:"error"`
	RequestID string      `json:"request_id,omitempty"`
}

// ErrorDetail describes one API error.
type ErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Error types, by the status they come with.
const (
	ErrInvalidRequest  = "invalid_request_error" // 400
	ErrAuthentication  = "authentication_error"  // 401
	ErrPermission      = "permission_error"      // 403
	ErrNotFound        = "not_found_error"       // 404
	ErrRequestTooLarge = "request_too_large"     // 413
	ErrRateLimit       = "rate_limit_error"      // 429
	ErrAPI             = "api_error"             // 500
	ErrOverloaded      = "overloaded_error"      // 529
)

// StatusOverloaded is the status of overloaded_error.
const StatusOverloaded = 529

// ErrorType returns the error type the API sends with an HTTP status.
func ErrorType(status int) string {
	switch status {
	case 400:
		return ErrInvalidRequest
	case 401:
		return ErrAuthentication
	case 403:
		return ErrPermission
	case 404:
		return ErrNotFound
	case 413:
		return ErrRequestTooLarge
	case 429:
		return ErrRateLimit
	case StatusOverloaded:
		return ErrOverloaded
	}
	if status >= 500 {
		return ErrAPI
	}
	return ErrInvalidRequest
}

// ErrorStatus returns the HTTP status of an error type, for errors that
// arrive in a stream (whose status was 200): 0 for an unknown type.
func ErrorStatus(typ string) int {
	switch typ {
	case ErrInvalidRequest:
		return 400
	case ErrAuthentication:
		return 401
	case ErrPermission:
		return 403
	case ErrNotFound:
		return 404
	case ErrRequestTooLarge:
		return 413
	case ErrRateLimit:
		return 429
	case ErrAPI:
		return 500
	case ErrOverloaded:
		return StatusOverloaded
	}
	return 0
}
