package scenarios

import (
	"errors"
	"strings"
	"testing"
)

func lookupIn(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func parseWith(t *testing.T, src string, o Options) (*Scenario, Errors) {
	t.Helper()
	s, err := ParseWith("t.yaml", []byte(src), o)
	if err == nil {
		return s, nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("ParseWith error is %T (%v), want Errors", err, err)
	}
	return nil, es
}

func TestVariablesExpand(t *testing.T) {
	src := edit(t,
		"name: t", "name: ${NAME:-fallback}\nseed: ${SEED}",
		"    model: m\n", "    model: \"${MODEL}-x\"\n    headers: {X-Tenant: \"t-${TENANT}\"}\n",
		"    - {rate: 20, duration: 1s}", "    - {rate: \"${RATE}\", duration: 1s}",
		"    - user: hi", "    - user: cost $$5 or $x",
	)
	s, es := parseWith(t, src, Options{Lookup: lookupIn(map[string]string{"MODEL": "gpt", "RATE": "35", "SEED": "7", "TENANT": "secret-tenant"})})
	if es != nil {
		t.Fatal(es)
	}
	if s.Seed != 7 {
		t.Errorf("seed = %d, want 7: an unquoted reference takes the type of its value", s.Seed)
	}
	if s.Name != "fallback" || s.Providers["p"].Model != "gpt-x" || s.Load.Stages[0].Rate != 35 {
		t.Errorf("name %q, model %q, rate %v: want fallback, gpt-x, 35", s.Name, s.Providers["p"].Model, s.Load.Stages[0].Rate)
	}
	if got := s.Conversation.Turns[0].User; got != "cost $5 or $x" {
		t.Errorf("user = %q, want $$ as $ and a lone $ kept", got)
	}
	// Header values keep their template: the runner resolves them.
	if got := s.Providers["p"].Headers["X-Tenant"]; got != "t-${TENANT}" {
		t.Errorf("header = %q, want the template", got)
	}
	if got := strings.Join(s.Variables, ","); got != "MODEL,NAME,RATE,SEED,TENANT" {
		t.Errorf("Variables = %s", got)
	}
	out, err := s.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	r := string(out)
	if strings.Contains(r, "secret-tenant") || !strings.Contains(r, "t-${TENANT}") || !strings.Contains(r, "# variables: MODEL, NAME, RATE, SEED, TENANT") {
		t.Errorf("resolved scenario must name the variables and keep the header template:\n%s", r)
	}
	// It reads back to the same values, with no variable set.
	back, es := parseWith(t, r, Options{Lookup: lookupIn(nil)})
	if es != nil {
		t.Fatalf("resolved does not parse back: %v\n%s", es, r)
	}
	if back.Conversation.Turns[0].User != "cost $5 or $x" || back.Name != "fallback" || back.Providers["p"].Headers["X-Tenant"] != "t-${TENANT}" {
		t.Errorf("read back: user %q, name %q, header %q", back.Conversation.Turns[0].User, back.Name, back.Providers["p"].Headers["X-Tenant"])
	}
}

func TestVariablesErrors(t *testing.T) {
	src := edit(t,
		"    model: m\n", "    model: x-${MODEL}\n    headers: {X-A: \"${HDR}\"}\n",
		"    - user: hi", "    - user: ${1BAD}",
		"  timeout: 5s", "  timeout: ${T",
	)
	_, es := parseWith(t, src, Options{Lookup: lookupIn(nil), CheckHeaderVars: true})
	checkErrors(t, es,
		want{"6:14", "providers.p.model", "variable MODEL is not set"},
		want{"7:20", "providers.p.headers.X-A", "variable HDR is not set"},
		want{"27:13", "conversation.turns[0].user", `"1BAD" is not a variable name`},
		want{"39:12", "client.timeout", "unterminated ${"},
	)
	// Nor may a bearer token's.
	_, es = parseWith(t, edit(t, "    url: mock\n", "    url: mock\n    bearer_token_env: TOK\n"), Options{Lookup: lookupIn(nil), CheckHeaderVars: true})
	checkErrors(t, es, want{"12:23", "mcp_servers.s.bearer_token_env", "variable TOK is not set"})
	// Reading a run's scenario.yaml does not ask for header variables.
	_, es = parseWith(t, edit(t, "    model: m\n", "    model: m\n    headers: {X-A: \"${HDR}\"}\n"), Options{Lookup: lookupIn(nil)})
	if es != nil {
		t.Errorf("a header's unset variable without CheckHeaderVars: %v", es)
	}
}

func TestSetOverrides(t *testing.T) {
	s, es := parseWith(t, base, Options{Lookup: lookupIn(nil), Set: []string{
		"load.stages[0].rate=50",
		"providers.p.model=${NOT_EXPANDED}",
		"seed=42",
		"client.retry.max_attempts=3",
		"mcp_servers.s.headers.X-Trace=on",
	}})
	if es != nil {
		t.Fatal(es)
	}
	if s.Load.Stages[0].Rate != 50 || s.Seed != 42 || s.Providers["p"].Model != "${NOT_EXPANDED}" ||
		s.Client.Retry == nil || s.Client.Retry.MaxAttempts != 3 || s.MCPServers["s"].Headers["X-Trace"] != "on" {
		t.Errorf("overrides not applied: rate %v seed %d model %q retry %+v headers %v",
			s.Load.Stages[0].Rate, s.Seed, s.Providers["p"].Model, s.Client.Retry, s.MCPServers["s"].Headers)
	}
	if got := strings.Join(s.Sets, " "); !strings.Contains(got, "load.stages[0].rate") {
		t.Errorf("Sets = %q", got)
	}
	out, _ := s.Resolved()
	if !strings.Contains(string(out), "# --set: load.stages[0].rate, providers.p.model") {
		t.Errorf("resolved scenario does not name the --set paths:\n%.400s", out)
	}

	for _, c := range []struct{ set, field, msg string }{
		{"load.arival=poisson", "load.arival", `unknown field "arival"; did you mean "arrival"?`},
		{"providers.pp.model=x", "providers.pp.model", `no entry "pp"; did you mean "p"?`},
		{"load.stages[5].rate=1", "load.stages[5].rate", "load.stages has no entry 5 (it has 2)"},
		{"name.x=1", "name.x", "name is a single value"},
		{"load.stages[0].rate[1]=1", "load.stages[0].rate[1]", "is not a list"},
		{"load.stages=[", "load.stages", "not valid YAML"},
		{"noequals", "", "expected path=value"},
	} {
		_, es := parseWith(t, base, Options{Lookup: lookupIn(nil), Set: []string{c.set}})
		if len(es) != 1 || es[0].File != SetFile || es[0].Field != c.field || !strings.Contains(es[0].Msg, c.msg) {
			t.Errorf("--set %s: got %v, want %s: %s: ...%s", c.set, es, SetFile, c.field, c.msg)
		}
	}
	// A value of the wrong type is the decoder's error, as in a file.
	_, es = parseWith(t, base, Options{Lookup: lookupIn(nil), Set: []string{"load.max_in_flight=many"}})
	if len(es) != 1 || es[0].Field != "load.max_in_flight" || !strings.Contains(es[0].Msg, "expected an integer") {
		t.Errorf("--set load.max_in_flight=many: %v", es)
	}
}

func TestHeadersValidation(t *testing.T) {
	src := edit(t,
		"    model: m\n", "    model: m\n    api_key_env: K\n    headers: {Authorization: x, content-type: y, \"a b\": z, X-Ok: v, x-ok: w, X-Api-Token: lit}\n",
		"    url: mock\n", "    url: mock\n    bearer_token_env: 1x\n",
	)
	_, es := parseWith(t, src, Options{Lookup: lookupIn(nil)})
	checkErrors(t, es,
		want{"8:15", "providers.p.headers.Authorization", "would replace the key that api_key_env or credentials_file sets"},
		want{"8:33", "providers.p.headers.content-type", "set by mcpload itself"},
		want{"8:50", `providers.p.headers["a b"]`, "is not a header name"},
		want{"8:69", "providers.p.headers.x-ok", `the same header as "X-Ok"`},
		want{"8:91", "providers.p.headers.X-Api-Token", "carries a credential: take it from the environment"},
		want{"14:23", "mcp_servers.s.bearer_token_env", "must be the name of an environment variable"},
	)
	_, es = parseWith(t, mcpEdit(t, "    url: mock\n    mock: {response: sse, extra_tools: 10}\n", "    command: [srv]\n    headers: {X-A: b}\n    tls: {insecure_skip_verify: true}\n"), Options{Lookup: lookupIn(nil)})
	if len(es) != 2 || es[0].Field != "mcp_servers.s.headers" || es[1].Field != "mcp_servers.s.tls" {
		t.Errorf("headers and tls on a command server: %v", es)
	}
}

// providerMock is base's provider mock section, which a provider at a
// real URL may not have.
const providerMock = "    mock:\n      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n"

func TestTLSValidation(t *testing.T) {
	src := edit(t,
		"    model: m\n", "    model: m\n    tls: {ca_file: ca.pem}\n",
		"    url: mock\n", "    url: http://127.0.0.1:1/mcp\n    tls: {cert_file: c.pem}\n",
	)
	_, es := parseWith(t, src, Options{Lookup: lookupIn(nil)})
	checkErrors(t, es,
		want{"7:10", "providers.p.tls", "does not apply to the mock"},
		want{"13:10", "mcp_servers.s.tls", "applies to an https URL"},
	)
	src = edit(t, "    base_url: mock\n", "    base_url: https://127.0.0.1:1/v1\n", providerMock, "",
		"    model: m\n", "    model: m\n    tls: {cert_file: c.pem, ca_file: a.pem, insecure_skip_verify: true}\n")
	_, es = parseWith(t, src, Options{Lookup: lookupIn(nil)})
	checkErrors(t, es,
		want{"7:10", "providers.p.tls", "cert_file and key_file go together"},
		want{"7:67", "providers.p.tls.insecure_skip_verify", "with ca_file"},
	)
	s, es := parseWith(t, edit(t, "    base_url: mock\n", "    base_url: https://127.0.0.1:1/v1\n", providerMock, "",
		"    model: m\n", "    model: m\n    tls: {insecure_skip_verify: true}\n"), Options{Lookup: lookupIn(nil)})
	if es != nil {
		t.Fatal(es)
	}
	if w := s.TLSWarnings(); len(w) != 1 || !strings.Contains(w[0], "providers.p.tls.insecure_skip_verify is on") {
		t.Errorf("TLSWarnings = %q", w)
	}
}
