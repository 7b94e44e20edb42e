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

// sseWriter writes one answer's events. It flushes only when asked: a
// hostile stream is as fast as the connection takes it.
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

// write writes frames; it fails once the client has gone.
func (s *sseWriter) write(frames []byte) error {
	_, err := s.w.Write(frames)
	return err
}

func (s *sseWriter) flush() {
	if s.f != nil {
		s.f.Flush()
	}
}

// appendFrame appends one event (with an event: line when name is not "").
func appendFrame(b []byte, name string, data []byte) []byte {
	if name != "" {
		b = append(append(append(b, "event: "...), name...), '\n')
	}
	return append(append(append(b, "data: "...), data...), "\n\n"...)
}

// startFrames is what an API sends before its first output event.
func startFrames(api string) []byte {
	if api != Anthropic {
		return nil
	}
	return appendFrame(nil, "message_start", []byte(`{"type":"message_start","message":{"id":"msg_hostile","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}}`))
}

// endFrames end a streamed answer of tool calls, as each API does.
func endFrames(api string) []byte {
	switch api {
	case OpenAI:
		b := appendFrame(nil, "", []byte(`{"id":"chatcmpl-hostile","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`))
		return appendFrame(b, "", []byte(`[DONE]`))
	case Anthropic:
		b := appendFrame(nil, "message_delta", []byte(`{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":1}}`))
		return appendFrame(b, "message_stop", []byte(`{"type":"message_stop"}`))
	default:
		return appendFrame(nil, "", []byte(`{"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"STOP","index":0}]}`))
	}
}

// appendToolCall appends the i-th tool call of a streamed answer, a call
// of name with empty arguments (Anthropic: a tool_use block's start and
// stop).
func appendToolCall(b []byte, api string, i int, name string) []byte {
	var d []byte
	switch api {
	case OpenAI:
		d = append(d, `{"id":"chatcmpl-hostile","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":`...)
		d = strconv.AppendInt(d, int64(i), 10)
		d = append(d, `,"id":"call_`...)
		d = strconv.AppendInt(d, int64(i), 10)
		d = append(d, `","type":"function","function":{"name":`...)
		d = strconv.AppendQuote(d, name)
		d = append(d, `,"arguments":"{}"}}]},"finish_reason":null}]}`...)
		return appendFrame(b, "", d)
	case Anthropic:
		d = append(d, `{"type":"content_block_start","index":`...)
		d = strconv.AppendInt(d, int64(i), 10)
		d = append(d, `,"content_block":{"type":"tool_use","id":"toolu_`...)
		d = strconv.AppendInt(d, int64(i), 10)
		d = append(d, `","name":`...)
		d = strconv.AppendQuote(d, name)
		d = append(d, `,"input":{}}}`...)
		b = appendFrame(b, "content_block_start", d)
		d = append(d[:0], `{"type":"content_block_stop","index":`...)
		d = strconv.AppendInt(d, int64(i), 10)
		return appendFrame(b, "content_block_stop", append(d, '}'))
	default:
		d = append(d, `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":`...)
		d = strconv.AppendQuote(d, name)
		d = append(d, `,"args":{}}}]},"index":0}]}`...)
		return appendFrame(b, "", d)
	}
}

// textFrames returns the frame that opens a streamed answer's text
// (Anthropic's text block; nil for the others), and a frame of one text
// delta.
func textFrames(api, text string) (open, delta []byte) {
	var d []byte
	switch api {
	case OpenAI:
		d = append(d, `{"id":"chatcmpl-hostile","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":`...)
		d = strconv.AppendQuote(d, text)
		d = append(d, `},"finish_reason":null}]}`...)
		return nil, appendFrame(nil, "", d)
	case Anthropic:
		open = appendFrame(nil, "content_block_start", []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`))
		d = append(d, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`...)
		d = strconv.AppendQuote(d, text)
		return open, appendFrame(nil, "content_block_delta", append(d, "}}"...))
	default:
		d = append(d, `{"candidates":[{"content":{"role":"model","parts":[{"text":`...)
		d = strconv.AppendQuote(d, text)
		d = append(d, `}]},"index":0}]}`...)
		return nil, appendFrame(nil, "", d)
	}
}
