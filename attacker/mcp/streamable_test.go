package mcp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
)

// testSink keeps what it is sent.
type testSink struct {
	mu       sync.Mutex
	attempts []record.Attempt
	events   []record.Event
}

func (s *testSink) Attempt(a *record.Attempt) {
	s.mu.Lock()
	s.attempts = append(s.attempts, *a)
	s.mu.Unlock()
}
func (s *testSink) Event(e *record.Event) {
	s.mu.Lock()
	s.events = append(s.events, *e)
	s.mu.Unlock()
}

// testHTTPClient is a keep-alive client like the scheduler's.
func testHTTPClient(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// testSession is a session opened elsewhere, so that a hand-written
// server need not answer the handshake.
func testSession() *httpSession { return &httpSession{version: []string{ProtocolVersion}} }

func TestMCPClientSSESkipsNotifications(t *testing.T) {
	// A hand-written server whose event stream carries a notification and
	// a response to another id before the one the client waits for.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": keep-alive\n\n")
		io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n")
		io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"id\":999,\"result\":{}}\n\n")
		body, _ := io.ReadAll(r.Body)
		id := bytes.TrimPrefix(body, []byte(`{"jsonrpc":"2.0","id":`))
		id = id[:bytes.IndexByte(id, ',')]
		fmt.Fprintf(w, "id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\n", id)
		io.WriteString(w, "data:  \"result\":{\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"image\",\"data\":\"x\"},{\"type\":\"text\",\"text\":\"b\"}]}}\n\n")
	}))
	defer ts.Close()
	c := NewStreamable(testHTTPClient(t), "hand", ts.URL, 5*time.Second, nopRedactor{})
	sess := testSession()
	call := c.call(context.Background(), sess, 1, 0, ToolCall("x", nil, false), &testSink{})
	if call.Outcome != record.OutcomeOK || call.Text != "a\nb" {
		t.Fatalf("outcome %s, text %q, err %q", call.Outcome, call.Text, call.Err)
	}
}

func TestMCPClientMalformedResponses(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		want              string
	}{
		{"not json", "application/json", "{oops", 200, record.OutcomeProtocol},
		{"wrong id", "application/json", `{"jsonrpc":"2.0","id":123456,"result":{}}`, 200, record.OutcomeProtocol},
		{"no result", "application/json", `{"jsonrpc":"2.0","id":ID}`, 200, record.OutcomeProtocol},
		{"stream without response", "text/event-stream", "data: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n", 200, record.OutcomeProtocol},
		{"stream junk", "text/event-stream", "data: [[[\n\n", 200, record.OutcomeProtocol},
		{"rate limited", "text/plain", "slow down", 429, record.Outcome429},
		{"server error", "text/plain", "boom", 502, record.Outcome5xx},
		{"bad request", "text/plain", "nope", 400, record.Outcome4xx},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				id := bytes.TrimPrefix(body, []byte(`{"jsonrpc":"2.0","id":`))
				id = id[:bytes.IndexByte(id, ',')]
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				io.WriteString(w, strings.ReplaceAll(tc.body, "ID", string(id)))
			}))
			defer ts.Close()
			c := NewStreamable(testHTTPClient(t), "hand", ts.URL, 5*time.Second, nopRedactor{})
			sess := testSession()
			call := c.call(context.Background(), sess, 1, 0, ToolCall("x", nil, false), &testSink{})
			if call.Outcome != tc.want || call.Err == "" {
				t.Fatalf("outcome %q (err %q), want %q", call.Outcome, call.Err, tc.want)
			}
		})
	}
}

// TestRPCOutcomeOfListing checks that a tools/list that fails is a
// protocol failure whatever its code, but for a rate limit.
func TestRPCOutcomeOfListing(t *testing.T) {
	if got := rpcOutcome(record.RPCInvalidParams, false); got != record.OutcomeProtocol {
		t.Errorf("-32602 on tools/list: %s", got)
	}
	if got := rpcOutcome(record.RPCRateLimited, false); got != record.Outcome429 {
		t.Errorf("-32004 on tools/list: %s", got)
	}
}
