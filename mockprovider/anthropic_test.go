package mockprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/mcpload/mcpload/scenarios"
	wire "github.com/mcpload/mcpload/wire/anthropic"
)

const testClaude = "claude-sonnet-4-5"

// anthropicScenario is testScenario with an Anthropic provider, "claude".
func anthropicScenario() *scenarios.Scenario {
	sc := testScenario()
	sc.Providers["claude"] = &scenarios.Provider{API: scenarios.APIAnthropic, BaseURL: scenarios.MockURL, Model: testClaude}
	return sc
}

func newAnthropic(base, provider string, opts ...option.RequestOption) anthropic.Client {
	return anthropic.NewClient(append([]option.RequestOption{
		option.WithBaseURL(base + "/providers/" + provider + "/"),
		option.WithAPIKey("sk-ant-test"),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(30 * time.Second),
	}, opts...)...)
}

// anthropicParams is the first turn of the script as an SDK request, with
// the scenario's MCP tools as input_schema.
func anthropicParams(t *testing.T, sc *scenarios.Scenario) anthropic.MessageNewParams {
	t.Helper()
	var tools []anthropic.ToolUnionParam
	for _, tool := range sc.Tools {
		var schema anthropic.ToolInputSchemaParam
		b, _ := json.Marshal(tool.InputSchema)
		if err := json.Unmarshal(b, &schema); err != nil {
			t.Fatal(err)
		}
		tools = append(tools, anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
			Name: tool.Name, Description: anthropic.String(tool.Description), InputSchema: schema,
		}})
	}
	return anthropic.MessageNewParams{
		Model:     testClaude,
		MaxTokens: 1024,
		System:    []anthropic.TextBlockParam{{Text: sc.Conversation.System}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(sc.Conversation.Turns[0].User))},
		Tools:     tools,
	}
}

// checkToolUse asserts that blocks are the first reply of the script as
// tool_use blocks, and returns their ids.
func checkToolUse(t *testing.T, blocks []anthropic.ContentBlockUnion) []string {
	t.Helper()
	want := testScenario().Conversation.Turns[0].Model[0].ToolCalls
	if len(blocks) != len(want) {
		t.Fatalf("got %d content blocks, want %d tool_use blocks", len(blocks), len(want))
	}
	var ids []string
	seen := map[string]bool{}
	for i, w := range want {
		b := blocks[i]
		if b.Type != "tool_use" {
			t.Fatalf("block %d: type %q, want tool_use", i, b.Type)
		}
		tu := b.AsToolUse()
		if !strings.HasPrefix(tu.ID, "toolu_01") || len(tu.ID) != len("toolu_01")+anthropicIDLen || seen[tu.ID] {
			t.Errorf("block %d: id %q, want a fresh toolu_01 and %d characters", i, tu.ID, anthropicIDLen)
		}
		seen[tu.ID] = true
		if tu.Name != w.Name {
			t.Errorf("block %d: name %q, want %q", i, tu.Name, w.Name)
		}
		if got, want := normJSON(t, string(tu.Input)), normValue(t, w.Arguments); !reflect.DeepEqual(got, want) {
			t.Errorf("block %d: input %v, want %v", i, got, want)
		}
		ids = append(ids, tu.ID)
	}
	return ids
}

// anthropicToolResults answers each tool_use id; the second result is an error.
func anthropicToolResults(ids []string) anthropic.MessageParam {
	var blocks []anthropic.ContentBlockParamUnion
	for i, id := range ids {
		blocks = append(blocks, anthropic.NewToolResultBlock(id, "result "+id, i == 1))
	}
	return anthropic.NewUserMessage(blocks...)
}

