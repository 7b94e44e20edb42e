// Command mcpload-bench measures, in one run on one machine against one mock
// endpoint, the mock's capacity, mcpload's maximum sustained rate and raw
// vegeta's, and prints mcpload/vegeta as a ratio of HTTP requests per second.
// `make bench` builds both binaries and runs it.
//
// Both load generators run closed-loop at full speed with the same number of
// workers (vegeta -rate=0 -max-workers=N; mcpload rate 0 with max_in_flight
// N) against `mcpload mock` in its own process, on a one-turn conversation,
// so that both do the same HTTP work. Rounds alternate to spread drift.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	mcpload := flag.String("mcpload", "bin/mcpload", "mcpload binary")
	vegeta := flag.String("vegeta", "bin/vegeta", "vegeta binary")
	duration := flag.Duration("duration", 8*time.Second, "length of each measurement")
	workers := flag.Int("workers", 64, "concurrent workers for both generators")
	rounds := flag.Int("rounds", 3, "alternating rounds per generator")
	only := flag.String("only", "", "comma-separated sections to run (vegeta, lanes, http2); default all")
	flag.Parse()
	sections := []struct {
		name string
		run  func() error
	}{
		{"vegeta", func() error { return run(*mcpload, *vegeta, *duration, *workers, *rounds) }},
		{"lanes", func() error { return runLanes(*mcpload, *duration, *workers, *rounds) }},
		{"http2", func() error { return benchHTTP2(*mcpload, *vegeta, *duration, *workers, *rounds) }},
	}
	for _, sec := range sections {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), sec.name) {
			continue
		}
		if err := sec.run(); err != nil {
			fmt.Fprintf(os.Stderr, "mcpload-bench: %s: %v\n", sec.name, err)
			os.Exit(1)
		}
	}
}

const scenarioTmpl = `version: 1
name: bench-one-turn
description: one model turn, no tools, so that mcpload and vegeta do the same HTTP work
seed: 1
providers:
  primary:
    api: openai
    base_url: %s
    model: gpt-4.1-mini
    api_key_env: MCPLOAD_BENCH_KEY
conversation:
  provider: primary
  system: You are a terse assistant.
  turns:
    - user: Say OK.
      model:
        - content: OK.
          usage: {prompt_tokens: 20, completion_tokens: 2}
load:
  arrival: constant
  stages: [{rate: 0, duration: %s}]
  max_in_flight: %d
client:
  timeout: 10s
`

// requestBody is what mcpload sends for the scenario's one turn.
const requestBody = `{"model":"gpt-4.1-mini","messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Say OK."}]}`

