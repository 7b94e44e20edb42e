package attacker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// protoScenario is one model turn, three conversations, against the
// provider at baseURL, with client.http set to version ("" leaves it out).
func protoScenario(t *testing.T, baseURL, version string) *scenarios.Scenario {
	t.Helper()
	httpLine := ""
	if version != "" {
		httpLine = fmt.Sprintf("  http: %q\n", version)
	}
	src := fmt.Sprintf(`version: 1
name: proto
seed: 1
providers:
  p: {base_url: %q, model: m, api_key_env: K}
conversation:
  provider: p
  turns:
    - user: hi
      model: [{content: ok}]
load:
  stages: [{rate: 10, duration: 300ms}]
client:
  timeout: 5s
%s`, baseURL, httpLine)
	sc, err := scenarios.Parse("proto.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// protoRun runs sc with the run's own transport, trusting ca (nil: the
// system's roots), and returns the run and its attempts.
func protoRun(t *testing.T, sc *scenarios.Scenario, mockURL string, ca *x509.Certificate) (*record.Run, []record.Attempt) {
	t.Helper()
	hc := defaultHTTPClient(nil, &sc.Client)
	if ca != nil {
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		hc.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	t.Cleanup(hc.CloseIdleConnections)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := []Option{WithHTTPClient(hc), WithInterval(100 * time.Millisecond), WithGetenv(func(string) string { return "sk-proto" })}
	if mockURL != "" {
		opts = append(opts, WithMockURL(mockURL))
	}
	run, err := Run(ctx, sc, dir, opts...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return run, readAttempts(t, dir)
}

// checkProto asserts that every attempt came back in proto, with
// outcome ok, and that run.json counts them so.
func checkProto(t *testing.T, run *record.Run, attempts []record.Attempt, proto string) {
	t.Helper()
	if len(attempts) == 0 {
		t.Fatal("no attempts")
	}
	for _, a := range attempts {
		if a.Proto != proto || a.Outcome != record.OutcomeOK {
			t.Errorf("attempt %s #%d: proto %q, outcome %s (%s); want %q, ok", a.Key, a.Conversation, a.Proto, a.Outcome, a.Error, proto)
		}
	}
	if got := run.Attempts.ByProto; len(got) != 1 || got[proto] != uint64(len(attempts)) {
		t.Errorf("run.json attempts.by_proto = %v, want {%s: %d}", got, proto, len(attempts))
	}
}

// TestHTTPVersionsOverTLS: a TLS provider on loopback that speaks h2
// (ALPN): auto negotiates HTTP/2, as Go's default transport would, "1.1"
// keeps to HTTP/1.1, "2" insists on HTTP/2.
func TestHTTPVersionsOverTLS(t *testing.T) {
	msc := protoScenario(t, "mock", "")
	mock, err := mockprovider.New(msc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mock.Handler())
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ version, proto string }{
		{"", "HTTP/2.0"}, {"auto", "HTTP/2.0"}, {"1.1", "HTTP/1.1"}, {"2", "HTTP/2.0"},
	} {
		t.Run("http="+tc.version, func(t *testing.T) {
			run, attempts := protoRun(t, protoScenario(t, srv.URL+"/v1", tc.version), "", srv.Certificate())
			checkProto(t, run, attempts, tc.proto)
		})
	}
}

// TestHTTP2CleartextMock: the in-process mock, as mcpload run starts it,
// serves h2c with prior knowledge and HTTP/1.1 on one listener; a
// conversation with tool calls goes all HTTP/2 under "2", model and MCP
// alike, and all HTTP/1.1 under auto.
func TestHTTP2CleartextMock(t *testing.T) {
	sc, err := scenarios.Load("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	sc.Seed = 1
	sc.Load.Stages = []scenarios.Stage{{Rate: 10, Duration: scenarios.Duration(300 * time.Millisecond)}}
	url := jobsStartMock(t, sc)
	for _, tc := range []struct{ version, proto string }{{"2", "HTTP/2.0"}, {"", "HTTP/1.1"}} {
		t.Run("http="+tc.version, func(t *testing.T) {
			sc.Client.HTTP = tc.version
			run, attempts := protoRun(t, sc, url, nil)
			checkProto(t, run, attempts, tc.proto)
			kinds := map[string]bool{}
			for _, a := range attempts {
				kinds[a.Kind] = true
			}
			if !kinds[record.StepModel] || !kinds[record.StepTool] {
				t.Errorf("attempt kinds %v, want model and tool calls", kinds)
			}
		})
	}
}

// TestHTTP2AgainstHTTP1Server: "2" in plaintext against a server that
// speaks only HTTP/1.1 fails each attempt with a classified outcome that
// says why, not a panic, and records no protocol.
func TestHTTP2AgainstHTTP1Server(t *testing.T) {
	// Go's HTTP/1.1 server reads the h2 preface as a request "PRI *"
	// and answers it 505: no handler of this test's is reached.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "PRI" {
			t.Errorf("a request reached the server: %s %s %s", r.Proto, r.Method, r.URL)
		}
	}))
	t.Cleanup(srv.Close)
	run, attempts := protoRun(t, protoScenario(t, srv.URL+"/v1", "2"), "", nil)
	if len(attempts) == 0 {
		t.Fatal("no attempts")
	}
	refused := 0
	for _, a := range attempts {
		switch {
		case a.Proto != "":
			t.Errorf("attempt: proto %q; want none", a.Proto)
		case a.Outcome == record.OutcomeProtocol && strings.Contains(a.Error, `the server does not speak HTTP/2 (client.http "2"; auto or "1.1" for HTTP/1.1): `):
			refused++
		case a.Outcome == record.OutcomeConnection && (strings.Contains(a.Error, "broken pipe") || strings.Contains(a.Error, "connection reset")):
			// The server closed the connection while the client was
			// still writing its preface and settings: a race on
			// loopback, classified as the connection failure it is.
		default:
			t.Errorf("attempt: outcome %s, error %q; want protocol naming HTTP/2 (or a connection closed mid-preface)", a.Outcome, a.Error)
		}
	}
	if refused == 0 {
		t.Errorf("no attempt was refused as not HTTP/2: %d attempts", len(attempts))
	}
	if run.Conversations.OK != 0 || len(run.Attempts.ByProto) != 0 {
		t.Errorf("run: %d ok, by_proto %v; want none", run.Conversations.OK, run.Attempts.ByProto)
	}
}
