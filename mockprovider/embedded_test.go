package mockprovider

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// TestEmbeddedScenarios serves every scenario that ships in the binary, as
// loaded from YAML: the mock must accept what the loader produces.
func TestEmbeddedScenarios(t *testing.T) {
	for _, name := range scenarios.Embedded() {
		t.Run(name, func(t *testing.T) {
			sc, err := scenarios.Load(name)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			for _, p := range sc.Providers {
				p.Mock = scenarios.ProviderMock{} // no waiting in tests
			}
			for _, tool := range sc.Tools {
				tool.Mock.Latency = scenarios.Latency{}
			}
			s, base := startMock(t, sc)

			if c := sc.Conversation; c != nil && sc.Providers[c.Provider].IsMock() {
				resp, body := post(t, base+"/providers/"+c.Provider+"/v1/chat/completions", firstTurn(sc.Providers[c.Provider].Model, false, false))
				var r openaichat.Response
				if err := json.Unmarshal(body, &r); err != nil || resp.StatusCode != 200 {
					t.Fatalf("chat: %d %s", resp.StatusCode, body)
				}
				first := c.Turns[0].Model[0]
				if got := len(r.Choices[0].Message.ToolCalls); got != len(first.ToolCalls) {
					t.Errorf("first reply has %d tool calls, script %d", got, len(first.ToolCalls))
				}
			}

			for name, m := range sc.MCPServers {
				if !m.IsMock() {
					continue
				}
				cs := connectMCP(t, base+"/mcp/"+name)
				list, err := cs.ListTools(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(list.Tools) != len(s.mcps[name].tools) || len(list.Tools) == 0 {
					t.Errorf("%s: %d tools listed, %d defined", name, len(list.Tools), len(s.mcps[name].tools))
				}
				for _, tool := range list.Tools {
					if i := slices.IndexFunc(sc.Tools, func(t *scenarios.Tool) bool { return t.Name == tool.Name }); i >= 0 && sc.Tools[i].Mock.CloseStream {
						continue // needs a client that reconnects: TestMCPCloseStream
					}
					if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool.Name, Arguments: map[string]any{}}); err != nil {
						t.Errorf("%s: call %s: %v", name, tool.Name, err)
					}
				}
			}
		})
	}
}