func run(mcpload, vegeta string, d time.Duration, workers, rounds int) error {
	tmp, err := os.MkdirTemp("", "mcpload-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	port, err := freePort()
	if err != nil {
		return err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	mockScenario := filepath.Join(tmp, "mock.yaml")
	if err := os.WriteFile(mockScenario, fmt.Appendf(nil, scenarioTmpl, "mock", d, workers), 0o644); err != nil {
		return err
	}
	mock := exec.Command(mcpload, "mock", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--scenario", mockScenario)
	mock.Stderr = os.Stderr
	if err := mock.Start(); err != nil {
		return fmt.Errorf("start mock: %w", err)
	}
	defer func() { _ = mock.Process.Kill(); _ = mock.Wait() }()
	if err := waitHealthy(base + "/healthz"); err != nil {
		return err
	}

	// mcpload targets the mock process by URL, as a real provider.
	loadScenario := filepath.Join(tmp, "load.yaml")
	if err := os.WriteFile(loadScenario, fmt.Appendf(nil, scenarioTmpl, base+"/v1", d, workers), 0o644); err != nil {
		return err
	}
	targets := filepath.Join(tmp, "targets.json")
	target, _ := json.Marshal(map[string]any{
		"method": "POST", "url": base + "/v1/chat/completions",
		"body":   base64.StdEncoding.EncodeToString([]byte(requestBody)),
		"header": map[string][]string{"Content-Type": {"application/json"}},
	})
	if err := os.WriteFile(targets, append(target, '\n'), 0o644); err != nil {
		return err
	}

	var vegetaRPS, mcploadRPS, mcploadCPS []float64
	for i := 0; i < rounds; i++ {
		v, err := runVegeta(vegeta, targets, d, workers)
		if err != nil {
			return err
		}
		vegetaRPS = append(vegetaRPS, v)
		rps, cps, err := runMcpload(mcpload, loadScenario, filepath.Join(tmp, fmt.Sprintf("run%d", i)))
		if err != nil {
			return err
		}
		mcploadRPS = append(mcploadRPS, rps)
		mcploadCPS = append(mcploadCPS, cps)
		fmt.Printf("round %d: vegeta %.0f req/s, mcpload %.0f req/s (%.0f conv/s)\n", i+1, v, rps, cps)
	}

	mockCPS, err := mockCapacity()
	if err != nil {
		return err
	}
	v, m := median(vegetaRPS), median(mcploadRPS)
	fmt.Printf("\nOn %d cores, %d workers, %s per measurement, median of %d rounds:\n", runtime.NumCPU(), workers, d, rounds)
	fmt.Printf("  1. mock, in process (BenchmarkChatCompletions)  %8.0f completions/s\n", mockCPS)
	fmt.Printf("  2. mcpload, max sustained                        %8.0f req/s  (%.0f conversations/s)\n", m, median(mcploadCPS))
	fmt.Printf("  3. raw vegeta attack, same endpoint              %8.0f req/s\n", v)
	fmt.Printf("  ratio 2/3 (HTTP requests/s)                      %8.2f  (target >= 0.80)\n", m/v)
	return nil
}

func runVegeta(bin, targets string, d time.Duration, workers int) (float64, error) {
	// The attack writes its results to a file, as mcpload writes results.bin,
	// and is reported afterwards, so no third process competes for the cores.
	results := targets + ".bin"
	attack := exec.Command(bin, "attack", "-format=json", "-targets="+targets, "-rate=0",
		"-max-workers="+strconv.Itoa(workers), "-duration="+d.String(), "-timeout=10s", "-output="+results)
	attack.Stderr = os.Stderr
	if err := attack.Run(); err != nil {
		return 0, fmt.Errorf("vegeta attack: %w", err)
	}
	var out bytes.Buffer
	rep := exec.Command(bin, "report", "-type=json", results)
	rep.Stdout, rep.Stderr = &out, os.Stderr
	if err := rep.Run(); err != nil {
		return 0, fmt.Errorf("vegeta report: %w", err)
	}
	var m struct {
		Throughput float64 `json:"throughput"`
		Success    float64 `json:"success"`
	}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		return 0, fmt.Errorf("vegeta report: %w", err)
	}
	if m.Success < 0.99 {
		return 0, fmt.Errorf("vegeta: success ratio %.3f: the mock is failing", m.Success)
	}
	return m.Throughput, nil
}

// runMcpload returns successful HTTP requests per second and conversations
// per second, over the run's measured duration.
func runMcpload(bin, scenario, out string) (rps, cps float64, err error) {
	cmd := exec.Command(bin, "run", scenario, "--out", out, "--progress", "off")
	cmd.Env = append(os.Environ(), "MCPLOAD_BENCH_KEY=sk-bench-not-a-secret")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("mcpload run: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		return 0, 0, err
	}
	var s struct {
		DurationS     float64 `json:"duration_s"`
		Conversations struct {
			OK     float64 `json:"ok"`
			Failed float64 `json:"failed"`
		} `json:"conversations"`
		Attempts struct {
			ByOutcome map[string]float64 `json:"by_outcome"`
		} `json:"attempts"`
		Rate struct {
			Throughput float64 `json:"throughput"`
		} `json:"rate"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, 0, err
	}
	if s.Conversations.Failed > s.Conversations.OK/100 {
		return 0, 0, fmt.Errorf("mcpload: %v of %v conversations failed", s.Conversations.Failed, s.Conversations.OK)
	}
	// One conversation is one request here, so the throughputs coincide;
	// requests are counted from the attempts to keep the comparison honest.
	reqPerConv := s.Attempts.ByOutcome["ok"] / s.Conversations.OK
	return s.Rate.Throughput * reqPerConv, s.Rate.Throughput, nil
}

var benchMetric = regexp.MustCompile(`([0-9.e+]+) completions/s`)

// mockCapacity runs the mock's own benchmark: the handler served over
// loopback to a keep-alive client, in process.
func mockCapacity() (float64, error) {
	cmd := exec.Command("go", "test", "-run=^$", "-bench=BenchmarkChatCompletions$", "-benchtime=3s", "./mockprovider/")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("mock benchmark: %w\n%s", err, out.String())
	}
	var best float64
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if m := benchMetric.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			best = max(best, v)
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("mock benchmark printed no completions/s:\n%s", out.String())
	}
	return best, nil
}

func waitHealthy(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mock did not become healthy at %s", url)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
