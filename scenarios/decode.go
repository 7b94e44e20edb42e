package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits on what one scenario file may expand to. Aliases can make a small
// file describe a huge (or, with a self-reference, infinite) tree, so the
// decoder counts what it visits instead of trusting the input.
const (
	maxNodes = 100_000
	maxDepth = 100
)

// decoder turns a yaml.Node tree into Go values. It does the job of
// yaml.v3's Decoder with KnownFields, but keeps every node's line and column,
// names every error by field path, and goes on after an error so that all of
// them are reported at once.
type decoder struct {
	file string
	errs Errors
	// nodes maps the path of every field that was present to its value
	// node, so that validation can point at the line and column.
	nodes map[string]*yaml.Node
	// keys maps the path of every map entry to its key node, so that an
	// error about an entry's name points at the name.
	keys map[string]*yaml.Node
	// failed holds the paths that had decode errors, so that validation does
	// not pile guesses on top of them.
	failed   []string
	budget   int
	tooLarge bool
	tooDeep  bool
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, nodes: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}, budget: maxNodes}
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &FieldError{File: d.file, Field: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
	d.failed = append(d.failed, path)
}

var (
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	latencyType     = reflect.TypeFor[Latency]()
	thresholdType   = reflect.TypeFor[Threshold]()
)

// enter follows aliases and charges n against the limits. It returns the
// node to decode, or nil when a limit was hit.
func (d *decoder) enter(n *yaml.Node, path string, depth int) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		d.budget--
		n = n.Alias
	}
	d.budget--
	switch {
	case n == nil:
		return nil
	case d.budget < 0:
		if !d.tooLarge {
			d.tooLarge = true
			d.errorf(n, path, "the scenario expands to more than %d YAML nodes (through aliases?); it is too large", maxNodes)
		}
		return nil
	case depth > maxDepth:
		if !d.tooDeep {
			d.tooDeep = true
			d.errorf(n, path, "nested more than %d levels deep (a self-referencing alias?)", maxDepth)
		}
		return nil
	}
	return n
}

// decode decodes n into v, which must be settable, and records n as the node
// of path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n = d.enter(n, path, depth); n == nil {
		return
	}
	d.nodes[path] = n
	if isNull(n) {
		return // as yaml.v3 does: null leaves the zero value
	}
	if t := v.Type(); t.Kind() == reflect.Pointer {
		// Optional values (*bool, *float64, *Retry): present, even when
		// zero, is not the same as absent.
		p := reflect.New(t.Elem())
		d.decodeNonNil(n, p.Elem(), path, depth)
		v.Set(p)
		return
	}
	d.decodeNonNil(n, v, path, depth)
}

// decodeNonNil decodes the non-null node n into v, which is not a pointer.
func (d *decoder) decodeNonNil(n *yaml.Node, v reflect.Value, path string, depth int) {
	t := v.Type()
	switch {
	case (t == latencyType || t == thresholdType) && n.Kind == yaml.MappingNode:
		d.decodeStruct(n, v, path, depth)
	case reflect.PointerTo(t).Implements(unmarshalerType):
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.errorf(n, path, "%s", err)
		}
	default:
		d.decodeValue(n, v, path, depth)
	}
}

