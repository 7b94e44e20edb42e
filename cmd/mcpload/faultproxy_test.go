package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
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
	want := []report.Proxied{{Target: "provider:primary", Upstream: up.URL + "/v1"}}
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
