package record

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxDocumentBytes bounds a whole-file read of a run folder's JSON documents
// (run.json, summary.json, comparison.json, timeseries.json). They are a few
// kilobytes to a few megabytes; the bound only keeps a corrupt or hostile
// file from taking all memory.
const MaxDocumentBytes = 256 << 20

// OpenRegular opens path for reading and refuses anything but a regular
// file. The open does not block: a named pipe with no writer would
// otherwise hang the reader, and a device such as /dev/zero never ends.
// A missing file gives an error that matches fs.ErrNotExist.
func OpenRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is %s, not a regular file", path, fileKind(info.Mode()))
	}
	return f, nil
}

// ReadRegular reads the regular file at path whole, refusing any other
// kind of file (see OpenRegular) and any file over max bytes.
func ReadRegular(path string, max int64) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %s, the most mcpload reads of it", path, sizeText(max))
	}
	return data, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	}
	return "a special file (" + m.Type().String() + ")"
}

func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
