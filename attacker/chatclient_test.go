package attacker

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
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// jobsChatClient returns a chat client, without policies, for the
// provider at url.
func jobsChatClient(t testing.TB, hc *http.Client, url string, stream bool, timeout time.Duration, key string) *chatClient {
	t.Helper()
	return jobsPolicyClient(t, hc, &scenarios.Client{Timeout: scenarios.Duration(timeout)},
		jobsProvider{name: "primary", url: url, stream: stream, key: key})
}

// jobsProvider is a provider for jobsPolicyClient.
type jobsProvider struct {
	name, url, key string
	stream         bool
	// api is the dialect, "" for openai.
	api string
}

// jobsPolicyClient returns a chat client with the policies of c, whose
// primary is the first provider and whose fallback steps may use the
// others (c.Fallback must name them).
func jobsPolicyClient(t testing.TB, hc *http.Client, c *scenarios.Client, provs ...jobsProvider) *chatClient {
	t.Helper()
	sc := jobsConversationScenario()
	var keys []string
	for _, p := range provs {
		keys = append(keys, p.key)
	}
	rd := newRedactor(keys...)
	attempts := map[string]*chatAttempt{}
	others := map[string]*chatEndpoint{}
	var primary *chatEndpoint
	for i, p := range provs {
		sp := &scenarios.Provider{API: p.api, BaseURL: p.url, Model: "test-model", Stream: p.stream}
		d, err := dialectFor(p.api)
		if err != nil {
			t.Fatal(err)
		}
		ep, err := newChatEndpoint(p.name, sp, d, d.url(p.url, sp.Model, p.stream), p.key, sc.Tools)
		if err != nil {
			t.Fatal(err)
		}
		attempts[p.name] = &chatAttempt{
			hc: hc, ep: ep, key: record.AttemptModelKey(p.name, sp.Model), timeout: c.Timeout.D(),
			ttft: c.Stream.TTFT.D(), idle: c.Stream.Idle.D(), total: c.Stream.Total.D(), redact: rd,
		}
		if i == 0 {
			primary = ep
		} else {
			others[p.name] = ep
		}
	}
	cc, err := newChatClient(c, 7, primary, attempts, others, rd)
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

var jobsMsgs = []openaichat.Message{
	{Role: "system", Content: openaichat.Str("be brief")},
	{Role: "user", Content: openaichat.Str("hi")},
}

const jobsOKBody = `{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":2,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":4}}}`

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
			io.WriteString(w, jobsOKBody)
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
			c := jobsChatClient(t, jobsHTTPClient(t), ts.URL, tc.stream, timeout, "")
			sink := &jobsSink{}
			r := c.do(context.Background(), 3, 1, jobsMsgs, sink)
			if r.outcome != tc.want {
				t.Fatalf("outcome %q, want %q (err %q)", r.outcome, tc.want, r.err)
			}
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if tc.errHas != "" && !strings.Contains(r.err, tc.errHas) {
				t.Fatalf("err %q does not contain %q", r.err, tc.errHas)
			}
			if len(r.err) > 400 {
				t.Fatalf("error text not truncated: %d bytes", len(r.err))
			}
			attempts, _, _ := sink.snapshot()
			if len(attempts) != 1 {
				t.Fatalf("%d attempts recorded", len(attempts))
			}
			a := attempts[0]
			if a.Outcome != tc.want || a.Kind != record.StepModel || a.Key != "model:primary/test-model" ||
				a.Conversation != 3 || a.Step != 1 || a.Attempt != 1 || a.Status != tc.status || a.Error != r.err {
				t.Fatalf("attempt %+v", a)
			}
			if tc.want == record.OutcomeOK {
				if r.msg.Text() != "hello" || r.finish != "stop" || a.PromptTokens != 11 || a.CompletionTokens != 2 || a.CachedTokens != 4 || a.BytesIn != int64(len(jobsOKBody)) {
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
	c := jobsChatClient(t, jobsHTTPClient(t), ts.URL, false, 10*time.Second, "")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	r := c.do(ctx, 0, 0, jobsMsgs, &jobsSink{})
	if r.outcome != record.OutcomeCanceled {
		t.Fatalf("outcome %q, want canceled (%s)", r.outcome, r.err)
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
	c := jobsChatClient(t, jobsHTTPClient(t), ts.URL, true, 5*time.Second, "sk-abc")
	r := c.do(context.Background(), 12345, 0, jobsMsgs, &jobsSink{})
	if r.outcome != record.OutcomeOK {
		t.Fatalf("%s: %s", r.outcome, r.err)
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
	c := jobsChatClient(t, jobsHTTPClient(t), ts.URL, true, 5*time.Second, "")
	for i := range 12 {
		r := c.do(context.Background(), uint64(i), 0, jobsMsgs, &jobsSink{})
		if r.outcome == "" || r.outcome == record.OutcomeConnection {
			t.Fatalf("request %d: %s %s", i, r.outcome, r.err)
		}
	}
	if got := conns.Load(); got != 1 {
		t.Fatalf("12 sequential requests opened %d connections, want 1", got)
	}
}

// jobsWriteChunk writes one chunk event.
func jobsWriteChunk(w io.Writer, ch any) {
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
		jobsWriteChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{Role: "assistant", Content: openaichat.Str("")}}}})
		fl.Flush()
		time.Sleep(20 * time.Millisecond) // the first delta comes later than the headers
		jobsWriteChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{ToolCalls: []openaichat.ToolCall{
			{Index: idx(0), ID: "call_a", Type: "function", Function: openaichat.FunctionCall{Name: "get_weather"}},
		}}}}})
		jobsWriteChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{ToolCalls: []openaichat.ToolCall{
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
				jobsWriteChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{ToolCalls: []openaichat.ToolCall{
					{Index: idx(i), Function: openaichat.FunctionCall{Arguments: frag}},
				}}}}})
			}
			fl.Flush()
		}
		stop := openaichat.FinishToolCalls
		jobsWriteChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{FinishReason: &stop}}})
		jobsWriteChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{}, Usage: &openaichat.Usage{PromptTokens: 50, CompletionTokens: 20, TotalTokens: 70}})
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	defer ts.Close()
	c := jobsChatClient(t, jobsHTTPClient(t), ts.URL, true, 5*time.Second, "")
	sink := &jobsSink{}
	r := c.do(context.Background(), 0, 0, jobsMsgs, sink)
	if r.outcome != record.OutcomeOK {
		t.Fatalf("%s: %s", r.outcome, r.err)
	}
	want := []openaichat.ToolCall{
		{ID: "call_a", Type: "function", Function: openaichat.FunctionCall{Name: "get_weather", Arguments: args0}},
		{ID: "call_b", Type: "function", Function: openaichat.FunctionCall{Name: "search", Arguments: args1}},
	}
	if !reflect.DeepEqual(r.msg.ToolCalls, want) {
		t.Fatalf("tool calls\n got %+v\nwant %+v", r.msg.ToolCalls, want)
	}
	if r.msg.Content != nil || r.finish != openaichat.FinishToolCalls || r.usage.PromptTokens != 50 || r.usage.CompletionTokens != 20 {
		t.Fatalf("result %+v", r)
	}
	if r.ttft < 20*time.Millisecond || r.ttft > r.latency {
		t.Fatalf("ttft %v, latency %v: want 20ms <= ttft <= latency", r.ttft, r.latency)
	}
	// The step's TTFT runs from the step's start, the attempt's from the
	// attempt's, which is a little later.
	attempts, _, _ := sink.snapshot()
	if attempts[0].TTFTUS == 0 || attempts[0].TTFTUS > r.ttft.Microseconds() {
		t.Fatalf("attempt ttft %dµs, step ttft %v", attempts[0].TTFTUS, r.ttft)
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
	for _, body := range jobsOddStreams {
		jobsParseStream(t, body)
	}
}

