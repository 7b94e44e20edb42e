package attacker

import "compress/gzip"

// gzipMemberBytes is how many bytes of records a gzip member holds before
// the next flush ends it. A reader following the run (summary.Live)
// decodes the member in progress from its start at each interval, so
// this bounds that work; compression barely gains past it.
const gzipMemberBytes = 1 << 20

// gzipFile compresses whole records into a chunkFile as a series of gzip
// members, which zcat and gzip -dc read as one stream. Every flush ends
// the compressed data on a byte boundary with everything so far decodable
// (a sync flush, or the member's end), so that a crash or Ctrl-C loses at
// most the interval in progress, and a reader of a file cut anywhere gets
// every line written before the last flush. Like chunkFile, it is not safe
// for concurrent use; its owner locks.
type gzipFile struct {
	c  *chunkFile
	zw *gzip.Writer
	// member counts the bytes of records in the member in progress; 0
	// when none is open.
	member int
}

func newGzipFile(c *chunkFile) *gzipFile {
	// The default level: JSON lines shrink about tenfold, at a cost of
	// about a millisecond per 64 KB of lines.
	return &gzipFile{c: c, zw: gzip.NewWriter(c)}
}

// write appends a whole record.
func (g *gzipFile) write(p []byte) {
	if g.member == 0 {
		g.zw.Reset(g.c)
	}
	// Writes into a chunkFile do not fail; its errors show at flush.
	_, _ = g.zw.Write(p)
	g.member += len(p)
	g.c.commit()
}

// flush makes every record so far decodable, ending the member once it
// is large, and writes the buffer.
func (g *gzipFile) flush() error {
	switch {
	case g.member >= gzipMemberBytes:
		_ = g.zw.Close()
		g.member = 0
	case g.member > 0:
		_ = g.zw.Flush()
	}
	return g.c.flush()
}

// close ends the member and closes the file.
func (g *gzipFile) close() error {
	if g.member > 0 {
		_ = g.zw.Close()
		g.member = 0
	}
	return g.c.close()
}