func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, path string, depth int) {
	t := v.Type()
	switch t.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path, depth)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic("scenarios: map keys must be strings: " + t.String())
		}
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "expected a mapping, got %s", describe(n))
			return
		}
		m := reflect.MakeMap(t)
		generic := t.Elem().Kind() == reflect.Interface
		for _, p := range d.pairs(n, path, depth) {
			kp := mapKey(path, p.key.Value)
			d.keys[kp] = p.key
			e := reflect.New(t.Elem()).Elem()
			if generic {
				if x, ok := d.generic(p.value, kp, depth+1); ok && x != nil {
					e.Set(reflect.ValueOf(x))
				}
			} else {
				d.decode(p.value, e, kp, depth+1)
			}
			m.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(t.Key()), e)
		}
		// An empty mapping means the same as none, and omitempty writes it
		// as none; keeping nil makes Resolved round-trip.
		if m.Len() > 0 {
			v.Set(m)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(t, 0, len(n.Content))
		for i, c := range n.Content {
			e := reflect.New(t.Elem()).Elem()
			d.decode(c, e, index(path, i), depth+1)
			s = reflect.Append(s, e)
		}
		if s.Len() > 0 {
			v.Set(s)
		}
	case reflect.Interface:
		if x, ok := d.generic(n, path, depth); ok && x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, path, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(scalarString(n))
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.errorf(n, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.errorf(n, path, "expected an integer, got %s", describe(n))
			return
		}
		if n.Decode(&i) != nil || v.OverflowInt(i) {
			d.errorf(n, path, "integer %s is out of range", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") {
			d.errorf(n, path, "expected a number, got %s", describe(n))
			return
		}
		// NaN and infinities are no probability, ratio or multiplier, and
		// would not survive JSON.
		if n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) || v.OverflowFloat(f) {
			d.errorf(n, path, "expected a finite number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	default:
		panic("scenarios: cannot decode into " + t.String())
	}
}

// decodeStruct decodes a mapping into the struct v, by the fields' yaml tags.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	fields, names := structFields(v.Type())
	for _, p := range d.pairs(n, path, depth) {
		name := p.key.Value
		fp := field(path, name)
		i, ok := fields[name]
		if !ok {
			msg, guess := unknownField(name, names)
			d.errorf(p.key, fp, "%s", msg)
			if guess != "" {
				// "name: missing" would only repeat "did you mean name?".
				d.failed = append(d.failed, field(path, guess))
			}
			continue
		}
		d.decode(p.value, v.Field(i), fp, depth+1)
	}
}

// structFields maps the yaml names of t's fields to their indexes.
func structFields(t reflect.Type) (map[string]int, []string) {
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = i
		names = append(names, name)
	}
	return fields, names
}

// unknownField says that name is not a field, and guesses what was meant.
func unknownField(name string, known []string) (msg, guess string) {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(name), strings.ToLower(k)); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field %q; did you mean %q?", name, best), best
	}
	return fmt.Sprintf("unknown field %q (expected one of: %s)", name, strings.Join(known, ", ")), ""
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

type pair struct{ key, value *yaml.Node }

// pairs lists the key/value pairs of the mapping n, with YAML merge keys
// ("<<: *defaults") applied: keys written in n win over merged ones, and
// earlier merge sources win over later ones. Duplicate keys are errors.
func (d *decoder) pairs(n *yaml.Node, path string, depth int) []pair {
	var own, merged []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k = d.enter(k, path, depth+1); k == nil {
			continue
		}
		if isMerge(k) {
			merged = append(merged, d.mergeSources(val, path, depth+1)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "expected a plain key, got %s", describe(k))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, field(path, k.Value), "key %q appears twice in this mapping", k.Value)
			continue
		}
		seen[k.Value] = true
		own = append(own, pair{k, val})
	}
	for _, p := range merged {
		if !seen[p.key.Value] {
			seen[p.key.Value] = true
			own = append(own, p)
		}
	}
	return own
}

func (d *decoder) mergeSources(n *yaml.Node, path string, depth int) []pair {
	if n = d.enter(n, path, depth); n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		return d.pairs(n, path, depth)
	case yaml.SequenceNode:
		var out []pair
		for _, c := range n.Content {
			if c = d.enter(c, path, depth+1); c == nil {
				continue
			}
			if c.Kind != yaml.MappingNode {
				d.errorf(c, path, "a << merge takes a mapping or a list of mappings, got %s", describe(c))
				continue
			}
			out = append(out, d.pairs(c, path, depth+1)...)
		}
		return out
	}
	d.errorf(n, path, "a << merge takes a mapping or a list of mappings, got %s", describe(n))
	return nil
}

