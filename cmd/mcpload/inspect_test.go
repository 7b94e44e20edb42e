package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

// inspectValidates runs inspect with a, checks that its snippet
// validates, and returns it and its file.
func inspectValidates(t *testing.T, a ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"inspect"}, a...), &out, &errb); code != exitPass {
		t.Fatalf("inspect %v: exit %d: %s", a, code, errb.String())
	}
	path := filepath.Join(t.TempDir(), "snippet.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var vout, verr bytes.Buffer
	if code := run([]string{"validate", path}, &vout, &verr); code != exitPass {
		t.Fatalf("the snippet does not validate: %s\n%s", verr.String(), out.String())
	}
	return out.String(), path
}

// TestInspectMock inspects the mock's MCP server: its tools in the
// snippet, a mix with arguments made from their schemas, the counts; a
// target off loopback is refused with exit 2, one that is down is exit 1.
func TestInspectMock(t *testing.T) {
	sc, err := scenarios.Load("mcp-direct")
	if err != nil {
		t.Fatal(err)
	}
	sc.MCPServers["tools"].Mock.ExtraTools = 2
	m, err := mockprovider.New(sc, mockprovider.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	url, err := m.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	out, path := inspectValidates(t, url+"/mcp/tools", "--name", "docs")
	for _, want := range []string{"4 tools (1 pages of tools/list)", "mcp_servers:\n  docs:\n    url: " + url + "/mcp/tools\n    protocol: auto\n    # discover_tools: true",
		"  - name: get_weather\n", "  - name: search_docs\n", "no tool says readOnlyHint", "    - tool: get_weather\n      arguments:\n        location: example\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("snippet lacks %q:\n%s", want, out)
		}
	}
	// The snippet runs as it is: its mix's arguments fit the tools.
	var o, e bytes.Buffer
	runDir := filepath.Join(t.TempDir(), "run")
	if code := run([]string{"run", path, "--duration", "1s", "--progress", "off", "--out", runDir}, &o, &e); code != exitPass {
		t.Fatalf("running the snippet: exit %d: %s\n%s", code, e.String(), o.String())
	}
	var sum summary.Summary
	if b, err := os.ReadFile(filepath.Join(runDir, "summary.json")); err != nil || json.Unmarshal(b, &sum) != nil || sum.Conversations.SuccessRate != 100 {
		t.Fatalf("the snippet's run: %v, success %v%%\n%s", err, sum.Conversations.SuccessRate, o.String())
	}
	e.Reset()
	if code := run([]string{"inspect", "http://192.0.2.1/mcp"}, &o, &e); code != exitInvalid || !strings.Contains(e.String(), "--allow-remote") {
		t.Errorf("off loopback: exit %d: %s", code, e.String())
	}
	e.Reset()
	if code := run([]string{"inspect", url + "/nothing-here"}, &o, &e); code != exitRuntime || !strings.Contains(e.String(), "handshake") {
		t.Errorf("no MCP server: exit %d: %s", code, e.String())
	}
}

// TestInspectEverythingStdio inspects the MCP reference server over
// stdio: its tools in their full shape, and a snippet that validates.
func TestInspectEverythingStdio(t *testing.T) {
	bin, _ := filepath.Abs(filepath.Join("..", "..", ".cache", "node", "node_modules", ".bin", "mcp-server-everything"))
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("MCPLOAD_REQUIRE_NODE") == "1" {
			t.Fatalf("MCPLOAD_REQUIRE_NODE=1 but %s is missing: %v", bin, err)
		}
		t.Skipf("no %s (make node installs it)", bin)
	}
	out, _ := inspectValidates(t, "--command", "--", bin, "stdio")
	for _, want := range []string{"command: [" + bin + ", stdio]", "  - name: get-structured-content\n", "    outputSchema:\n", "      readOnlyHint: true\n",
		"    title: Echo Tool\n", "    - tool: echo\n      arguments:\n        message: example\n", "resources", "prompts"} {
		if !strings.Contains(out, want) {
			t.Errorf("snippet lacks %q:\n%s", want, out)
		}
	}
}

