package attacker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// weatherServer is the go-sdk's Streamable HTTP server, one tool a page:
// weather, whose outputSchema wants a numeric temp and whose answer
// echoes arguments.temp, and two plain tools.
func weatherServer(t *testing.T, stateless bool) string {
	s := sdk.NewServer(&sdk.Implementation{Name: "weather", Version: "1"}, &sdk.ServerOptions{PageSize: 1})
	s.AddTool(&sdk.Tool{
		Name: "weather", Title: "Weather",
		InputSchema:  map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []any{"city"}},
		OutputSchema: map[string]any{"type": "object", "properties": map[string]any{"temp": map[string]any{"type": "number"}}, "required": []any{"temp"}},
		Annotations:  &sdk.ToolAnnotations{ReadOnlyHint: true},
	}, func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		var in map[string]any
		_ = json.Unmarshal(req.Params.Arguments, &in)
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "ok"}}, StructuredContent: map[string]any{"temp": in["temp"]}}, nil
	})
	// admin.ping is a valid MCP name that no model API takes: it is left
	// out of the scenario's tools.
	for _, name := range []string{"alpha", "beta", "admin.ping"} {
		s.AddTool(&sdk.Tool{Name: name, InputSchema: map[string]any{"type": "object"}}, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: name}}}, nil
		})
	}
	ts := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, &sdk.StreamableHTTPOptions{Stateless: stateless, JSONResponse: true}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// discoverScenario writes an MCP-direct scenario on server (a YAML
// mapping's body) whose mix is mix, and loads it.
func discoverScenario(t *testing.T, server, mix string) *scenarios.Scenario {
	t.Helper()
	path := filepath.Join(t.TempDir(), "discover.yaml")
	y := "version: 1\nname: discover\nseed: 1\nmcp_servers:\n  s:\n" + server +
		"    discover_tools: true\nmcp_direct:\n  server: s\n  mix:\n" + mix +
		"load:\n  stages: [{rate: 20, duration: 500ms}]\n"
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	return sc
}

