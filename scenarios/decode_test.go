package scenarios

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestUnknownFields(t *testing.T) {
	cases := []struct {
		name  string
		edits []string
		want  want
	}{
		{"top level", []string{"name: t", "nmae: t"},
			want{"2:1", "nmae", `unknown field "nmae"; did you mean "name"?`}},
		{"provider", []string{"    model: m", "    modle: m"},
			want{"6:5", "providers.p.modle", `unknown field "modle"; did you mean "model"?`}},
		{"latency mapping", []string{"p99: 250ms}", "p99: 250ms, p90: 100ms}"},
			want{"8:57", "providers.p.mock.latency.p90", `unknown field "p90"; did you mean "p50"?`}},
		{"tool mock", []string{"    mock:\n      latency: {dist: uniform", "    mock:\n      results: x\n      latency: {dist: uniform"},
			want{"20:7", "tools[0].mock.results", `did you mean "result"?`}},
		{"tool call", []string{"arguments: {location: Hanoi}", "args: {location: Hanoi}"},
			want{"30:15", "conversation.turns[0].model[0].tool_calls[0].args", `unknown field "args" (expected one of: name, arguments)`}},
		{"stage", []string{"duration: 2s", "durtion: 2s"},
			want{"36:21", "load.stages[1].durtion", `did you mean "duration"?`}},
		{"client", []string{"  timeout: 5s", "  timeout: 5s\n  retries: 3"},
			want{"39:3", "client.retries", `unknown field "retries" (expected one of: timeout, conversation_timeout, stream, follow_redirects, limits, retry, budget, breaker, fallback, hedge, cache, http, max_conns_per_host, keep_alive, record_headers)`}},
		{"client stream", []string{"  timeout: 5s", "  timeout: 5s\n  stream: {ttft: 1s, idel: 2s}"},
			want{"39:22", "client.stream.idel", `did you mean "idle"?`}},
		{"retry", []string{"  timeout: 5s", "  timeout: 5s\n  retry:\n    preset: seed\n    max_attempt: 2"},
			want{"41:5", "client.retry.max_attempt", `did you mean "max_attempts"?`}},
		{"budget", []string{"  timeout: 5s", "  timeout: 5s\n  budget: {ratio: 0.1, min_retries: 2}"},
			want{"39:24", "client.budget.min_retries", `unknown field "min_retries" (expected one of: ratio, min_retries_per_second, window)`}},
		{"breaker", []string{"  timeout: 5s", "  timeout: 5s\n  breaker: {failure_rate: 0.5, cooldwn: 1s}"},
			want{"39:32", "client.breaker.cooldwn", `did you mean "cooldown"?`}},
		{"fallback", []string{"  timeout: 5s", "  timeout: 5s\n  fallback:\n    - {provider: q, when: [timeout]}"},
			want{"40:21", "client.fallback[0].when", `unknown field "when" (expected one of: provider, on)`}},
		{"hedge", []string{"  timeout: 5s", "  timeout: 5s\n  hedge: {delay: 1s, max: 2}"},
			want{"39:22", "client.hedge.max", `unknown field "max" (expected one of: delay, max_hedges)`}},
		{"cache", []string{"  timeout: 5s", "  timeout: 5s\n  cache: {tll: 1m}"},
			want{"39:11", "client.cache.tll", `did you mean "ttl"?`}},
		{"fault", []string{"  timeout: 5s\n", "  timeout: 5s\nfaults:\n  - target: provider:p\n    kind: hang\n    frm: 1s\n"},
			want{"42:5", "faults[0].frm", `did you mean "from"?`}},
		{"fault latency", []string{"  timeout: 5s\n", "  timeout: 5s\nfaults:\n  - {target: provider:p, kind: latency, latency: {dist: fixed, valu: 1s}}\n"},
			want{"40:64", "faults[0].latency.valu", `did you mean "value"?`}},
		{"limits", []string{"      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n", "      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n      limits: {rpm: 60, tokens: 10}\n"},
			want{"9:25", "providers.p.mock.limits.tokens", `unknown field "tokens" (expected one of: rpm, tpm, quantum)`}},
		{"policy", []string{"  timeout: 5s\n", "  timeout: 5s\npolicies:\n  - name: a\n    clinet: {}\n"},
			want{"41:5", "policies[0].clinet", `did you mean "client"?`}},
		{"policy client", []string{"  timeout: 5s\n", "  timeout: 5s\npolicies:\n  - name: a\n    client:\n      retry: {preset: seed, jiter: none}\n"},
			want{"42:29", "policies[0].client.retry.jiter", `did you mean "jitter"?`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es := parseErrors(t, edit(t, tc.edits...))
			checkErrors(t, es, tc.want)
		})
	}
}

