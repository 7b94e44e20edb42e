package fdbudget

import (
	"os"

	"github.com/mcpload/mcpload/attacker/policy"
)

// SpareFDs is how many descriptors the recorder keeps in reserve.
const SpareFDs = 8

// Spares holds descriptors open on os.DevNull, so that the run's own files
// can still be written when connections have filled the descriptor table:
// creating a file needs a descriptor, and a full table fails it with
// EMFILE. It is not safe for concurrent use; the recorder uses it under
// flushMu. A nil *spares has none.
type Spares struct {
	files []*os.File
	want  int
}

// NewSpares opens up to n spare descriptors, as many as the table allows.
func NewSpares(n int) *Spares {
	s := &Spares{want: n}
	s.Refill()
	return s
}

// Retry runs write; while it fails because a resource of the process ran
// out (policy.IsLocal) and spares remain, it closes a spare and runs it
// again. A connection being dialled at the same moment can take the freed
// descriptor first, which is why there are several.
func (s *Spares) Retry(write func() error) error {
	err := write()
	for s != nil && policy.IsLocal(err) && len(s.files) > 0 {
		last := len(s.files) - 1
		s.files[last].Close()
		s.files = s.files[:last]
		err = write()
	}
	return err
}

// Refill opens spares again up to the number wanted, as far as the table
// has room.
func (s *Spares) Refill() {
	for s != nil && len(s.files) < s.want {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return
		}
		s.files = append(s.files, f)
	}
}

// Release closes every spare, for the last writes of the run.
func (s *Spares) Release() {
	if s == nil {
		return
	}
	for _, f := range s.files {
		f.Close()
	}
	s.files, s.want = nil, 0
}