// attemptsOf reads the run's attempts.
func attemptsOf(t *testing.T, dir string) []record.Attempt {
	t.Helper()
	var out []record.Attempt
	if _, err := record.EachLine(dir, record.AttemptsFile, func(line []byte) {
		var a record.Attempt
		if err := json.Unmarshal(line, &a); err != nil {
			t.Fatalf("attempt line %s: %v", line, err)
		}
		out = append(out, a)
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDiscoverToolsRun runs a mix on tools that only the go-sdk's server
// declares, in both lanes: they are listed over four pages (one left out
// for its name), written to
// tools.json and the resolved scenario, called by name, and each call's
// structuredContent that fails the listed outputSchema is marked.
func TestDiscoverToolsRun(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stateless bool
		protocol  string
	}{{"sessions", false, "2025-11-25"}, {"stateless", true, "auto"}} {
		t.Run(tc.name, func(t *testing.T) {
			url := weatherServer(t, tc.stateless)
			sc := discoverScenario(t, "    url: "+url+"\n    protocol: "+tc.protocol+"\n",
				"    - {tool: weather, arguments: {city: Paris, temp: hot}}\n    - {tool: alpha}\n")
			dir := t.TempDir()
			if _, err := Run(context.Background(), sc, dir); err != nil {
				t.Fatal(err)
			}
			var found Discovered
			b, err := os.ReadFile(filepath.Join(dir, ToolsFile))
			if err != nil || json.Unmarshal(b, &found) != nil {
				t.Fatalf("tools.json: %v: %s", err, b)
			}
			if len(found.Servers) != 1 || found.Servers[0].Pages != 4 || len(found.Servers[0].Tools) != 4 ||
				len(found.Servers[0].Refused) != 1 || !strings.HasPrefix(found.Servers[0].Refused[0], "admin.ping: ") {
				t.Fatalf("tools.json: %s", b)
			}
			resolved, err := scenarios.Load(filepath.Join(dir, record.ScenarioFile))
			if err != nil {
				t.Fatalf("the resolved scenario does not load: %v", err)
			}
			var w *scenarios.Tool
			for _, tl := range resolved.Tools {
				if tl.Name == "weather" {
					w = tl
				}
			}
			if len(resolved.Tools) != 3 || w == nil || w.Title != "Weather" || w.OutputSchema == nil || w.Server != "s" || w.Annotations == nil {
				t.Fatalf("resolved tools: %d, weather %+v", len(resolved.Tools), w)
			}
			var weather, alpha, marked int
			for _, a := range attemptsOf(t, dir) {
				switch a.Key {
				case record.ToolKey("weather"):
					weather++
					if a.Outcome != record.OutcomeOK {
						t.Errorf("weather: %s %s", a.Outcome, a.Error)
					}
					if strings.Contains(a.OutputSchemaError, "temp") {
						marked++
					}
				case record.ToolKey("alpha"):
					alpha++
					if a.Outcome != record.OutcomeOK || a.OutputSchemaError != "" {
						t.Errorf("alpha: %s %s %q", a.Outcome, a.Error, a.OutputSchemaError)
					}
				}
			}
			if weather == 0 || alpha == 0 || marked != weather {
				t.Fatalf("weather %d calls (%d marked), alpha %d", weather, marked, alpha)
			}
		})
	}
}

// TestDiscoverToolsBadArguments: scripted arguments that fail the listed
// inputSchema stop the run before any load, naming the mix entry's line,
// column and the schema's complaint; an unknown tool likewise.
func TestDiscoverToolsBadArguments(t *testing.T) {
	url := weatherServer(t, false)
	sc := discoverScenario(t, "    url: "+url+"\n", "    - {tool: alpha}\n    - tool: weather\n      arguments: {temp: 3}\n    - {tool: gamma}\n")
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Run(context.Background(), sc, dir)
	var cfg *ConfigError
	var errs scenarios.Errors
	if !errors.As(err, &cfg) || !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("got %v, want a ConfigError with two scenario errors", err)
	}
	msg := err.Error()
	for _, want := range []string{":13:18: mcp_direct.mix[1].arguments: arguments do not match tool \"weather\"'s inputSchema", "city",
		":14:14: mcp_direct.mix[2].tool: tool \"gamma\" is not defined in tools (defined: alpha, beta, weather)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, record.AttemptsFile)); !os.IsNotExist(err) {
		t.Fatalf("attempts written before a refused run: %v", err)
	}
}

// TestDiscoverToolsServerDown: a server that cannot be listed is a runtime
// error naming it, not a scenario error, and nothing runs.
func TestDiscoverToolsServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/mcp"
	ln.Close()
	sc := discoverScenario(t, "    url: "+url+"\n", "    - {tool: alpha}\n")
	_, err = Run(context.Background(), sc, t.TempDir())
	var cfg *ConfigError
	if err == nil || errors.As(err, &cfg) || !strings.Contains(err.Error(), `discover_tools: mcp server "s": handshake`) {
		t.Fatalf("got %v, want a discovery error", err)
	}
}

// everythingBin finds @modelcontextprotocol/server-everything as `make
// node` installs it, or skips (fails under MCPLOAD_REQUIRE_NODE=1).
func everythingBin(t *testing.T) string {
	bin, _ := filepath.Abs(filepath.Join("..", ".cache", "node", "node_modules", ".bin", "mcp-server-everything"))
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("MCPLOAD_REQUIRE_NODE") == "1" {
			t.Fatalf("MCPLOAD_REQUIRE_NODE=1 but %s is missing (make node installs it): %v", bin, err)
		}
		t.Skipf("no %s (make node installs it)", bin)
	}
	return bin
}

// startEverythingHTTP runs server-everything's Streamable HTTP transport
// on a free loopback port and waits until it answers.
func startEverythingHTTP(t *testing.T, bin string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "streamableHttp")
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/mcp"
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return url
		}
	}
	t.Fatalf("server-everything did not listen on %d", port)
	return ""
}