func TestTypeErrors(t *testing.T) {
	cases := []struct {
		name  string
		edits []string
		want  want
	}{
		{"quoted int", []string{"version: 1", `version: "1"`},
			want{"1:10", "version", `expected an integer, got "1"`}},
		{"float for int", []string{"version: 1", `version: 1.5`},
			want{"1:10", "version", `expected an integer, got "1.5"`}},
		{"yes is no bool", []string{"    model: m\n", "    model: m\n    stream: yes\n"},
			want{"7:13", "providers.p.stream", `expected true or false, got "yes"`}},
		{"mapping for list", []string{"  stages:\n    - {rate: 20, duration: 1s}\n    - {rate: 50/1s, duration: 2s, ramp: 1s}\n", "  stages: {rate: 20, duration: 1s}\n"},
			want{"34:11", "load.stages", "expected a list, got a mapping"}},
		{"list for string", []string{"- user: hi", "- user: [hi]"},
			want{"26:13", "conversation.turns[0].user", "expected a string, got a list"}},
		{"scalar for mapping", []string{"client:\n  timeout: 5s\n", "client: fast\n"},
			want{"37:9", "client", `expected a mapping, got "fast"`}},
		{"integer out of range", []string{"version: 1", "version: 99999999999999999999"},
			want{"1:10", "version", "expected an integer"}},
		{"max_in_flight word", []string{"load:\n", "load:\n  max_in_flight: ten\n"},
			want{"34:18", "load.max_in_flight", `expected an integer, got "ten"`}},
		{"list for arguments", []string{"{location: Hanoi}", "[Hanoi]"},
			want{"30:26", "conversation.turns[0].model[0].tool_calls[0].arguments", "expected a mapping, got a list"}},
		{"NaN argument", []string{"{location: Hanoi}", "{location: .nan}"},
			want{"30:37", `conversation.turns[0].model[0].tool_calls[0].arguments.location`, ".nan is not a JSON number"}},
		{"long value", []string{"client:\n  timeout: 5s\n", "client: " + strings.Repeat("x", 100) + "\n"},
			want{"37:9", "client", `expected a mapping, got "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"...`}},
		{"latency list", []string{"{dist: uniform, min: 5ms, max: 30ms}", "[5ms, 30ms]"},
			want{"20:16", "tools[0].mock.latency", "expected a latency: a duration such as 80ms, or a mapping"}},
		{"duplicate key", []string{"  provider: p\n", "  provider: p\n  provider: p\n"},
			want{"25:3", "conversation.provider", `key "provider" appears twice`}},
		{"word for float", []string{"  timeout: 5s", "  timeout: 5s\n  budget: {ratio: ten percent}"},
			want{"39:19", "client.budget.ratio", `expected a number, got "ten percent"`}},
		{"quoted float", []string{"  timeout: 5s", "  timeout: 5s\n  retry: {multiplier: \"2\"}"},
			want{"39:23", "client.retry.multiplier", `expected a number, got "2"`}},
		{"NaN float", []string{"  timeout: 5s", "  timeout: 5s\n  breaker: {failure_rate: .nan}"},
			want{"39:27", "client.breaker.failure_rate", `expected a finite number, got ".nan"`}},
		{"infinite float pointer", []string{"  timeout: 5s\n", "  timeout: 5s\nfaults: [{target: provider:p, kind: hang, probability: -.inf}]\n"},
			want{"39:56", "faults[0].probability", `expected a finite number, got "-.inf"`}},
		{"bool pointer", []string{"  timeout: 5s", "  timeout: 5s\n  retry: {retry_after: 1}"},
			want{"39:24", "client.retry.retry_after", `expected true or false, got "1"`}},
		{"list for pointer to struct", []string{"  timeout: 5s", "  timeout: 5s\n  hedge: [1s]"},
			want{"39:10", "client.hedge", "expected a mapping, got a list"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, edit(t, tc.edits...)), tc.want)
		})
	}
}

func TestBadDurations(t *testing.T) {
	cases := []struct{ value, msg string }{
		{"5", `expected a duration such as 250ms or 1m30s, got "5"; add a unit, as in 5s or 5ms`},
		{"1.5", `expected a duration such as 250ms or 1m30s, got "1.5"`},
		{"5 s", `expected a duration such as 250ms or 1m30s, got "5 s"`},
		{"1y", `expected a duration such as 250ms or 1m30s, got "1y"`},
		{`""`, `expected a duration such as 250ms or 1m30s, got ""`},
		{"-1s", `a duration must not be negative, got "-1s"`},
		{"[1s]", `expected a duration such as 250ms or 1m30s, got a list`},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			src := edit(t, "duration: 2s", "duration: "+tc.value)
			checkErrors(t, parseErrors(t, src), want{"36:31", "load.stages[1].duration", tc.msg})
		})
	}
	// The error reads as the design promises, in one line.
	es := parseErrors(t, edit(t, "duration: 2s", "duration: 5"))
	if got, w := es.Error(), `t.yaml:36:31: load.stages[1].duration: expected a duration such as 250ms or 1m30s, got "5"`; !strings.HasPrefix(got, w) {
		t.Errorf("error = %q, want it to start with %q", got, w)
	}
}

