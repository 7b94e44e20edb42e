package record

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// line is line i of the test files: a JSON object, as attempts are.
func line(i int) string {
	return fmt.Sprintf(`{"conv":%d,"key":"model:primary/gpt-4.1-mini","outcome":"ok","latency_us":%d}`, i, 1000+i*7)
}

// gzipLines writes lines [from, to) into zw, with a sync flush after each
// in flushAt, as the recorder flushes each interval.
func gzipLines(t *testing.T, zw *gzip.Writer, from, to int, flushAt ...int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := zw.Write([]byte(line(i) + "\n")); err != nil {
			t.Fatal(err)
		}
		for _, f := range flushAt {
			if i+1 == f {
				if err := zw.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// readLines reads the attempts of dir with EachLine.
func readLines(t *testing.T, dir string) ([]string, LineDamage) {
	t.Helper()
	var got []string
	d, err := EachLine(dir, AttemptsFile, func(b []byte) { got = append(got, string(b)) })
	if err != nil {
		t.Fatal(err)
	}
	return got, d
}

// TestEachLineGzipCutAnywhere cuts a compressed attempts file at every
// byte, as a crash can, and reads it: every line written before the cut's
// last flush comes back whole, in order, and nothing else but at most one
// torn line, a prefix of the real one.
func TestEachLineGzipCutAnywhere(t *testing.T) {
	var full bytes.Buffer
	zw := gzip.NewWriter(&full)
	gzipLines(t, zw, 0, 40)
	must(t, zw.Close())
	memberEnd := full.Len()
	zw.Reset(&full)
	gzipLines(t, zw, 40, 100, 70)
	must(t, zw.Flush())
	flushed := full.Len() // lines 0-99 are decodable from here on
	gzipLines(t, zw, 100, 130)
	must(t, zw.Close())

	dir := t.TempDir()
	path := filepath.Join(dir, AttemptsFile+GzipSuffix)
	for cut := 0; cut <= full.Len(); cut++ {
		must(t, os.WriteFile(path, full.Bytes()[:cut], 0o644))
		got, d := readLines(t, dir)
		want := 0
		switch {
		case cut == full.Len():
			want = 130
		case cut >= flushed:
			want = 100
		case cut >= memberEnd:
			want = 40
		}
		whole := 0
		for i, g := range got {
			if g == line(i) {
				whole++
				continue
			}
			if i != len(got)-1 || !strings.HasPrefix(line(i), g) {
				t.Fatalf("cut at %d: line %d is %q, want %q", cut, i, g, line(i))
			}
		}
		if whole < want {
			t.Fatalf("cut at %d of %d: %d whole lines, want at least %d", cut, full.Len(), whole, want)
		}
		if d.Lines != 0 || d.Bytes != 0 {
			t.Fatalf("cut at %d: damage %+v; a cut tail is not damage to the stream", cut, d)
		}
	}
}

// TestEachLineResyncsPastDamage damages the middle member of three: the
// first and last are read whole, and the damage is counted in bytes.
func TestEachLineResyncsPastDamage(t *testing.T) {
	var b bytes.Buffer
	var starts []int
	zw := gzip.NewWriter(&b)
	for m := range 3 {
		starts = append(starts, b.Len())
		zw.Reset(&b)
		gzipLines(t, zw, m*50, m*50+50)
		must(t, zw.Close())
	}
	data := b.Bytes()
	// Past the member's 10-byte header, into its compressed lines.
	for i := starts[1] + 20; i < starts[1]+40; i++ {
		data[i] ^= 0x5a
	}
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, AttemptsFile+GzipSuffix), data, 0o644))
	got, d := readLines(t, dir)
	seen := map[string]bool{}
	for _, g := range got {
		seen[g] = true
	}
	for _, i := range []int{0, 49, 100, 149} {
		if !seen[line(i)] {
			t.Errorf("line %d lost; the damage was in lines 50-99 only", i)
		}
	}
	if d.Bytes <= 0 || d.Bytes > int64(starts[2]-starts[1]) {
		t.Errorf("damage %+v, want the middle member's bytes (%d) at most", d, starts[2]-starts[1])
	}
}

// TestEachLinePlainForm reads an uncompressed attempts.jsonl, as older
// runs wrote, and prefers the compressed form when both exist.
func TestEachLinePlainForm(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, AttemptsFile), []byte(line(0)+"\n"+line(1)+"\n"+`{"conv":2,"ke`), 0o644))
	got, _ := readLines(t, dir)
	if len(got) != 3 || got[0] != line(0) || got[1] != line(1) {
		t.Fatalf("plain: %q", got)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	gzipLines(t, zw, 5, 6)
	must(t, zw.Close())
	must(t, os.WriteFile(filepath.Join(dir, AttemptsFile+GzipSuffix), b.Bytes(), 0o644))
	if got, _ := readLines(t, dir); len(got) != 1 || got[0] != line(5) {
		t.Fatalf("with both forms: %q, want the compressed one's", got)
	}
}

// TestLineFollowerGzip follows a compressed file as the recorder writes
// it: a member in progress, flushed at each interval, then ended and a new
// one begun. Each line comes out once, in order, and never torn.
func TestLineFollowerGzip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, AttemptsFile+GzipSuffix)
	var file bytes.Buffer
	zw := gzip.NewWriter(&file)
	f := &LineFollower{Name: AttemptsFile}
	var got []string
	next := func(n int) {
		t.Helper()
		must(t, os.WriteFile(path, file.Bytes(), 0o644))
		must(t, f.Next(dir, func(b []byte) { got = append(got, string(b)) }))
		if len(got) != n {
			t.Fatalf("after the write: %d lines, want %d", len(got), n)
		}
	}
	next(0)
	gzipLines(t, zw, 0, 10, 10)
	// Half a line more, not flushed: nothing of it is readable yet.
	_, _ = zw.Write([]byte(line(10)[:20]))
	next(10)
	_, _ = zw.Write([]byte(line(10)[20:] + "\n"))
	gzipLines(t, zw, 11, 20, 20)
	next(20)
	must(t, zw.Close())
	zw.Reset(&file)
	gzipLines(t, zw, 20, 25, 25)
	next(25)
	must(t, zw.Close())
	next(25)
	for i, g := range got {
		if g != line(i) {
			t.Fatalf("line %d: %q, want %q", i, g, line(i))
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