// weatherSDKServer is the go-sdk's server with one tool, weather, whose
// answer fails its outputSchema.
func weatherSDKServer(t *testing.T) string {
	s := sdk.NewServer(&sdk.Implementation{Name: "weather", Version: "1"}, nil)
	s.AddTool(&sdk.Tool{
		Name:         "weather",
		InputSchema:  map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []any{"city"}},
		OutputSchema: map[string]any{"type": "object", "properties": map[string]any{"temp": map[string]any{"type": "number"}}, "required": []any{"temp"}},
	}, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "hot"}}, StructuredContent: map[string]any{"temp": "hot"}}, nil
	})
	ts := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestRunDiscoveredTools: mcpload run on a server's discovered tool. Its
// scripted arguments failing the listed schema are exit 2 before any
// load, naming the line; good ones run, and the results that fail the
// outputSchema are counted in summary.json.
func TestRunDiscoveredTools(t *testing.T) {
	t.Parallel()
	url := weatherSDKServer(t)
	dir := t.TempDir()
	scenario := func(args string) string {
		path := filepath.Join(dir, "s.yaml")
		y := "version: 1\nname: discovered\nmcp_servers:\n  w: {url: \"" + url + "\", discover_tools: true}\n" +
			"mcp_direct:\n  mix:\n    - {tool: weather, arguments: " + args + "}\nload:\n  stages: [{rate: 10, duration: 1s}]\n"
		if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	bad := filepath.Join(dir, "bad")
	code, _, stderr := mcploadProcess(t, "run", scenario("{town: Paris}"), "--out", bad, "--progress", "off")
	if code != exitInvalid || !strings.Contains(stderr, "s.yaml:7:34: mcp_direct.mix[0].arguments: arguments do not match tool \"weather\"'s inputSchema") || !strings.Contains(stderr, "city") {
		t.Fatalf("bad arguments: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(bad, "summary.json")); !os.IsNotExist(err) {
		t.Fatalf("a refused run wrote its summary: %v", err)
	}
	good := filepath.Join(dir, "good")
	code, stdout, stderr := mcploadProcess(t, "run", scenario("{city: Paris}"), "--out", good, "--progress", "off")
	if code != exitPass {
		t.Fatalf("good arguments: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "Output schema tool:weather") {
		t.Errorf("the summary does not show the mismatches:\n%s", stdout)
	}
	b, err := os.ReadFile(filepath.Join(good, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s summary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.MCP == nil || len(s.MCP.OutputSchema) != 1 || s.MCP.OutputSchema[0].Key != "tool:weather" || s.MCP.OutputSchema[0].Mismatches == 0 ||
		!strings.Contains(s.MCP.OutputSchema[0].Example, "temp") {
		t.Fatalf("summary mcp: %+v", s.MCP)
	}
	if _, err := os.Stat(filepath.Join(good, "tools.json")); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(good, "report.md"))
	if err != nil || !strings.Contains(string(md), "| output schema | results that fail it | first mismatch |") || !strings.Contains(string(md), "| tool:weather | ") {
		t.Errorf("report.md does not show the mismatches (%v):\n%s", err, md)
	}
}

// TestInspectWithAuth inspects a server behind auth: refused without the
// bearer token and tenant header, listed with them; the snippet names the
// variables and never holds the token.
func TestInspectWithAuth(t *testing.T) {
	sc, err := scenarios.Load("mcp-direct")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mockprovider.New(sc, mockprovider.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	url, err := m.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	const token = "tok-inspect-0123456789"
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("X-Tenant") != "acme" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		r2, _ := http.NewRequestWithContext(r.Context(), r.Method, url+"/mcp/tools", r.Body)
		r2.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(r2)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(gate.Close)
	t.Setenv("INSPECT_TOKEN", token)
	t.Setenv("INSPECT_TENANT", "acme")

	var o, e bytes.Buffer
	if code := run([]string{"inspect", gate.URL}, &o, &e); code != exitRuntime || !strings.Contains(e.String(), "401") {
		t.Fatalf("without auth: exit %d: %s", code, e.String())
	}
	out, _ := inspectValidates(t, gate.URL, "--bearer-token-env", "INSPECT_TOKEN", "--header", "X-Tenant: ${INSPECT_TENANT}")
	for _, want := range []string{"bearer_token_env: INSPECT_TOKEN", "X-Tenant: ${INSPECT_TENANT}", "- name: get_weather"} {
		if !strings.Contains(out, want) {
			t.Errorf("snippet lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, token) {
		t.Errorf("the snippet holds the token:\n%s", out)
	}
	if code := run([]string{"inspect", gate.URL, "--header", "X-Tenant"}, &o, &e); code != exitInvalid {
		t.Errorf("a header without a value: exit %d", code)
	}
}
