package httpx

import (
	"bytes"
	"sync"
)

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func GetBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

func PutBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // let an outsized buffer go rather than pin it
	}
	b.Reset()
	bufferPool.Put(b)
}
