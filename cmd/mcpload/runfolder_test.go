package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
)

// quickRun runs the quickstart for 3 s into a fresh folder, in process.
func quickRun(t *testing.T, extra ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	args := append([]string{"run", "quickstart", "--duration", "3s", "--seed", "42", "--out", dir, "--progress", "off"}, extra...)
	code, _, stderr := mcpload(t, args...)
	// Exit 3 is quickstart's own latency thresholds failing on a loaded
	// machine: the folder is whole either way, and it is what is tested.
	if code != exitPass && code != exitThresholds {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	return dir
}

// startRun starts a 60 s quickstart into dir as a real mcpload process,
// writing its output to out, and kills it at the end of the test.
func startRun(t *testing.T, dir string, out io.Writer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"run", "quickstart", "--out", dir, "--progress", "off", "--duration", "60s"}, args...)...)
	cmd.Env = append(os.Environ(), "MCPLOAD_TEST_MAIN=1")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd
}

// TestSecondRunIntoSameOutIsRefused starts a run as a real process, then a
// second one into the same --out: the second exits 2 naming the first
// (pid, host), and leaves the first's folder alone.
func TestSecondRunIntoSameOutIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := filepath.Join(t.TempDir(), "run")
	var out1 bytes.Buffer
	first := startRun(t, dir, &out1, "--seed", "1")
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Locked, and past writing scenario.yaml and run.json.
		_, err := runfolder.ReadRun(dir)
		if h, ok := record.Writing(dir); ok && h.PID == first.Process.Pid && err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first run holds no lock after 30 s:\n%s", out1.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	scenario, err := os.ReadFile(filepath.Join(dir, record.ScenarioFile))
	if err != nil {
		t.Fatal(err)
	}

	second := exec.Command(os.Args[0], "run", "quickstart", "--out", dir, "--progress", "off", "--duration", "2s", "--seed", "2")
	second.Env = append(os.Environ(), "MCPLOAD_TEST_MAIN=1")
	out2, err := second.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInvalid {
		t.Fatalf("second run: %v, want exit %d:\n%s", err, exitInvalid, out2)
	}
	host, _ := os.Hostname()
	for _, want := range []string{"being written", fmt.Sprintf("pid %d", first.Process.Pid), "host " + host, "started "} {
		if !strings.Contains(string(out2), want) {
			t.Errorf("second run's message lacks %q:\n%s", want, out2)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, record.ScenarioFile)); !bytes.Equal(after, scenario) {
		t.Errorf("the refused run rewrote the first run's scenario.yaml")
	}

	// report on the folder while it is written says so.
	code, _, stderr := mcpload(t, "report", dir)
	if code != exitPass || !strings.Contains(stderr, "still being written") || !strings.Contains(stderr, fmt.Sprintf("pid %d", first.Process.Pid)) {
		t.Errorf("report during the run: exit %d, stderr:\n%s", code, stderr)
	}

	if err := first.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := first.Wait(); !errors.As(err, &ee) || ee.ExitCode() != exitRuntime {
		t.Fatalf("first run: %v, want exit %d (interrupted):\n%s", err, exitRuntime, out1.String())
	}
	if h, ok := record.Writing(dir); ok {
		t.Errorf("the lock is still held after the run ended, by %s", h)
	}
	// Its records are its own, whole: nothing spliced in.
	s := readSummary(t, dir)
	if s.Damaged != nil || s.Seed != 1 {
		t.Errorf("the first run's folder: seed %d, damaged %+v", s.Seed, s.Damaged)
	}
	// The folder is free again: a new run into it is accepted.
	if code, _, stderr := mcpload(t, "run", "quickstart", "--out", dir, "--progress", "off", "--duration", "1s"); code != exitPass {
		t.Errorf("a run into the released folder: exit %d:\n%s", code, stderr)
	}
}

