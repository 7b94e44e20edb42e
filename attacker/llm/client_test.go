package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

func TestChatClientOutcomes(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	for _, tc := range []struct {
		name    string
		stream  bool
		handler http.HandlerFunc
		want    string
		status  int
		errHas  string
	}{
		{name: "ok", want: record.OutcomeOK, status: 200, handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, fixture.OKBody)
		}},
		{name: "429", want: record.Outcome429, status: 429, errHas: "Rate limit reached", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`)
		}},
		{name: "500", want: record.Outcome5xx, status: 500, errHas: "HTTP 500: internal", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "internal", 500)
		}},
		{name: "503", want: record.Outcome5xx, status: 503, errHas: "overloaded", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(503)
			io.WriteString(w, `{"error":{"message":"The engine is currently overloaded"}}`)
		}},
		{name: "400", want: record.Outcome4xx, status: 400, errHas: strings.Repeat("x", 50), handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"message":"`+strings.Repeat("x", 5000)+`"}}`)
		}},
		{name: "malformed json", want: record.OutcomeProtocol, status: 200, errHas: "decoding response", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"choices":[{"message":`)
		}},
		{name: "no choices", want: record.OutcomeProtocol, status: 200, errHas: "no choices", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"choices":[]}`)
		}},
		{name: "sse cut mid-stream", stream: true, want: record.OutcomeProtocol, status: 200, errHas: "without [DONE]", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n")
			io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hel\"}}]}\n\n")
		}},
		{name: "sse cut inside an event", stream: true, want: record.OutcomeProtocol, status: 200, errHas: "decoding stream chunk", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hel")
		}},
		{name: "sse without finish_reason", stream: true, want: record.OutcomeProtocol, status: 200, errHas: "finish_reason", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n")
		}},
		{name: "sse error event", stream: true, want: record.OutcomeProtocol, status: 200, errHas: "upstream died", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"error\":{\"message\":\"upstream died\"}}\n\n")
		}},
		{name: "hang past timeout", want: record.OutcomeTimeout, handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // so that the server notices the client leave
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}},
		{name: "hang mid-body", stream: true, want: record.OutcomeTimeout, status: 200, handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}},
		{name: "closed connection", want: record.OutcomeConnection, handler: func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(tc.handler)
			defer ts.Close()
			// Generous for answers, short where the server hangs.
			timeout := 5 * time.Second
			if tc.want == record.OutcomeTimeout {
				timeout = 300 * time.Millisecond
			}
			c := newTestClient(t, fixture.HTTPClient(t), ts.URL, tc.stream, timeout, "")
			sink := &fixture.Sink{}
			r := c.Do(context.Background(), 3, 1, fixture.Msgs, sink)
			if r.Outcome != tc.want {
				t.Fatalf("outcome %q, want %q (err %q)", r.Outcome, tc.want, r.Err)
			}
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d", r.Status, tc.status)
			}
			if tc.errHas != "" && !strings.Contains(r.Err, tc.errHas) {
				t.Fatalf("err %q does not contain %q", r.Err, tc.errHas)
			}
			if len(r.Err) > 400 {
				t.Fatalf("error text not truncated: %d bytes", len(r.Err))
			}
			attempts := sink.Attempts()
			if len(attempts) != 1 {
				t.Fatalf("%d attempts recorded", len(attempts))
			}
			a := attempts[0]
			if a.Outcome != tc.want || a.Kind != record.StepModel || a.Key != "model:primary/test-model" ||
				a.Conversation != 3 || a.Step != 1 || a.Attempt != 1 || a.Status != tc.status || a.Error != r.Err {
				t.Fatalf("attempt %+v", a)
			}
			if tc.want == record.OutcomeOK {
				if r.Msg.Text() != "hello" || r.Finish != "stop" || a.PromptTokens != 11 || a.CompletionTokens != 2 || a.CachedTokens != 4 || a.BytesIn != int64(len(fixture.OKBody)) {
					t.Fatalf("ok result %+v, attempt %+v", r, a)
				}
			}
		})
	}
}

func TestChatClientCanceled(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer ts.Close()
	c := newTestClient(t, fixture.HTTPClient(t), ts.URL, false, 10*time.Second, "")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	r := c.Do(ctx, 0, 0, fixture.Msgs, &fixture.Sink{})
	if r.Outcome != record.OutcomeCanceled {
		t.Fatalf("outcome %q, want canceled (%s)", r.Outcome, r.Err)
	}
}

