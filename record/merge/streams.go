package merge

import (
	"cmp"
	"container/heap"
	"iter"
)

// mergeStreams hands emit the items of every stream, the least first by
// compare (ties by stream), as long as emit returns nil: a k-way merge
// that holds one item per stream, so that files of millions of lines cost
// one line each. A stream that is not itself in order is merged as it
// comes.
func mergeStreams[T any](streams []iter.Seq[T], compare func(a, b *T) int, emit func(stream int, v *T) error) error {
	h := &streamHeap[T]{compare: compare}
	for i, s := range streams {
		next, stop := iter.Pull(s)
		defer stop()
		if v, ok := next(); ok {
			h.heads = append(h.heads, &head[T]{v: v, stream: i, next: next})
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		top := h.heads[0]
		if err := emit(top.stream, &top.v); err != nil {
			return err
		}
		if v, ok := top.next(); ok {
			top.v = v
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return nil
}

// head is the next item of one stream.
type head[T any] struct {
	v      T
	stream int
	next   func() (T, bool)
}

type streamHeap[T any] struct {
	heads   []*head[T]
	compare func(a, b *T) int
}

func (h *streamHeap[T]) Len() int { return len(h.heads) }
func (h *streamHeap[T]) Less(i, j int) bool {
	a, b := h.heads[i], h.heads[j]
	return cmp.Or(h.compare(&a.v, &b.v), cmp.Compare(a.stream, b.stream)) < 0
}
func (h *streamHeap[T]) Swap(i, j int) { h.heads[i], h.heads[j] = h.heads[j], h.heads[i] }
func (h *streamHeap[T]) Push(x any)    { h.heads = append(h.heads, x.(*head[T])) }
func (h *streamHeap[T]) Pop() any {
	last := h.heads[len(h.heads)-1]
	h.heads = h.heads[:len(h.heads)-1]
	return last
}
