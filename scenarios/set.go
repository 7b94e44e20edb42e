package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SetFile is the File of errors in --set overrides, which have no line.
const SetFile = "--set"

// applySets applies --set overrides ("path=value") to the YAML tree root
// before it is decoded, so that an override is checked as the file would
// be. The path follows the scenario's fields: a name per level, [N] for a
// list entry, ["key"] for a map key that is not a plain name. A field the
// file leaves out is added; a map entry (a provider, a server) must
// exist, except in free-form maps (headers, env, arguments). The value is
// read as YAML (50 is a number, [a, b] a list) and taken literally: no
// ${VAR} in it is expanded, except in a header, whose value is a
// template. It returns the nodes it wrote, so that interpolation leaves
// them alone, and the paths set.
func applySets(root *yaml.Node, sets []string) (written map[*yaml.Node]bool, paths []string, errs Errors) {
	written = map[*yaml.Node]bool{}
	for _, s := range sets {
		path, value, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			errs = append(errs, &FieldError{File: SetFile, Msg: fmt.Sprintf("%q: expected path=value, such as load.stages[0].rate=50", s)})
			continue
		}
		n, err := setPath(root, path, value)
		if err != nil {
			errs = append(errs, &FieldError{File: SetFile, Field: path, Msg: err.Error()})
			continue
		}
		if !isHeaderPath(path) {
			written[n] = true
		}
		paths = append(paths, path)
	}
	return written, paths, errs
}

// setPath writes value at path in root and returns the new node.
func setPath(root *yaml.Node, path, value string) (*yaml.Node, error) {
	segs, err := splitPath(path)
	if err != nil {
		return nil, fmt.Errorf("not a field path: %v", err)
	}
	slot := &root
	t := reflect.TypeFor[Scenario]()
	at := ""
	for _, seg := range segs {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		n := *slot
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if seg.index >= 0 {
			at = index(at, seg.index)
			if t.Kind() != reflect.Slice {
				return nil, fmt.Errorf("%s is not a list", orTop(parentPath(at)))
			}
			if n.Kind != yaml.SequenceNode || seg.index >= len(n.Content) {
				return nil, fmt.Errorf("%s has no entry %d (it has %d)", orTop(parentPath(at)), seg.index, len(n.Content))
			}
			slot, t = &n.Content[seg.index], t.Elem()
			continue
		}
		at = mapKey(at, seg.name)
		var elem reflect.Type
		switch {
		case t.Kind() == reflect.Struct && !isLeafStruct(t):
			fields, names := structFields(t)
			i, ok := fields[seg.name]
			if !ok {
				msg, _ := unknownField(seg.name, names)
				return nil, fmt.Errorf("%s", msg)
			}
			elem = t.Field(i).Type
		case t.Kind() == reflect.Map:
			elem = t.Elem()
		case t.Kind() == reflect.Interface:
			elem = t
		default:
			return nil, fmt.Errorf("%s is a single value; set it whole", orTop(parentPath(at)))
		}
		if isNull(n) {
			*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s is %s in the scenario, not a mapping", orTop(parentPath(at)), describe(n))
		}
		found := -1
		var keys []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			keys = append(keys, n.Content[i].Value)
			if n.Content[i].Value == seg.name {
				found = i + 1
			}
		}
		if found < 0 {
			if t.Kind() == reflect.Map && isEntry(elem) {
				msg, _ := unknownField(seg.name, keys)
				msg = strings.Replace(msg, "unknown field", "no entry", 1)
				if len(keys) == 0 {
					msg = fmt.Sprintf("no entry %q: the scenario has none", seg.name)
				}
				return nil, fmt.Errorf("%s", msg)
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: seg.name},
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"})
			found = len(n.Content) - 1
		}
		slot, t = &n.Content[found], elem
	}
	v, err := valueNode(value, t)
	if err != nil {
		return nil, err
	}
	*slot = v
	return v, nil
}

func orTop(p string) string {
	if p == "" {
		return "the scenario"
	}
	return p
}

// isLeafStruct reports whether t is a struct written as one scalar (a
// Duration, a Rate) rather than field by field.
func isLeafStruct(t reflect.Type) bool {
	return t != latencyType && t != thresholdType && reflect.PointerTo(t).Implements(unmarshalerType)
}

// isEntry reports whether a map of elem holds named entries (providers,
// servers) that --set may change but not create: one made from a single
// field could not be valid.
func isEntry(elem reflect.Type) bool {
	for elem.Kind() == reflect.Pointer {
		elem = elem.Elem()
	}
	return elem.Kind() == reflect.Struct
}

// valueNode reads value as the YAML node of a field of type t.
func valueNode(value string, t reflect.Type) (*yaml.Node, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(value), &doc); err != nil {
		return nil, fmt.Errorf("the value is not valid YAML: %v", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}, nil
	}
	n := doc.Content[0]
	zeroPos(n)
	if n.Kind != yaml.ScalarNode && slices.Contains([]reflect.Kind{reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64}, t.Kind()) {
		// A string field gets the text as given, even one YAML would read
		// as a list ([x]) or mapping.
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}, nil
	}
	return n, nil
}

// zeroPos clears the positions of a node parsed from a --set value: they
// are positions in the value, not in the scenario file.
func zeroPos(n *yaml.Node) {
	n.Line, n.Column = 0, 0
	for _, c := range n.Content {
		zeroPos(c)
	}
}
