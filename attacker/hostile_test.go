package attacker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/scenarios"
)

// hostileRun runs the hostile scenario against h, with the mock (mcp,
// when not nil, wraps its handler) serving the MCP server, and renders
// the report as the CLI does. It returns the run folder.
func hostileRun(t *testing.T, h http.Handler, api string, stream bool, extra string, mcp func(http.Handler) http.Handler) string {
	t.Helper()
	target := httptest.NewServer(h)
	t.Cleanup(target.Close)
	// Two conversations, half a second apart.
	sc, err := scenarios.Parse("hostile.yaml", hostile.DialectScenario(api, target.URL+"/v1", stream, 2, "1s", "10s", extra))
	if err != nil {
		t.Fatal(err)
	}
	mock, err := mockprovider.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	mh := mock.Handler()
	if mcp != nil {
		mh = mcp(mh)
	}
	ms := httptest.NewServer(mh)
	t.Cleanup(ms.Close)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := Run(ctx, sc, dir, WithMockURL(ms.URL), WithInterval(100*time.Millisecond),
		WithGetenv(func(string) string { return "sk-hostile" }))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if run.Status != record.StatusComplete || run.Conversations.Started != 2 {
		t.Fatalf("run %s, %d conversations started", run.Status, run.Conversations.Started)
	}
	if _, err := report.Write(dir); err != nil {
		t.Fatalf("report: %v", err)
	}
	for _, f := range []string{record.RunFile, record.SummaryFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run folder: %v", err)
		}
	}
	return dir
}

var hostileAPIs = []struct {
	api    string
	stream bool
}{{hostile.OpenAI, false}, {hostile.Anthropic, false}, {hostile.Gemini, false}}

// checkTooManyCalls asserts that every model attempt of dir failed with
// protocol for max_tool_calls, having read at most maxBytes, that no tool
// call was sent, and that every conversation failed with protocol.
func checkTooManyCalls(t *testing.T, dir string, maxBytes int64) {
	t.Helper()
	model := 0
	for _, a := range readAttempts(t, dir) {
		switch a.Kind {
		case record.StepModel:
			model++
			if a.Outcome != record.OutcomeProtocol || !strings.Contains(a.Error, "client.limits.max_tool_calls") || a.BytesIn > maxBytes {
				t.Errorf("model attempt: %s %q, %d bytes read", a.Outcome, a.Error, a.BytesIn)
			}
		default:
			t.Fatalf("a call of an answer over the bound was sent: %+v", a)
		}
	}
	if model != 2 {
		t.Errorf("%d model attempts, want 2", model)
	}
	s := readRun(t, dir)
	if s.Conversations.ByOutcome[record.OutcomeProtocol] != 2 {
		t.Errorf("conversations %+v, want 2 failed with protocol", s.Conversations)
	}
}

// TestHostileToolCallsPerAnswer: one answer of 20,000 tool calls is
// refused whole (protocol), none of its calls sent, in every API. The old
// client sent them all: 60,012 attempts and no descriptor left.
func TestHostileToolCallsPerAnswer(t *testing.T) {
	for _, c := range hostileAPIs {
		t.Run(c.api, func(t *testing.T) {
			dir := hostileRun(t, hostile.ToolCalls(20000, "get_weather"), c.api, c.stream, "", nil)
			checkTooManyCalls(t, dir, 32<<20)
		})
	}
}

// TestHostileEndlessToolCallStream: a stream that keeps sending tool calls
// is read no further than the call past max_tool_calls, in every API. The
// old client read a Gemini stream until its timeout: 770,038 calls from
// one answer in 3 s.
func TestHostileEndlessToolCallStream(t *testing.T) {
	for _, c := range hostileAPIs {
		t.Run(c.api, func(t *testing.T) {
			dir := hostileRun(t, hostile.EndlessToolCalls("get_weather"), c.api, true, "", nil)
			// 129 calls of a few hundred bytes each, and what the
			// transport had buffered past them.
			checkTooManyCalls(t, dir, 1<<20)
		})
	}
}

// TestHostileEndlessStream: an endless stream of 256 KB events is cut at
// max_response_bytes, as a whole body is, with outcome protocol. (1 MiB
// here, which a test under the race detector reads in time; the default,
// 32 MiB, is measured in cmd/mcpload's TestHostileProcess.) The old client
// read it until client.timeout: 3.4 GB in 10 s.
func TestHostileEndlessStream(t *testing.T) {
	for _, c := range hostileAPIs {
		t.Run(c.api, func(t *testing.T) {
			dir := hostileRun(t, hostile.EndlessStream(256<<10), c.api, true, "  limits: {max_response_bytes: 1048576}\n", nil)
			model := 0
			for _, a := range readAttempts(t, dir) {
				if a.Kind != record.StepModel {
					continue
				}
				model++
				if a.Outcome != record.OutcomeProtocol || !strings.Contains(a.Error, "client.limits.max_response_bytes (1048576 bytes)") ||
					a.BytesIn > 1<<20+1 {
					t.Errorf("model attempt: %s %q, %d bytes read", a.Outcome, a.Error, a.BytesIn)
				}
			}
			if model != 2 {
				t.Errorf("%d model attempts, want 2", model)
			}
		})
	}
}

