package scenarios

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Options are what a scenario is loaded with besides its file: where
// ${VAR} references are looked up, and the --set overrides.
type Options struct {
	// Lookup finds a variable's value; nil means os.LookupEnv.
	Lookup func(name string) (string, bool)
	// Set holds --set overrides, each "path=value", such as
	// "load.stages[0].rate=50". They are applied to the YAML tree after
	// interpolation, so their values are taken literally.
	Set []string
	// CheckHeaderVars makes a header's ${VAR} with no default an error
	// when VAR is unset. Header values are resolved by the runner, so
	// reading back a run's scenario.yaml (report) does not ask for them.
	CheckHeaderVars bool
}

func (o Options) lookup() func(string) (string, bool) {
	if o.Lookup == nil {
		return os.LookupEnv
	}
	return o.Lookup
}

// VarError is a bad ${...} reference: where in the string it starts, and
// why.
type VarError struct {
	Offset int
	Msg    string
}

func (e *VarError) Error() string { return e.Msg }

// Expand replaces ${VAR} and ${VAR:-default} in s with lookup's values
// (the default when VAR is unset or empty), and $$ with $; any other $ is
// itself. It returns the names of the variables s refers to and the values
// that came from lookup (not from defaults), since those may be secrets.
// An unset VAR without a default is an error, unless allowUnset, when it
// expands to "".
func Expand(s string, lookup func(string) (string, bool), allowUnset bool) (out string, names, values []string, err error) {
	if !strings.Contains(s, "$") {
		return s, nil, nil, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			b.WriteByte('$')
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", nil, nil, &VarError{i, "unterminated ${ (write $$ for a literal $)"}
		}
		ref := s[i+2 : i+2+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !envName.MatchString(name) {
			return "", nil, nil, &VarError{i, fmt.Sprintf("${%s}: %q is not a variable name (letters, digits and '_', not starting with a digit); write $$ for a literal $", ref, name)}
		}
		names = append(names, name)
		v, ok := lookup(name)
		switch {
		case ok && v != "":
			values = append(values, v)
		case hasDef:
			v = def
		case ok: // set but empty, no default: as the shell does
		case allowUnset:
		default:
			return "", nil, nil, &VarError{i, fmt.Sprintf("variable %s is not set and ${%s} has no default (write ${%s:-default})", name, name, name)}
		}
		b.WriteString(v)
		i += end + 3
	}
	return b.String(), names, values, nil
}

// interpolator expands ${VAR} in every scalar value of a YAML tree, where
// the node keeps its line and column for errors.
type interpolator struct {
	file   string
	lookup func(string) (string, bool)
	// checkHeaders: see Options.CheckHeaderVars.
	checkHeaders bool
	errs         Errors
	failed       []string
	names        []string
	seen         map[*yaml.Node]bool
}

// interpolate expands references in root in place. It returns the names
// of the variables used (sorted, each once), the errors, and the paths
// that failed, which the decoder then leaves alone. Nodes in skip
// (written by --set) are taken literally.
func interpolate(root *yaml.Node, file string, o Options, skip map[*yaml.Node]bool) (names []string, errs Errors, failed []string) {
	if skip == nil {
		skip = map[*yaml.Node]bool{}
	}
	in := &interpolator{file: file, lookup: o.lookup(), checkHeaders: o.CheckHeaderVars, seen: skip}
	in.walk(root, "", 0)
	slices.Sort(in.names)
	return slices.Compact(in.names), in.errs, in.failed
}

func (in *interpolator) walk(n *yaml.Node, path string, depth int) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	// An aliased node is expanded once: a second pass would read the $
	// its first pass produced as a reference.
	if n == nil || in.seen[n] || depth > maxDepth || len(in.seen) > maxNodes {
		return
	}
	in.seen[n] = true
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			in.walk(n.Content[i+1], mapKey(path, n.Content[i].Value), depth+1)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			in.walk(c, index(path, i), depth+1)
		}
	case yaml.ScalarNode:
		in.scalar(n, path)
	}
}

