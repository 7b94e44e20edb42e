package live

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/summary"
)

// The Prometheus test has a real Prometheus, Debian's, scrape a live run
// every 250 ms, and checks that PromQL's answers are summary.json's: the
// counts exactly, and a latency percentile within the resolution of the
// buckets. One server reads the classic buckets; a second, with native
// histograms on, reads the native ones from the same exporter.

const (
	prometheusPath = "/usr/bin/prometheus"
	// requirePrometheusEnv makes a missing Prometheus a failure, not a
	// skip: `make test` sets it, after installing Prometheus.
	requirePrometheusEnv = "MCPLOAD_REQUIRE_PROMETHEUS"
)

func TestPrometheusScrapesLiveRun(t *testing.T) {
	if _, err := os.Stat(prometheusPath); err != nil {
		if os.Getenv(requirePrometheusEnv) == "1" {
			t.Fatalf("%s=1 but there is no Prometheus: %v (make prometheus installs it)", requirePrometheusEnv, err)
		}
		t.Skipf("no %s (make prometheus installs it): %v", prometheusPath, err)
	}
	if testing.Short() && os.Getenv(requirePrometheusEnv) != "1" {
		t.Skip("starts Prometheus and a run: skipped in -short mode")
	}
	hub := NewHub()
	metrics := NewMetrics(hub)
	ln, err := Listen("--metrics-addr", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.Handler())
	srv := Serve(ln, mux)
	defer srv.Close()
	target := ln.Addr().String()

	classic := startPrometheus(t, target, false)
	native := startPrometheus(t, target, true)

	frames := watchFrames(hub)
	run := startRun(t, hub, nil)
	// While the run goes on, Prometheus sees it.
	for deadline := time.Now().Add(60 * time.Second); ; {
		if v, ok := classic.scalar(t, `max(mcpload_conversations_started_total) and on() (max(mcpload_run_finished) == 0)`); ok && v > 0 {
			break
		}
		select {
		case <-run.done:
			t.Fatal("the run ended before Prometheus saw a conversation start")
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus saw no conversation start in 60 s")
		}
	}
	s := run.wait(t)
	if s.Conversations.Failed == 0 || s.Attempts.Retries == 0 || s.Attempts.Fallbacks == 0 {
		t.Fatalf("the outage scenario had nothing to count (failed %d, retries %d, fallbacks %d)", s.Conversations.Failed, s.Attempts.Retries, s.Attempts.Fallbacks)
	}
	for _, p := range []*promServer{classic, native} {
		p.waitFinal(t)
		p.checkCounts(t, s)
	}
	// The fault window: served, and closed at the end. Whether a frame fell
	// inside it depends on how fast a loaded machine gathers them; when
	// one did, Prometheus saw the window open (TestFeedFaultsAndBreakers
	// checks the windows without timing).
	if v := classic.mustScalar(t, `mcpload_fault_active{fault="primary-503"}`); v != 0 {
		t.Errorf("the fault window is open at the end (%g)", v)
	}
	if frames.inWindow(1.5, 4) {
		// A scrape must also fall while that frame is the newest, which a
		// loaded machine does not promise (seen once in the full suite).
		v := classic.mustScalar(t, `max_over_time(mcpload_fault_active{fault="primary-503"}[5m])`)
		t.Logf("a frame fell in the fault window; Prometheus saw it open: %v", v == 1)
	} else {
		t.Log("no frame fell in the fault window: the machine is slow")
	}
	// Classic buckets: the quantile falls in the bucket that holds the
	// summary's percentile.
	p99 := s.LatencyMS.Conversation.P99 / 1e3
	lo, hi := bucketAround(p99)
	classicP99 := classic.mustScalar(t, `histogram_quantile(0.99, sum by (le) (mcpload_latency_seconds_bucket{level="conversation",result="ok"}))`)
	if classicP99 < lo || classicP99 > hi {
		t.Errorf("classic p99 = %gs, summary's %gs is in the bucket (%g, %g]", classicP99, p99, lo, hi)
	}
	// Native buckets: 2^(1/8) apart, about 9%.
	got := native.mustScalar(t, `histogram_quantile(0.99, sum(mcpload_latency_seconds{level="conversation",result="ok"}))`)
	if math.Abs(got-p99)/p99 > 0.1 {
		t.Errorf("native p99 = %gs, summary's is %gs: more than 10%% apart", got, p99)
	}
	t.Logf("conversation p99: summary %gs, classic %gs in (%g, %g], native %gs", p99, classicP99, lo, hi, got)
	if n := native.mustScalar(t, `histogram_count(sum(mcpload_latency_seconds{level="conversation",result="ok"}))`); n != float64(s.LatencyMS.Conversation.Count) {
		t.Errorf("native count = %g, summary's %d", n, s.LatencyMS.Conversation.Count)
	}
}

// bucketAround returns the bounds of the classic bucket that holds v.
func bucketAround(v float64) (lo, hi float64) {
	for _, b := range Bounds {
		if v <= b {
			return lo, b
		}
		lo = b
	}
	return lo, math.Inf(1)
}

