package attacker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// hostileKey is the API key the hostile targets are sent and try to leak.
const hostileKey = "sk-h0st1le-9f8e7d6c5b4a3210zyxwvu"

// hostileScenario is hostile.Scenario against base at 20 conversations
// a second for d, with client appended to its client section.
func hostileScenario(t *testing.T, base string, d time.Duration, client string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("hostile.yaml", []byte(hostile.Scenario(base, "20", d.String(), client)))
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	return sc
}

// runHostile runs sc with the hostile key and returns the run and its folder.
func runHostile(t *testing.T, sc *scenarios.Scenario, opts ...Option) (*record.Run, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	opts = append([]Option{
		WithGetenv(func(string) string { return hostileKey }),
		WithInterval(100 * time.Millisecond),
	}, opts...)
	run, err := Run(context.Background(), sc, dir, opts...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return run, dir
}

// assertNoKey fails when any file of dir, or any file name, holds the start
// of key.
func assertNoKey(t *testing.T, dir, key string) {
	t.Helper()
	leaks, files, err := hostile.KeyInFiles(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leaks {
		t.Errorf("the key leaked: %s", l)
	}
	if files < 5 {
		t.Fatalf("only %d files in %s", files, dir)
	}
}

// redirectTo starts a server that catches what it gets, and one that
// redirects everything to it with code.
func redirectTo(t *testing.T, code int) (*hostile.Catcher, *httptest.Server) {
	target := &hostile.Catcher{Next: answerOK()}
	dst := httptest.NewServer(target)
	t.Cleanup(dst.Close)
	src := httptest.NewServer(hostile.Redirect(code, dst.URL))
	t.Cleanup(src.Close)
	return target, src
}

// TestKeyNamedToolLeaksNothing: a model names its tool call after the key
// (and puts it in the arguments and the call id). The step's histogram
// tag, the error texts and every file of the run must hold no part of it.
func TestKeyNamedToolLeaksNothing(t *testing.T) {
	srv := httptest.NewServer(hostile.KeyTool(hostileKey))
	defer srv.Close()
	run, dir := runHostile(t, hostileScenario(t, srv.URL+"/v1", time.Second, ""))
	if run.Conversations.Started == 0 || run.Conversations.ByOutcome[record.OutcomeToolError] != run.Conversations.Started {
		t.Fatalf("conversations %+v: want every one failed by the key-named tool", run.Conversations)
	}
	assertNoKey(t, dir, hostileKey)
}

// TestKeyAtTheCutLeaksNothing: an error message puts the key across the
// point where error text is cut. Text is redacted before it is cut, so no
// prefix of the key survives: not at the old 200-byte cut, not at the cut
// that bounds what is read before redaction.
func TestKeyAtTheCutLeaksNothing(t *testing.T) {
	for _, at := range []int{181, httpx.MaxErrorDetail - 19, httpx.MaxErrorDetail - 5} {
		srv := httptest.NewServer(hostile.KeyAtCut(hostileKey, at))
		run, dir := runHostile(t, hostileScenario(t, srv.URL+"/v1", 500*time.Millisecond, ""))
		srv.Close()
		if run.Attempts.ByOutcome[record.Outcome5xx] == 0 {
			t.Fatalf("at %d: attempts %+v, want 5xx", at, run.Attempts)
		}
		assertNoKey(t, dir, hostileKey)
	}
}

// answerOK is a provider that answers every request with a final answer.
func answerOK() http.Handler { return &hostile.Usage{Prompt: "10", Completion: "2"} }

// TestRedirectIsNotFollowedByDefault: a provider answers 307 to another
// server. Without client.follow_redirects the 3xx is the attempt's
// outcome, and nothing, least of all the key, reaches the other server.
func TestRedirectIsNotFollowedByDefault(t *testing.T) {
	target, src := redirectTo(t, http.StatusTemporaryRedirect)

	run, dir := runHostile(t, hostileScenario(t, src.URL+"/v1", 500*time.Millisecond, ""))
	if n := len(target.Headers()); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
	c := run.Conversations
	if c.Started == 0 || c.ByOutcome[record.OutcomeRedirect] != c.Started || run.Attempts.ByOutcome[record.OutcomeRedirect] != c.Started {
		t.Fatalf("conversations %+v, attempts %+v: want every one ended by a redirect", c, run.Attempts)
	}
	for _, a := range readAttempts(t, dir) {
		if a.Status != http.StatusTemporaryRedirect || !strings.Contains(a.Error, "client.follow_redirects is 0") {
			t.Fatalf("attempt %+v", a)
		}
	}
}

// TestRedirectFollowedHopByHop: with client.follow_redirects, each hop is
// an attempt; a hop to another host (here another port) goes without the
// key, one on the same host keeps it; a hop off loopback is refused.
func TestRedirectFollowedHopByHop(t *testing.T) {
	target, src := redirectTo(t, http.StatusPermanentRedirect)

	run, dir := runHostile(t, hostileScenario(t, src.URL+"/v1", 500*time.Millisecond, "  follow_redirects: 1\n"))
	c := run.Conversations
	if c.Started == 0 || c.OK != c.Started {
		t.Fatalf("conversations %+v, want all ok through the redirect", c)
	}
	if a := run.Attempts; a.Total != 2*c.Started || a.ByOutcome[record.OutcomeRedirect] != c.Started {
		t.Fatalf("attempts %+v: want a redirect and an answer per conversation", a)
	}
	hdrs := target.Headers()
	if len(hdrs) == 0 {
		t.Fatal("the target got nothing")
	}
	for _, h := range hdrs {
		if h.Get("Authorization") != "" {
			t.Fatalf("the key went to another host: %v", h)
		}
	}
	lines := readAttempts(t, dir)
	if lines[0].Outcome != record.OutcomeRedirect || lines[0].Attempt != 1 {
		t.Fatalf("first line %+v", lines[0])
	}

	// The same host: the key goes on.
	same := &hostile.Catcher{Next: answerOK()}
	mux := http.NewServeMux()
	mux.Handle("/moved/", same)
	one := httptest.NewServer(mux)
	defer one.Close()
	mux.Handle("/v1/", hostile.Redirect(http.StatusTemporaryRedirect, one.URL+"/moved"))
	run, _ = runHostile(t, hostileScenario(t, one.URL+"/v1", 300*time.Millisecond, "  follow_redirects: 1\n"))
	if run.Conversations.OK == 0 || len(same.Headers()) == 0 || same.Headers()[0].Get("Authorization") != "Bearer "+hostileKey {
		t.Fatalf("same-host redirect: %+v, headers %v", run.Conversations, same.Headers())
	}

	// Off loopback: refused before anything is sent.
	far := httptest.NewServer(hostile.Redirect(http.StatusTemporaryRedirect, "http://192.0.2.1"))
	defer far.Close()
	run, dir = runHostile(t, hostileScenario(t, far.URL+"/v1", 300*time.Millisecond, "  follow_redirects: 3\n"))
	if run.Attempts.ByOutcome[record.OutcomeRedirect] != run.Attempts.Total || run.Attempts.Total != run.Conversations.Started {
		t.Fatalf("attempts %+v", run.Attempts)
	}
	if a := readAttempts(t, dir)[0]; !strings.Contains(a.Error, "--allow-remote") {
		t.Fatalf("attempt %+v: want the refusal to name --allow-remote", a)
	}
}

// TestImplausibleUsageIsBadUsage: a provider reports token counts that
// cannot be true, in each dialect, as a JSON answer and as a stream. Each
// such answer is a bad_usage attempt, and no token of it is counted.
func TestImplausibleUsageIsBadUsage(t *testing.T) {
	for _, api := range []string{scenarios.APIOpenAI, scenarios.APIAnthropic, scenarios.APIGemini} {
		for _, stream := range []bool{false, true} {
			for _, lit := range []string{"-20000000", "9000000000000000000", "1.5", "2000000000"} {
				srv := httptest.NewServer(&hostile.Usage{Prompt: lit, Completion: "3"})
				sc := hostileScenario(t, srv.URL+"/v1", 200*time.Millisecond, "")
				p := sc.Providers["primary"]
				p.API, p.Stream = api, stream
				run, _ := runHostile(t, sc)
				srv.Close()
				a := run.Attempts
				if a.Total == 0 || a.ByOutcome[record.OutcomeBadUsage] != a.Total {
					t.Errorf("%s stream=%v usage %s: attempts %+v, want every one bad_usage", api, stream, lit, a.ByOutcome)
				}
				if tk := run.Tokens; tk.Prompt != 0 || tk.Completion != 0 || tk.Cached != 0 {
					t.Errorf("%s stream=%v usage %s: tokens %+v counted", api, stream, lit, tk)
				}
			}
		}
	}
}

// TestRedirectMCPServer: an MCP server that moved answers 307. Not
// followed by default: a redirect outcome; followed when asked, each hop
// an attempt of its own.
func TestRedirectMCPServer(t *testing.T) {
	sc, err := scenarios.Load("mcp-direct")
	if err != nil {
		t.Fatal(err)
	}
	mock := jobsStartMock(t, sc)
	src := httptest.NewServer(hostile.Redirect(http.StatusTemporaryRedirect, mock))
	defer src.Close()
	sc.MCPServers["tools"].URL = src.URL + "/mcp/tools"
	sc.Load.Stages = []scenarios.Stage{{Rate: 20, Duration: scenarios.Duration(500 * time.Millisecond)}}

	run, _ := runHostile(t, sc)
	c := run.Conversations
	if c.Started == 0 || c.ByOutcome[record.OutcomeRedirect] != c.Started {
		t.Fatalf("not followed: operations %+v, attempts %+v", c, run.Attempts)
	}

	sc.Client.FollowRedirects = 1
	run, dir := runHostile(t, sc)
	c = run.Conversations
	if c.Started == 0 || c.OK != c.Started {
		t.Fatalf("followed: operations %+v, attempts %+v", c, run.Attempts)
	}
	redirects := run.Attempts.ByOutcome[record.OutcomeRedirect]
	if redirects == 0 || run.Attempts.Total != 2*redirects {
		t.Fatalf("followed: attempts %+v, want one redirect per exchange", run.Attempts)
	}
	for _, a := range readAttempts(t, dir) {
		if a.Outcome == record.OutcomeRedirect && (a.Status != http.StatusTemporaryRedirect || a.Error != "HTTP 307 redirect followed") {
			t.Fatalf("hop %+v", a)
		}
	}
}
