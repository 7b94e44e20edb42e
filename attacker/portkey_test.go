package attacker

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/internal/nodetest"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/scenarios"
)

// portkeyVersion is the @portkey-ai/gateway that make node installs.
const portkeyVersion = "1.15.2"

// portkeyAttempts is the retry attempts of the gateway's config: after
// the first call, up to this many more.
const portkeyAttempts = 2

// portkeyScenario: conversations through Portkey's gateway at gw, with
// its config in the X-Portkey-Config header (from $PORTKEY_CONFIG: the
// config holds the upstream's key), to the mock's provider up,
// whose faults answer 503 and 429 to some requests; the gateway retries
// those, and the client retries what still fails.
func portkeyScenario(gw string) []byte {
	return fmt.Appendf(nil, `version: 1
name: portkey
seed: 5
providers:
  gw:
    api: openai
    base_url: "%s/v1"
    model: gpt-4.1-mini
    api_key_env: PORTKEY_TEST_KEY
    headers: {X-Portkey-Config: "${PORTKEY_CONFIG}"}
  up: {api: openai, base_url: mock, model: gpt-4.1-mini}
mcp_servers:
  tools: {url: mock}
tools:
  - name: get_weather
    description: Weather of a city
    server: tools
    inputSchema: {type: object}
    mock: {latency: 1ms, result: sunny}
conversation:
  provider: gw
  max_steps: 2
  turns:
    - user: hi
      model: [{content: hello}]
load:
  stages: [{rate: 30, duration: 1s}]
faults:
  - {target: "provider:up", kind: http_error, status: 503, probability: 0.3, from: 0s}
  - {target: "provider:up", kind: rate_limit, probability: 0.1, from: 0s}
client:
  timeout: 30s
  retry: {max_attempts: 2, backoff: constant, initial: 1ms, on: [5xx, 429]}
`, gw)
}

// TestPortkeyGatewayReconciles runs Portkey's open-source gateway (npm
// @portkey-ai/gateway, installed by make node) on loopback in front of
// the mock, with retries on the mock's 429 and 5xx faults, and checks
// that the summary's gateway section accounts for every request the mock
// counted: the calls the gateway reported, plus its configured attempts
// for each answer whose retry count was -1 (retries ran out). It needs
// node; it skips without it, unless MCPLOAD_REQUIRE_NODE=1.
func TestPortkeyGatewayReconciles(t *testing.T) {
	node, dir := nodetest.Module(t, "..", "@portkey-ai/gateway", portkeyVersion)

	// The gateway, on a free loopback port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "build", "start-server.js"), fmt.Sprintf("--port=%d", port), "--headless")
	cmd.Dir = t.TempDir()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	gateway := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not listen within 30 s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The mock, whose provider up is the gateway's upstream: its address
	// is known before it starts, so that the scenario can name it.
	ms := httptest.NewUnstartedServer(nil)
	config := fmt.Sprintf(`{"provider":"openai","api_key":"sk-portkey-upstream","custom_host":"http://%s/providers/up/v1","retry":{"attempts":%d,"on_status_codes":[429,500,502,503,504]}}`,
		ms.Listener.Addr(), portkeyAttempts)
	sc, err := scenarios.Parse("portkey.yaml", portkeyScenario(gateway))
	if err != nil {
		t.Fatal(err)
	}
	mock, err := mockprovider.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	ms.Config.Handler = mock.Handler()
	ms.Start()
	t.Cleanup(ms.Close)

	run := filepath.Join(t.TempDir(), "run")
	if _, err := Run(ctx, sc, run, WithMockURL(ms.URL), WithInterval(100*time.Millisecond),
		WithGetenv(func(name string) string {
			if name == "PORTKEY_CONFIG" {
				return config
			}
			return "sk-portkey-test-key"
		})); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	s, err := report.Write(run)
	if err != nil {
		t.Fatal(err)
	}
	counted := mock.GatewayCounts()["up"].Requests
	if s.Gateway == nil || s.Gateway.ByProvider["gw"] == nil {
		t.Fatalf("no gateway section; the mock counted %d requests", counted)
	}
	g := s.Gateway.ByProvider["gw"]
	t.Logf("client attempts %d (steps %d), gateway retries %d, retries unknown %d, upstream calls %d; the mock counted %d",
		g.ClientAttempts, s.Attempts.Steps, g.Retries, g.RetriesUnknown, g.UpstreamCalls, counted)
	if g.Style != "portkey" || g.Unreported != 0 || g.ClientAttempts != s.Attempts.Total {
		t.Errorf("gateway %+v: want portkey's headers on all %d attempts", g, s.Attempts.Total)
	}
	if g.Retries == 0 {
		t.Error("the gateway reported no retry: the faults did not reach it")
	}
	if want := g.UpstreamCalls + g.RetriesUnknown*portkeyAttempts; want != counted {
		t.Errorf("the summary accounts for %d upstream calls (%d reported, %d answers × %d attempts after -1), the mock counted %d",
			want, g.UpstreamCalls, g.RetriesUnknown, portkeyAttempts, counted)
	}
	for _, a := range readAttempts(t, run) {
		if a.Kind == record.StepModel && a.Status == http.StatusOK && !strings.HasPrefix(a.RequestID, "req_") {
			t.Errorf("attempt %+v: the mock's x-request-id did not come through the gateway", a)
		}
	}
}
