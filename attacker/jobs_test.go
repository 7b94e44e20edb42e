package attacker

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// jobsSink is a Sink that keeps everything it is given.
type jobsSink struct {
	fixture.Sink
	mu      sync.Mutex
	steps   []StepRecord
	invalid int
}

// eventsSnapshot returns the events so far.
func (s *jobsSink) eventsSnapshot() []record.Event { return s.Events() }

func (s *jobsSink) Step(st StepRecord) {
	s.mu.Lock()
	s.steps = append(s.steps, st)
	s.mu.Unlock()
}

func (s *jobsSink) InvalidToolArgs() {
	s.mu.Lock()
	s.invalid++
	s.mu.Unlock()
}

func (s *jobsSink) snapshot() ([]record.Attempt, []StepRecord, int) {
	attempts := s.Attempts()
	s.mu.Lock()
	defer s.mu.Unlock()
	return attempts, append([]StepRecord(nil), s.steps...), s.invalid
}

// countAttempts returns how many attempts have kind and key.
func (s *jobsSink) countAttempts(kind, key string) int { return s.CountAttempts(kind, key) }

// jobsConversationScenario is a quickstart-like scenario served by the
// mock: one user turn, three tools called in parallel, a final answer.
func jobsConversationScenario() *scenarios.Scenario { return fixture.Conversation() }

// jobsStartMock starts the mock of sc on loopback and returns its base URL.
func jobsStartMock(t testing.TB, sc *scenarios.Scenario, opts ...mockprovider.Option) string {
	t.Helper()
	m, err := mockprovider.New(sc, opts...)
	if err != nil {
		t.Fatalf("mockprovider.New: %v", err)
	}
	base, err := m.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("mock Start: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return base
}

// jobsHTTPClient is a keep-alive client like the scheduler's.
func jobsHTTPClient(t testing.TB) *http.Client { return fixture.HTTPClient(t) }

func jobsNewJob(t testing.TB, sc *scenarios.Scenario, cfg jobConfig) Job {
	t.Helper()
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = jobsHTTPClient(t)
	}
	if cfg.Slots == 0 {
		cfg.Slots = 4
	}
	j, err := newJob(sc, cfg)
	if err != nil {
		t.Fatalf("newJob: %v", err)
	}
	return j
}

// TestJobsEmbeddedScenarios runs the embedded scenarios' jobs, loaded and
// defaulted as `mcpload run` loads them, against the mock.
func TestJobsEmbeddedScenarios(t *testing.T) {
	for _, name := range []string{"quickstart", "quickstart-stream", "mcp-direct", "mcp-lanes"} {
		t.Run(name, func(t *testing.T) {
			sc, err := scenarios.Load(name)
			if err != nil {
				t.Fatalf("embedded scenario %s: %v", name, err)
			}
			base := jobsStartMock(t, sc)
			j := jobsNewJob(t, sc, jobConfig{MockURL: base, Slots: 2, Self: selfMock(t)})
			sink := &jobsSink{}
			var wg sync.WaitGroup
			for slot := range 2 {
				wg.Go(func() {
					for i := range 3 {
						seq := uint64(slot*3 + i)
						if res := j.Do(t.Context(), seq, slot, sink); res.Outcome != record.OutcomeOK {
							t.Errorf("seq %d: %+v", seq, res)
						}
					}
				})
			}
			wg.Wait()
			attempts, steps, invalid := sink.snapshot()
			if len(steps) == 0 || len(attempts) < len(steps) || invalid != 0 {
				t.Fatalf("%d steps, %d attempts, %d invalid", len(steps), len(attempts), invalid)
			}
			keys := map[string]bool{}
			for _, a := range attempts {
				if a.Outcome != record.OutcomeOK {
					t.Fatalf("attempt %+v", a)
				}
				keys[a.Key] = true
			}
			if name == "mcp-lanes" {
				// Every lane ran: the mix draws each tool in 6 ops.
				for _, k := range []string{"tool:search_per_vu", "tool:search_churn", "tool:search_stateless", "tool:search_stdio", "mcp:stdio/spawn"} {
					if !keys[k] {
						t.Errorf("no %s attempt: %v", k, keys)
					}
				}
			}
			if c, ok := j.(jobCloser); ok {
				c.Close(t.Context())
			}
		})
	}
}

func jobsEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestNewJobWrapsKeyErrorWithProvider(t *testing.T) {
	sc := jobsConversationScenario()
	sc.Providers["primary"] = &scenarios.Provider{API: "openai", BaseURL: "http://127.0.0.1:1/v1", Model: "m", APIKeyEnv: "OPENAI_API_KEY", CredentialsFile: "/nonexistent/mcpload/credentials"}
	_, err := newJob(sc, jobConfig{MockURL: "http://127.0.0.1:1", Getenv: jobsEnv(nil), Slots: 1})
	want := `provider "primary": no API key: $OPENAI_API_KEY is not set, and credentials file /nonexistent/mcpload/credentials does not exist`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

func TestCheckTarget(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/v1", "http://127.3.4.5/mcp", "http://[::1]:9/x", "http://localhost:1234", "https://LOCALHOST/v1"} {
		if err := httpx.CheckTarget(u, false); err != nil {
			t.Errorf("httpx.CheckTarget(%q) = %v, want nil", u, err)
		}
	}
	for _, u := range []string{"https://api.openai.com/v1", "http://10.0.0.1/v1", "http://localhost.evil.com/v1", "http://[::2]/"} {
		err := httpx.CheckTarget(u, false)
		if err == nil || !strings.Contains(err.Error(), "--allow-remote") || !strings.Contains(err.Error(), "real money") {
			t.Errorf("httpx.CheckTarget(%q) = %v, want a refusal naming --allow-remote", u, err)
		}
		if err := httpx.CheckTarget(u, true); err != nil {
			t.Errorf("httpx.CheckTarget(%q, allowRemote) = %v", u, err)
		}
	}
	if err := httpx.CheckTarget("ftp://127.0.0.1/", true); err == nil {
		t.Error("ftp scheme accepted")
	}
}

func TestNewJobRefusesRemoteTargets(t *testing.T) {
	sc := jobsConversationScenario()
	sc.Providers["primary"] = &scenarios.Provider{API: "openai", BaseURL: "https://api.openai.com/v1", Model: "gpt-4.1-mini", APIKeyEnv: "K"}
	env := jobsEnv(map[string]string{"K": "sk-test"})
	_, err := newJob(sc, jobConfig{MockURL: "http://127.0.0.1:1", Getenv: env, Slots: 1})
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("remote provider: err = %v", err)
	}
	if _, err := newJob(sc, jobConfig{MockURL: "http://127.0.0.1:1", Getenv: env, Slots: 1, AllowRemote: true}); err != nil {
		t.Fatalf("with AllowRemote: %v", err)
	}

	sc = jobsConversationScenario()
	sc.MCPServers["tools"] = &scenarios.MCPServer{URL: "https://mcp.example.com/mcp"}
	_, err = newJob(sc, jobConfig{MockURL: "http://127.0.0.1:1", Slots: 1})
	if err == nil || !strings.Contains(err.Error(), `mcp server "tools"`) || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("remote MCP server: err = %v", err)
	}
}