func TestBadRates(t *testing.T) {
	for _, value := range []string{"fast", "-5", "NaN", ".inf", "Inf", "50/0s", "50/-1s", "5/x", "50/", "/1s", "1e400"} {
		t.Run(value, func(t *testing.T) {
			src := edit(t, "rate: 50/1s", "rate: "+value)
			checkErrors(t, parseErrors(t, src), want{"36:14", "load.stages[1].rate", "expected a rate such as 20 or 50/1s, got"})
		})
	}
	t.Run("mapping", func(t *testing.T) {
		src := edit(t, "rate: 50/1s", "rate: {per: 1s}")
		checkErrors(t, parseErrors(t, src), want{"36:14", "load.stages[1].rate", "expected a rate such as 20 or 50/1s, got a mapping"})
	})
}

func TestRates(t *testing.T) {
	for value, perSec := range map[string]float64{
		"20": 20, "2.5": 2.5, "50/1s": 50, "3000/1m": 50, "50/s": 50, "1/2s": 0.5, "1/500ms": 2, "0": 0, `"7"`: 7,
	} {
		t.Run(value, func(t *testing.T) {
			s := mustParse(t, edit(t, "rate: 50/1s, duration: 2s, ramp: 1s", "rate: "+value+", duration: 2s"))
			if got := float64(s.Load.Stages[1].Rate); got != perSec {
				t.Errorf("rate %s = %v/s, want %v/s", value, got, perSec)
			}
		})
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	src := edit(t,
		"name: t", "name: a b",
		"    model: m", "    modle: m",
		"- name: search_docs\n        -", "- name: nope\n        -",
		"duration: 2s", "duration: 2",
		"timeout: 5s", "timeout: soon",
	)
	checkErrors(t, parseErrors(t, src),
		want{"2:7", "name", "cannot name a results folder"},
		want{"6:5", "providers.p.modle", "unknown field"},
		want{"31:21", "conversation.turns[0].model[0].tool_calls[1].name", `tool "nope" is not defined`},
		want{"36:31", "load.stages[1].duration", "expected a duration"},
		want{"38:12", "client.timeout", "expected a duration"},
	)
}

// Errors in a field that failed to decode are not repeated as validation
// errors about the half-decoded object around it.
func TestNoCascade(t *testing.T) {
	src := edit(t, "duration: 2s, ramp: 1s", "duration: 2, ramp: 1s")
	checkErrors(t, parseErrors(t, src), want{"36:31", "load.stages[1].duration", "expected a duration"})

	src = edit(t, "properties: {query: {type: string}}", "properties: {query: {type: string, maxLength: .nan}}")
	checkErrors(t, parseErrors(t, src), want{"22:79", "tools[1].inputSchema.properties.query.maxLength", "not a JSON number"})
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"bad indentation", "version: 1\nname: t\n  providers: x\n", "t.yaml:3: invalid YAML: mapping values are not allowed in this context"},
		{"unclosed flow", "version: 1\nload: {stages: [\n", "t.yaml:2: invalid YAML:"},
		{"tab", "version: 1\n\tname: t\n", "t.yaml:2: invalid YAML:"},
		{"empty", "", "t.yaml: the scenario is empty"},
		{"comments only", "# nothing\n", "t.yaml: the scenario is empty"},
		{"null", "~\n", "t.yaml:1:1: the scenario is empty"},
		{"two documents", base + "---\nname: u\n", "t.yaml:40:1: a second YAML document"},
		{"list", "- name: t\n", "t.yaml:1:1: expected a mapping, got a list"},
		{"unknown anchor", "name: *x\n", "t.yaml: invalid YAML: unknown anchor 'x' referenced"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse error = %v (%T), want Errors", err, err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Parse error = %q, want it to start with %q", err, tc.want)
			}
		})
	}
}

