package mockprovider

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/wire/openaichat"
)

// post sends body to base+path and returns the response, with its body read.
func post(t testing.TB, url, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// firstTurn is a raw first-turn request.
func firstTurn(model string, stream, includeUsage bool) string {
	req := openaichat.Request{
		Model: model,
		Messages: []openaichat.Message{
			{Role: "system", Content: openaichat.Str("You are a helpful assistant.")},
			{Role: "user", Content: openaichat.Str("What's the weather in Paris?")},
		},
		Stream: stream,
	}
	if includeUsage {
		req.StreamOptions = &openaichat.StreamOptions{IncludeUsage: true}
	}
	b, _ := json.Marshal(req)
	return string(b)
}

// sseEvents splits an SSE body into its data payloads, checking the framing.
func sseEvents(t *testing.T, body []byte) []string {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\n\n")) {
		t.Fatalf("stream does not end with a blank line: %q", body)
	}
	var out []string
	for _, ev := range strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("malformed event %q", ev)
		}
		out = append(out, data)
	}
	return out
}

func TestSSEWireFormat(t *testing.T) {
	_, base := startMock(t, testScenario())
	url := base + "/providers/primary/v1/chat/completions"

	for _, includeUsage := range []bool{true, false} {
		resp, body := post(t, url, firstTurn(testModel, true, includeUsage))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status %d content-type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		events := sseEvents(t, body)
		if events[len(events)-1] != "[DONE]" {
			t.Fatalf("last event %q, want [DONE]", events[len(events)-1])
		}
		var chunks []map[string]any
		for _, e := range events[:len(events)-1] {
			var m map[string]any
			if err := json.Unmarshal([]byte(e), &m); err != nil {
				t.Fatalf("event %q: %v", e, err)
			}
			chunks = append(chunks, m)
		}
		id := chunks[0]["id"]
		for i, c := range chunks {
			if c["object"] != "chat.completion.chunk" || c["id"] != id || c["model"] != testModel {
				t.Errorf("chunk %d: object %v id %v model %v", i, c["object"], c["id"], c["model"])
			}
			u, ok := c["usage"]
			last := includeUsage && i == len(chunks)-1
			if !ok || (u == nil) == last {
				t.Errorf("chunk %d (include_usage=%v): usage %v present=%v", i, includeUsage, u, ok)
			}
		}
		delta := func(i int) map[string]any {
			return chunks[i]["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)
		}
		if d := delta(0); !reflect.DeepEqual(d, map[string]any{"role": "assistant", "content": ""}) {
			t.Errorf("first delta %v, want role assistant and empty content", d)
		}
		end := len(chunks) - 1
		if includeUsage {
			c := chunks[end]
			if ch := c["choices"].([]any); len(ch) != 0 {
				t.Errorf("usage chunk has choices %v", ch)
			}
			u := c["usage"].(map[string]any)
			if u["prompt_tokens"] != 120.0 || u["completion_tokens"] != 30.0 || u["total_tokens"] != 150.0 {
				t.Errorf("usage chunk %v", u)
			}
			end--
		}
		fin := chunks[end]["choices"].([]any)[0].(map[string]any)
		if fin["finish_reason"] != "tool_calls" || len(fin["delta"].(map[string]any)) != 0 {
			t.Errorf("finish chunk %v", fin)
		}
		// Tool call deltas: a head with id, type, name and empty arguments,
		// then fragments with only index and arguments.
		args := map[float64]string{}
		for i := 1; i < end; i++ {
			if fr := chunks[i]["choices"].([]any)[0].(map[string]any)["finish_reason"]; fr != nil {
				t.Errorf("chunk %d: finish_reason %v before the end", i, fr)
			}
			tcs := delta(i)["tool_calls"].([]any)
			if len(tcs) != 1 {
				t.Fatalf("chunk %d: %d tool calls in one delta", i, len(tcs))
			}
			tc := tcs[0].(map[string]any)
			idx := tc["index"].(float64)
			fn := tc["function"].(map[string]any)
			if _, head := tc["id"]; head {
				if tc["type"] != "function" || fn["name"] == "" || fn["arguments"] != "" {
					t.Errorf("chunk %d: head %v", i, tc)
				}
				if _, seen := args[idx]; seen {
					t.Errorf("chunk %d: second head for index %v", i, idx)
				}
				args[idx] = ""
				continue
			}
			if len(tc) != 2 || len(fn) != 1 {
				t.Errorf("chunk %d: fragment %v has more than index and function.arguments", i, tc)
			}
			args[idx] += fn["arguments"].(string)
		}
		want := testScenario().Conversation.Turns[0].Model[0].ToolCalls
		if len(args) != len(want) {
			t.Fatalf("%d tool calls streamed, want %d", len(args), len(want))
		}
		for i, w := range want {
			if got := normJSON(t, args[float64(i)]); !reflect.DeepEqual(got, normValue(t, w.Arguments)) {
				t.Errorf("call %d arguments %v", i, got)
			}
		}
	}
}

func TestSSEFlushesEachEvent(t *testing.T) {
	sc := testScenario()
	// The role chunk goes out at once; the first content waits a long TTFT.
	sc.Providers["primary"].Mock.TTFT.Dist, sc.Providers["primary"].Mock.TTFT.Value = "fixed", 10*1e9
	_, base := startMock(t, sc)
	req, _ := http.NewRequest(http.MethodPost, base+"/providers/primary/v1/chat/completions", strings.NewReader(firstTurn(testModel, true, false)))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, `"role":"assistant"`) {
		t.Errorf("first line %q", line)
	}
	// Were the role chunk buffered, it would come with the first content,
	// after the 10 s TTFT.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("role chunk took %v: not flushed", d)
	}
}

