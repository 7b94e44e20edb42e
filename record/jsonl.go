package record

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// GzipSuffix ends the compressed form of a run file: attempts.jsonl.gz is
// attempts.jsonl as a series of gzip members, which zcat and gzip -dc read
// as one stream.
const GzipSuffix = ".gz"

// MaxLineBytes bounds one line of a JSONL file. Lines are a few hundred
// bytes; the bound only keeps a corrupt file from taking all memory.
const MaxLineBytes = 16 << 20

// LineDamage counts what a reader skipped of a damaged JSONL file.
type LineDamage struct {
	// Lines counts lines that were skipped: too long to be a record, or
	// (counted by the caller) not a record.
	Lines int64
	// Bytes counts the bytes of the file, as stored (compressed for a .gz
	// file), of gzip members that did not decode: their lines after the
	// damage are lost.
	Bytes int64
}

// EachLine hands fn every line of the JSONL file name in dir, reading its
// compressed form name+".gz" when that exists. A missing file is empty.
// fn gets each line without its newline, in a buffer that is reused.
//
// Damage is skipped and counted, never fatal: a line longer than
// MaxLineBytes is dropped, and a gzip member that does not decode is
// abandoned at the damage, reading resuming at the next member. A file
// that ends inside a line or a member, as a crash or a run still writing
// leaves it, yields every complete line, then the torn one (which the
// caller's parsing rejects).
func EachLine(dir, name string, fn func(line []byte)) (LineDamage, error) {
	var d LineDamage
	f, gz, err := openLines(dir, name)
	if f == nil || err != nil {
		return d, err
	}
	defer f.Close()
	s := &lineSplitter{fn: fn, d: &d}
	if !gz {
		_, err := io.Copy(s, f)
		s.line()
		if err != nil {
			return d, fmt.Errorf("read %s: %w", name, err)
		}
		return d, nil
	}
	info, err := f.Stat()
	if err != nil {
		return d, fmt.Errorf("read %s: %w", name+GzipSuffix, err)
	}
	m := &members{f: f, size: info.Size()}
	for m.off < m.size {
		err := m.next(s)
		// Members end between lines: what is left is a torn line.
		s.line()
		switch {
		case err == nil:
		case m.torn(err):
			// The file ends inside the member: a crash, or a run still
			// writing. Every complete line was read.
			return d, nil
		default:
			d.Bytes += m.resync()
		}
	}
	return d, nil
}

// openLines opens name+".gz" in dir, or else name; nil when neither
// exists.
func openLines(dir, name string) (f *os.File, gz bool, err error) {
	f, err = OpenRegular(filepath.Join(dir, name+GzipSuffix))
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read %s: %w", name+GzipSuffix, err)
	}
	f, err = OpenRegular(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	return f, false, nil
}

// lineSplitter is an io.Writer that hands whole lines to fn, dropping
// (and counting) any longer than MaxLineBytes.
type lineSplitter struct {
	fn   func([]byte)
	d    *LineDamage
	buf  []byte
	over bool
}

func (s *lineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.add(p)
			break
		}
		s.add(p[:i])
		s.line()
		p = p[i+1:]
	}
	return n, nil
}

func (s *lineSplitter) add(p []byte) {
	if s.over {
		return
	}
	if len(s.buf)+len(p) > MaxLineBytes {
		s.over, s.buf = true, s.buf[:0]
		return
	}
	s.buf = append(s.buf, p...)
}

// line ends the current line.
func (s *lineSplitter) line() {
	switch {
	case s.over:
		s.d.Lines++
	case len(s.buf) > 0:
		s.fn(s.buf)
	}
	s.over, s.buf = false, s.buf[:0]
}

// members reads a gzip file one member at a time.
type members struct {
	f    io.ReaderAt
	size int64
	// off is where the next member starts; read is how far the last
	// call to next read.
	off, read int64
	zr        gzip.Reader
}

