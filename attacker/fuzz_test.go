package attacker

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
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// The fuzz targets of the attacker's readers: everything a target sends
// back is parsed by one of them, and a malformed answer must be a
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

// mockTranscript runs the jobs test conversation through api against the
// mock, JSON or streamed, and returns every response the mock sent: the
// model's answers and the MCP server's.
func mockTranscript(f *testing.F, api string, stream bool) []exchange {
	f.Helper()
	sc := jobsConversationScenario()
	p := sc.Providers["primary"]
	p.API, p.Model, p.Stream = api, dialectModels[api], stream
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
	j := jobsNewJob(f, sc, jobConfig{MockURL: srv.URL})
	if res := j.Do(context.Background(), 1, 0, &jobsSink{}); res.Outcome != record.OutcomeOK {
		f.Fatalf("%s stream=%v: conversation %+v", api, stream, res)
	}
	if c, ok := j.(jobCloser); ok {
		c.Close(context.Background())
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
func checkChatResult(t *testing.T, api string, body []byte, r chatResult) {
	t.Helper()
	switch r.outcome {
	case record.OutcomeOK:
		if r.err != "" || r.msg.Role != "assistant" {
			t.Fatalf("%s: ok with error %q, role %q, finish %q for %q", api, r.err, r.msg.Role, r.finish, body)
		}
	case record.OutcomeProtocol:
		if r.err == "" {
			t.Fatalf("%s: protocol failure without an error text for %q", api, body)
		}
	default:
		t.Fatalf("%s: outcome %q for an in-memory body %q", api, r.outcome, body)
	}
	if len(r.err) > 2*httpx.MaxErrorDetail+len("decoding stream chunk: ")+1024 {
		t.Fatalf("%s: error text of %d bytes: unbounded", api, len(r.err))
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
		if r.outcome == record.OutcomeOK && r.finish == "" {
			t.Fatalf("%s: a stream ok without a finish reason: %q", api, body)
		}
		if r.outcome != record.OutcomeOK && !r.broken {
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
	for _, s := range jobsOddStreams {
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

// FuzzCredentials checks the credentials file reader: the key it finds is
// one line's text or value, never more.
func FuzzCredentials(f *testing.F) {
	for _, s := range []string{
		"sk-test-123\n",
		"# comment\n[default]\napi_key = sk-abc\n",
		"export OPENAI_API_KEY=\"sk-q\"\nANTHROPIC_API_KEY='a'\n",
		"base_url=http://x\nkey=\n; c\nbare==\n",
		"MY_KEY=v1\nOTHER_KEY=v2\n",
	} {
		f.Add([]byte(s), "MY_KEY")
	}
	f.Fuzz(func(t *testing.T, data []byte, env string) {
		k := keyFromCredentials(data, env)
		if strings.Contains(k, "\n") || !bytes.Contains(data, []byte(k)) {
			t.Fatalf("key %q from %q", k, data)
		}
		if k != strings.TrimSpace(k) {
			t.Fatalf("key %q has surrounding space", k)
		}
	})
}
