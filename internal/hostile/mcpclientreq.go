package hostile

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MCPExpiring is a Streamable HTTP MCP server that forgets each session
// after every requests on it (the initialize and its notification
// included), as a server that restarts or times sessions out does: past
// that, the session's requests get 404. Its tools/call answers "sunny".
// A new initialize opens a new session. Expired counts the 404s. It
// offers no GET stream, and a DELETE always succeeds.
type MCPExpiring struct {
	Every   int
	Expired atomic.Int64

	mu    sync.Mutex
	seen  map[string]int
	count int
}

func (s *MCPExpiring) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.WriteHeader(http.StatusMethodNotAllowed) // no standalone stream
		return
	case http.MethodDelete:
		return
	}
	sid := r.Header.Get("Mcp-Session-Id")
	if sid != "" {
		s.mu.Lock()
		n, known := s.seen[sid]
		if known {
			s.seen[sid] = n + 1
		}
		s.mu.Unlock()
		if !known || n >= s.Every {
			s.Expired.Add(1)
			http.Error(w, "session not found", http.StatusNotFound)
			return
		}
	}
	id, method, ok := readRPC(w, r)
	if !ok {
		return
	}
	switch {
	case method == "initialize":
		s.mu.Lock()
		if s.seen == nil {
			s.seen = map[string]int{}
		}
		s.count++
		sid = "expiring-" + strconv.Itoa(s.count)
		s.seen[sid] = 1
		s.mu.Unlock()
		w.Header().Set("Mcp-Session-Id", sid)
		writeInitialize(w, id)
	case strings.HasPrefix(method, "notifications/"):
		w.WriteHeader(http.StatusAccepted)
	case method == "tools/call":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"sunny"}]}}`, id)
	default:
		writeMethodNotFound(w, id)
	}
}

// MCPAsker is a Streamable HTTP MCP server whose tools/call asks the
// client first: its event stream carries one request per method of Ask
// (ids ask-1, ask-2, ...), then Flood pings, and the result only once
// every request is answered, or after Wait. With StallAnswers it never
// acknowledges the POSTs that carry the client's answers. Answers keeps
// what the client answered, by request id: the result, or the error.
type MCPAsker struct {
	Ask          []string
	Flood        int
	Wait         time.Duration
	StallAnswers bool

	mu      sync.Mutex
	answers map[string]string
	got     chan struct{}
}

// Answers returns what the client answered, by request id.
func (s *MCPAsker) Answers() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.answers))
	for k, v := range s.answers {
		out[k] = v
	}
	return out
}

func (s *MCPAsker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &msg) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	switch {
	case msg.Method == "" && len(msg.ID) > 0: // an answer
		if s.StallAnswers {
			// Never taken: the call keeps waiting for it, and the
			// client's POST for an acknowledgement.
			<-r.Context().Done()
			return
		}
		s.mu.Lock()
		if s.answers == nil {
			s.answers = map[string]string{}
		}
		var id string
		_ = json.Unmarshal(msg.ID, &id)
		if msg.Error != nil {
			s.answers[id] = "error " + string(msg.Error)
		} else {
			s.answers[id] = string(msg.Result)
		}
		got := s.got
		s.mu.Unlock()
		if got != nil {
			select {
			case got <- struct{}{}:
			default:
			}
		}
		w.WriteHeader(http.StatusAccepted)
	case msg.Method == "initialize":
		w.Header().Set("Mcp-Session-Id", "asker")
		writeInitialize(w, msg.ID)
	case strings.HasPrefix(msg.Method, "notifications/"):
		w.WriteHeader(http.StatusAccepted)
	case msg.Method == "tools/call":
		s.call(w, r, msg.ID)
	default:
		writeMethodNotFound(w, msg.ID)
	}
}

// call asks, then answers the tools/call id.
func (s *MCPAsker) call(w http.ResponseWriter, r *http.Request, id json.RawMessage) {
	s.mu.Lock()
	if s.got == nil {
		s.got = make(chan struct{}, 1)
	}
	got := s.got
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	send := func(format string, args ...any) bool {
		if _, err := fmt.Fprintf(w, "data: "+format+"\n\n", args...); err != nil {
			return false
		}
		if f != nil {
			f.Flush()
		}
		return true
	}
	for i, m := range s.Ask {
		if !send(`{"jsonrpc":"2.0","id":"ask-%d","method":%q,"params":{}}`, i+1, m) {
			return
		}
	}
	for i := 0; i < s.Flood; i++ {
		if !send(`{"jsonrpc":"2.0","id":"ping-%d","method":"ping"}`, i+1) {
			return
		}
	}
	deadline := time.NewTimer(s.Wait)
	defer deadline.Stop()
	for answered := 0; answered < len(s.Ask); answered++ {
		select {
		case <-got:
		case <-deadline.C:
			answered = len(s.Ask)
		case <-r.Context().Done():
			return
		}
	}
	send(`{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"sunny"}]}}`, id)
}

// readRPC reads a JSON-RPC request's id and method, answering 400 to what
// is not one.
func readRPC(w http.ResponseWriter, r *http.Request) (json.RawMessage, string, bool) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return nil, "", false
	}
	return req.ID, req.Method, true
}

func writeInitialize(w http.ResponseWriter, id json.RawMessage) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"hostile","version":"1"}}}`, id)
}

func writeMethodNotFound(w http.ResponseWriter, id json.RawMessage) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"method not found"}}`, id)
}
