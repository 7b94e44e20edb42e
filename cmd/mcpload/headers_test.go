package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// Secrets the header tests pass through the environment and look for in
// every output.
const (
	gatewaySecret = "gw-s3cret-0123456789abcdef"
	tenantSecret  = "tenant-s3cret-9876543210"
	mcpToken      = "mcp-t0ken-fedcba9876543210"
)

// headerScenario is a conversation whose script calls get_weather once,
// with the provider at base (a loopback URL, or "mock") and the tool's
// server at url. extra goes under the provider.
func headerScenario(base, url, providerExtra, serverExtra string) string {
	return `version: 1
name: headers
seed: 5
providers:
  p:
    base_url: "` + base + `"
    model: gpt-4.1-mini
` + providerExtra + `
mcp_servers:
  tools:
    url: "` + url + `"
` + serverExtra + `
tools:
  - name: get_weather
    inputSchema: {type: object}
conversation:
  provider: p
  turns:
    - user: weather?
      model:
        - tool_calls: [{name: get_weather, arguments: {}}]
        - content: done
load:
  stages: [{rate: 10, duration: 1s}]
client:
  timeout: 5s
`
}

// mockHandler is the built-in mock of sc (its provider and server on
// "mock"), to serve behind an httptest server that sees the headers.
func mockHandler(t *testing.T, yaml string) http.Handler {
	t.Helper()
	sc, err := scenarios.Parse("mock.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mockprovider.New(sc, mockprovider.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	return m.Handler()
}

// echoHeaders answers every tools/call with a JSON-RPC error that quotes
// the request's auth headers, as a careless server's debug output does.
func echoHeaders(w http.ResponseWriter, r *http.Request, id json.RawMessage) {
	w.Header().Set("Content-Type", "application/json")
	msg, _ := json.Marshal(fmt.Sprintf("denied: auth %q tenant %q", r.Header.Get("Authorization"), r.Header.Get("X-Tenant")))
	fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32603,"message":%s}}`, id, msg)
}

// TestHeadersReachTargetsAndStayOutOfOutputs runs the binary against a
// key-less provider on loopback (the mock's handler) and an MCP server
// behind a bearer token, both given headers from the environment: every
// request carries them, no key is sent, and no secret reaches the run
// folder, its file names, or the binary's output, though the server
// quotes them back in its errors.
func TestHeadersReachTargetsAndStayOutOfOutputs(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a process")
	}
	prov := &hostile.Catcher{Next: mockHandler(t, headerScenario("mock", "mock", "", ""))}
	psrv := httptest.NewServer(prov)
	defer psrv.Close()
	mcp := &hostile.Catcher{Next: hostile.MCPServer(echoHeaders)}
	msrv := httptest.NewServer(mcp)
	defer msrv.Close()

	dir := filepath.Join(t.TempDir(), "run")
	path := writeScenario(t, headerScenario(psrv.URL+"/providers/p/v1", msrv.URL+"/mcp",
		`    headers: {X-Gateway-Config: "cfg-${GW_SECRET}", X-Trace: "${TRACE:-on}"}`,
		`    bearer_token_env: MCP_TOKEN
    headers: {X-Tenant: "${TENANT}"}`))
	env := []string{"GW_SECRET=" + gatewaySecret, "TENANT=" + tenantSecret, "MCP_TOKEN=" + mcpToken}
	_, out1, err1 := mcploadProcessEnv(t, env, "run", path, "--out", dir, "--progress", "on")
	_, out2, err2 := mcploadProcessEnv(t, env, "report", dir)

	ph := prov.Headers()
	if len(ph) == 0 {
		t.Fatalf("the provider saw no request:\n%s\n%s", out1, err1)
	}
	for _, h := range ph {
		if h.Get("X-Gateway-Config") != "cfg-"+gatewaySecret || h.Get("X-Trace") != "on" || h.Get("Authorization") != "" {
			t.Fatalf("provider request headers %v: want the interpolated headers and no Authorization", h)
		}
	}
	methods := map[string]int{}
	for _, h := range mcp.Headers() {
		if h.Get("Authorization") != "Bearer "+mcpToken || h.Get("X-Tenant") != tenantSecret {
			t.Fatalf("MCP request headers %v: want the bearer token and X-Tenant", h)
		}
		methods[h.Get("Mcp-Session-Id")]++
	}
	if methods[""] == 0 || methods["hostile-session"] == 0 {
		t.Errorf("MCP requests by session %v: want the handshake and the session's requests", methods)
	}

	outputs := map[string]string{"run stdout": out1, "run stderr": err1, "report stdout": out2, "report stderr": err2}
	for _, secret := range []string{gatewaySecret, tenantSecret, mcpToken} {
		noSecretIn(t, secret, dir, outputs)
	}
	if leaks, _, _ := hostile.KeyInFiles(dir, "denied: auth"); len(leaks) == 0 {
		t.Errorf("the server's error, secrets redacted, is not in the run folder")
	}
	resolved, err := os.ReadFile(filepath.Join(dir, record.ScenarioFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"cfg-${GW_SECRET}", "${TENANT}", "bearer_token_env: MCP_TOKEN", "# variables: GW_SECRET, TENANT, TRACE"} {
		if !strings.Contains(string(resolved), w) {
			t.Errorf("scenario.yaml lacks %q:\n%s", w, resolved)
		}
	}
}

// TestHeaderVariableUnsetIsInvalid: a header's variable missing from the
// environment stops run and validate with exit 2 and its position.
func TestHeaderVariableUnsetIsInvalid(t *testing.T) {
	path := writeScenario(t, headerScenario("mock", "mock", `    headers: {X-Gateway-Config: "${MCPLOAD_TEST_UNSET_GW}"}`, ""))
	for _, args := range [][]string{{"validate", path}, {"run", path, "--out", filepath.Join(t.TempDir(), "run")}} {
		code, _, stderr := mcpload(t, args...)
		if code != exitInvalid || !strings.Contains(stderr, "scenario.yaml:8:33: providers.p.headers.X-Gateway-Config: variable MCPLOAD_TEST_UNSET_GW is not set") {
			t.Errorf("%v: exit %d, stderr:\n%s", args, code, stderr)
		}
	}
}

// TestSetFlag: --set overrides a field for run and validate, and a wrong
// path is exit 2 with a suggestion.
func TestSetFlag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, stderr := mcpload(t, "run", "quickstart", "--set", "load.stages[0].duration=1s", "--set", "load.stages[0].ramp=0s", "--set", "load.stages[0].rate=5",
		"--set", "seed=9", "--out", dir, "--progress", "off")
	if code != exitPass {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	s := readSummary(t, dir)
	if s.Seed != 9 || s.Rate.Target != 5 {
		t.Errorf("seed %d, target rate %v: want 9 and 5", s.Seed, s.Rate.Target)
	}
	code, _, stderr = mcpload(t, "validate", "quickstart", "--set", "load.stages[0].rat=5")
	if code != exitInvalid || !strings.Contains(stderr, `--set: load.stages[0].rat: unknown field "rat"; did you mean "rate"?`) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// noSecretIn fails t where secret (its first 8 characters or more) is in
// one of outputs, or in a file or file name of the run folder dir, and
// returns how many files it read.
func noSecretIn(t *testing.T, secret, dir string, outputs map[string]string) int {
	t.Helper()
	for name, s := range outputs {
		if l := hostile.KeyIn(s, secret); l != "" {
			t.Errorf("%s holds a secret: %q", name, l)
		}
	}
	leaks, files, err := hostile.KeyInFiles(dir, secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leaks {
		t.Errorf("a secret leaked: %s", l)
	}
	return files
}