func TestChatClientRequest(t *testing.T) {
	var got struct {
		auth, seq, ctype string
		body             map[string]any
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.auth, got.seq, got.ctype = r.Header.Get("Authorization"), r.Header.Get("Mcpload-Seq"), r.Header.Get("Content-Type")
		json.NewDecoder(r.Body).Decode(&got.body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	defer ts.Close()
	c := newTestClient(t, fixture.HTTPClient(t), ts.URL, true, 5*time.Second, "sk-abc")
	r := c.Do(context.Background(), 12345, 0, fixture.Msgs, &fixture.Sink{})
	if r.Outcome != record.OutcomeOK {
		t.Fatalf("%s: %s", r.Outcome, r.Err)
	}
	if got.auth != "Bearer sk-abc" || got.seq != "12345" || got.ctype != "application/json" {
		t.Fatalf("headers %+v", got)
	}
	if got.body["model"] != "test-model" || got.body["stream"] != true {
		t.Fatalf("body %v", got.body)
	}
	if so, _ := got.body["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Fatalf("stream_options %v", got.body["stream_options"])
	}
	tools, _ := got.body["tools"].([]any)
	if len(tools) != 3 {
		t.Fatalf("tools %v", got.body["tools"])
	}
	fn := tools[0].(map[string]any)["function"].(map[string]any)
	if tools[0].(map[string]any)["type"] != "function" || fn["name"] != "get_weather" || fn["parameters"].(map[string]any)["type"] != "object" {
		t.Fatalf("tool 0 %v", tools[0])
	}
	if msgs, _ := got.body["messages"].([]any); len(msgs) != 2 {
		t.Fatalf("messages %v", got.body["messages"])
	}
}

// TestChatClientReusesConnectionAfterFailures shows that failure bodies are
// drained: sequential failed requests all travel on one connection.
func TestChatClientReusesConnectionAfterFailures(t *testing.T) {
	var conns atomic.Int64
	var n atomic.Int64
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 4 {
		case 0:
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"slow down"}}`)
		case 1:
			w.WriteHeader(500)
			io.WriteString(w, strings.Repeat("stack trace line\n", 500)) // ~8 KiB
		case 2:
			io.WriteString(w, `{"choices":[]}`) // protocol failure
		case 3:
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n: trailing comment after done\n\n")
		}
	}))
	ts.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	defer ts.Close()
	c := newTestClient(t, fixture.HTTPClient(t), ts.URL, true, 5*time.Second, "")
	for i := range 12 {
		r := c.Do(context.Background(), uint64(i), 0, fixture.Msgs, &fixture.Sink{})
		if r.Outcome == "" || r.Outcome == record.OutcomeConnection {
			t.Fatalf("request %d: %s %s", i, r.Outcome, r.Err)
		}
	}
	if got := conns.Load(); got != 1 {
		t.Fatalf("12 sequential requests opened %d connections, want 1", got)
	}
}

// writeChunk writes one chunk event.
func writeChunk(w io.Writer, ch any) {
	b, _ := json.Marshal(ch)
	fmt.Fprintf(w, "data: %s\n\n", b)
}

func TestChatClientStreamToolCallFragments(t *testing.T) {
	args0 := `{"city":"Hà Nội","units":"metric","days":3}`
	args1 := `{"q":"quoted \"text\" and \\ backslash"}`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		idx := func(i int) *int { return &i }
		writeChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{Role: "assistant", Content: openaichat.Str("")}}}})
		fl.Flush()
		time.Sleep(20 * time.Millisecond) // the first delta comes later than the headers
		writeChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{ToolCalls: []openaichat.ToolCall{
			{Index: idx(0), ID: "call_a", Type: "function", Function: openaichat.FunctionCall{Name: "get_weather"}},
		}}}}})
		writeChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{ToolCalls: []openaichat.ToolCall{
			{Index: idx(1), ID: "call_b", Type: "function", Function: openaichat.FunctionCall{Name: "search"}},
		}}}}})
		// Interleave the two calls' argument fragments, a few bytes each,
		// split inside escapes and multi-byte characters.
		a, b := []byte(args0), []byte(args1)
		for len(a) > 0 || len(b) > 0 {
			for i, src := range []*[]byte{&a, &b} {
				n := min(3, len(*src))
				if n == 0 {
					continue
				}
				frag := string((*src)[:n])
				*src = (*src)[n:]
				// Raw bytes of a split rune cannot travel as a JSON string;
				// providers split on characters, so do the same.
				for !isValidUTF8(frag) && len(*src) > 0 {
					frag += string((*src)[:1])
					*src = (*src)[1:]
				}
				writeChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{ToolCalls: []openaichat.ToolCall{
					{Index: idx(i), Function: openaichat.FunctionCall{Arguments: frag}},
				}}}}})
			}
			fl.Flush()
		}
		stop := openaichat.FinishToolCalls
		writeChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{FinishReason: &stop}}})
		writeChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{}, Usage: &openaichat.Usage{PromptTokens: 50, CompletionTokens: 20, TotalTokens: 70}})
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	defer ts.Close()
	c := newTestClient(t, fixture.HTTPClient(t), ts.URL, true, 5*time.Second, "")
	sink := &fixture.Sink{}
	r := c.Do(context.Background(), 0, 0, fixture.Msgs, sink)
	if r.Outcome != record.OutcomeOK {
		t.Fatalf("%s: %s", r.Outcome, r.Err)
	}
	want := []openaichat.ToolCall{
		{ID: "call_a", Type: "function", Function: openaichat.FunctionCall{Name: "get_weather", Arguments: args0}},
		{ID: "call_b", Type: "function", Function: openaichat.FunctionCall{Name: "search", Arguments: args1}},
	}
	if !reflect.DeepEqual(r.Msg.ToolCalls, want) {
		t.Fatalf("tool calls\n got %+v\nwant %+v", r.Msg.ToolCalls, want)
	}
	if r.Msg.Content != nil || r.Finish != openaichat.FinishToolCalls || r.Usage.PromptTokens != 50 || r.Usage.CompletionTokens != 20 {
		t.Fatalf("result %+v", r)
	}
	if r.TTFT < 20*time.Millisecond || r.TTFT > r.Latency {
		t.Fatalf("ttft %v, latency %v: want 20ms <= ttft <= latency", r.TTFT, r.Latency)
	}
	// The step's TTFT runs from the step's start, the attempt's from the
	// attempt's, which is a little later.
	attempts := sink.Attempts()
	if attempts[0].TTFTUS == 0 || attempts[0].TTFTUS > r.TTFT.Microseconds() {
		t.Fatalf("attempt ttft %dµs, step ttft %v", attempts[0].TTFTUS, r.TTFT)
	}
}

func isValidUTF8(s string) bool { return utf8.ValidString(s) }

func TestAppendMessagesMatchesEncodingJSON(t *testing.T) {
	tricky := "quote \" backslash \\ nl \n cr \r tab \t nul \x00 bell \x07 html <&> ls \u2028 ps \u2029 emoji 🦀 bad \xff\xfe utf8 Hà Nội"
	msgs := []openaichat.Message{
		{Role: "system", Content: openaichat.Str(tricky)},
		{Role: "assistant", ToolCalls: []openaichat.ToolCall{
			{ID: "c1", Type: "function", Function: openaichat.FunctionCall{Name: "f", Arguments: `{"a":"` + "\"" + `"}`}},
			{ID: "c2", Function: openaichat.FunctionCall{Name: "g", Arguments: ""}},
		}},
		{Role: "tool", Content: openaichat.Str(""), ToolCallID: "c1", Name: "f"},
	}
	mine := appendMessages(nil, msgs)
	var gotMsgs, wantMsgs []openaichat.Message
	if err := json.Unmarshal(mine, &gotMsgs); err != nil {
		t.Fatalf("appendMessages wrote invalid JSON: %v\n%s", err, mine)
	}
	std, _ := json.Marshal(msgs)
	if err := json.Unmarshal(std, &wantMsgs); err != nil {
		t.Fatal(err)
	}
	wantMsgs[1].ToolCalls[1].Type = "function" // appendMessages fills the default type
	if !reflect.DeepEqual(gotMsgs, wantMsgs) {
		t.Fatalf("round trip differs\n got %+v\nwant %+v", gotMsgs, wantMsgs)
	}
	if strings.Contains(string(mine), "\u2028") {
		t.Fatal("U+2028 not escaped")
	}
}

