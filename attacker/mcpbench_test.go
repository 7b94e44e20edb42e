package attacker

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// jobsBenchMCPServer answers every POST with a tools/call result carrying
// the request's id, and a session id on initialize: the cheapest MCP
// server, so that a benchmark measures the client.
func jobsBenchMCPServer(b *testing.B) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		i := bytes.Index(body, []byte(`"id":`))
		if i < 0 {
			w.WriteHeader(http.StatusAccepted) // a notification
			return
		}
		id := body[i+5:]
		id = id[:bytes.IndexByte(id, ',')]
		if bytes.Contains(body, []byte(`"method":"initialize"`)) {
			w.Header().Set("Mcp-Session-Id", "bench")
			w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"b","version":"1"}}}`))
			return
		}
		w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"result":{"content":[{"type":"text","text":"hello"}]}}`))
	}))
	b.Cleanup(ts.Close)
	return ts
}

// BenchmarkMCPDirectToolCall measures one mcp_direct tools/call on a
// per_vu session: the MCP client's per-request cost.
func BenchmarkMCPDirectToolCall(b *testing.B) {
	ts := jobsBenchMCPServer(b)
	sc := jobsDirectScenario(ts.URL, scenarios.SessionPerVU)
	sc.MCPDirect.Mix = sc.MCPDirect.Mix[:1]
	j := jobsNewJob(b, sc, jobConfig{})
	sink := &jobsNopSink{}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if r := j.Do(ctx, uint64(i), 0, sink); r.Outcome != record.OutcomeOK {
			b.Fatal(r.Err)
		}
	}
}
