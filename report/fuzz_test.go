package report

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/junit"
	"github.com/mcpload/mcpload/report/markdown"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
	"github.com/mcpload/mcpload/report/thresholds"
)

// runFolderFiles are the files of a run folder the fuzzer replaces, in the
// order its input picks them.
var runFolderFiles = []string{record.RunFile, record.AttemptsFile, record.HistogramsFile, record.ResultsFile, record.EventsFile, record.ScenarioFile}

// copyRunFolder copies testdata/run, a real one-second quickstart run of
// the mock, into a fresh folder.
func copyRunFolder(t testing.TB) string {
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Join("testdata", "run"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "run", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// FuzzRunFolder replaces one file of a real run folder with the fuzzer's
// bytes and renders it as `mcpload report` does (Write). A corrupt file is
// an error or a summary, never a panic; a summary that renders is written
// as a summary.json that reads back.
func FuzzRunFolder(f *testing.F) {
	for i, name := range runFolderFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "run", name))
		if err != nil && !os.IsNotExist(err) {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	f.Add(uint8(2), []byte("#[StartTime: 0]\nTag=conversation,0.0,1.0,1.0,HISTFAAAAB\n"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		dir := copyRunFolder(t)
		name := runFolderFiles[int(which)%len(runFolderFiles)]
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Write(dir)
		if (s == nil) == (err == nil) {
			t.Fatalf("%s: summary %v and error %v; want exactly one", name, s, err)
		}
		if err != nil {
			if strings.Contains(err.Error(), "encode summary") {
				t.Fatalf("%s: a summary that cannot be written: %v", name, err)
			}
			return
		}
		b, err := os.ReadFile(filepath.Join(dir, record.SummaryFile))
		var back summary.Summary
		if err != nil || json.Unmarshal(b, &back) != nil {
			t.Fatalf("%s: summary.json does not read back: %v", name, err)
		}
		if err := text.Print(io.Discard, s); err != nil {
			t.Fatalf("%s: text: %v", name, err)
		}
	})
}

// FuzzSummaryJSON decodes summary.json as compare and the comparison pages
// read it, and renders and judges the result: a summary that decodes must
// render as text, Markdown and JUnit, take every threshold, and encode back
// to the same JSON.
func FuzzSummaryJSON(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "run", record.SummaryFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"latency_ms":{"conversation":{"count":1}},"conversations":{"started":1},"cost":{"baseline":{}}}`))
	exprs := []string{"conversation.p99 < 2s", "step.model{provider=primary}.p95 < 1s", "success_rate >= 99%",
		"goodput > 1", "cost.per_successful_conversation_usd < 1", "availability.model >= 99%",
		"output_tokens_per_s > 1", "cost.saving > 10%", "retry_amplification < 2", "ttft.model.p50 < 1s"}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s summary.Summary
		if json.Unmarshal(data, &s) != nil {
			return
		}
		s.Thresholds = thresholds.Evaluate(&s, exprs)
		for _, w := range []func(io.Writer, *summary.Summary) error{text.Print, markdown.Write, junit.Write} {
			if err := w(io.Discard, &s); err != nil {
				t.Fatalf("render: %v", err)
			}
		}
		once, err := json.Marshal(&s)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		var back summary.Summary
		if err := json.Unmarshal(once, &back); err != nil {
			t.Fatalf("decode again: %v", err)
		}
		twice, err := json.Marshal(&back)
		if err != nil || !bytes.Equal(once, twice) {
			t.Fatalf("summary.json does not round-trip: %v\n%s\n%s", err, once, twice)
		}
	})
}
