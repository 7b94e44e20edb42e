package attacker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	mcpc "github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/attacker/secrets"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// jobsMCPServer is an MCP server built with the official Go SDK, served
// over Streamable HTTP on loopback, that counts the requests it gets.
type jobsMCPServer struct {
	srv      *mcp.Server
	url      string
	inits    atomic.Int64 // initialize requests
	deletes  atomic.Int64
	calls    atomic.Int64 // tools/call requests
	mu       sync.Mutex
	sessions map[string]bool // Mcp-Session-Id values seen on tools/call
}

type jobsEchoIn struct {
	Text string `json:"text"`
}

type jobsEchoOut struct {
	Echo string `json:"echo"`
}

func jobsStartMCPServer(t *testing.T, jsonResponse bool) *jobsMCPServer {
	t.Helper()
	s := &jobsMCPServer{sessions: map[string]bool{}}
	s.srv = mcp.NewServer(&mcp.Implementation{Name: "jobs-test", Version: "1"}, nil)
	mcp.AddTool(s.srv, &mcp.Tool{Name: "echo", Description: "echoes text"},
		func(ctx context.Context, req *mcp.CallToolRequest, in jobsEchoIn) (*mcp.CallToolResult, jobsEchoOut, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + in.Text}}}, jobsEchoOut{Echo: in.Text}, nil
		})
	mcp.AddTool(s.srv, &mcp.Tool{Name: "broken", Description: "always fails"},
		func(ctx context.Context, req *mcp.CallToolRequest, in jobsEchoIn) (*mcp.CallToolResult, jobsEchoOut, error) {
			return nil, jobsEchoOut{}, errors.New("disk on fire")
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.srv },
		&mcp.StreamableHTTPOptions{JSONResponse: jsonResponse})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodDelete:
			s.deletes.Add(1)
		case http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			switch {
			case bytes.Contains(body, []byte(`"method":"initialize"`)):
				s.inits.Add(1)
			case bytes.Contains(body, []byte(`"method":"tools/call"`)):
				s.calls.Add(1)
				s.mu.Lock()
				s.sessions[r.Header.Get("Mcp-Session-Id")] = true
				s.mu.Unlock()
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	s.url = ts.URL + "/mcp"
	return s
}

// expireSessions makes the server forget every session, as a restart would.
func (s *jobsMCPServer) expireSessions() {
	for ss := range s.srv.Sessions() {
		ss.Close()
	}
}

