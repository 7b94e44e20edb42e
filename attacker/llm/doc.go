// Package llm is mcpload's model client: it sends a conversation's model
// steps to a provider in its API's dialect (OpenAI Chat Completions,
// Anthropic Messages, Gemini generateContent; one file each), through the
// scenario's client policies, and makes each HTTP exchange a counted,
// timed attempt. The three dialects' streams are read by one event reader
// (sse.go). The conversation job uses it through Endpoint, Attempt and
// Client; the conversation itself is kept as OpenAI messages, whatever the
// provider.
package llm

import "github.com/mcpload/mcpload/record"

// Sink receives the attempts and policy events of model exchanges; the
// attacker's Sink implements it.
type Sink interface {
	Attempt(a *record.Attempt)
	Event(e *record.Event)
}

// Redactor removes secrets from text a target controls. Clip also cuts
// the text to an error text's length; Redact leaves its length alone.
type Redactor interface {
	Clip(s string) string
	Redact(s string) string
}
