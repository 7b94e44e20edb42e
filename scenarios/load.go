package scenarios

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mcpload/mcpload/record"
)

// embedded holds the scenarios that ship in the binary. They double as the
// schema's documentation, so each explains its fields in comments.
//
//go:embed *.yaml
var embedded embed.FS

// EmbeddedPrefix starts the File of a scenario loaded from the binary.
const EmbeddedPrefix = "embedded:"

// Embedded lists the names of the embedded scenarios, sorted, without the
// .yaml extension.
func Embedded() []string {
	files, _ := fs.Glob(embedded, "*.yaml") // the pattern is valid
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(f, ".yaml")
	}
	slices.Sort(names)
	return names
}

// EmbeddedFS is the embedded scenarios as files NAME.yaml, for
// "mcpload validate" of them all and for copying one out as a template.
func EmbeddedFS() fs.FS { return embedded }

// MaxFileBytes bounds a scenario file. The largest embedded scenario is a
// few kilobytes; the bound keeps a wrong path (a log, an image) from taking
// all memory.
const MaxFileBytes = 4 << 20

// Load loads, defaults and validates a scenario. nameOrPath is a file, or,
// when no such file exists, the name of an embedded scenario ("quickstart",
// "quickstart.yaml" or "embedded:quickstart"). A file wins over an embedded scenario of the same
// name, so that a user's copy can shadow the built-in one. Problems in the
// scenario come back as Errors.
func Load(nameOrPath string) (*Scenario, error) { return LoadWith(nameOrPath, Options{}) }

// LoadWith is Load with variables looked up and --set overrides applied
// as o says.
func LoadWith(nameOrPath string, o Options) (*Scenario, error) {
	info, err := os.Stat(nameOrPath)
	switch {
	case err == nil && !info.IsDir():
		data, err := record.ReadRegular(nameOrPath, MaxFileBytes)
		if err != nil {
			return nil, fmt.Errorf("reading scenario: %w", err)
		}
		return ParseWith(nameOrPath, data, o)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	// "embedded:NAME" is what a loaded scenario's File says; take it back.
	name := strings.TrimSuffix(strings.TrimPrefix(nameOrPath, EmbeddedPrefix), ".yaml")
	if fs.ValidPath(name) && !strings.Contains(name, "/") {
		if data, rerr := fs.ReadFile(embedded, name+".yaml"); rerr == nil {
			s, perr := ParseWith(name+".yaml", data, o)
			if perr != nil {
				return nil, perr
			}
			s.File = EmbeddedPrefix + name
			return s, nil
		}
	}
	if err == nil { // a directory, and no embedded scenario by that name
		return nil, fmt.Errorf("scenario %q is a directory, not a scenario file", nameOrPath)
	}
	return nil, fmt.Errorf("scenario %q is neither a file nor an embedded scenario (embedded: %s)",
		nameOrPath, strings.Join(Embedded(), ", "))
}

// Parse decodes, defaults and validates the scenario in data. file names it
// in errors and becomes the Scenario's File. When the scenario is invalid,
// Parse returns nil and an Errors holding every problem it found, each with
// line, column and field path.
func Parse(file string, data []byte) (*Scenario, error) { return ParseWith(file, data, Options{}) }

// ParseWith is Parse with variables looked up and --set overrides applied
// as o says (see vars.go and set.go).
func ParseWith(file string, data []byte, o Options) (*Scenario, error) {
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	written, sets, errs := applySets(root, o.Set)
	if len(errs) > 0 {
		return nil, errs
	}
	vars, errs, failed := interpolate(root, file, o, written)
	d := newDecoder(file)
	d.errs, d.failed = errs, failed
	var s Scenario
	d.decode(root, reflect.ValueOf(&s).Elem(), "", 0)
	s.File, s.Variables, s.Sets = file, vars, sets
	s.ApplyDefaults()
	// Validate even after decode errors, so that one pass reports every
	// problem; the validator stays quiet around fields that failed.
	v := &validator{file: file, nodes: d.nodes, keys: d.keys, failed: d.failed}
	v.scenario(&s)
	if o.CheckHeaderVars {
		v.errs = append(v.errs, bearerVars(&s, file, o.lookup(), d.nodes)...)
	}
	if err := append(d.errs, v.errs...).sorted(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Resolved is s as YAML, for a run's scenario.yaml: every default filled in
// (Parse and Load fill them), and no secrets. A Scenario holds none: keys are
// read from the environment or a credentials file by the runner, and only
// the names of those appear here. Parse reads the output back to an equal
// Scenario.
func (s *Scenario) Resolved() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# mcpload resolved scenario: defaults filled in, no secrets.\n# source: %q\n", s.File)
	if len(s.Variables) > 0 {
		fmt.Fprintf(&b, "# variables: %s (substituted below, except in headers, which keep ${VAR})\n", strings.Join(s.Variables, ", "))
	}
	if len(s.Sets) > 0 {
		fmt.Fprintf(&b, "# --set: %s\n", strings.Join(s.Sets, ", "))
	}
	var doc yaml.Node
	if err := doc.Encode(s); err != nil {
		return nil, fmt.Errorf("encoding resolved scenario: %w", err)
	}
	// A $ in a value must read back as itself, not as a reference.
	escapeDollars(&doc, "")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encoding resolved scenario: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding resolved scenario: %w", err)
	}
	return b.Bytes(), nil
}