// promServer is a Prometheus started by the test.
type promServer struct {
	url    string
	native bool
}

// startPrometheus starts Prometheus on a free loopback port with its own
// config and storage, scraping target every 250 ms.
func startPrometheus(t *testing.T, target string, native bool) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 250ms\n  scrape_timeout: 200ms\nscrape_configs:\n  - job_name: mcpload\n    static_configs:\n      - targets: [%q]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	args := []string{
		"--config.file=" + filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--log.level=warn",
	}
	if native {
		args = append(args, "--enable-feature=native-histograms")
	}
	cmd := exec.Command(prometheusPath, args...)
	cmd.Dir = dir
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus (native %v) log:\n%s", native, b)
		}
	})
	p := &promServer{url: "http://" + addr, native: native}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus on %s not ready in 30 s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// query runs an instant PromQL query and returns its vector.
func (p *promServer) query(t *testing.T, q string) []promSample {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/api/v1/query?query="+url.QueryEscape(q), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []promSample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	if body.Status != "success" {
		t.Fatalf("query %s: %s", q, body.Error)
	}
	return body.Data.Result
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) value(t *testing.T) float64 {
	t.Helper()
	str, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		t.Fatalf("sample %v: %v", s, err)
	}
	return v
}

// scalar returns the one value of q, and false when q has no result.
func (p *promServer) scalar(t *testing.T, q string) (float64, bool) {
	t.Helper()
	r := p.query(t, q)
	if len(r) == 0 {
		return 0, false
	}
	if len(r) > 1 {
		t.Fatalf("query %s: %d series, want one", q, len(r))
	}
	return r[0].value(t), true
}

func (p *promServer) mustScalar(t *testing.T, q string) float64 {
	t.Helper()
	v, ok := p.scalar(t, q)
	if !ok {
		t.Fatalf("query %s (native %v): no result", q, p.native)
	}
	return v
}

// byLabel returns q's values by the label name.
func (p *promServer) byLabel(t *testing.T, q, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range p.query(t, q) {
		out[s.Metric[name]] = s.value(t)
	}
	return out
}

// waitFinal waits until Prometheus has scraped the run's final figures.
func (p *promServer) waitFinal(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if v, ok := p.scalar(t, `max(mcpload_run_finished)`); ok && v == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus (native %v) did not scrape the final figures in 30 s", p.native)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkCounts compares the counters Prometheus holds with the summary's.
func (p *promServer) checkCounts(t *testing.T, s *summary.Summary) {
	t.Helper()
	want := map[string]float64{record.OutcomeOK: float64(s.Conversations.OK), record.OutcomeDropped: float64(s.Conversations.Dropped)}
	for o, n := range s.Conversations.ByOutcome {
		want[o] = float64(n)
	}
	got := p.byLabel(t, `sum by (outcome) (mcpload_conversations_total)`, "outcome")
	equalMaps(t, "conversations by outcome", got, want)
	wantAttempts := map[string]float64{}
	for o, n := range s.Attempts.ByOutcome {
		wantAttempts[o] = float64(n)
	}
	equalMaps(t, "attempts by outcome", p.byLabel(t, `sum by (outcome) (mcpload_attempts_total)`, "outcome"), wantAttempts)
	for q, w := range map[string]float64{
		`mcpload_conversations_started_total`: float64(s.Conversations.Started),
		`mcpload_steps_total`:                 float64(s.Attempts.Steps),
		`mcpload_retries_total`:               float64(s.Attempts.Retries),
		`mcpload_fallbacks_total`:             float64(s.Attempts.Fallbacks),
		`mcpload_breaker_opens_total`:         float64(s.Attempts.BreakerOpens),
		`mcpload_tokens_total{kind="prompt"}`: float64(s.Tokens.Prompt),
		`mcpload_in_flight`:                   0,
		`up{job="mcpload"}`:                   1,
	} {
		if got := p.mustScalar(t, q); got != w {
			t.Errorf("%s (native %v) = %g, summary.json says %g", q, p.native, got, w)
		}
	}
	if s.Cost != nil {
		if got := p.mustScalar(t, `mcpload_cost_usd_total`); math.Abs(got-s.Cost.TotalUSD) > 1e-9 {
			t.Errorf("mcpload_cost_usd_total = %g, summary.json says %g", got, s.Cost.TotalUSD)
		}
	}
	if !p.native {
		if got := p.mustScalar(t, `mcpload_latency_seconds_count{level="conversation",result="ok"}`); got != float64(s.LatencyMS.Conversation.Count) {
			t.Errorf("conversation latency count = %g, summary.json says %d", got, s.LatencyMS.Conversation.Count)
		}
	}
}

func equalMaps(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s[%s] = %g, summary.json says %g (all: %v, want %v)", what, k, got[k], w, got, want)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != 0 {
			t.Errorf("%s[%s] = %g, summary.json has none", what, k, g)
		}
	}
}
