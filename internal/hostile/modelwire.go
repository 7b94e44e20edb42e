package hostile

import (
	"net/http"
	"strconv"
	"strings"
)

// The model APIs a hostile provider answers, told apart by the request's
// path as the attacker sends it: .../chat/completions (OpenAI),
// .../messages (Anthropic), .../models/M:generateContent or
// :streamGenerateContent (Gemini).
const (
	OpenAI    = "openai"
	Anthropic = "anthropic"
	Gemini    = "gemini"
)

// modelAPI returns the API of a model request, "" for another path.
func modelAPI(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/chat/completions"):
		return OpenAI
	case strings.HasSuffix(p, "/messages"):
		return Anthropic
	case strings.Contains(p, ":generateContent"), strings.Contains(p, ":streamGenerateContent"):
		return Gemini
	}
	return ""
}

// modelJSON writes a whole answer of api: the tool calls named names (each
// with empty arguments), or no call at all. Its bytes are built by hand:
// an answer of many thousand calls should cost the test little.
func modelJSON(w http.ResponseWriter, api string, names []string) {
	var b []byte
	switch api {
	case OpenAI:
		b = append(b, `{"id":"chatcmpl-hostile","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[`...)
		for i, n := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":"call_`...)
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, `","type":"function","function":{"name":`...)
			b = strconv.AppendQuote(b, n)
			b = append(b, `,"arguments":"{}"}}`...)
		}
		b = append(b, `]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`...)
	case Anthropic:
		b = append(b, `{"id":"msg_hostile","type":"message","role":"assistant","model":"m","content":[`...)
		for i, n := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"tool_use","id":"toolu_`...)
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, `","name":`...)
			b = strconv.AppendQuote(b, n)
			b = append(b, `,"input":{}}`...)
		}
		b = append(b, `],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}}`...)
	case Gemini:
		b = append(b, `{"candidates":[{"content":{"role":"model","parts":[`...)
		for i, n := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"functionCall":{"name":`...)
			b = strconv.AppendQuote(b, n)
			b = append(b, `,"args":{}}}`...)
		}
		b = append(b, `]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2}}`...)
	default:
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// sseWriter writes one answer's events and flushes each.
type sseWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func newSSE(w http.ResponseWriter) *sseWriter {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	return &sseWriter{w: w, f: f}
}

// event writes one event (with an event: line when name is not ""); it
// fails once the client has gone.
func (s *sseWriter) event(name string, data []byte) error {
	var b []byte
	if name != "" {
		b = append(append(append(b, "event: "...), name...), '\n')
	}
	b = append(append(append(b, "data: "...), data...), "\n\n"...)
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	if s.f != nil {
		s.f.Flush()
	}
	return nil
}

// streamStart writes what an API sends before its first output event.
func (s *sseWriter) streamStart(api string) error {
	if api != Anthropic {
		return nil
	}
	return s.event("message_start", []byte(`{"type":"message_start","message":{"id":"msg_hostile","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}}`))
}

// toolCallEvent writes the i-th tool call of a streamed answer, a call of
// name with empty arguments, as one event (Anthropic: a tool_use block's
// start and stop).
func (s *sseWriter) toolCallEvent(api string, i int, name string) error {
	var b []byte
	switch api {
	case OpenAI:
		b = append(b, `{"id":"chatcmpl-hostile","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"id":"call_`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `","type":"function","function":{"name":`...)
		b = strconv.AppendQuote(b, name)
		b = append(b, `,"arguments":"{}"}}]},"finish_reason":null}]}`...)
		return s.event("", b)
	case Anthropic:
		b = append(b, `{"type":"content_block_start","index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"content_block":{"type":"tool_use","id":"toolu_`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `","name":`...)
		b = strconv.AppendQuote(b, name)
		b = append(b, `,"input":{}}}`...)
		if err := s.event("content_block_start", b); err != nil {
			return err
		}
		b = append(b[:0], `{"type":"content_block_stop","index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		return s.event("content_block_stop", append(b, '}'))
	default:
		b = append(b, `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":`...)
		b = strconv.AppendQuote(b, name)
		b = append(b, `,"args":{}}}]},"index":0}]}`...)
		return s.event("", b)
	}
}

// textEvent writes one text delta of a streamed answer (Anthropic: into
// the text block its first call opens).
func (s *sseWriter) textEvent(api string, first bool, text string) error {
	var b []byte
	switch api {
	case OpenAI:
		b = append(b, `{"id":"chatcmpl-hostile","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":`...)
		b = strconv.AppendQuote(b, text)
		b = append(b, `},"finish_reason":null}]}`...)
		return s.event("", b)
	case Anthropic:
		if first {
			if err := s.event("content_block_start", []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)); err != nil {
				return err
			}
		}
		b = append(b, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`...)
		b = strconv.AppendQuote(b, text)
		return s.event("content_block_delta", append(b, "}}"...))
	default:
		b = append(b, `{"candidates":[{"content":{"role":"model","parts":[{"text":`...)
		b = strconv.AppendQuote(b, text)
		b = append(b, `}]},"index":0}]}`...)
		return s.event("", b)
	}
}