// TestHostileRandomToolNames: a model that names 20 random tools per
// answer gets one histogram key for all of them, tool:_undeclared, and one
// .hgrm file per level; the names are in attempts.jsonl only. The old
// client made a histogram and a .hgrm file per name.
func TestHostileRandomToolNames(t *testing.T) {
	for _, c := range hostileAPIs {
		t.Run(c.api, func(t *testing.T) {
			dir := hostileRun(t, hostile.RandomTools(20), c.api, c.stream, "", nil)
			hs, err := runfolder.ReadHistograms(dir)
			if err != nil {
				t.Fatal(err)
			}
			for tag := range hs {
				if strings.Contains(tag, "tool:") && !strings.Contains(tag, "tool:"+record.UndeclaredTool) {
					t.Errorf("histogram %s: a key per undeclared name", tag)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "step.tool__undeclared.failed.hgrm")); err != nil {
				t.Error(err)
			}
			hgrm, _ := filepath.Glob(filepath.Join(dir, "*.hgrm"))
			if len(hgrm) > 12 {
				t.Errorf("%d .hgrm files", len(hgrm))
			}
			named := 0
			for _, a := range readAttempts(t, dir) {
				if a.Kind != record.StepTool {
					continue
				}
				if a.Key != "tool:"+record.UndeclaredTool || a.Outcome != record.OutcomeToolError ||
					!strings.HasPrefix(a.Error, `undeclared tool "t_`) || len(a.Error) > 100 {
					t.Fatalf("tool attempt %+v", a)
				}
				named++
			}
			// Two conversations of three model steps, the first two of
			// which run their 20 calls.
			if named != 2*2*20 {
				t.Errorf("%d undeclared calls in attempts.jsonl, want 80", named)
			}
			s := readRun(t, dir)
			if s.Conversations.ByOutcome[record.OutcomeProtocol] != 2 {
				t.Errorf("conversations %+v, want 2 failed by max_steps", s.Conversations)
			}
		})
	}
}

// TestHostileMCPInFlight: an answer of 100 calls runs at most
// max_mcp_in_flight_per_conversation of them at once, and the run at most
// max_mcp_in_flight; the calls that wait still all run.
func TestHostileMCPInFlight(t *testing.T) {
	var (
		mu       sync.Mutex
		inFlight int
		peak     int
		perConv  = map[string]int{}
		peakConv = map[string]int{}
	)
	count := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/mcp/") {
				next.ServeHTTP(w, r)
				return
			}
			seq := r.Header.Get(httpx.HdrSeq)
			mu.Lock()
			inFlight++
			perConv[seq]++
			peak = max(peak, inFlight)
			peakConv[seq] = max(peakConv[seq], perConv[seq])
			mu.Unlock()
			defer func() {
				mu.Lock()
				inFlight--
				perConv[seq]--
				mu.Unlock()
			}()
			next.ServeHTTP(w, r)
		})
	}
	limits := "  limits: {max_mcp_in_flight_per_conversation: 4, max_mcp_in_flight: 6}\n"
	// Two conversations, each of three steps that answer 100 calls (the
	// third step's are not run): both are in flight at once for a while.
	dir := hostileRun(t, hostile.ToolCalls(100, "get_weather"), hostile.OpenAI, false, limits, count)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("peak in flight: %d in the run, %v by conversation", peak, peakConv)
	if peak > 6 || peak < 2 {
		t.Errorf("peak of %d MCP requests in flight in the run, want 2 to 6", peak)
	}
	for seq, p := range peakConv {
		if p > 4 {
			t.Errorf("conversation %s: peak of %d MCP requests in flight, want at most 4", seq, p)
		}
	}
	tools := 0
	for _, a := range readAttempts(t, dir) {
		if a.Key == "tool:get_weather" && a.Outcome == record.OutcomeOK {
			tools++
		}
	}
	if tools != 2*2*100 {
		t.Errorf("%d ok tool calls, want 400", tools)
	}
}

// readRun reads a run folder's run.json.
func readRun(t *testing.T, dir string) *record.Run {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, record.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	var r record.Run
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}
