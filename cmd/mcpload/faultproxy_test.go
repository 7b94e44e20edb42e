package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/summary"
)

// A rate_limit fault on a provider at a real URL used to validate, run
// all-ok and list its window in summary.json. Now it is refused, with its
// place in the file; and through the fault proxy (base_url: mock with the
// upstream) it shows in the results, while what it lets through reaches
// the real provider with the key.
func TestRunThroughFaultProxy(t *testing.T) {
	var reached, keyed atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if r.Header.Get("Authorization") == "Bearer "+hostileKey {
			keyed.Add(1)
		}
		(&hostile.Usage{Prompt: "10", Completion: "2"}).ServeHTTP(w, r)
	}))
	defer up.Close()
	t.Setenv(hostile.KeyEnv, hostileKey)
	faults := "faults:\n  - {target: provider:primary, kind: rate_limit, from: 1s, retry_after: 5s}\n"

	direct := writeScenario(t, hostile.Scenario(up.URL+"/v1", "10", "2s", faults))
	code, _, stderr := mcpload(t, "run", direct, "--out", filepath.Join(t.TempDir(), "direct"), "--progress", "off")
	if code != exitInvalid || !strings.Contains(stderr, ":21:14: faults[0].target: provider \"primary\" is at "+up.URL+"/v1, which mcpload neither mocks nor proxies") {
		t.Fatalf("a fault on a real URL: exit %d, stderr:\n%s\nwant exit 2 naming the fault's place", code, stderr)
	}
	if reached.Load() != 0 {
		t.Fatalf("the refused run sent %d requests", reached.Load())
	}

	dir := filepath.Join(t.TempDir(), "proxied")
	proxied := writeScenario(t, hostile.Scenario("mock, upstream: "+up.URL+"/v1", "10", "2s", faults))
	mcpload(t, "run", proxied, "--out", dir, "--progress", "off")
	s := readSummary(t, dir)
	c := s.Conversations
	if c.OK == 0 || c.ByOutcome[record.Outcome429] == 0 {
		t.Fatalf("conversations %+v: want ok ones before the window and 429s in it", c)
	}
	if n := reached.Load(); n == 0 || keyed.Load() != n {
		t.Errorf("upstream reached %d times, %d with the key; want every request keyed", n, keyed.Load())
	}
	want := []summary.Proxied{{Target: "provider:primary", Upstream: up.URL + "/v1"}}
	if len(s.Proxied) != 1 || s.Proxied[0] != want[0] {
		t.Errorf("summary proxied %+v, want %+v", s.Proxied, want)
	}
}

func TestMockUpstreamRefusesRemote(t *testing.T) {
	code, _, stderr := mcpload(t, "mock", "--upstream", "http://example.com", "--listen", "127.0.0.1:0")
	if code != exitInvalid || !strings.Contains(stderr, "--upstream: target http://example.com is not on loopback") {
		t.Fatalf("exit %d, stderr %s; want 2, refusing the remote upstream", code, stderr)
	}
}

// `mcpload mock --upstream` as a process in front of an upstream: the
// faults answer in the shape of the dialect the path names, and what no
// fault touches reaches the upstream, headers and all.
func TestMockUpstreamProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	var auth atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		io.WriteString(w, "upstream:"+r.URL.Path)
	}))
	defer up.Close()
	path := writeScenario(t, `version: 1
name: proxy
providers:
  primary: {base_url: mock, model: gpt-4.1-mini}
mcp_servers:
  tools: {url: mock}
tools:
  - {name: get_weather, inputSchema: {type: object}}
conversation:
  provider: primary
  turns: [{user: hi, model: [{content: hello}]}]
load:
  stages: [{rate: 1, duration: 1s}]
faults:
  - {target: provider:primary, kind: rate_limit, retry_after: 7s}
`)
	cmd := exec.Command(os.Args[0], "mock", "--listen", "127.0.0.1:0", "--scenario", path, "--upstream", up.URL)
	cmd.Env = append(os.Environ(), "MCPLOAD_TEST_MAIN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	_, base, found := strings.Cut(strings.TrimSpace(line), " at ")
	if err != nil || !found {
		t.Fatalf("first line %q (%v), want the address", line, err)
	}
	go io.Copy(io.Discard, out)

	c := &http.Client{Timeout: 10 * time.Second}
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer upstream-key")
		req.Header.Set("anthropic-version", "2023-06-01")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("POST", "/v1/chat/completions", `{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}]}`); code != 429 || !strings.Contains(body, `"code":"rate_limit_exceeded"`) {
		t.Errorf("chat: %d %s, want OpenAI's 429", code, body)
	}
	if code, body := do("POST", "/v1/messages", `{"model":"gpt-4.1-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`); code != 429 || !strings.Contains(body, `"type":"rate_limit_error"`) {
		t.Errorf("messages: %d %s, want Anthropic's 429", code, body)
	}
	if code, body := do("GET", "/v1/models", ""); code != 200 || body != "upstream:/v1/models" || auth.Load() != "Bearer upstream-key" {
		t.Errorf("models: %d %q, auth %v; want the upstream's answer, with the key passed on", code, body, auth.Load())
	}
}