func (s *jobsMCPServer) distinctSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func TestMCPClientAgainstSDKServer(t *testing.T) {
	for _, jsonResponse := range []bool{true, false} {
		t.Run(fmt.Sprintf("JSONResponse=%v", jsonResponse), func(t *testing.T) {
			srv := jobsStartMCPServer(t, jsonResponse)
			c := mcpc.NewStreamable(jobsHTTPClient(t), "sdk", srv.url, 5*time.Second, secrets.NewRedactor())
			sink := &jobsSink{}
			ctx := context.Background()

			sess, hs := c.Handshake(ctx, 7, 0, sink)
			if sess == nil {
				t.Fatalf("initialize: %s: %s", hs.Outcome, hs.Err)
			}
			if sess.(interface{ ID() string }).ID() == "" {
				t.Fatal("no Mcp-Session-Id from a stateful server")
			}
			if sess.Version() != mcpc.ProtocolVersion {
				t.Fatalf("negotiated %q, want %q", sess.Version(), mcpc.ProtocolVersion)
			}
			if n := sink.countAttempts(record.KindSession, "mcp:sdk/initialize"); n != 1 {
				t.Fatalf("initialize attempts = %d", n)
			}
			if n := sink.countAttempts(record.KindSession, "mcp:sdk/initialized"); n != 1 {
				t.Fatalf("initialized attempts = %d", n)
			}

			call := c.Call(ctx, sess, 7, 1, mcpc.ToolCall("echo", []byte(`{"text":"hi"}`), false), sink)
			if call.Outcome != record.OutcomeOK || call.Text != "echo: hi" {
				t.Fatalf("echo: outcome %s, text %q, err %q", call.Outcome, call.Text, call.Err)
			}
			if call.Status != http.StatusOK || call.BytesIn == 0 {
				t.Fatalf("echo: status %d, bytes %d", call.Status, call.BytesIn)
			}

			call = c.Call(ctx, sess, 7, 2, mcpc.ToolCall("broken", []byte(`{"text":"x"}`), false), sink)
			if call.Outcome != record.OutcomeToolError || !strings.Contains(call.Text, "disk on fire") {
				t.Fatalf("broken: outcome %s, text %q", call.Outcome, call.Text)
			}

			// The SDK answers an unknown tool with invalid params: the
			// call was refused, a tool error, with its code recorded.
			call = c.Call(ctx, sess, 7, 3, mcpc.ToolCall("no_such_tool", nil, false), sink)
			if call.Outcome != record.OutcomeToolError || call.RPCCode != record.RPCInvalidParams || !strings.Contains(call.Err, "jsonrpc -32602") || call.Text != call.Err {
				t.Fatalf("unknown tool: outcome %s, code %d, err %q, text %q", call.Outcome, call.RPCCode, call.Err, call.Text)
			}

			attempts, _, _ := sink.snapshot()
			for _, a := range attempts {
				if a.Conversation != 7 || a.Attempt != 1 || a.LatencyUS < 0 || a.Start.IsZero() {
					t.Fatalf("bad attempt %+v", a)
				}
			}
			if n := sink.countAttempts(record.StepTool, record.ToolKey("echo")); n != 1 {
				t.Fatalf("echo attempts = %d", n)
			}

			if ex := c.End(ctx, sess, 7, 4, sink); ex.Outcome != record.OutcomeOK {
				t.Fatalf("DELETE: %s %s", ex.Outcome, ex.Err)
			}
			if srv.deletes.Load() != 1 {
				t.Fatalf("server saw %d DELETEs", srv.deletes.Load())
			}
			// The session is gone: the server answers 404, which marks it
			// expired, and the call is sent again on a new session.
			call = c.Call(ctx, sess, 7, 5, mcpc.ToolCall("echo", []byte(`{"text":"hi"}`), false), sink)
			if call.Outcome != record.OutcomeOK || !sess.Expired() || sink.countOutcome(record.OutcomeSessionExpired) != 1 {
				t.Fatalf("after DELETE: outcome %s, expired %v, err %q", call.Outcome, sess.Expired(), call.Err)
			}
		})
	}
}

func jobsDirectScenario(url, session string) *scenarios.Scenario {
	return &scenarios.Scenario{
		Version:    1,
		Name:       "direct",
		Seed:       7,
		MCPServers: map[string]*scenarios.MCPServer{"sdk": {URL: url}},
		MCPDirect: &scenarios.MCPDirect{
			Server:  "sdk",
			Session: session,
			Mix: []scenarios.MCPOp{
				{Tool: "echo", Weight: 3, Arguments: map[string]any{"text": "hello"}},
				{Tool: "broken", Weight: 1, Arguments: map[string]any{"text": "x"}},
			},
		},
		Client: scenarios.Client{Timeout: scenarios.Duration(5 * time.Second)},
	}
}

func TestMCPDirectPerVUReusesSessionPerSlot(t *testing.T) {
	srv := jobsStartMCPServer(t, false)
	sc := jobsDirectScenario(srv.url, scenarios.SessionPerVU)
	sc.MCPDirect.Mix = sc.MCPDirect.Mix[:1] // echo only
	j := jobsNewJob(t, sc, jobConfig{Slots: 3})
	sink := &jobsSink{}
	ctx := context.Background()

	var wg sync.WaitGroup
	for slot := range 3 {
		wg.Go(func() {
			for i := range 5 {
				seq := uint64(slot*5 + i)
				res := j.Do(ctx, seq, slot, sink)
				if res.Outcome != record.OutcomeOK || res.Code != 200 || res.URL != srv.url || res.BytesIn == 0 {
					t.Errorf("seq %d: %+v", seq, res)
				}
			}
		})
	}
	wg.Wait()
	if n := srv.inits.Load(); n != 3 {
		t.Fatalf("server saw %d initialize requests, want 3 (one per slot)", n)
	}
	if n := srv.distinctSessions(); n != 3 {
		t.Fatalf("tools/call came on %d sessions, want 3", n)
	}
	if n := srv.calls.Load(); n != 15 {
		t.Fatalf("server saw %d calls, want 15", n)
	}
	_, steps, _ := sink.snapshot()
	if len(steps) != 15 {
		t.Fatalf("%d steps, want 15", len(steps))
	}
	for _, s := range steps {
		if s.Kind != record.StepMCP || s.Key != record.ToolKey("echo") || s.Outcome != record.OutcomeOK {
			t.Fatalf("step %+v", s)
		}
	}

	// A server that forgets its sessions costs the call a new session,
	// on which it is sent again; the slot keeps that session.
	srv.expireSessions()
	if res := j.Do(ctx, 100, 0, sink); res.Outcome != record.OutcomeOK || sink.countOutcome(record.OutcomeSessionExpired) != 1 {
		t.Fatalf("after expiry: %+v", res)
	}
	if res := j.Do(ctx, 101, 0, sink); res.Outcome != record.OutcomeOK {
		t.Fatalf("after re-init: %+v", res)
	}
	if n := srv.inits.Load(); n != 4 {
		t.Fatalf("server saw %d initialize requests after expiry, want 4", n)
	}

	if err := j.(jobCloser).Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.deletes.Load(); n < 1 {
		t.Fatalf("Close sent %d DELETEs", n)
	}
}

