package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// maxLineBytes bounds one line of a JSONL file. Lines are a few hundred
// bytes; the bound only keeps a corrupt file from taking all memory.
const maxLineBytes = 16 << 20

// ReadScenario reads the resolved scenario.yaml of a run folder. A folder
// without one (a run written by a test, or a crash before the file was
// written) gives nil and no error.
func ReadScenario(dir string) (*scenarios.Scenario, error) {
	path := filepath.Join(dir, record.ScenarioFile)
	data, err := record.ReadRegular(path, scenarios.MaxFileBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	sc, err := scenarios.Parse(path, data)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return sc, nil
}

// eachJSONLine decodes every line of the JSONL file name in dir into a fresh
// T and hands it to fn, one at a time, so that a file of millions of lines
// costs one line of memory. A missing file is empty. A line that does not
// parse is skipped and counted: a crash can tear the last line, and one bad
// line should not hide the rest of the run.
func eachJSONLine[T any](dir, name string, fn func(*T)) (skipped int, err error) {
	f, err := record.OpenRegular(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			skipped++
			continue
		}
		fn(&v)
	}
	if err := sc.Err(); err != nil {
		return skipped, fmt.Errorf("read %s: %w", name, err)
	}
	return skipped, nil
}

// eachResult decodes results.bin one Result at a time. A missing file is
// empty; a torn tail (a crash mid-write) ends the stream quietly.
func eachResult(dir string, fn func(*vegeta.Result)) error {
	f, err := record.OpenRegular(filepath.Join(dir, record.ResultsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(bufio.NewReader(f))
	for {
		// gob leaves out zero fields, so a reused Result would keep the
		// last one's Error: start each from zero.
		var r vegeta.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// A torn tail is what a crash leaves; keep what came before.
			return nil
		}
		fn(&r)
	}
}