// TestDiscoverToolsEverything discovers the MCP reference server's tools
// over stdio and over Streamable HTTP, and calls two by name: echo, and
// get-structured-content, whose structuredContent matches its listed
// outputSchema. Arguments outside its enum are refused before the run.
func TestDiscoverToolsEverything(t *testing.T) {
	bin := everythingBin(t)
	for _, tc := range []struct{ name, server string }{
		{"stdio", "    command: [" + bin + ", stdio]\n"},
		{"streamable", "    url: " + startEverythingHTTP(t, bin) + "\n    protocol: auto\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := discoverScenario(t, tc.server,
				"    - {tool: echo, arguments: {message: hi}}\n    - {tool: get-structured-content, arguments: {location: Chicago}}\n")
			sc.Load.Stages[0].Rate = 10
			dir := t.TempDir()
			if _, err := Run(context.Background(), sc, dir); err != nil {
				t.Fatal(err)
			}
			calls := map[string]int{}
			for _, a := range attemptsOf(t, dir) {
				if a.Kind != record.StepTool {
					continue
				}
				calls[a.Key]++
				if a.Outcome != record.OutcomeOK || a.OutputSchemaError != "" {
					t.Errorf("%s: %s %s %q", a.Key, a.Outcome, a.Error, a.OutputSchemaError)
				}
			}
			if calls["tool:echo"] == 0 || calls["tool:get-structured-content"] == 0 {
				t.Fatalf("calls %v", calls)
			}
			var st *scenarios.Tool
			for _, tl := range sc.Tools {
				if tl.Name == "get-structured-content" {
					st = tl
				}
			}
			if st == nil || st.OutputSchema == nil || st.Annotations == nil || st.Annotations.IdempotentHint == nil || st.Title == "" {
				t.Fatalf("get-structured-content discovered as %+v", st)
			}
			var found Discovered
			if b, err := os.ReadFile(filepath.Join(dir, ToolsFile)); err != nil || json.Unmarshal(b, &found) != nil ||
				len(found.Servers) != 1 || found.Servers[0].Protocol == "" || len(found.Servers[0].Tools) != len(sc.Tools) {
				t.Fatalf("tools.json: %v %+v", err, found)
			}
			t.Logf("%s: %d tools discovered over %s, calls %v", tc.name, len(sc.Tools), found.Servers[0].Protocol, calls)

			bad := discoverScenario(t, tc.server, "    - {tool: get-structured-content, arguments: {location: Paris}}\n")
			_, err := Run(context.Background(), bad, t.TempDir())
			var cfg *ConfigError
			if !errors.As(err, &cfg) || !strings.Contains(err.Error(), "mcp_direct.mix[0].arguments") {
				t.Fatalf("arguments outside the enum: %v", err)
			}
		})
	}
}

// TestDiscoverToolsConversation: in a conversation, the model is offered
// the discovered tools (and a declared one, merged), and the call the
// script makes by a discovered name runs on the server that listed it.
func TestDiscoverToolsConversation(t *testing.T) {
	url := weatherServer(t, false)
	path := filepath.Join(t.TempDir(), "conv.yaml")
	y := `version: 1
name: conv
seed: 1
providers:
  m: {base_url: mock, model: mock-1}
mcp_servers:
  w: {url: "` + url + `", discover_tools: true}
tools:
  - {name: alpha, server: w, description: declared}
conversation:
  provider: m
  turns:
    - user: weather?
      model:
        - tool_calls: [{name: weather, arguments: {city: Paris, temp: 3}}]
        - content: mild
load:
  stages: [{rate: 10, duration: 300ms}]
`
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	base := jobsStartMock(t, sc)
	var offered []string
	var mu sync.Mutex
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Tools []struct {
				Function struct {
					Name        string `json:"name"`
					Description string `json:"description"`
				} `json:"function"`
			} `json:"tools"`
		}
		if json.Unmarshal(body, &req) == nil && len(req.Tools) > 0 {
			mu.Lock()
			offered = offered[:0]
			for _, tl := range req.Tools {
				offered = append(offered, tl.Function.Name+"="+tl.Function.Description)
			}
			mu.Unlock()
		}
		out, err := http.Post(base+r.URL.Path, r.Header.Get("Content-Type"), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer out.Body.Close()
		w.Header().Set("Content-Type", out.Header.Get("Content-Type"))
		w.WriteHeader(out.StatusCode)
		_, _ = io.Copy(w, out.Body)
	}))
	t.Cleanup(proxy.Close)
	dir := t.TempDir()
	if _, err := Run(context.Background(), sc, dir, WithMockURL(proxy.URL)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := strings.Join(offered, ",")
	mu.Unlock()
	if got != "alpha=declared,beta=,weather=" {
		t.Fatalf("the model was offered %q, want the declared alpha and the listed beta and weather", got)
	}
	weather := 0
	for _, a := range attemptsOf(t, dir) {
		if a.Key == record.ToolKey("weather") {
			weather++
			if a.Outcome != record.OutcomeOK || a.OutputSchemaError != "" {
				t.Errorf("weather: %s %s %q", a.Outcome, a.Error, a.OutputSchemaError)
			}
		}
	}
	if weather == 0 {
		t.Fatal("no weather calls")
	}
}

