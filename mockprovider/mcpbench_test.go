package mockprovider

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcpload/mcpload/scenarios"
)

// BenchmarkMCPToolsCallHandler measures a tools/call through the MCP
// handler alone (the SDK's stateless path, no network), on a server's own
// endpoint and on /mcp, in each response mode: the mock's MCP hot path.
func BenchmarkMCPToolsCallHandler(b *testing.B) {
	const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_time","arguments":{"tz":"UTC"}}}`
	for _, c := range []struct{ name, path, response string }{
		{"server_json", "/mcp/weather", scenarios.MCPResponseJSON}, {"aggregate_json", "/mcp", scenarios.MCPResponseJSON},
		{"server_sse", "/mcp/weather", scenarios.MCPResponseSSE},
	} {
		b.Run(c.name, func(b *testing.B) {
			sc := testScenario()
			for _, name := range []string{"weather", "files"} {
				sc.MCPServers[name].Mock = scenarios.MCPServerMock{Stateless: true, Response: c.response}
			}
			s, err := New(sc)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			h := s.Handler()
			serveParallel(b, h, func() *http.Request {
				req := httptest.NewRequest(http.MethodPost, c.path, bytes.NewReader([]byte(body)))
				req.Header["Content-Type"] = jsonContentType
				req.Header["Accept"] = []string{"application/json, text/event-stream"}
				req.Header["Mcp-Protocol-Version"] = []string{"2025-11-25"}
				return req
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