func isMerge(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && n.ShortTag() == "!!merge"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// generic decodes n into the values encoding/json uses (map[string]any,
// []any, string, bool, numbers, nil), since tool schemas, arguments and
// results end up as JSON. Whole floats become ints so that a value reads back
// the same after Resolved writes it (yaml.v3 writes 2.0 as 2).
func (d *decoder) generic(n *yaml.Node, path string, depth int) (any, bool) {
	if n = d.enter(n, path, depth); n == nil {
		return nil, false
	}
	d.nodes[path] = n
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		ok := true
		for _, p := range d.pairs(n, path, depth) {
			x, xok := d.generic(p.value, mapKey(path, p.key.Value), depth+1)
			ok = ok && xok
			m[p.key.Value] = x
		}
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		ok := true
		for i, c := range n.Content {
			x, xok := d.generic(c, index(path, i), depth+1)
			ok = ok && xok
			s = append(s, x)
		}
		return s, ok
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				d.errorf(n, path, "expected true or false, got %s", describe(n))
				return nil, false
			}
			return b, true
		case "!!int", "!!float":
			var x any
			if err := n.Decode(&x); err != nil {
				d.errorf(n, path, "expected a number, got %s", describe(n))
				return nil, false
			}
			if f, isFloat := x.(float64); isFloat {
				if math.IsNaN(f) || math.IsInf(f, 0) {
					d.errorf(n, path, "%s is not a JSON number", n.Value)
					return nil, false
				}
				if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
					return int(f), true
				}
			}
			return x, true
		default:
			return scalarString(n), true
		}
	}
	d.errorf(n, path, "unexpected YAML node %s", describe(n))
	return nil, false
}

// scalarString is a scalar's text; !!binary is decoded, like yaml.v3 does.
func scalarString(n *yaml.Node) string {
	if n.ShortTag() == "!!binary" {
		var s string
		if n.Decode(&s) == nil {
			return s
		}
	}
	return n.Value
}

// describe names what n is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		if v := []rune(n.Value); len(v) > 40 {
			return strconv.Quote(string(v[:37])) + "..."
		}
		return strconv.Quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	return "nothing"
}

// Field paths: "load.stages[1].duration", `providers.primary.model`, and
// `providers["odd name"].model` for map keys that are not plain names.

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func field(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func mapKey(path, key string) string {
	if plainKey.MatchString(key) {
		return field(path, key)
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// parentPath strips the last segment of a field path.
func parentPath(p string) string {
	if strings.HasSuffix(p, `"]`) {
		// strconv.Quote escapes every quote inside, so the last `["` opens
		// the segment.
		if i := strings.LastIndex(p, `["`); i >= 0 {
			return p[:i]
		}
	}
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// within reports whether path is p or a field inside it.
func within(path, p string) bool {
	if p == "" || path == p {
		return true
	}
	return strings.HasPrefix(path, p) && (path[len(p)] == '.' || path[len(p)] == '[')
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses data into the root node of its one document.
func parseYAML(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; a bad file must be
		// an error, never a crash.
		if r := recover(); r != nil {
			root, err = nil, Errors{{File: file, Msg: fmt.Sprintf("not valid YAML (the parser failed: %v)", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "the scenario is empty"}}
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		n := &extra
		if len(extra.Content) > 0 {
			n = extra.Content[0]
		}
		return nil, Errors{{File: file, Line: n.Line, Column: n.Column,
			Msg: "a second YAML document (after ---); a scenario file holds one"}}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(file, err)
	}
	root = &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if root.Kind == yaml.DocumentNode || isNull(root) {
		return nil, Errors{{File: file, Line: root.Line, Column: root.Column, Msg: "the scenario is empty"}}
	}
	return root, nil
}

// syntaxError converts a yaml.v3 parse error. Those carry a line but no
// column, so the FieldError has Column 0.
func syntaxError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Errors{{File: file, Line: line, Msg: "invalid YAML: " + m[2]}}
	}
	return Errors{{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}}
}