func TestAnchorsAndMerges(t *testing.T) {
	src := edit(t,
		"      latency: {dist: lognormal, p50: 60ms, p99: 250ms}", "      latency: &slow {dist: lognormal, p50: 60ms, p99: 250ms}",
		"      latency: {dist: uniform, min: 5ms, max: 30ms}", "      latency: *slow",
		"    - {rate: 50/1s, duration: 2s, ramp: 1s}", "    - &stage {rate: 50/1s, duration: 2s, ramp: 1s}\n    - {<<: *stage, rate: 10}",
	)
	s := mustParse(t, src)
	if got, w := s.Tools[0].Mock.Latency, s.Providers["p"].Mock.Latency; got != w || got.Dist != DistLognormal {
		t.Errorf("aliased latency = %+v, want %+v", got, w)
	}
	if got, w := s.Load.Stages[2], (Stage{Rate: 10, Duration: Duration(2 * time.Second), Ramp: Duration(time.Second)}); got != w {
		t.Errorf("merged stage = %+v, want %+v", got, w)
	}
	// Merged keys are checked like written ones.
	src = edit(t, "    - {rate: 50/1s, duration: 2s, ramp: 1s}", "    - &stage {rate: 50/1s, duration: 2s}\n    - {<<: [{rampp: 1s}], rate: 10}")
	checkErrors(t, parseErrors(t, src), want{"37:14", "load.stages[2].rampp", `did you mean "ramp"?`})
}

func TestAliasBombs(t *testing.T) {
	// A self-referencing alias, and a billion laughs: both must end in an
	// error, quickly, not in a hang or a crash.
	selfRef := edit(t, "{location: Hanoi}", "&a {location: Hanoi, more: [*a]}")
	es := parseErrors(t, selfRef)
	if !strings.Contains(es.Error(), "levels deep") {
		t.Errorf("self-reference: %v", es)
	}
	// Each level lists ten of the one before: a8 is 10^8 strings.
	var lol strings.Builder
	lol.WriteString("{x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]")
	for i := 1; i < 9; i++ {
		lol.WriteString(", x" + itoa(i) + ": &a" + itoa(i) + " [")
		for j := range 10 {
			if j > 0 {
				lol.WriteString(", ")
			}
			lol.WriteString("*a" + itoa(i-1))
		}
		lol.WriteString("]")
	}
	lol.WriteString("}")
	src := edit(t,
		"      latency: {dist: uniform, min: 5ms, max: 30ms}\n", "      latency: {dist: uniform, min: 5ms, max: 30ms}\n      result: "+lol.String()+"\n",
		"{query: {type: string}}}\n", "{query: {type: string}}}\n    mock: {result: *a8}\n")
	es = parseErrors(t, src)
	if !strings.Contains(es.Error(), "too large") {
		t.Errorf("billion laughs: %v", es)
	}
}

// Code that decodes a Latency with yaml.v3 directly gets the same checks.
func TestLatencyUnmarshalYAML(t *testing.T) {
	var l Latency
	if err := yaml.Unmarshal([]byte("80ms"), &l); err != nil || l != (Latency{Dist: DistFixed, Value: Duration(80 * time.Millisecond)}) {
		t.Errorf("shorthand: %+v, %v", l, err)
	}
	if err := yaml.Unmarshal([]byte("{dist: uniform, min: 1ms, max: 2ms}"), &l); err != nil || l.Max != Duration(2*time.Millisecond) {
		t.Errorf("mapping: %+v, %v", l, err)
	}
	err := yaml.Unmarshal([]byte("{dist: uniform, mx: 2ms}"), &l)
	if err == nil || !strings.Contains(err.Error(), `1:17: mx: unknown field "mx"; did you mean "max"?`) {
		t.Errorf("unknown field: %v", err)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    FieldError
		want string
	}{
		{FieldError{"f.yaml", 3, 7, "a.b", "bad"}, "f.yaml:3:7: a.b: bad"},
		{FieldError{"f.yaml", 3, 0, "", "bad"}, "f.yaml:3: bad"},
		{FieldError{"f.yaml", 0, 0, "a", "bad"}, "f.yaml: a: bad"},
		{FieldError{"", 0, 0, "", "bad"}, "bad"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
	es := Errors{{File: "f", Line: 2, Column: 1, Msg: "x"}, {File: "f", Msg: "y"}}
	if got, w := es.Error(), "f:2:1: x\nf: y"; got != w {
		t.Errorf("Errors.Error() = %q, want %q", got, w)
	}
	var fe *FieldError
	if !errors.As(error(es), &fe) || fe.Msg != "x" {
		t.Errorf("errors.As(Errors, *FieldError) = %v", fe)
	}
}

func TestParentPath(t *testing.T) {
	for p, w := range map[string]string{
		"load.stages[1].duration":  "load.stages[1]",
		"load.stages[1]":           "load.stages",
		"load":                     "",
		`providers["a.b"]`:         "providers",
		`providers["a.b"].model`:   `providers["a.b"]`,
		`x["q\"]"]`:                "x",
		"tools[0].inputSchema.foo": "tools[0].inputSchema",
	} {
		if got := parentPath(p); got != w {
			t.Errorf("parentPath(%q) = %q, want %q", p, got, w)
		}
	}
}