func TestAnthropicClientConversation(t *testing.T) {
	sc := anthropicScenario()
	_, base, rec := recordingMock(t, sc)
	client := newAnthropic(base, "claude")
	ctx := context.Background()
	params := anthropicParams(t, sc)

	// Turn 1, reply 1: parallel tool calls.
	msg, err := client.Messages.New(ctx, params)
	if err != nil {
		t.Fatalf("first call: %v", err)
	}
	if !strings.HasPrefix(msg.ID, "msg_01") || msg.Type != "message" || msg.Role != "assistant" {
		t.Errorf("id %q type %q role %q", msg.ID, msg.Type, msg.Role)
	}
	if msg.Model != testClaude || msg.StopReason != anthropic.StopReasonToolUse {
		t.Errorf("model %q stop_reason %q, want the request's model and tool_use", msg.Model, msg.StopReason)
	}
	if !msg.JSON.StopSequence.Valid() && msg.StopSequence != "" {
		t.Errorf("stop_sequence %q, want null", msg.StopSequence)
	}
	ids := checkToolUse(t, msg.Content)
	u := msg.Usage
	if u.InputTokens != 120 || u.OutputTokens != 30 || u.CacheReadInputTokens != 0 || u.CacheCreationInputTokens != 0 || u.ServiceTier != "standard" {
		t.Errorf("usage %+v, want the scripted 120 in, 30 out, no cache", u)
	}
	if !u.JSON.CacheCreation.Valid() || !u.JSON.CacheReadInputTokens.Valid() {
		t.Error("usage lacks cache_creation or cache_read_input_tokens")
	}

	// What went over the wire: the SDK's request, as the API wants it.
	req := rec.last(t)
	if req.header.Get("Anthropic-Version") != wire.Version || req.header.Get("X-Api-Key") != "sk-ant-test" || req.path != "/providers/claude/v1/messages" {
		t.Errorf("request %s with version %q key %q", req.path, req.header.Get("Anthropic-Version"), req.header.Get("X-Api-Key"))
	}
	var sent wire.Request
	if err := json.Unmarshal(req.body, &sent); err != nil {
		t.Fatal(err)
	}
	if len(sent.Tools) != 3 || sent.Tools[0].Name != "get_weather" {
		t.Fatalf("tools %+v", sent.Tools)
	}
	if got, want := normJSON(t, string(sent.Tools[0].InputSchema)), normValue(t, sc.Tools[0].InputSchema); !reflect.DeepEqual(got, want) {
		t.Errorf("input_schema %v, want the MCP inputSchema %v", got, want)
	}
	// The response, field by field: exactly the API's keys.
	resp := normJSON(t, string(rec.last(t).response)).(map[string]any)
	if got := sortedKeys(resp); !reflect.DeepEqual(got, []string{"content", "id", "model", "role", "stop_reason", "stop_sequence", "type", "usage"}) {
		t.Errorf("response keys %v", got)
	}
	if resp["stop_sequence"] != nil {
		t.Errorf("stop_sequence %v, want null", resp["stop_sequence"])
	}
	block := resp["content"].([]any)[0].(map[string]any)
	if got := sortedKeys(block); !reflect.DeepEqual(got, []string{"id", "input", "name", "type"}) {
		t.Errorf("tool_use keys %v", got)
	}
	if rec.last(t).respHeader.Get("Request-Id") == "" {
		t.Error("no request-id header")
	}

	// Send the results back, one of them an error: turn 1, reply 2.
	params.Messages = append(params.Messages, msg.ToParam(), anthropicToolResults(ids))
	msg, err = client.Messages.New(ctx, params)
	if err != nil {
		t.Fatalf("second call: %v", err)
	}
	if msg.StopReason != anthropic.StopReasonEndTurn || len(msg.Content) != 1 || msg.Content[0].Type != "text" || msg.Content[0].Text != testAnswer {
		t.Errorf("final answer: stop %q content %+v", msg.StopReason, msg.Content)
	}
	var second wire.Request
	if err := json.Unmarshal(rec.last(t).body, &second); err != nil {
		t.Fatal(err)
	}
	var results []wire.ContentBlock
	if err := json.Unmarshal(second.Messages[2].Content, &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Type != "tool_result" || results[0].ToolUseID != ids[0] || results[0].IsError || !results[1].IsError {
		t.Errorf("tool results sent %+v", results)
	}
	u = msg.Usage
	if u.CacheReadInputTokens != 64 {
		t.Errorf("cache_read_input_tokens %d, want the scripted 64", u.CacheReadInputTokens)
	}
	if u.InputTokens < 1 {
		t.Errorf("input_tokens %d: the uncached part of the prompt is missing", u.InputTokens)
	}
	if want := estimateTokens(len(testAnswer)); u.OutputTokens != int64(want) {
		t.Errorf("output_tokens %d, want the estimate %d", u.OutputTokens, want)
	}

	// Turn 2: a new user message after the answer.
	params.Messages = append(params.Messages, msg.ToParam(), anthropic.NewUserMessage(anthropic.NewTextBlock("Thanks!")))
	msg, err = client.Messages.New(ctx, params)
	if err != nil {
		t.Fatalf("third call: %v", err)
	}
	if msg.Content[0].Text != testThanks {
		t.Errorf("turn 2: %q, want %q", msg.Content[0].Text, testThanks)
	}
}

func TestAnthropicClientStreaming(t *testing.T) {
	sc := anthropicScenario()
	sc.Providers["claude"].Mock.TTFT = fixed(time.Millisecond)
	sc.Providers["claude"].Mock.TokenGap = fixed(100 * time.Microsecond)
	_, base, rec := recordingMock(t, sc)
	client := newAnthropic(base, "claude")
	ctx := context.Background()
	params := anthropicParams(t, sc)

	run := func() (anthropic.Message, []string) {
		t.Helper()
		stream := client.Messages.NewStreaming(ctx, params)
		defer stream.Close()
		var msg anthropic.Message
		var types []string
		for stream.Next() {
			ev := stream.Current()
			types = append(types, ev.Type)
			if err := msg.Accumulate(ev); err != nil {
				t.Fatalf("accumulator rejected %s: %v", ev.RawJSON(), err)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("stream: %v", err)
		}
		return msg, types
	}

	msg, types := run()
	if msg.StopReason != anthropic.StopReasonToolUse || msg.Model != testClaude || !strings.HasPrefix(msg.ID, "msg_01") {
		t.Errorf("stop %q model %q id %q", msg.StopReason, msg.Model, msg.ID)
	}
	ids := checkToolUse(t, msg.Content)
	if msg.Usage.InputTokens != 120 || msg.Usage.OutputTokens != 30 {
		t.Errorf("usage %+v, want 120 in (message_start) and 30 out (message_delta)", msg.Usage)
	}
	// The SDK skips pings; every other event reaches it, in order.
	if types[0] != "message_start" || types[len(types)-2] != "message_delta" || types[len(types)-1] != "message_stop" {
		t.Errorf("event types %v", types)
	}
	// The raw stream, event by event: event names match the data's type,
	// and the order is the API's.
	evs := anthropicEvents(t, rec.last(t).response)
	var order []string
	for _, ev := range evs {
		if len(order) == 0 || order[len(order)-1] != ev.name {
			order = append(order, ev.name)
		}
	}
	want := []string{"message_start", "ping",
		"content_block_start", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_stop",
		"message_delta", "message_stop"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("event order %v\nwant %v", order, want)
	}

	params.Messages = append(params.Messages, msg.ToParam(), anthropicToolResults(ids))
	msg, _ = run()
	if msg.StopReason != anthropic.StopReasonEndTurn || len(msg.Content) != 1 || msg.Content[0].Text != testAnswer {
		t.Errorf("final answer: stop %q content %+v", msg.StopReason, msg.Content)
	}
	if msg.Usage.CacheReadInputTokens != 64 {
		t.Errorf("cache_read_input_tokens %d, want 64", msg.Usage.CacheReadInputTokens)
	}
	order = order[:0]
	deltas := 0
	for _, ev := range anthropicEvents(t, rec.last(t).response) {
		if ev.name == "content_block_delta" {
			deltas++
		}
		if len(order) == 0 || order[len(order)-1] != ev.name {
			order = append(order, ev.name)
		}
	}
	want = []string{"message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("text event order %v\nwant %v", order, want)
	}
	if deltas < 3 {
		t.Errorf("answer came in %d text deltas; want it split", deltas)
	}
}

// anthropicEvent is one raw SSE event.
type anthropicEvent struct {
	name string
	data map[string]any
}

// anthropicEvents splits an Anthropic stream into events, checking that
// each has an event line and one JSON data line whose type is its name.
func anthropicEvents(t *testing.T, body []byte) []anthropicEvent {
	t.Helper()
	var out []anthropicEvent
	for _, raw := range strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n") {
		lines := strings.Split(raw, "\n")
		name, ok1 := strings.CutPrefix(lines[0], "event: ")
		if len(lines) != 2 || !ok1 {
			t.Fatalf("malformed event %q", raw)
		}
		data, ok := strings.CutPrefix(lines[1], "data: ")
		if !ok {
			t.Fatalf("malformed event %q", raw)
		}
		m := normJSON(t, data).(map[string]any)
		if m["type"] != name {
			t.Errorf("event %q carries type %v", name, m["type"])
		}
		out = append(out, anthropicEvent{name, m})
	}
	return out
}

func TestAnthropicClientErrors(t *testing.T) {
	_, base, _ := recordingMock(t, anthropicScenario())
	ctx := context.Background()
	sc := anthropicScenario()

	// An unknown provider: 404 not_found_error, seen by the SDK.
	nope := newAnthropic(base, "nope")
	_, err := nope.Messages.New(ctx, anthropicParams(t, sc))
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Type() != "not_found_error" {
		t.Fatalf("unknown provider: %v, want a 404 not_found_error", err)
	}

	// No messages: 400 invalid_request_error.
	p := anthropicParams(t, sc)
	p.Messages = []anthropic.MessageParam{}
	claude := newAnthropic(base, "claude")
	_, err = claude.Messages.New(ctx, p)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Type() != "invalid_request_error" {
		t.Fatalf("empty messages: %v, want a 400 invalid_request_error", err)
	}

	// Headers the SDK always sends, left out by hand.
	body := `{"model":"` + testClaude + `","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	for _, tc := range []struct {
		name   string
		hdr    []string
		status int
		typ    string
		msg    string
	}{
		{"no version", []string{"X-Api-Key", "k"}, 400, "invalid_request_error", "anthropic-version: header is required"},
		{"no key", []string{"Anthropic-Version", wire.Version}, 401, "authentication_error", "x-api-key header is required"},
		{"bearer token", []string{"Anthropic-Version", wire.Version, "Authorization", "Bearer t"}, 200, "", ""},
	} {
		resp, b := post(t, base+"/v1/messages", body, tc.hdr...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, resp.StatusCode, tc.status, b)
			continue
		}
		if tc.status == 200 {
			continue
		}
		var eb wire.ErrorBody
		if err := json.Unmarshal(b, &eb); err != nil || eb.Type != "error" || eb.Error.Type != tc.typ || eb.Error.Message != tc.msg {
			t.Errorf("%s: body %s", tc.name, b)
		}
	}
	// max_tokens is required.
	resp, b := post(t, base+"/v1/messages", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "X-Api-Key", "k", "Anthropic-Version", wire.Version)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "max_tokens: Field required") {
		t.Errorf("no max_tokens: %d %s", resp.StatusCode, b)
	}
}

// TestAnthropicClientRetries injects a 429 and a 529 and lets the SDK's
// own retry policy see them: it must retry both, honour the 429's
// retry-after, and succeed on the third attempt.
func TestAnthropicClientRetries(t *testing.T) {
	sc := anthropicScenario()
	sc.Faults = []scenarios.Fault{
		{Kind: scenarios.FaultRateLimit, Target: "provider:claude", From: 0, For: sd(time.Minute), RetryAfter: sd(time.Second)},
		{Kind: scenarios.FaultOverloaded, Target: "provider:claude", From: sd(time.Minute), For: sd(time.Minute)},
	}
	base, rec := retryMock(t, sc)

	client := newAnthropic(base, "claude", option.WithMaxRetries(2))
	start := time.Now()
	msg, err := client.Messages.New(context.Background(), anthropicParams(t, sc))
	if err != nil {
		t.Fatalf("the SDK gave up: %v", err)
	}
	if msg.StopReason != anthropic.StopReasonToolUse {
		t.Errorf("stop_reason %q", msg.StopReason)
	}
	exs := rec.all()
	if len(exs) != 3 || exs[0].status != 429 || exs[1].status != 529 || exs[2].status != 200 {
		var got []int
		for _, ex := range exs {
			got = append(got, ex.status)
		}
		t.Fatalf("attempts answered %v, want [429 529 200]", got)
	}
	if gap := exs[1].at.Sub(exs[0].at); gap < 900*time.Millisecond {
		t.Errorf("the SDK retried the 429 after %v; its retry-after said 1s", gap)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	// The 429 as the API sends it.
	h := exs[0].header
	wantHeaders(t, h, "Retry-After", "1", "Anthropic-Ratelimit-Requests-Limit", "500", "Anthropic-Ratelimit-Requests-Remaining", "0", "X-Should-Retry", "true")
	if _, err := time.Parse(time.RFC3339, h.Get("Anthropic-Ratelimit-Requests-Reset")); err != nil {
		t.Errorf("anthropic-ratelimit-requests-reset %q is not RFC 3339", h.Get("Anthropic-Ratelimit-Requests-Reset"))
	}
	if h.Get("Retry-After-Ms") != "" || h.Get("X-Ratelimit-Limit-Requests") != "" {
		t.Error("OpenAI's headers on an Anthropic 429")
	}
	for i, typ := range []string{"rate_limit_error", "overloaded_error"} {
		var eb wire.ErrorBody
		if err := json.Unmarshal(exs[i].response, &eb); err != nil || eb.Type != "error" || eb.Error.Type != typ || eb.Error.Message == "" {
			t.Errorf("attempt %d body %s, want %s", i+1, exs[i].response, typ)
		}
	}

	// Without retries the SDK reports the 429 itself.
	rec.reset()
	noRetry := newAnthropic(base, "claude")
	_, err = noRetry.Messages.New(context.Background(), anthropicParams(t, sc))
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Type() != "rate_limit_error" {
		t.Errorf("no retries: %v, want the 429 rate_limit_error", err)
	}
}

// retryMock serves sc from a recording mock whose fault clock follows the
// attempts, for a test of an SDK's retries: the first attempt falls in the
// window that opens at 0, the second in the one that opens a minute in,
// and the rest an hour later, after both.
func retryMock(t *testing.T, sc *scenarios.Scenario) (string, *recorder) {
	t.Helper()
	epoch := time.Now()
	var rec *recorder
	clock := func() time.Time {
		switch rec.count() {
		case 0, 1:
			return epoch
		case 2:
			return epoch.Add(time.Minute + time.Second)
		}
		return epoch.Add(time.Hour)
	}
	s, base, r := recordingMock(t, sc, WithClock(clock))
	rec = r
	s.SetEpoch(epoch)
	return base, rec
}

// recorded is one request the recorder saw, and its answer.
type recorded struct {
	at       time.Time
	path     string
	header   http.Header // the response's
	reqHdr   http.Header
	body     []byte
	status   int
	response []byte
}

// recorder keeps every exchange of a mock served through it.
type recorder struct {
	mu  sync.Mutex
	exs []recorded
	n   int
}

func (r *recorder) count() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.exs...)
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.exs, r.n = nil, 0
	r.mu.Unlock()
}

// last returns the last exchange.
func (r *recorder) last(t *testing.T) recordedView {
	t.Helper()
	exs := r.all()
	if len(exs) == 0 {
		t.Fatal("no request recorded")
	}
	ex := exs[len(exs)-1]
	return recordedView{path: ex.path, header: ex.reqHdr, body: ex.body, response: ex.response, respHeader: ex.header}
}

// recordedView is a recorded exchange as tests read it: header is the
// request's.
type recordedView struct {
	path       string
	header     http.Header
	respHeader http.Header
	body       []byte
	response   []byte
}

// recordingWriter records a response while passing it on. It forwards
// Flush and unwraps for http.ResponseController, so that streams and
// faults behave as without it.
type recordingWriter struct {
	http.ResponseWriter
	status int
	body   []byte
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, b...)
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recordingMock serves a mock of sc through a recorder.
func recordingMock(t *testing.T, sc *scenarios.Scenario, opts ...Option) (*Server, string, *recorder) {
	t.Helper()
	s, err := New(sc, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := &recorder{}
	h := s.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.n++
		rec.mu.Unlock()
		ex := recorded{at: time.Now(), path: r.URL.Path, reqHdr: r.Header.Clone()}
		b, _ := readAll(r)
		ex.body = b
		rw := &recordingWriter{ResponseWriter: w}
		defer func() {
			ex.status, ex.response, ex.header = rw.status, rw.body, w.Header().Clone()
			rec.mu.Lock()
			rec.exs = append(rec.exs, ex)
			rec.mu.Unlock()
		}()
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(func() {
		s.Close()
		srv.Close()
	})
	return s, srv.URL, rec
}

// readAll reads r's body and puts it back for the handler.
func readAll(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, err
}