func (in *interpolator) scalar(n *yaml.Node, path string) {
	if !strings.Contains(n.Value, "$") || n.ShortTag() != "!!str" {
		return
	}
	header := isHeaderPath(path)
	out, names, _, err := Expand(n.Value, in.lookup, header && !in.checkHeaders)
	in.names = append(in.names, names...)
	if err != nil {
		ve := err.(*VarError)
		e := &FieldError{File: in.file, Line: n.Line, Column: n.Column, Field: path, Msg: ve.Msg}
		if n.Style == 0 && !strings.Contains(n.Value[:ve.Offset], "\n") {
			// A plain scalar is written as it reads: point at the ${.
			e.Column += utf8.RuneCountInString(n.Value[:ve.Offset])
		}
		in.errs = append(in.errs, e)
		in.failed = append(in.failed, path)
		// Decoded as absent, so that the decoder does not add a second
		// error about the same text.
		n.Tag, n.Value, n.Style = "!!null", "", 0
		return
	}
	if header {
		// Header values are secrets when they come from the environment:
		// the runner resolves them, and scenario.yaml keeps the template.
		return
	}
	n.Value = out
	if n.Style == 0 {
		// Unquoted, the value takes the type YAML gives it (rate: ${RATE}
		// is a number); quoted, it stays a string.
		n.Tag = ""
	}
}

// isHeaderPath reports whether path is a header value of a provider or
// an MCP server: providers.NAME.headers.KEY.
func isHeaderPath(path string) bool {
	segs, err := splitPath(path)
	return err == nil && len(segs) == 4 && (segs[0].name == "providers" || segs[0].name == "mcp_servers") &&
		segs[2].name == "headers" && segs[3].index < 0
}

// pathSeg is one step of a field path: a name, or an index (name "").
type pathSeg struct {
	name  string
	index int // -1 for a name
}

// splitPath splits a field path as the decoder writes them (a.b[0],
// a["odd.key"]) into its steps.
func splitPath(p string) ([]pathSeg, error) {
	var segs []pathSeg
	for i := 0; i < len(p); {
		switch {
		case p[i] == '[' && i+1 < len(p) && p[i+1] == '"':
			q, err := strconv.QuotedPrefix(p[i+1:])
			if err != nil || i+1+len(q) >= len(p) || p[i+1+len(q)] != ']' {
				return nil, fmt.Errorf("bad quoted key at %q", p[i:])
			}
			key, _ := strconv.Unquote(q)
			segs = append(segs, pathSeg{name: key, index: -1})
			i += len(q) + 2
		case p[i] == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unterminated [ at %q", p[i:])
			}
			n, err := strconv.Atoi(p[i+1 : i+end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("bad index %q", p[i:i+end+1])
			}
			segs = append(segs, pathSeg{index: n})
			i += end + 1
		default:
			if p[i] == '.' {
				if i == 0 || i+1 == len(p) {
					return nil, fmt.Errorf("empty name in %q", p)
				}
				i++
			}
			end := strings.IndexAny(p[i:], ".[")
			if end < 0 {
				end = len(p) - i
			}
			if end == 0 {
				return nil, fmt.Errorf("empty name in %q", p)
			}
			segs = append(segs, pathSeg{name: p[i : i+end], index: -1})
			i += end
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("empty path")
	}
	return segs, nil
}

// escapeDollars doubles every $ in the string values of the tree n, except
// header templates, so that a resolved scenario reads back to the same
// values.
func escapeDollars(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			escapeDollars(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			escapeDollars(n.Content[i+1], mapKey(path, n.Content[i].Value))
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			escapeDollars(c, index(path, i))
		}
	case yaml.ScalarNode:
		if strings.Contains(n.Value, "$") && n.ShortTag() == "!!str" && !isHeaderPath(path) {
			n.Value = strings.ReplaceAll(n.Value, "$", "$$")
		}
	}
}
