package hostile

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
)

// Usage is a model that answers every request with a final answer whose
// token counts are the JSON literals Prompt and Completion, verbatim
// ("-20000000", "9000000000000000000", "1.5"), in the dialect the request
// was made in: OpenAI (.../chat/completions), Anthropic (.../messages) or
// Gemini (...:generateContent, ...:streamGenerateContent), as a JSON body
// or, when the request asks for one, an event stream. With Every n > 1,
// only every n-th answer has those counts; the others report Good.
type Usage struct {
	Prompt, Completion string
	// Every spaces the hostile answers (0 or 1: all of them); Good is the
	// counts of the others, as a prompt literal (the completion is 1).
	Every int
	Good  string

	n atomic.Int64
}

func (u *Usage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Stream bool `json:"stream"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	prompt, completion := u.Prompt, u.Completion
	if n := u.n.Add(1); u.Every > 1 && n%int64(u.Every) != 0 {
		prompt, completion = u.Good, "1"
	}
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		usage := `{"prompt_tokens":` + prompt + `,"completion_tokens":` + completion + `}`
		if !req.Stream {
			writeJSON(w, http.StatusOK, finalAnswer(usage))
			return
		}
		writeSSE(w,
			`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"hello"}}]}`,
			`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			`{"id":"c","object":"chat.completion.chunk","choices":[],"usage":`+usage+`}`,
			`[DONE]`)
	case strings.HasSuffix(path, "/messages"):
		if !req.Stream {
			writeJSON(w, http.StatusOK, `{"id":"msg_h","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hello"}],`+
				`"stop_reason":"end_turn","usage":{"input_tokens":`+prompt+`,"output_tokens":`+completion+`}}`)
			return
		}
		writeSSE(w,
			`{"type":"message_start","message":{"id":"msg_h","type":"message","role":"assistant","model":"m","content":[],"usage":{"input_tokens":`+prompt+`,"output_tokens":1}}}`,
			`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
			`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hello"}}`,
			`{"type":"content_block_stop","index":0}`,
			`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":`+completion+`}}`,
			`{"type":"message_stop"}`)
	default: // Gemini
		answer := `{"candidates":[{"content":{"role":"model","parts":[{"text":"hello"}]},"finishReason":"STOP"}],` +
			`"usageMetadata":{"promptTokenCount":` + prompt + `,"candidatesTokenCount":` + completion + `}}`
		if !strings.Contains(path, ":streamGenerateContent") {
			writeJSON(w, http.StatusOK, answer)
			return
		}
		writeSSE(w, answer)
	}
}

// finalAnswer is a Chat Completions final answer with usage.
func finalAnswer(usage string) string {
	return completion(`{"role":"assistant","content":"hello"}`, "stop", usage)
}

// writeSSE writes each data as one event of an event stream.
func writeSSE(w http.ResponseWriter, data ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, d := range data {
		_, _ = w.Write([]byte("data: " + d + "\n\n"))
	}
}