var jobsOddStreams = []string{
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

func jobsParseStream(t testing.TB, body string) chatResult {
	var r chatResult
	r.start = time.Now()
	ctx := context.Background()
	readChatStream(ctx, ctx, strings.NewReader(body), &r, nil, scenarios.DefaultMaxToolCalls)
	if r.outcome == "" {
		t.Fatalf("no outcome for %q", body)
	}
	if r.outcome == record.OutcomeOK && (r.finish == "" || r.msg.Role != "assistant") {
		t.Fatalf("ok without finish or role for %q: %+v", body, r)
	}
	return r
}

func FuzzChatStream(f *testing.F) {
	for _, s := range jobsOddStreams {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) { jobsParseStream(t, body) })
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
	c := jobsChatClient(t, jobsHTTPClient(t), ts.URL, true, 20*time.Second, "")
	r := c.do(context.Background(), 0, 0, jobsMsgs, &jobsSink{})
	if r.outcome != record.OutcomeProtocol {
		t.Fatalf("outcome %q (%s)", r.outcome, r.err)
	}
	if r.latency > 10*time.Second {
		t.Fatalf("took %v: drained a hanging body", r.latency)
	}
}

// do is call returning its result, for tests.
func (c *chatClient) do(ctx context.Context, seq uint64, step int, msgs []openaichat.Message, sink Sink) chatResult {
	var r chatResult
	c.call(ctx, seq, step, msgs, sink, &r)
	return r
}
