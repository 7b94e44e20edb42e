package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/record"
)

// TestHostileProcess runs the mcpload binary against each hostile
// provider as a real process, stops it with SIGTERM while the target
// misbehaves, and checks the process's peak memory, that it exited
// promptly, and the partial run folder it left. The old client reached
// 1.8 GB (20,000 calls in one answer), 14.1 GB and 88 s to exit after
// SIGTERM (an endless Gemini stream of calls), 3.4 GB (an endless stream
// of 256 KB events) and 1.1 GB (random tool names).
func TestHostileProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const maxRSS = 300 << 20
	cases := []struct {
		name   string
		h      http.Handler
		api    string
		stream bool
		rate   int
		// mcp, when set, makes h an MCP server's tools/call, with the
		// mock playing the model.
		mcp hostile.MCPCall
	}{
		{"20000 calls", hostile.ToolCalls(20000, "get_weather"), hostile.OpenAI, false, 2, nil},
		{"gemini calls for 1s", hostile.ToolCallStream("get_weather", time.Second), hostile.Gemini, true, 2, nil},
		{"endless openai stream", hostile.EndlessStream(256 << 10), hostile.OpenAI, true, 1, nil},
		{"endless anthropic stream", hostile.EndlessStream(256 << 10), hostile.Anthropic, true, 1, nil},
		{"random tools", hostile.RandomTools(20), hostile.OpenAI, false, 20, nil},
		{"endless MCP stream", nil, "", false, 2, hostile.MCPEndlessStream(256 << 10)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var requests atomic.Int64
			h := c.h
			if c.mcp != nil {
				h = hostile.MCPServer(c.mcp)
			}
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				h.ServeHTTP(w, r)
			}))
			defer target.Close()
			// Eight seconds of load: SIGTERM comes first.
			sc := hostile.DialectScenario(c.api, target.URL+"/v1", c.stream, c.rate, "8s", "10s", "")
			if c.mcp != nil {
				sc = hostile.MCPScenario("mock", target.URL+"/mcp", c.rate, "8s", "10s", "")
			}
			path := writeScenario(t, string(sc))
			dir := filepath.Join(t.TempDir(), "run")
			cmd := exec.Command(os.Args[0], "run", path, "--out", dir, "--progress", "off")
			cmd.Env = append(os.Environ(), "MCPLOAD_TEST_MAIN=1", "HOSTILE_KEY=sk-hostile")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The peak RSS of mcpload itself: wait4's Maxrss would count
			// the test process it was forked from.
			peak := watchPeakRSS(cmd.Process.Pid)
			// Let the target misbehave for a while: past its first
			// answers, with more conversations arriving.
			deadline := time.Now().Add(30 * time.Second)
			for requests.Load() < 2 {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("the target had %d requests after 30 s:\n%s", requests.Load(), out.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(2 * time.Second)
			sent := time.Now()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			exit := time.Since(sent)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitRuntime {
				t.Fatalf("exit %v, want %d:\n%s", err, exitRuntime, out.String())
			}
			rss := <-peak
			t.Logf("%s: peak RSS %d MB, exit %v after SIGTERM, %d requests to the target",
				c.name, rss>>20, exit.Round(time.Millisecond), requests.Load())
			if rss > maxRSS {
				t.Errorf("peak RSS %d MB, want under %d MB", rss>>20, maxRSS>>20)
			}
			// The process exits in about 0.1 s; 5 s holds on a machine
			// loaded 8 times over, where it took 2.7 s. The old client
			// took 7 s (20,000 calls) to 88 s (endless Gemini calls).
			if exit > 5*time.Second {
				t.Errorf("exited %v after SIGTERM, want within 5 s", exit)
			}
			b, err := os.ReadFile(filepath.Join(dir, record.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			var run record.Run
			if err := json.Unmarshal(b, &run); err != nil {
				t.Fatalf("run.json: %v", err)
			}
			if run.Status != record.StatusInterrupted || run.Conversations.Started == 0 {
				t.Errorf("run.json: status %s, %d conversations", run.Status, run.Conversations.Started)
			}
			s := readSummary(t, dir)
			if s.Conversations.OK != 0 || s.Conversations.Failed != s.Conversations.Started {
				t.Errorf("summary: conversations %+v, want all failed", s.Conversations.Counts)
			}
		})
	}
}

// watchPeakRSS samples the peak RSS (VmHWM, in bytes) of process pid until
// it exits, and then sends the last value read.
func watchPeakRSS(pid int) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		path := "/proc/" + strconv.Itoa(pid) + "/status"
		for {
			b, err := os.ReadFile(path)
			if err != nil {
				break // gone
			}
			var kb int64
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				}
			}
			if kb == 0 {
				break // a zombie: its memory is gone
			}
			peak = max(peak, kb<<10)
			time.Sleep(20 * time.Millisecond)
		}
		out <- peak
	}()
	return out
}
