package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestListenReopens: a server that ends the standalone GET stream after
// one request is asked again, and the request it sends on the new stream
// is answered too.
func TestListenReopens(t *testing.T) {
	var mu sync.Mutex
	gets := 0
	answered := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			mu.Lock()
			gets++
			n := gets
			mu.Unlock()
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"id\":\"roots-%d\",\"method\":\"roots/list\"}\n\n", n)
			w.(http.Flusher).Flush()
			if n >= 2 {
				<-r.Context().Done() // the second stream stays open
			}
			return // the first ends at once
		}
		if r.Method == http.MethodDelete {
			return
		}
		body, _ := io.ReadAll(r.Body)
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.Unmarshal(body, &msg)
		switch msg.Method {
		case "initialize":
			w.Header().Set("Mcp-Session-Id", "s1")
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"reopen","version":"1"}}}`, msg.ID)
		case "":
			var id string
			_ = json.Unmarshal(msg.ID, &id)
			mu.Lock()
			answered[id] = true
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	c := NewStreamable(testHTTPClient(t), "reopen", srv.URL, 10*time.Second, nopRedactor{})
	c.SetCapabilities(testCaps(t))
	c.listenRetry = 10 * time.Millisecond
	sink := &testSink{}
	ctx := context.Background()
	s, hs := c.Handshake(ctx, 1, 0, sink)
	if s == nil {
		t.Fatalf("handshake: %+v", hs)
	}
	defer c.End(ctx, s, 1, 9, nil)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		done := answered["roots-1"] && answered["roots-2"]
		n := gets
		mu.Unlock()
		if done {
			if n != 2 {
				t.Errorf("%d GET streams, want 2: the open one is not opened again", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("answered %v after %d GET streams; want roots-1 and roots-2", answered, n)
		}
	}
	if got := serverAnswers(sink); got["mcp:reopen/roots/list"] != "ok ok " {
		t.Errorf("server_request attempts %v", got)
	}
}