// TestKilledRunLeavesReadableFolder kills a real run with SIGKILL, as a
// crash would: its lock goes with it, and report reads what it wrote,
// compressed attempts included, up to its last flush.
func TestKilledRunLeavesReadableFolder(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := filepath.Join(t.TempDir(), "run")
	cmd := startRun(t, dir, io.Discard)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if run, err := runfolder.ReadRun(dir); err == nil && run.Conversations.OK >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("fewer than 20 conversations recorded after 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if h, ok := record.Writing(dir); ok {
		t.Fatalf("a killed run still holds the lock: %s", h)
	}
	code, _, stderr := mcpload(t, "report", dir)
	if code != exitPass && code != exitThresholds {
		t.Fatalf("report: exit %d:\n%s", code, stderr)
	}
	s := readSummary(t, dir)
	if s.Status != record.StatusRunning || s.Cost == nil || len(s.Cost.ByModel) == 0 || s.Cost.ByModel[0].Attempts < 20 {
		t.Fatalf("status %s, cost %+v: want the attempts up to the last flush", s.Status, s.Cost)
	}
	if d := s.Damaged; d != nil && (d.AttemptBytes > 0 || d.AttemptLines > 1 || d.HistogramIntervals > 1 || d.ResultRecords > 1) {
		t.Errorf("damaged = %+v: a kill leaves at most a torn record per file", d)
	}
}