// next decodes the member at off into w. On success off moves past it;
// otherwise off stays, and the error says why: torn tells a member the
// file ends inside from a damaged one.
func (m *members) next(w io.Writer) error {
	// A flate.Reader (a ByteReader) is read exactly to the member's end,
	// so the count tells where the next member starts.
	cr := NewCountingReader(io.NewSectionReader(m.f, m.off, m.size-m.off))
	defer func() { m.read = m.off + cr.N }()
	if err := m.zr.Reset(cr); err != nil {
		return err
	}
	m.zr.Multistream(false)
	if _, err := io.Copy(w, &m.zr); err != nil {
		return err
	}
	m.off += cr.N
	return nil
}

// torn reports whether err, from next, means that the file ends inside
// the member, rather than that the member is damaged.
func (m *members) torn(err error) bool {
	return m.read >= m.size && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF))
}

// resync moves off to the next gzip header after it, or to the end of
// the file, and returns how many bytes it skipped.
func (m *members) resync() int64 {
	from := m.off
	magic := []byte{0x1f, 0x8b, 0x08}
	buf := make([]byte, 64<<10)
	for at := from + 1; at < m.size; {
		n, err := m.f.ReadAt(buf, at)
		if i := bytes.Index(buf[:n], magic); i >= 0 {
			m.off = at + int64(i)
			return m.off - from
		}
		if err != nil || n < len(magic) {
			break
		}
		// Overlap by the magic's length, for a header across two reads.
		at += int64(n - len(magic) + 1)
	}
	m.off = m.size
	return m.off - from
}

// CountingReader is a buffered reader that counts the bytes read through
// it. It is an io.ByteReader, so that gzip and gob read through it
// directly and stop exactly at the end of a member or a message: N then
// says where the next one starts, for readers that resync past damage.
type CountingReader struct {
	r *bufio.Reader
	// N is how many bytes were read.
	N int64
}

// NewCountingReader returns a CountingReader over r.
func NewCountingReader(r io.Reader) *CountingReader {
	return &CountingReader{r: bufio.NewReaderSize(r, 64<<10)}
}

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.N += int64(n)
	return n, err
}

// ReadByte implements io.ByteReader.
func (c *CountingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.N++
	}
	return b, err
}

// LineFollower reads the lines a run appends to one of its JSONL files,
// plain or compressed, a little at a time: each call reads only what was
// appended since the last, and never a line the writer has not finished.
// Of a compressed file, it decodes the gzip member in progress from its
// start each time (the writer bounds members to a megabyte or so).
type LineFollower struct {
	// Name is the file's plain name, such as AttemptsFile.
	Name string

	// off is where the next line (plain) or the member in progress (gzip)
	// starts; done counts the member's bytes already handed over.
	off    int64
	done   int
	member bytes.Buffer
}

// Next hands fn the complete lines appended to the file in dir since the
// last call. A missing file has none yet. A damaged gzip member is
// skipped.
func (l *LineFollower) Next(dir string, fn func(line []byte)) error {
	f, gz, err := openLines(dir, l.Name)
	if f == nil || err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("follow %s: %w", l.Name, err)
	}
	if !gz {
		b, err := io.ReadAll(io.NewSectionReader(f, l.off, info.Size()-l.off))
		if err != nil {
			return fmt.Errorf("follow %s: %w", l.Name, err)
		}
		end := bytes.LastIndexByte(b, '\n')
		if end < 0 {
			return nil
		}
		splitLines(b[:end], fn)
		l.off += int64(end + 1)
		return nil
	}
	m := &members{f: f, size: info.Size(), off: l.off}
	for m.off < m.size {
		l.member.Reset()
		err := m.next(&l.member)
		b := l.member.Bytes()[min(l.done, l.member.Len()):]
		switch {
		case err == nil:
			splitLines(b, fn)
			l.done = 0
		case m.torn(err):
			// The member in progress: its lines up to the writer's last
			// flush, and the rest next time.
			if end := bytes.LastIndexByte(b, '\n'); end >= 0 {
				splitLines(b[:end], fn)
				l.done += end + 1
			}
			return nil
		default:
			m.resync()
			l.done = 0
		}
		l.off = m.off
	}
	return nil
}

func splitLines(b []byte, fn func([]byte)) {
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		if len(line) > 0 {
			fn(line)
		}
	}
}