func TestMCPDirectPerCallAndMix(t *testing.T) {
	srv := jobsStartMCPServer(t, true)
	sc := jobsDirectScenario(srv.url, scenarios.SessionPerCall)
	j := jobsNewJob(t, sc, jobConfig{Slots: 1})
	sink := &jobsSink{}
	ctx := context.Background()

	const n = 40
	outcomes := map[string]int{}
	for seq := range uint64(n) {
		res := j.Do(ctx, seq, 0, sink)
		outcomes[res.Outcome]++
		if res.Outcome == record.OutcomeToolError && !strings.Contains(res.Err, "disk on fire") {
			t.Fatalf("tool error text: %q", res.Err)
		}
	}
	if srv.inits.Load() != n || srv.deletes.Load() != n {
		t.Fatalf("per_call: %d initializes, %d deletes; want %d each", srv.inits.Load(), srv.deletes.Load(), n)
	}
	if outcomes[record.OutcomeOK]+outcomes[record.OutcomeToolError] != n || outcomes[record.OutcomeToolError] == 0 || outcomes[record.OutcomeOK] < outcomes[record.OutcomeToolError] {
		t.Fatalf("outcomes %v: want a 3:1-ish mix of ok and tool_error", outcomes)
	}
	// Every exchange is an attempt: initialize, initialized, call, delete.
	attempts, steps, _ := sink.snapshot()
	if len(attempts) != 4*n || len(steps) != n {
		t.Fatalf("%d attempts, %d steps; want %d, %d", len(attempts), len(steps), 4*n, n)
	}

	// The mix is a function of the seed and seq alone.
	j2 := jobsNewJob(t, sc, jobConfig{Slots: 1}).(*mcpDirectJob)
	j1 := j.(*mcpDirectJob)
	for seq := range uint64(200) {
		if j1.pick(seq).req.Key != j2.pick(seq).req.Key {
			t.Fatalf("seq %d: picks differ between jobs with one seed", seq)
		}
	}
	sc.Seed = 8
	j3 := jobsNewJob(t, sc, jobConfig{Slots: 1}).(*mcpDirectJob)
	same := 0
	for seq := range uint64(200) {
		if j1.pick(seq).req.Key == j3.pick(seq).req.Key {
			same++
		}
	}
	if same == 200 {
		t.Fatal("a different seed gave the same mix")
	}
}

func TestMCPDirectServerDown(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL + "/mcp"
	ts.Close() // nothing listens there now
	sc := jobsDirectScenario(url, scenarios.SessionPerVU)
	j := jobsNewJob(t, sc, jobConfig{Slots: 1})
	sink := &jobsSink{}
	res := j.Do(context.Background(), 0, 0, sink)
	if res.Outcome != record.OutcomeConnection {
		t.Fatalf("outcome %q, want connection: %+v", res.Outcome, res)
	}
	_, steps, _ := sink.snapshot()
	if len(steps) != 1 || steps[0].Outcome != record.OutcomeConnection {
		t.Fatalf("steps %+v", steps)
	}
}
