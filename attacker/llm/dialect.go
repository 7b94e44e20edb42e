package llm

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// dialect is one provider API's wire format as mcpload speaks it:
// OpenAI Chat Completions, Anthropic Messages or Gemini generateContent.
// The conversation is kept as OpenAI messages, whatever the provider;
// each dialect translates them into its request and its answer back into
// one, so that the conversation loop, the policies and the recorder never
// see a dialect, and every provider's metrics come out under the same
// keys and outcome classes.
type dialect interface {
	// basePath is the mock's path of the API's base URL, after
	// /providers/NAME: "/v1", or "/v1beta" for Gemini.
	basePath() string
	// url returns the URL of a model step of model, from the base URL.
	url(base, model string, stream bool) string
	// headers returns the request headers that carry key (and the API's
	// version). key is "" for the mock.
	headers(key string) []header
	// prefix returns the start of every request body of provider p: what
	// does not change between steps (model, options, tools), up to where
	// appendBody takes over.
	prefix(p *scenarios.Provider, tools []*scenarios.Tool) ([]byte, error)
	// appendBody appends the conversation msgs and closes the body.
	appendBody(b []byte, msgs []openaichat.Message) []byte
	// readJSON parses a whole answer. It returns the result's msg, finish,
	// usage, outcome, err and broken; the caller merges them into the
	// attempt's result. (A result, not a *Result to fill: a pointer
	// passed through an interface escapes, and the OpenAI path would pay
	// an allocation per step for it.) An answer with more than maxCalls
	// tool calls fails (tooManyCalls).
	readJSON(ctx, actx context.Context, body io.Reader, maxCalls int) Result
	// readStream parses an SSE answer of an attempt that started at start,
	// telling w of each event and of the first delta (content or tool
	// call); the result's stream clock holds the stream's timings (see
	// streamClock). The stream is read no further than its tool call
	// past maxCalls, which fails it (tooManyCalls).
	readStream(ctx, actx context.Context, body io.Reader, start time.Time, w *streamWatch, maxCalls int) Result
	// errorText describes a failed answer from its body. It may add to
	// resp's headers what the policies read (Retry-After) when the API
	// says it in the body instead.
	errorText(resp *http.Response, body io.Reader) string
}

// header is one request header, canonical name and value.
type header struct {
	name  string
	value []string
}

// dialectFor returns the dialect of api ("" is OpenAI's).
func dialectFor(api string) (dialect, error) {
	switch api {
	case "", scenarios.APIOpenAI:
		return openAIDialect{}, nil
	case scenarios.APIAnthropic:
		return anthropicDialect{}, nil
	case scenarios.APIGemini:
		return geminiDialect{}, nil
	}
	return nil, fmt.Errorf("api %q is not supported (want one of %v)", api, scenarios.APIs())
}

// mockKey is the key sent to the mock by the dialects whose API refuses a
// request without one. The mock takes any key.
const mockKey = "mcpload-mock"

// tooManyCalls is the error of an answer with more than n tool calls
// (client.limits.max_tool_calls): none of them is sent.
func tooManyCalls(n int) string {
	return "answer has more than " + strconv.Itoa(n) + " tool calls (client.limits.max_tool_calls); none was sent"
}

// systemText joins the text of msgs' system (and developer) messages, for
// the APIs that take the system prompt apart from the conversation; ok is
// false when there is none.
func systemText(msgs []openaichat.Message) (text string, ok bool) {
	var parts []string
	for i := range msgs {
		if msgs[i].Role == "system" || msgs[i].Role == "developer" {
			parts = append(parts, msgs[i].Text())
		}
	}
	return strings.Join(parts, "\n\n"), len(parts) > 0
}
