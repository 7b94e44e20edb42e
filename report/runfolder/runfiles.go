// Package runfolder reads the files of a run folder as the attacker wrote
// them (see package record): run.json, the resolved scenario.yaml, the
// interval histograms, the JSONL records and results.bin. It skips damage
// and counts it, so that a torn or damaged folder still reads, and it
// computes no figure: package summary does.
package runfolder

import (
	"bytes"
	"encoding/gob"
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

// ReadRun reads run.json.
func ReadRun(dir string) (*record.Run, error) {
	b, err := record.ReadRegular(filepath.Join(dir, record.RunFile), record.MaxDocumentBytes)
	if err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	var run record.Run
	if err := json.Unmarshal(b, &run); err != nil {
		return nil, fmt.Errorf("read run: %s: %w", record.RunFile, err)
	}
	return &run, nil
}

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

// EachJSONLine decodes every line of the JSONL file name in dir (or of its
// compressed form, name.gz) into a fresh T and hands it to fn, one at a
// time, so that a file of millions of lines costs one line of memory. A
// missing file is empty. A line that does not parse is skipped and
// counted, as is any other damage record.EachLine skips: a crash can tear
// the last line, and one bad line should not hide the rest of the run.
func EachJSONLine[T any](dir, name string, fn func(*T)) (record.LineDamage, error) {
	var bad int64
	d, err := record.EachLine(dir, name, func(line []byte) {
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			bad++
			return
		}
		fn(&v)
	})
	d.Lines += bad
	return d, err
}

// ResultDamage counts what EachResult skipped of a damaged results.bin.
type ResultDamage struct {
	// Records counts the damaged stretches and the torn last record:
	// each lost at least one result.
	Records int64
	// Bytes counts the bytes skipped.
	Bytes int64
}

// maxResultBytes bounds one gob message of results.bin: a Result is about
// a hundred bytes, a long error message a few kilobytes.
const maxResultBytes = 1 << 20

// EachResult decodes results.bin one Result at a time. A missing file is
// empty. A torn tail (a crash mid-write) ends the stream. Damage in the
// middle is skipped: results.bin is a gob stream, type definitions first,
// then one length-prefixed message per Result, so reading resumes at the
// next offset where a message of the Result type decodes, with the
// stream's own type definitions in front.
func EachResult(dir string, fn func(*vegeta.Result)) (ResultDamage, error) {
	var d ResultDamage
	f, err := record.OpenRegular(filepath.Join(dir, record.ResultsFile))
	if errors.Is(err, os.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("read results: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return d, fmt.Errorf("read results: %w", err)
	}
	size := info.Size()
	header, valueID := gobHeader(f, size)
	if header == nil {
		if size > 0 {
			// No type definitions: nothing in the file can be decoded.
			d.Records, d.Bytes = 1, size
		}
		return d, nil
	}
	off := int64(len(header))
	for off < size {
		end, err := decodeResults(f, header, off, size, fn)
		if err == nil {
			break
		}
		d.Records++
		if resultsTorn(f, end, size) {
			d.Bytes += size - end
			break
		}
		next := resyncResults(f, header, valueID, end+1, size)
		d.Bytes += next - end
		off = next
	}
	return d, nil
}

// decodeResults decodes the Results of f from off, behind the type
// definitions header, handing each to fn, until the end of the file or
// an error. It returns the offset after the last Result decoded, and nil
// at the end of the file.
func decodeResults(f io.ReaderAt, header []byte, off, size int64, fn func(*vegeta.Result)) (int64, error) {
	cr := record.NewCountingReader(io.MultiReader(bytes.NewReader(header), io.NewSectionReader(f, off, size-off)))
	dec := gob.NewDecoder(cr)
	end := off
	for {
		// gob leaves out zero fields, so a reused Result would keep the
		// last one's Error: start each from zero.
		var r vegeta.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return end, nil
		}
		if err != nil {
			return end, err
		}
		end = off + cr.N - int64(len(header))
		fn(&r)
	}
}

// resultsTorn reports whether the gob message at off runs past the end of
// the file, as the last message does when a crash cuts it.
func resultsTorn(f io.ReaderAt, off, size int64) bool {
	n, w, ok := gobFrame(f, off, size)
	return !ok && off < size || ok && n <= maxResultBytes && off+int64(w)+int64(n) > size
}

// resyncResults returns the first offset from from on where a Result
// message starts that decodes, along with the message after it, or size.
func resyncResults(f io.ReaderAt, header []byte, valueID int64, from, size int64) int64 {
	for q := from; q < size; q++ {
		n, w, ok := gobFrame(f, q, size)
		if !ok || n == 0 || n > maxResultBytes || q+int64(w)+int64(n) > size {
			continue
		}
		var id [9]byte
		k, _ := f.ReadAt(id[:], q+int64(w))
		if u, _, ok := gobUint(id[:k]); !ok || gobInt(u) != valueID {
			continue
		}
		// Two messages in a row (or one that ends the file) rule out a
		// match by chance inside the damage.
		got := 0
		end, _ := decodeResults(f, header, q, min(size, q+2*maxResultBytes), func(*vegeta.Result) { got++ })
		if got >= 2 || got == 1 && end == size {
			return q
		}
	}
	return size
}

// gobHeader returns the type definitions that open a gob stream, the
// messages before the first value, and the type id of that value; nil
// when the stream does not start with them.
func gobHeader(f io.ReaderAt, size int64) ([]byte, int64) {
	var off int64
	for off < size {
		n, w, ok := gobFrame(f, off, size)
		if !ok || n == 0 || n > maxResultBytes || off+int64(w)+int64(n) > size {
			return nil, 0
		}
		var id [9]byte
		k, _ := f.ReadAt(id[:], off+int64(w))
		u, _, ok := gobUint(id[:k])
		if !ok {
			return nil, 0
		}
		if typeID := gobInt(u); typeID > 0 {
			if off == 0 {
				return nil, 0
			}
			header := make([]byte, off)
			if _, err := f.ReadAt(header, 0); err != nil {
				return nil, 0
			}
			return header, typeID
		}
		off += int64(w) + int64(n)
	}
	return nil, 0
}

// gobFrame reads the length prefix of the gob message at off: the
// message's length and the prefix's width.
func gobFrame(f io.ReaderAt, off, size int64) (n uint64, w int, ok bool) {
	var b [9]byte
	k, _ := f.ReadAt(b[:min(int64(len(b)), size-off)], off)
	return gobUint(b[:k])
}

// gobUint decodes a gob unsigned integer: one byte below 128, else a
// byte holding minus the count of big-endian bytes that follow.
func gobUint(b []byte) (v uint64, w int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1, true
	}
	k := -int(int8(b[0]))
	if k > 8 || len(b) < 1+k {
		return 0, 0, false
	}
	for _, c := range b[1 : 1+k] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + k, true
}

// gobInt decodes a gob signed integer from its unsigned form.
func gobInt(u uint64) int64 {
	if u&1 != 0 {
		return ^int64(u >> 1)
	}
	return int64(u >> 1)
}