func TestErrorResponses(t *testing.T) {
	_, base := startMock(t, testScenario())
	chat := base + "/providers/primary/v1/chat/completions"
	cases := []struct {
		name, url, body string
		status          int
		param, code     any
	}{
		{"bad json", chat, `{"model":`, 400, nil, nil},
		{"not an object", chat, `[1,2]`, 400, nil, nil},
		{"no model", chat, `{"messages":[{"role":"user","content":"hi"}]}`, 400, nil, nil},
		{"model type", chat, `{"model":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "model", "invalid_type"},
		{"no messages", chat, `{"model":"m"}`, 400, "messages", "missing_required_parameter"},
		{"empty messages", chat, `{"model":"m","messages":[]}`, 400, "messages", "empty_array"},
		{"bad role", chat, `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"robot","content":"x"}]}`, 400, "messages[1].role", "invalid_value"},
		{"no role", chat, `{"model":"m","messages":[{"content":"x"}]}`, 400, "messages[0].role", "missing_required_parameter"},
		{"unknown provider", base + "/providers/nope/v1/chat/completions", firstTurn("m", false, false), 404, nil, "provider_not_found"},
		{"unknown path", base + "/v1/embeddings", `{}`, 404, nil, nil},
		{"models by POST", base + "/v1/models", `{}`, 405, nil, "method_not_allowed"},
	}
	for _, c := range cases {
		resp, body := post(t, c.url, c.body)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, resp.StatusCode, c.status, body)
			continue
		}
		var eb map[string]map[string]any
		if err := json.Unmarshal(body, &eb); err != nil || len(eb) != 1 {
			t.Errorf("%s: body %s is not OpenAI's error shape (%v)", c.name, body, err)
			continue
		}
		e := eb["error"]
		for _, k := range []string{"message", "type", "param", "code"} {
			if _, ok := e[k]; !ok {
				t.Errorf("%s: error has no %q: %s", c.name, k, body)
			}
		}
		if m, _ := e["message"].(string); m == "" || e["type"] != "invalid_request_error" {
			t.Errorf("%s: message %v type %v", c.name, e["message"], e["type"])
		}
		if e["param"] != c.param || e["code"] != c.code {
			t.Errorf("%s: param %v code %v, want %v %v", c.name, e["param"], e["code"], c.param, c.code)
		}
	}

	resp, err := http.Get(chat)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET chat: %d Allow %q, want 405 POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestHealthAndModels(t *testing.T) {
	s, base := startMock(t, testScenario())
	for path, want := range map[string]string{
		"/healthz":                    `{"status":"ok"}`,
		"/providers/backup/v1/models": `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":0,"owned_by":"mcpload"}]}`,
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != want {
			t.Errorf("GET %s: %d %s, want %s", path, resp.StatusCode, b, want)
		}
	}

	eps := s.Endpoints()
	urls := map[string]bool{}
	for _, e := range eps {
		if !strings.HasPrefix(e.URL, base+"/") || e.Method == "" || e.Description == "" || e.Name == "" {
			t.Errorf("endpoint %+v", e)
		}
		urls[e.URL] = true
	}
	for _, p := range []string{
		"/providers/primary/v1/chat/completions", "/providers/backup/v1/chat/completions",
		"/v1/chat/completions", "/v1/models", "/mcp", "/mcp/weather", "/mcp/files", "/healthz",
	} {
		if !urls[base+p] {
			t.Errorf("Endpoints lacks %s", p)
		}
	}
	for u := range urls {
		if strings.Contains(u, "real") || strings.Contains(u, "remote") {
			t.Errorf("Endpoints lists %s, which is not a mock target", u)
		}
	}
}

func TestNoMockProviderServesDefault(t *testing.T) {
	sc := testScenario()
	delete(sc.Providers, "primary")
	delete(sc.Providers, "backup")
	sc.Conversation = nil
	_, base := startMock(t, sc)
	resp, body := post(t, base+"/v1/chat/completions", firstTurn("anything", false, false))
	var r openaichat.Response
	if err := json.Unmarshal(body, &r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if r.Choices[0].Message.Text() != defaultReply || r.Choices[0].FinishReason != openaichat.FinishStop {
		t.Errorf("reply %+v", r.Choices[0])
	}
}

func TestContentPartsAndUnknownFields(t *testing.T) {
	_, base := startMock(t, testScenario())
	body := `{"model":"gpt-4.1-mini","temperature":0.2,"tool_choice":"auto","parallel_tool_calls":true,` +
		`"messages":[{"role":"developer","content":[{"type":"text","text":"Be brief."}]},` +
		`{"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"image_url","image_url":{"url":"data:,"}}]}]}`
	resp, b := post(t, base+"/providers/primary/v1/chat/completions", body)
	var r openaichat.Response
	if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if len(r.Choices[0].Message.ToolCalls) != 2 {
		t.Errorf("first turn with content parts: %s", b)
	}
}
