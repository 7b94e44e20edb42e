package llm

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// A JSON answer decodes into Go values many times its size: an array of
// 11 million "{}" elements, 32 MiB of JSON, would decode into gigabytes of
// structs. So before an answer (or a stream event) is decoded, arrayBound
// counts the elements of the arrays that decode into slices, and refuses
// those past the bound without decoding them. It allocates nothing, and it
// reads no further than the arrays it counts need.

// jsonPath names arrays in a JSON document: object keys, matched as
// encoding/json matches field names (case-insensitively, after
// unescaping), and nil for every element of an array. The path's last
// step is the array counted.
type jsonPath [][]byte

// jpath builds a jsonPath; "" stands for every element of an array.
func jpath(steps ...string) jsonPath {
	p := make(jsonPath, len(steps))
	for i, s := range steps {
		if s != "" {
			p[i] = []byte(s)
		}
	}
	return p
}

// The arrays of each API's answers and stream events that decode into
// slices of structs. (Tool arguments decode into raw bytes: their arrays
// cost what they weigh.)
var (
	openAIArrays = []jsonPath{jpath("choices"), jpath("choices", "", "message", "tool_calls"), jpath("choices", "", "delta", "tool_calls")}
	// Anthropic's message_start carries a message, whose content the
	// stream reader decodes.
	anthropicArrays = []jsonPath{jpath("content"), jpath("message", "content")}
	geminiArrays    = []jsonPath{jpath("candidates"), jpath("candidates", "", "content", "parts"), jpath("error", "details")}
)

// arraySlack is how many elements an answer's arrays may hold beyond
// client.limits.max_tool_calls: its text and thinking blocks or parts,
// and the choices or candidates that hold its calls.
const arraySlack = 64

// arrayBound returns "" when every array paths name in b holds at most
// maxCalls+arraySlack elements (summed over the elements a nil step spans),
// or else the error of the answer. Malformed JSON passes: the decoder
// refuses it whole, before it allocates anything.
func arrayBound(b []byte, maxCalls int, paths []jsonPath) string {
	limit := maxCalls + arraySlack
	for _, p := range paths {
		s := jsonScan{b: b, limit: limit}
		s.value(p, true)
		if s.n > limit {
			return "answer has an array of more than " + strconv.Itoa(limit) + " tool calls, parts or choices (client.limits.max_tool_calls, and " +
				strconv.Itoa(arraySlack) + " more); it was not decoded"
		}
	}
	return ""
}

// jsonScan walks one JSON document, counting the elements of the arrays
// at one path into n. It stops (stop) once n is past limit, or at
// malformed input.
type jsonScan struct {
	b     []byte
	i     int
	n     int
	limit int
	stop  bool
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// value skips one value. With follow, p is the path from this value: an
// array at its end is counted.
func (s *jsonScan) value(p jsonPath, follow bool) {
	s.ws()
	if s.stop || s.i >= len(s.b) {
		s.stop = true
		return
	}
	switch s.b[s.i] {
	case '{':
		s.object(p, follow && len(p) > 0 && p[0] != nil)
	case '[':
		s.array(p, follow)
	case '"':
		s.str()
	default:
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return
			}
			s.i++
		}
	}
}

func (s *jsonScan) object(p jsonPath, follow bool) {
	s.i++ // {
	for s.more('}') {
		key, escaped := s.str()
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			s.stop = true
			return
		}
		s.i++
		if follow && keyIs(key, escaped, p[0]) {
			s.value(p[1:], true)
		} else {
			s.value(nil, false)
		}
	}
}

func (s *jsonScan) array(p jsonPath, follow bool) {
	s.i++ // [
	count := follow && len(p) == 0
	each := follow && len(p) > 0 && p[0] == nil
	for s.more(']') {
		if count {
			if s.n++; s.n > s.limit {
				s.stop = true
				return
			}
		}
		if each {
			s.value(p[1:], true)
		} else {
			s.value(nil, false)
		}
	}
}

// more skips the comma after a member or element, if any, and reports
// whether another one follows before end, which it consumes.
func (s *jsonScan) more(end byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ',' {
		s.i++
		s.ws()
	}
	if s.stop || s.i >= len(s.b) {
		s.stop = true
		return false
	}
	if s.b[s.i] == end {
		s.i++
		return false
	}
	return true
}

// str skips a string and returns its raw content, and whether it holds
// escapes.
func (s *jsonScan) str() (raw []byte, escaped bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		s.stop = true
		return nil, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			s.i = j + 1
			return s.b[start:j], escaped
		}
	}
	s.stop = true
	return nil, false
}

// keyIs reports whether the raw object key names field as encoding/json
// matches it: after unescaping, case-insensitively.
func keyIs(raw []byte, escaped bool, field []byte) bool {
	if field == nil {
		return false
	}
	if !escaped {
		return bytes.EqualFold(raw, field)
	}
	var k string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	if json.Unmarshal(q, &k) != nil {
		return false
	}
	return bytes.EqualFold([]byte(k), field)
}
