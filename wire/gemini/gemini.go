// Package gemini holds the wire types of the Gemini API's generateContent
// and streamGenerateContent (alt=sse) methods, as far as tool use needs
// them. The mock serves them and the attacker reads them; both import this
// package so that they cannot drift apart.
//
// The reference is the API as google.golang.org/genai reads and writes it:
// the mock's conformance tests run that SDK against the mock. Requests and
// answers use the REST API's camelCase names.
package gemini

import "encoding/json"

// HeaderAPIKey carries the API key; the API also takes it as ?key=.
const HeaderAPIKey = "X-Goog-Api-Key"

// Method names, after "models/MODEL:" in the URL path.
const (
	MethodGenerate = "generateContent"
	MethodStream   = "streamGenerateContent"
)

// Request is a generateContent request. The model is in the URL.
type Request struct {
	Contents          []Content         `json:"contents"`
	SystemInstruction *Content          `json:"systemInstruction,omitempty"`
	Tools             []Tool            `json:"tools,omitempty"`
	ToolConfig        *ToolConfig       `json:"toolConfig,omitempty"`
	GenerationConfig  *GenerationConfig `json:"generationConfig,omitempty"`
}

// ToolConfig configures function calling.
type ToolConfig struct {
	FunctionCallingConfig *FunctionCallingConfig `json:"functionCallingConfig,omitempty"`
}

// FunctionCallingConfig says whether and which functions the model may
// call: Mode AUTO, ANY (some function, among AllowedFunctionNames when
// set) or NONE.
type FunctionCallingConfig struct {
	Mode                 string   `json:"mode,omitempty"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

// Function calling modes.
const (
	ModeAuto = "AUTO"
	ModeAny  = "ANY"
	ModeNone = "NONE"
)

// GenerationConfig holds the generation options mcpload sets.
type GenerationConfig struct {
	MaxOutputTokens int `json:"maxOutputTokens,omitempty"`
}

// Roles of Contents.
const (
	RoleUser  = "user"
	RoleModel = "model"
)

// Content is one turn: a role and its parts.
type Content struct {
	Role  string `json:"role,omitempty"`
	Parts []Part `json:"parts"`
}

// Part is one part of a Content: text, a function call the model asks
// for, or the function response that answers it.
type Part struct {
	// Text is a pointer so that an empty text part keeps "text": "".
	Text             *string           `json:"text,omitempty"`
	Thought          bool              `json:"thought,omitempty"`
	FunctionCall     *FunctionCall     `json:"functionCall,omitempty"`
	FunctionResponse *FunctionResponse `json:"functionResponse,omitempty"`
	// ThoughtSignature is an opaque token (base64) that thinking models
	// attach to a part and want back, unchanged, in the next request.
	ThoughtSignature string `json:"thoughtSignature,omitempty"`
}

// FunctionCall is a call the model asks for. Args is a JSON object. ID is
// set by some models only; when it is, the response must carry it back.
type FunctionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

// FunctionResponse answers a FunctionCall. Response is a JSON object: by
// the API's convention, the result under "output", or the failure under
// "error".
type FunctionResponse struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

// Tool offers functions to the model.
type Tool struct {
	FunctionDeclarations []FunctionDeclaration `json:"functionDeclarations"`
}

// FunctionDeclaration declares a function. Parameters is a Schema, the
// OpenAPI subset the API accepts (see attacker's translation of MCP's
// inputSchema).
type FunctionDeclaration struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// Response is a generateContent answer, and each event of a stream.
type Response struct {
	Candidates    []Candidate    `json:"candidates,omitempty"`
	UsageMetadata *UsageMetadata `json:"usageMetadata,omitempty"`
	ModelVersion  string         `json:"modelVersion,omitempty"`
	ResponseID    string         `json:"responseId,omitempty"`
	// Error is set on an error sent in place of a stream event.
	Error *ErrorDetail `json:"error,omitempty"`
}

// Candidate is one answer. FinishReason is set on the last event of a
// stream, and on a whole answer.
type Candidate struct {
	Content      *Content `json:"content,omitempty"`
	FinishReason string   `json:"finishReason,omitempty"`
	Index        int      `json:"index"`
}

// Finish reasons.
const (
	FinishStop                  = "STOP"
	FinishMaxTokens             = "MAX_TOKENS"
	FinishMalformedFunctionCall = "MALFORMED_FUNCTION_CALL"
)

// UsageMetadata is the token accounting. PromptTokenCount includes the
// cached part, CachedContentTokenCount; thinking models bill
// ThoughtsTokenCount as output beside CandidatesTokenCount.
type UsageMetadata struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount,omitempty"`
	CachedContentTokenCount int `json:"cachedContentTokenCount,omitempty"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount,omitempty"`
	TotalTokenCount         int `json:"totalTokenCount"`
}

// ErrorBody is the API's error shape, Google's: {"error": {...}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes one API error: the HTTP status in Code, the
// google.rpc code name in Status, and typed details (a RetryInfo with
// retryDelay on RESOURCE_EXHAUSTED).
type ErrorDetail struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Status  string            `json:"status"`
	Details []json.RawMessage `json:"details,omitempty"`
}

// Detail type URLs of ErrorDetail.Details.
const (
	TypeRetryInfo    = "type.googleapis.com/google.rpc.RetryInfo"
	TypeQuotaFailure = "type.googleapis.com/google.rpc.QuotaFailure"
	TypeErrorInfo    = "type.googleapis.com/google.rpc.ErrorInfo"
)

// RetryInfo is the detail that says when to try again. RetryDelay is a
// protobuf Duration in JSON: seconds with an "s" suffix, such as "34s" or
// "1.500s".
type RetryInfo struct {
	Type       string `json:"@type"`
	RetryDelay string `json:"retryDelay"`
}

// Status names of ErrorDetail, by the HTTP status they come with.
const (
	StatusInvalidArgument   = "INVALID_ARGUMENT"   // 400
	StatusUnauthenticated   = "UNAUTHENTICATED"    // 401
	StatusPermissionDenied  = "PERMISSION_DENIED"  // 403
	StatusNotFound          = "NOT_FOUND"          // 404
	StatusResourceExhausted = "RESOURCE_EXHAUSTED" // 429
	StatusInternal          = "INTERNAL"           // 500
	StatusUnavailable       = "UNAVAILABLE"        // 503
	StatusDeadlineExceeded  = "DEADLINE_EXCEEDED"  // 504
)

// StatusName returns the google.rpc code name the API sends with an HTTP
// status.
func StatusName(status int) string {
	switch status {
	case 400:
		return StatusInvalidArgument
	case 401:
		return StatusUnauthenticated
	case 403:
		return StatusPermissionDenied
	case 404:
		return StatusNotFound
	case 429:
		return StatusResourceExhausted
	case 503:
		return StatusUnavailable
	case 504:
		return StatusDeadlineExceeded
	}
	if status >= 500 {
		return StatusInternal
	}
	return StatusInvalidArgument
}
