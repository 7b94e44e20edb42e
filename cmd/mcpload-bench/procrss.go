package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runMeasured runs `mcpload run scenario --out out args...` and returns
// the process's peak resident set (VmHWM), polled from /proc until it
// exits, so that the figure is mcpload's own, mock included when it runs
// in process.
func runMeasured(bin, scenario, out string, args ...string) (hwm int64, err error) {
	cmd := exec.Command(bin, append([]string{"run", scenario, "--out", out, "--progress", "off"}, args...)...)
	cmd.Env = append(os.Environ(), "MCPLOAD_BENCH_KEY=sk-bench-not-a-secret")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("mcpload run: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "status")
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if v := vmHWM(status); v > hwm {
			hwm = v
		}
		select {
		case err := <-done:
			// Exit 3 is a gate that failed: the figures still stand.
			if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
				err = nil
			}
			if err != nil {
				return hwm, fmt.Errorf("mcpload run %s: %w", scenario, err)
			}
			return hwm, nil
		case <-tick.C:
		}
	}
}

// vmHWM reads VmHWM, in bytes, from a /proc/PID/status file; 0 when it
// cannot (the process is gone).
func vmHWM(status string) int64 {
	f, err := os.Open(status)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// runFigures are what a run folder says about the harness: run.json's
// peak in flight and counts, and summary.json's harness object when the
// run wrote one (the self-check's schedule lag and RSS).
type runFigures struct {
	PeakInFlight  int64 `json:"peak_in_flight"`
	Conversations struct {
		Started, OK, Failed, Dropped uint64
	} `json:"conversations"`
	Attempts struct {
		Total   uint64            `json:"total"`
		ByProto map[string]uint64 `json:"by_proto"`
	} `json:"attempts"`
	Harness *harnessFigures `json:"-"`
}

// harnessFigures is summary.json's harness object (the run's self-check).
type harnessFigures struct {
	ScheduleLag struct {
		P99US float64 `json:"p99_us"`
	} `json:"schedule_lag"`
	RSSMaxBytes      int64   `json:"rss_max_bytes"`
	BytesPerInFlight float64 `json:"bytes_per_in_flight"`
}

func readFigures(dir string) (*runFigures, error) {
	var f runFigures
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("run.json: %w", err)
	}
	// summary.json holds the harness object; run.json the rest.
	if b, err := os.ReadFile(filepath.Join(dir, "summary.json")); err == nil {
		var s struct {
			Harness *harnessFigures `json:"harness"`
		}
		if json.Unmarshal(b, &s) == nil {
			f.Harness = s.Harness
		}
	}
	return &f, nil
}

// loadAvg is the one-minute load average, for the record beside a figure
// measured on a shared machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
