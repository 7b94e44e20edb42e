package httpx

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sync"
)

// SSEReader reads Server-Sent Events and returns the data of each event
// (data lines joined by "\n"); other fields and comments are ignored.
type SSEReader struct {
	br   *bufio.Reader
	line []byte
	data []byte
}

var bufioPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

func NewSSEReader(r io.Reader) *SSEReader {
	br := bufioPool.Get().(*bufio.Reader)
	br.Reset(r)
	return &SSEReader{br: br}
}

// release returns the reader's buffer to the pool. The reader must not be
// used afterwards.
func (s *SSEReader) Release() {
	s.br.Reset(nil)
	bufioPool.Put(s.br)
	s.br = nil
}

// next returns the data of the next event, valid until the following call,
// or io.EOF. An event cut off by the end of the body is still returned: a
// cut stream then fails in its parser instead of vanishing silently.
func (s *SSEReader) Next() ([]byte, error) {
	s.data = s.data[:0]
	inEvent := false
	for {
		line, err := s.readLine()
		if err == io.EOF {
			if inEvent {
				return s.data, nil
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			if inEvent {
				return s.data, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		if string(field) != "data" {
			continue
		}
		if inEvent {
			s.data = append(s.data, '\n')
		}
		s.data = append(s.data, value...)
		inEvent = true
	}
}

// readLine returns one line without its line ending. A last line with no
// line ending is returned before io.EOF.
func (s *SSEReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		chunk, err := s.br.ReadSlice('\n')
		s.line = append(s.line, chunk...)
		if len(s.line) > MaxSSELine {
			return nil, fmt.Errorf("SSE line exceeds %d bytes", MaxSSELine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && (err != io.EOF || len(s.line) == 0) {
			return nil, err
		}
		line := s.line
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		return line, nil
	}
}
