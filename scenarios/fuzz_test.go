package scenarios

import (
	"bytes"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that it returns either a
// scenario or errors, and that a scenario it accepts survives Resolved.
func FuzzParse(f *testing.F) {
	for _, name := range Embedded() {
		data, err := fs.ReadFile(EmbeddedFS(), name+".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(stripComments(data))
	}
	f.Add([]byte(base))
	f.Add([]byte(resilient))
	f.Add([]byte("name: x\nload: {stages: [{rate: 50/1s, duration: 1s}]}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("<<: {name: x}\nversion: 1\n"))
	f.Add([]byte(strings.Replace(base, "user: hi", "user: ${MCPLOAD_FUZZ_UNSET:-h$$i}", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data)
		if (s == nil) == (err == nil) {
			t.Fatalf("Parse returned scenario %v and error %v; want exactly one", s, err)
		}
		if err != nil {
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("Parse error is %T %v, want a non-empty Errors", err, err)
			}
			return
		}
		out, err := s.Resolved()
		if err != nil {
			t.Fatalf("Resolved: %v", err)
		}
		again, err := Parse("resolved.yaml", out)
		if err != nil {
			t.Fatalf("Parse(Resolved()): %v\ninput:\n%s\nresolved:\n%s", err, data, out)
		}
		// Where the values came from is in the resolved file's comments.
		again.File, again.Variables, again.Sets = s.File, s.Variables, s.Sets
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("Parse(Resolved()) differs from the original\ninput:\n%s\nresolved:\n%s", data, out)
		}
	})
}

// stripComments drops comment-only and blank lines. The fuzzer minimizes
// every new interesting input, for up to a minute each by default; small
// seeds leave the time for fuzzing.
func stripComments(data []byte) []byte {
	var out []byte
	for line := range bytes.Lines(data) {
		if t := bytes.TrimSpace(line); len(t) == 0 || t[0] == '#' {
			continue
		}
		out = append(out, line...)
	}
	return out
}
