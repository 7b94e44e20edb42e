package mockprovider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// Stream piece sizes, in bytes: about three tokens of text per content
// chunk, and argument fragments about as small as OpenAI's.
const (
	contentPieceBytes  = 12
	argumentPieceBytes = 8
)

// defaultReply answers when the scenario has no conversation (an mcp_direct
// scenario, or a client hitting `mcpload mock` directly).
const defaultReply = "This is the mcpload mock provider."

// reply is one scripted model answer with everything that does not depend
// on the request worked out in advance.
type reply struct {
	content string
	// pieces is content split into stream chunks.
	pieces []string
	calls  []call
	finish string
	// usage is as scripted; completion is the scripted completion tokens or
	// an estimate from the reply's text.
	usage      scenarios.Usage
	completion int
	// singles are the reply's calls one per reply, for requests that
	// forbid parallel calls; nil with fewer than two calls.
	singles []*reply
}

// call is one scripted tool call.
type call struct {
	name string
	// args is the JSON document of the arguments, as OpenAI's string.
	args string
	// frags is args split into stream fragments.
	frags []string
}

// script is the conversation every mock provider follows: turns[t][i] is
// the i-th reply to the t-th user message.
type script struct {
	turns [][]*reply
}

func newScript(c *scenarios.Conversation) (*script, error) {
	sc := &script{}
	if c != nil {
		for ti, t := range c.Turns {
			var replies []*reply
			for ri, m := range t.Model {
				r, err := newReply(m)
				if err != nil {
					return nil, fmt.Errorf("conversation.turns[%d].model[%d]: %w", ti, ri, err)
				}
				replies = append(replies, r)
			}
			if len(replies) == 0 {
				r, _ := newReply(scenarios.ModelReply{Content: defaultReply})
				replies = append(replies, r)
			}
			sc.turns = append(sc.turns, replies)
		}
	}
	if len(sc.turns) == 0 {
		r, _ := newReply(scenarios.ModelReply{Content: defaultReply})
		sc.turns = [][]*reply{{r}}
	}
	return sc, nil
}

func newReply(m scenarios.ModelReply) (*reply, error) {
	r := &reply{content: m.Content, usage: m.Usage, finish: openaichat.FinishStop}
	text := len(m.Content)
	if len(m.ToolCalls) > 0 {
		r.finish = openaichat.FinishToolCalls
		r.content = ""
		text = 0
		for _, tc := range m.ToolCalls {
			args, err := marshalArgs(tc.Arguments)
			if err != nil {
				return nil, fmt.Errorf("tool call %q: arguments: %w", tc.Name, err)
			}
			r.calls = append(r.calls, call{name: tc.Name, args: args, frags: split(args, argumentPieceBytes, false)})
			text += len(tc.Name) + len(args)
		}
	} else {
		r.pieces = split(m.Content, contentPieceBytes, true)
	}
	r.completion = m.Usage.CompletionTokens
	if r.completion == 0 {
		r.completion = estimateTokens(text)
	}
	if len(r.calls) > 1 {
		for i := range r.calls {
			c := r.calls[i]
			one := &reply{calls: []call{c}, finish: r.finish, usage: r.usage}
			if one.completion = m.Usage.CompletionTokens / len(r.calls); one.completion == 0 {
				one.completion = estimateTokens(len(c.name) + len(c.args))
			}
			r.singles = append(r.singles, one)
		}
	}
	return r, nil
}

// choose returns the reply to ex: as pick says, or, when calls must go
// one at a time, the next call not yet answered; tool_choice none answers
// with the turn's final reply; a named tool keeps only the calls of that
// tool, when the reply has some. (The mock does not invent calls the
// script lacks: "required" answers as the script says.)
func (s *script) choose(ex exchange) *reply {
	if ex.choice == choiceNone {
		return s.final(ex.turn)
	}
	var rep *reply
	if ex.serial {
		rep = s.pickSerial(ex.turn, ex.results)
	} else {
		rep = s.pick(ex.turn, ex.replies)
	}
	if ex.choice != "" && ex.choice != choiceRequired && len(rep.calls) > 0 {
		rep = rep.only(ex.choice)
	}
	return rep
}

// final returns the last reply of turn, past the script the last turn's.
func (s *script) final(turn int) *reply {
	t := s.turns[min(max(turn, 0), len(s.turns)-1)]
	return t[len(t)-1]
}

// pickSerial returns the reply of the turn-th user message after results
// tool results, when each answer makes one call: the script's calls go
// out one by one, reply after reply.
func (s *script) pickSerial(turn, results int) *reply {
	if turn < 0 {
		turn = 0
	}
	if turn >= len(s.turns) {
		return s.final(turn)
	}
	for _, r := range s.turns[turn] {
		if len(r.calls) == 0 {
			return r
		}
		if results < len(r.calls) {
			if r.singles == nil {
				return r
			}
			return r.singles[results]
		}
		results -= len(r.calls)
	}
	return s.final(turn)
}

// only returns r with only its calls of tool name, or r itself when it
// has none or nothing else.
func (r *reply) only(name string) *reply {
	var kept []call
	for _, c := range r.calls {
		if c.name == name {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 || len(kept) == len(r.calls) {
		return r
	}
	out := *r
	out.calls, out.singles = kept, nil
	return &out
}

// pick returns the reply for the turn-th user message after replies earlier
// replies to it. Past the end of a turn's script the last reply is repeated;
// past the last turn, the last turn's final reply.
func (s *script) pick(turn, replies int) *reply {
	if turn < 0 {
		turn = 0
	}
	if turn >= len(s.turns) {
		t := s.turns[len(s.turns)-1]
		return t[len(t)-1]
	}
	t := s.turns[turn]
	return t[min(replies, len(t)-1)]
}

// marshalArgs encodes scripted arguments as OpenAI does: a JSON object in a
// string, "{}" when there are none.
func marshalArgs(args map[string]any) (string, error) {
	if len(args) == 0 {
		return "{}", nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(args); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// split cuts s into pieces of about size bytes, never inside a UTF-8
// sequence. With words set, a cut moves forward to the next space when one
// is near, so that pieces look like runs of tokens (" world").
func split(s string, size int, words bool) []string {
	var out []string
	for len(s) > size {
		cut := size
		if words {
			if i := strings.IndexByte(s[size:], ' '); i >= 0 && i < size {
				cut = size + i
			}
		}
		for cut < len(s) && !utf8.RuneStart(s[cut]) {
			cut++
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// estimateTokens is the usual rule of thumb: a token is about four bytes of
// English text. Never less than one.
func estimateTokens(bytes int) int {
	return max(1, (bytes+3)/4)
}