// TestReportSkipsDamage damages one interval of histograms.hlog, three
// lines of attempts.jsonl.gz and one result of results.bin of a real run:
// report keeps everything else, and says what it skipped on the terminal
// and in summary.json.
func TestReportSkipsDamage(t *testing.T) {
	t.Parallel()
	// 6 s, so that even a loaded machine flushes a few intervals.
	dir := quickRun(t, "--duration", "6s")
	before := readSummary(t, dir)
	convs := before.LatencyMS.Conversation.Count
	modelAttempts := before.Cost.ByModel[0].Attempts

	// One interval of the conversation histogram, in the middle of the log.
	hlogPath := filepath.Join(dir, record.HistogramsFile)
	hlog, err := os.ReadFile(hlogPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(hlog), "\n")
	var convLines []int
	for i, l := range lines {
		if strings.HasPrefix(l, "Tag="+record.LevelConversation+",") {
			convLines = append(convLines, i)
		}
	}
	// A loaded machine flushes a 3 s run in as few as two intervals: the
	// damaged one is then the first, with another after it to read.
	if len(convLines) < 2 {
		t.Fatalf("only %d conversation intervals", len(convLines))
	}
	bad := convLines[(len(convLines)-1)/2]
	payload := lines[bad][strings.LastIndexByte(lines[bad], ',')+1:]
	h, err := hdrhistogram.Decode([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	lost := h.TotalCount()
	lines[bad] = strings.Replace(lines[bad], payload[10:20], "!!!!!!!!!!", 1)
	must(t, os.WriteFile(hlogPath, []byte(strings.Join(lines, "\n")), 0o644))

	// Three model attempts' lines, in the compressed file.
	gzPath := filepath.Join(dir, record.AttemptsFile+record.GzipSuffix)
	attempts := gunzip(t, gzPath)
	alines := strings.Split(attempts, "\n")
	damaged := 0
	for i, l := range alines {
		if damaged < 3 && i > 20 && strings.Contains(l, `"kind":"model"`) {
			alines[i] = l[:len(l)/2] + `"}garbage`
			damaged++
		}
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(strings.Join(alines, "\n")))
	must(t, zw.Close())
	must(t, os.WriteFile(gzPath, zb.Bytes(), 0o644))

	// One result: its method's length byte now claims more than the
	// message holds.
	resPath := filepath.Join(dir, record.ResultsFile)
	res, err := os.ReadFile(resPath)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(res[len(res)/2:], []byte("\x04POST"))
	if at < 0 {
		t.Fatal("no result to damage")
	}
	res[len(res)/2+at] = 0x7f
	must(t, os.WriteFile(resPath, res, 0o644))

	code, stdout, stderr := mcpload(t, "report", dir)
	if code != exitPass {
		t.Fatalf("report: exit %d:\n%s", code, stderr)
	}
	s := readSummary(t, dir)
	want := summary.Damaged{AttemptLines: 3, HistogramIntervals: 1, ResultRecords: 1}
	if d := s.Damaged; d == nil || d.AttemptLines != want.AttemptLines || d.HistogramIntervals != want.HistogramIntervals ||
		d.ResultRecords != want.ResultRecords || d.ResultBytes <= 0 || d.ResultBytes > 300 {
		t.Errorf("damaged = %+v, want %+v and one result's bytes", d, want)
	}
	if got := s.LatencyMS.Conversation.Count; got != convs-lost {
		t.Errorf("conversation histogram holds %d values, want %d: only the damaged interval's %d lost", got, convs-lost, lost)
	}
	if got := s.Cost.ByModel[0].Attempts; got != modelAttempts-3 {
		t.Errorf("%d model attempts priced, want %d: only the 3 damaged lines lost", got, modelAttempts-3)
	}
	var ts struct {
		Conversations struct{ OK []int } `json:"conversations"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "timeseries.json"))
	must(t, err)
	must(t, json.Unmarshal(b, &ts))
	sum := 0
	for _, n := range ts.Conversations.OK {
		sum += n
	}
	if want := int(before.Conversations.OK) - 1; sum != want {
		t.Errorf("results.bin gave %d ok conversations, want %d: only the damaged one lost", sum, want)
	}
	for _, w := range []string{"Damaged", "3 attempt lines", "1 histogram intervals", "1 stretches of results.bin"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("terminal summary lacks %q:\n%s", w, stdout)
		}
	}
}

// TestResultsBytesPerConversation bounds what a run records per
// conversation: attempts, results, events and histograms together, on a
// short mock run at 100 conversations a second (where the histograms'
// per-second cost is spread thin, as in any real load test).
func TestResultsBytesPerConversation(t *testing.T) {
	dir := quickRun(t, "--rate", "100")
	s := readSummary(t, dir)
	var total int64
	for _, name := range []string{record.AttemptsFile, record.AttemptsFile + record.GzipSuffix, record.ResultsFile, record.EventsFile, record.HistogramsFile} {
		if info, err := os.Stat(filepath.Join(dir, name)); err == nil {
			total += info.Size()
		}
	}
	n := int64(s.Conversations.Started)
	if n < 100 {
		t.Fatalf("only %d conversations", n)
	}
	if per := total / n; per > 300 {
		t.Errorf("%d bytes per conversation (%d bytes, %d conversations), want at most 300", per, total, n)
	}
	// Every attempt is still there, readable with gzip.
	if got := strings.Count(gunzip(t, filepath.Join(dir, record.AttemptsFile+record.GzipSuffix)), "\n"); uint64(got) != s.Attempts.Total {
		t.Errorf("attempts.jsonl.gz holds %d lines, run.json counts %d attempts", got, s.Attempts.Total)
	}
}

// TestReportReadsCutGzip cuts attempts.jsonl.gz in the middle of its
// stream, as a crash would: report still reads every line before the cut.
func TestReportReadsCutGzip(t *testing.T) {
	t.Parallel()
	dir := quickRun(t)
	before := readSummary(t, dir)
	all := before.Cost.ByModel[0].Attempts
	gzPath := filepath.Join(dir, record.AttemptsFile+record.GzipSuffix)
	b, err := os.ReadFile(gzPath)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(gzPath, b[:len(b)/2], 0o644))
	code, _, stderr := mcpload(t, "report", dir)
	if code != exitPass && code != exitThresholds {
		t.Fatalf("report: exit %d:\n%s", code, stderr)
	}
	s := readSummary(t, dir)
	// The run flushes every second: a 3 s run cut in half keeps most of
	// its first half.
	if got := s.Cost.ByModel[0].Attempts; got < all/5 || got >= all {
		t.Errorf("%d of %d model attempts read from the first half of the file", got, all)
	}
	if d := s.Damaged; d != nil && (d.AttemptLines > 1 || d.AttemptBytes > 0) {
		t.Errorf("damaged = %+v: a cut tail is at most one torn line", d)
	}
}

// gunzip reads a gzip file whole.
func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