// TestChatStreamNeverPanics throws odd bodies at the stream parser.
func TestChatStreamNeverPanics(t *testing.T) {
	for _, body := range oddStreams {
		parseStream(t, body)
	}
}

var oddStreams = []string{
	"",
	"\n\n\n",
	"data: [DONE]\n\n",
	"data: null\n\ndata: [DONE]\n\n",
	"data: {}\n\ndata: [DONE]\n\n",
	"data: {\"choices\":null}\n\n",
	"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":-1}]}}]}\n\n",
	"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":99999999}]}}]}\n\n",
	"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":2,\"function\":{\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
	"data: {\"choices\":[{\"index\":3,\"delta\":{\"content\":\"x\"}}]}\n\n",
	"data:{\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\r\n\r\ndata:[DONE]\r\n\r\n",
	"event: ping\nid: 3\nretry: 10\n: comment\n\n",
	"data: " + strings.Repeat("[", 100000) + "\n\n",
	"data: \"str\"\n\n",
	"data: 12\n\n",
	"data: {\"choices\":[{\"delta\":{\"content\":12}}]}\n\n",
}

func parseStream(t testing.TB, body string) Result {
	var r Result
	r.Start = time.Now()
	ctx := context.Background()
	readChatStream(ctx, ctx, strings.NewReader(body), &r, nil, scenarios.DefaultMaxToolCalls)
	if r.Outcome == "" {
		t.Fatalf("no outcome for %q", body)
	}
	if r.Outcome == record.OutcomeOK && (r.Finish == "" || r.Msg.Role != "assistant") {
		t.Fatalf("ok without finish or role for %q: %+v", body, r)
	}
	return r
}