// TestDiscoverToolsRedacted: a server's answer that echoes a key the run
// holds is redacted in the discovery error.
func TestDiscoverToolsRedacted(t *testing.T) {
	const key = "sk-discover-0123456789abcdef"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("bad token " + key))
	}))
	t.Cleanup(ts.Close)
	path := filepath.Join(t.TempDir(), "s.yaml")
	y := `version: 1
name: redacted
providers:
  p: {base_url: "http://127.0.0.1:9/v1", model: m, api_key_env: DISCOVER_KEY}
mcp_servers:
  s: {url: "` + ts.URL + `", discover_tools: true}
conversation:
  provider: p
  turns: [{user: hi, model: [{content: hello}]}]
load:
  stages: [{rate: 1, duration: 1s}]
`
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "DISCOVER_KEY" {
			return key
		}
		return ""
	}
	_, err = Run(context.Background(), sc, t.TempDir(), WithGetenv(getenv))
	if err == nil || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("got %v, want a 401 without the key", err)
	}

	// A tool that describes itself with the key: neither tools.json nor
	// the resolved scenario holds it.
	srv := sdk.NewServer(&sdk.Implementation{Name: "leaky", Version: "1"}, nil)
	srv.AddTool(&sdk.Tool{Name: "leak", Description: "uses " + key, InputSchema: map[string]any{"type": "object", "description": key}},
		func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return &sdk.CallToolResult{}, nil
		})
	leaky := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, nil))
	t.Cleanup(leaky.Close)
	sc.MCPServers["s"].URL = leaky.URL
	dir := t.TempDir()
	d, err := discoverTools(context.Background(), sc, jobConfig{HTTPClient: http.DefaultClient, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.write(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := writeScenario(sc, filepath.Join(dir, record.ScenarioFile)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ToolsFile, record.ScenarioFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !strings.Contains(string(b), "leak") || strings.Contains(string(b), key[:12]) {
			t.Errorf("%s (%v) holds the key or no tool:\n%s", f, err, b)
		}
	}
}

// rawToolsServer answers initialize, and tools/list with tools (a JSON
// array), as a hand-written server would.
func rawToolsServer(t *testing.T, tools string) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		switch req.Method {
		case "initialize":
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"raw","version":"1"}}}`))
		case "tools/list":
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":{"tools":` + tools + `}}`))
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestDiscoverToolsResolvedLoads: a declared tool that takes a listed
// inputSchema that does not compile is refused before the run, though no
// call names it, since the resolved scenario would not load.
func TestDiscoverToolsResolvedLoads(t *testing.T) {
	url := rawToolsServer(t, `[{"name":"ok","inputSchema":{"type":"object"}},{"name":"broken","inputSchema":{"type":"object","properties":5}}]`)
	path := filepath.Join(t.TempDir(), "s.yaml")
	y := "version: 1\nname: raw\nmcp_servers:\n  s: {url: \"" + url + "\", discover_tools: true}\ntools:\n  - {name: broken, server: s}\n" +
		"mcp_direct:\n  mix: [{tool: ok}]\nload:\n  stages: [{rate: 1, duration: 1s}]\n"
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = discoverTools(context.Background(), sc, jobConfig{HTTPClient: http.DefaultClient})
	var cfg *ConfigError
	if !errors.As(err, &cfg) || !strings.Contains(err.Error(), "the resolved scenario does not load") || !strings.Contains(err.Error(), "tools[0].inputSchema: not a valid JSON Schema") {
		t.Fatalf("got %v", err)
	}
}
