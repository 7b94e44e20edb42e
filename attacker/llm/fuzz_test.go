package llm

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// The fuzz targets of the model client's readers: everything a provider
// sends back is parsed by one of them, and a malformed answer must be a
// classified outcome, never a panic. Their corpora start from what the
// mock really sends (mockTranscript); docs/fuzzing.md says how to run them.

// exchange is one HTTP response the mock sent.
type exchange struct {
	path, contentType string
	body              []byte
}

// teeWriter keeps a copy of what a handler writes.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// mockTranscript runs the model steps of the fixture's conversation
// through api against the mock, JSON or streamed, the tools' results
// made up, and returns every answer the mock sent.
func mockTranscript(f *testing.F, api string, stream bool) []exchange {
	f.Helper()
	sc := fixture.Conversation()
	p := sc.Providers["primary"]
	p.API, p.Model, p.Stream = api, fixture.Models[api], stream
	m, err := mockprovider.New(sc)
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	var (
		mu  sync.Mutex
		out []exchange
	)
	h := m.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		mu.Lock()
		out = append(out, exchange{r.URL.Path, w.Header().Get("Content-Type"), tw.buf.Bytes()})
		mu.Unlock()
	}))
	defer srv.Close()
	basePath, _ := BasePath(api)
	ep, err := NewEndpoint("primary", p, srv.URL+"/providers/primary"+basePath, "", sc.Tools, nil)
	if err != nil {
		f.Fatal(err)
	}
	a := NewAttempt(srv.Client(), ep, testRedactor(nil), Options{Timeout: 10 * time.Second})
	msgs := []openaichat.Message{
		{Role: "system", Content: openaichat.Str(sc.Conversation.System)},
		{Role: "user", Content: openaichat.Str(sc.Conversation.Turns[0].User)},
	}
	for step := 0; ; step++ {
		r := a.Do(context.Background(), 1, step, msgs, nil)
		if r.Outcome != record.OutcomeOK {
			f.Fatalf("%s stream=%v: step %d: %s %s", api, stream, step, r.Outcome, r.Err)
		}
		msgs = append(msgs, r.Msg)
		if len(r.Msg.ToolCalls) == 0 {
			break
		}
		for _, tc := range r.Msg.ToolCalls {
			msgs = append(msgs, openaichat.Message{Role: "tool", Content: openaichat.Str("done"), ToolCallID: tc.ID})
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return out
}

// fuzzDialects are the dialects in the order the fuzz input picks them.
var fuzzDialects = []string{scenarios.APIOpenAI, scenarios.APIAnthropic, scenarios.APIGemini}

// fuzzDialect is the dialect a fuzz input picks.
func fuzzDialect(t *testing.T, which uint8) (string, dialect) {
	api := fuzzDialects[int(which)%len(fuzzDialects)]
	d, err := dialectFor(api)
	if err != nil {
		t.Fatal(err)
	}
	return api, d
}

// addModelSeeds adds the mock's model answers, JSON or streamed, of every
// dialect to f's corpus, as (dialect index, body).
func addModelSeeds(f *testing.F, stream bool) {
	for i, api := range fuzzDialects {
		for _, ex := range mockTranscript(f, api, stream) {
			if strings.HasPrefix(ex.path, "/providers/") {
				f.Add(uint8(i), ex.body)
			}
		}
	}
}

// checkChatResult is what every dialect's reader promises: an outcome,
// read from an in-memory body only ok or protocol; an error text exactly
// when it failed; an ok answer is the assistant's. (A whole answer may
// leave out why it ended; a stream may not, see FuzzDialectStream.)
func checkChatResult(t *testing.T, api string, body []byte, r Result) {
	t.Helper()
	switch r.Outcome {
	case record.OutcomeOK:
		if r.Err != "" || r.Msg.Role != "assistant" {
			t.Fatalf("%s: ok with error %q, role %q, finish %q for %q", api, r.Err, r.Msg.Role, r.Finish, body)
		}
	case record.OutcomeProtocol:
		if r.Err == "" {
			t.Fatalf("%s: protocol failure without an error text for %q", api, body)
		}
	default:
		t.Fatalf("%s: outcome %q for an in-memory body %q", api, r.Outcome, body)
	}
	if len(r.Err) > 2*httpx.MaxErrorDetail+len("decoding stream chunk: ")+1024 {
		t.Fatalf("%s: error text of %d bytes: unbounded", api, len(r.Err))
	}
}

// FuzzDialectJSON feeds bodies to each dialect's reader of a whole answer.
func FuzzDialectJSON(f *testing.F) {
	addModelSeeds(f, false)
	f.Add(uint8(0), []byte(`{"choices":[]}`))
	f.Add(uint8(1), []byte(`{"content":[{"type":"tool_use","input":null}],"stop_reason":"tool_use"}`))
	f.Add(uint8(2), []byte(`{"candidates":[{"content":{"parts":[{"functionCall":{}}]}}]}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		api, d := fuzzDialect(t, which)
		ctx := context.Background()
		checkChatResult(t, api, body, d.readJSON(ctx, ctx, bytes.NewReader(body), scenarios.DefaultMaxToolCalls))
	})
}

// FuzzDialectStream feeds bodies to each dialect's reader of a streamed
// answer.
func FuzzDialectStream(f *testing.F) {
	addModelSeeds(f, true)
	f.Add(uint8(1), []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":7}\n\n"))
	f.Add(uint8(2), []byte("data: {\"candidates\":[]}\n\n"))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		api, d := fuzzDialect(t, which)
		ctx := context.Background()
		r := d.readStream(ctx, ctx, bytes.NewReader(body), time.Now(), nil, scenarios.DefaultMaxToolCalls)
		checkChatResult(t, api, body, r)
		if r.Outcome == record.OutcomeOK && r.Finish == "" {
			t.Fatalf("%s: a stream ok without a finish reason: %q", api, body)
		}
		if r.Outcome != record.OutcomeOK && !r.broken {
			t.Fatalf("%s: a failed stream not marked broken", api)
		}
	})
}

// FuzzSSEReader checks the shared Server-Sent Events reader: what it
// returns comes from the body (never more data than the body holds, no
// more events than lines), and it ends with io.EOF or an error.
func FuzzSSEReader(f *testing.F) {
	for _, stream := range []bool{true} {
		for _, api := range fuzzDialects {
			for _, ex := range mockTranscript(f, api, stream) {
				f.Add(ex.body)
			}
		}
	}
	for _, s := range oddStreams {
		f.Add([]byte(s))
	}
	f.Add([]byte("data\ndata:\ndata: x\r\n\r\n:comment\nevent: e\n\ndata: last"))
	f.Fuzz(func(t *testing.T, body []byte) {
		sr := httpx.NewSSEReader(bytes.NewReader(body))
		defer sr.Release()
		events, total := 0, 0
		for {
			data, err := sr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if len(body) <= httpx.MaxSSELine {
					t.Fatalf("error %v on a body of %d bytes", err, len(body))
				}
				break
			}
			events++
			total += len(data)
			if events > bytes.Count(body, []byte("\n"))+1 || total > len(body) {
				t.Fatalf("%d events, %d bytes of data from a body of %d bytes", events, total, len(body))
			}
		}
	})
}