func FuzzChatStream(f *testing.F) {
	for _, s := range oddStreams {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) { parseStream(t, body) })
}

func TestSSEReaderLongLines(t *testing.T) {
	long := strings.Repeat("x", 100<<10) // longer than the bufio buffer
	sr := httpx.NewSSEReader(strings.NewReader("data: " + long + "\ndata: second\n\ndata: last"))
	defer sr.Release()
	d, err := sr.Next()
	if err != nil || string(d) != long+"\nsecond" {
		t.Fatalf("event 1: %d bytes, %v", len(d), err)
	}
	d, err = sr.Next()
	if err != nil || string(d) != "last" {
		t.Fatalf("event 2: %q, %v", d, err)
	}
	if _, err = sr.Next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

// TestChatClientBrokenStreamReturnsPromptly: a stream that goes bad and then
// hangs must fail at once, not sit draining until the attempt timeout.
func TestChatClientBrokenStreamReturnsPromptly(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {not json}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer ts.Close()
	c := newTestClient(t, fixture.HTTPClient(t), ts.URL, true, 20*time.Second, "")
	r := c.Do(context.Background(), 0, 0, fixture.Msgs, &fixture.Sink{})
	if r.Outcome != record.OutcomeProtocol {
		t.Fatalf("outcome %q (%s)", r.Outcome, r.Err)
	}
	if r.Latency > 10*time.Second {
		t.Fatalf("took %v: drained a hanging body", r.Latency)
	}
}

// BenchmarkChatStep measures the client side of one model step: building
// the body, the exchange, parsing, recording. Compare with
// BenchmarkRawHTTPStep, the same exchange with net/http alone.
func BenchmarkChatStep(b *testing.B) {
	ts := fixture.OKServer(b)
	c := newTestClient(b, fixture.HTTPClient(b), ts.URL, false, 10*time.Second, "sk-bench")
	sink := &nopSink{}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if r := c.Do(ctx, uint64(i), 0, fixture.Msgs, sink); r.Outcome != record.OutcomeOK {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkRawHTTPStep is the floor: a POST of a similar body and a read
// of the answer, with nothing parsed or recorded.
func BenchmarkRawHTTPStep(b *testing.B) {
	ts := fixture.OKServer(b)
	hc := fixture.HTTPClient(b)
	c := newTestClient(b, hc, ts.URL, false, 10*time.Second, "sk-bench")
	body := append(appendMessages(append([]byte(nil), c.ep.prefix...), fixture.Msgs), '}')
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, c.ep.url, strings.NewReader(string(body)))
		// The headers the chat client sends, so that the server's work is the same.
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer sk-bench")
		req.Header.Set("Mcpload-Seq", "12345")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
