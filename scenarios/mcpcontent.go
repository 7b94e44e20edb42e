package scenarios

// Protocol lanes of the mock's MCP servers (MCPServerMock.Protocol).
const (
	// MCPProtocolInitialize is the initialize handshake lane, up to this
	// version (older versions are negotiated as usual).
	MCPProtocolInitialize = "2025-11-25"
	// MCPProtocolStateless is the stateless lane: server/discover, _meta
	// on every request, no initialize.
	MCPProtocolStateless = "2026-07-28"
	// MCPProtocolBoth serves both lanes; the client's first request
	// chooses.
	MCPProtocolBoth = "both"
)

// MCPProtocols lists the values of MCPServerMock.Protocol.
func MCPProtocols() []string {
	return []string{MCPProtocolInitialize, MCPProtocolStateless, MCPProtocolBoth}
}

// Content block types of MCPContent.Type, MCP's own names.
const (
	ContentText         = "text"
	ContentImage        = "image"
	ContentAudio        = "audio"
	ContentResource     = "resource"
	ContentResourceLink = "resource_link"
)

// ContentTypes lists the values of MCPContent.Type.
func ContentTypes() []string {
	return []string{ContentText, ContentImage, ContentAudio, ContentResource, ContentResourceLink}
}

// MCPContent is one MCP content block of a tool result or a prompt
// message, in MCP's own fields. Which fields apply depends on Type:
//   - text: Text;
//   - image, audio: Data (base64) and MIMEType;
//   - resource (an embedded resource): URI, MIMEType, and Text or Blob
//     (base64);
//   - resource_link: URI, Name, and optionally MIMEType.
//
// In a prompt, {{argument}} in Text and URI is replaced by the request's
// value; in a tool result, by the call's string argument.
type MCPContent struct {
	Type     string `yaml:"type"`
	Text     string `yaml:"text,omitempty"`
	Data     string `yaml:"data,omitempty"`
	MIMEType string `yaml:"mimeType,omitempty"`
	URI      string `yaml:"uri,omitempty"`
	Blob     string `yaml:"blob,omitempty"`
	Name     string `yaml:"name,omitempty"`
}

// LogMessage is one notifications/message a tool sends while it runs.
type LogMessage struct {
	// Level is an MCP log level: debug, info, notice, warning, error,
	// critical, alert or emergency. Default info.
	Level string `yaml:"level,omitempty"`
	Data  string `yaml:"data"`
}

// LogLevels lists MCP's log levels, least severe first.
func LogLevels() []string {
	return []string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}
}

// DefaultLogLevel is a LogMessage's level when none is given.
const DefaultLogLevel = "info"

// SamplingMock makes a tool ask the client for a model answer
// (sampling/createMessage) before it answers.
type SamplingMock struct {
	// Prompt is the user message sent; {{argument}} is replaced by the
	// call's string argument.
	Prompt string `yaml:"prompt"`
	// MaxTokens is the request's maxTokens. Default 100.
	MaxTokens int `yaml:"max_tokens,omitempty"`
}

// DefaultSamplingMaxTokens is SamplingMock.MaxTokens when none is given.
const DefaultSamplingMaxTokens = 100

// ElicitationMock makes a tool ask the client for user input
// (elicitation/create, form mode) before it answers.
type ElicitationMock struct {
	// Message is shown to the user; {{argument}} is replaced by the
	// call's string argument.
	Message string `yaml:"message"`
	// RequestedSchema is the form: a JSON Schema with type: object and
	// flat properties, as MCP's elicitation defines it.
	RequestedSchema map[string]any `yaml:"requestedSchema"`
}

// Bounds of the mock's MCP fixtures.
const (
	MaxLogMessages = 1000
	MaxCompletions = 100
)
