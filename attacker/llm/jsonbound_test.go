package llm

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
)

func TestArrayBound(t *testing.T) {
	calls := func(n int) string { return strings.TrimSuffix(strings.Repeat(`{"id":"a"},`, n), ",") }
	cases := []struct {
		name string
		doc  string
		over bool
	}{
		{"at the bound", `{"choices":[{"message":{"tool_calls":[` + calls(68) + `]}}]}`, false},
		{"past the bound", `{"choices":[{"message":{"tool_calls":[` + calls(69) + `]}}]}`, true},
		{"summed over choices", `{"choices":[{"message":{"tool_calls":[` + calls(40) + `]}},{"message":{"tool_calls":[` + calls(40) + `]}}]}`, true},
		{"key case", `{"CHOICES":[{"Message":{"Tool_Calls":[` + calls(69) + `]}}]}`, true},
		{"escaped key", `{"choices":[{"message":{"tool\u005fcalls":[` + calls(69) + `]}}]}`, true},
		{"other keys", `{"choices":[{"message":{"tool_calls_x":[` + calls(69) + `],"content":"[[[[{\"tool_calls\":[]"}}]}`, false},
		{"strings with brackets", `{"choices":[{"message":{"content":"]}]}","tool_calls":[` + calls(3) + `]}}]}`, false},
		{"too many choices", `{"choices":[` + strings.TrimSuffix(strings.Repeat(`{},`, 69), ",") + `]}`, true},
		{"stream delta", `{"choices":[{"delta":{"tool_calls":[` + calls(69) + `]}}]}`, true},
		{"malformed", `{"choices":[{"message":{"tool_calls":[` + calls(69), true},
		{"null", `{"choices":null}`, false},
		{"deeper keys of the same name", `{"usage":{"choices":[` + calls(69) + `]},"choices":[{"message":{"x":{"tool_calls":[` + calls(69) + `]}}}]}`, false},
		{"spaces", "{ \"choices\" : [ { \"message\" : { \"tool_calls\" : [ " + calls(69) + " ] } } ] }", true},
	}
	for _, c := range cases {
		if got := arrayBound([]byte(c.doc), 4, openAIArrays) != ""; got != c.over {
			t.Errorf("%s: over the bound %v, want %v", c.name, got, c.over)
		}
	}
}

// TestJSONAnswerOfEmptyElements: an answer of 32 MiB of "{}" elements,
// in every API, is refused before decoding. Decoded, it took 2 to 6 GB.
func TestJSONAnswerOfEmptyElements(t *testing.T) {
	for _, c := range []struct {
		name, pre, post string
		d               dialect
	}{
		{"openai", `{"choices":[{"message":{"role":"assistant","tool_calls":[`, `]},"finish_reason":"tool_calls"}]}`, openAIDialect{}},
		{"openai choices", `{"choices":[`, `]}`, openAIDialect{}},
		{"anthropic", `{"type":"message","stop_reason":"tool_use","content":[`, `]}`, anthropicDialect{}},
		{"gemini", `{"candidates":[{"content":{"role":"model","parts":[`, `]},"finishReason":"STOP"}]}`, geminiDialect{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := (32<<20 - 200) / 3
			body := []byte(c.pre + strings.TrimSuffix(strings.Repeat("{},", n), ",") + c.post)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := c.d.readJSON(context.Background(), context.Background(), &httpx.CountingBody{R: io.NopCloser(bytes.NewReader(body))}, 128)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			if r.Outcome != record.OutcomeProtocol || !strings.Contains(r.Err, "client.limits.max_tool_calls") {
				t.Errorf("outcome %s %q", r.Outcome, r.Err)
			}
			// The body's buffer, grown by doubling past 32 MiB, is 128 MB
			// of allocations (255 MB under -race); decoding took 2 to 6 GB
			// more.
			if alloc > 512<<20 {
				t.Errorf("reading the answer allocated %d MB", alloc>>20)
			}
		})
	}
}

// TestStreamEventOfEmptyElements: one stream event of 8 MiB of "{}"
// elements is refused before decoding, in every API.
func TestStreamEventOfEmptyElements(t *testing.T) {
	n := (8 << 20) / 3
	elems := strings.TrimSuffix(strings.Repeat("{},", n), ",")
	for _, c := range []struct {
		name, event string
		d           dialect
	}{
		{"openai", `{"choices":[` + elems + `]}`, openAIDialect{}},
		{"anthropic", `{"type":"message_start","message":{"type":"message","content":[` + elems + `]}}`, anthropicDialect{}},
		{"gemini", `{"candidates":[{"content":{"parts":[` + elems + `]}}]}`, geminiDialect{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := "data: " + c.event + "\n\n"
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := c.d.readStream(context.Background(), context.Background(), strings.NewReader(body), time.Now(), nil, 128)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			if r.Outcome != record.OutcomeProtocol || !strings.Contains(r.Err, "client.limits.max_tool_calls") {
				t.Errorf("outcome %s %q", r.Outcome, r.Err)
			}
			if alloc > 64<<20 {
				t.Errorf("reading the event allocated %d MB", alloc>>20)
			}
		})
	}
}
