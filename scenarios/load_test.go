package scenarios

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEmbedded(t *testing.T) {
	names := Embedded()
	if !slices.IsSorted(names) {
		t.Errorf("Embedded() = %v, not sorted", names)
	}
	for _, w := range []string{"mcp-direct", "quickstart", "quickstart-stream"} {
		if !slices.Contains(names, w) {
			t.Errorf("Embedded() = %v, want it to hold %s", names, w)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name)
			if err != nil {
				t.Fatalf("Load(%q): %v", name, err)
			}
			if s.File != "embedded:"+name || s.Name != name {
				t.Errorf("File, Name = %q, %q; want embedded:%s, %s", s.File, s.Name, name, name)
			}
			// Embedded scenarios must run anywhere: no network, no key.
			for pn, p := range s.Providers {
				if !p.IsMock() || p.APIKeyEnv != "" || p.CredentialsFile != "" {
					t.Errorf("provider %s is not a keyless mock: %+v", pn, p)
				}
			}
			// A stdio server is this binary's own mock (SelfCommand).
			for mn, m := range s.MCPServers {
				if !m.IsMock() && !(m.IsStdio() && m.Command[0] == SelfCommand && slices.Equal(m.Command[1:3], []string{"mock", "--stdio"})) {
					t.Errorf("MCP server %s is not the mock", mn)
				}
			}
			// They are the documentation: every line that sets a field
			// has a comment above it or beside it, somewhere in its block.
			data, err := fs.ReadFile(EmbeddedFS(), name+".yaml")
			if err != nil {
				t.Fatal(err)
			}
			// The quickstarts explain every field; the others explain
			// their choices and say how to run them.
			want := 15
			if strings.HasPrefix(name, "quickstart") {
				want = 30
			}
			if c := strings.Count(string(data), "#"); c < want {
				t.Errorf("%s.yaml has %d comments, want %d or more: it should explain its fields", name, c, want)
			}
			if !strings.Contains(string(data), "mcpload run "+name) {
				t.Errorf("%s.yaml does not say how to run it (mcpload run %s)", name, name)
			}
		})
	}
}

func TestQuickstarts(t *testing.T) {
	for _, name := range []string{"quickstart", "quickstart-stream"} {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			p := s.Providers["primary"]
			if p == nil || p.Model != "gpt-4.1-mini" || p.Stream != (name == "quickstart-stream") {
				t.Fatalf("provider primary = %+v", p)
			}
			if name == "quickstart" && (p.Mock.Latency.Dist != DistLognormal || p.Mock.Latency.P50.D() != 60*time.Millisecond || p.Mock.Latency.P99.D() != 250*time.Millisecond) {
				t.Errorf("latency = %+v, want lognormal p50 60ms p99 250ms", p.Mock.Latency)
			}
			if name == "quickstart-stream" && (p.Mock.TTFT.IsZero() || p.Mock.TokenGap.IsZero()) {
				t.Errorf("stream mock = %+v, want ttft and token_gap", p.Mock)
			}
			c := s.Conversation
			if c == nil || len(c.Turns) != 1 || len(c.Turns[0].Model) != 2 {
				t.Fatalf("conversation = %+v", c)
			}
			var calls []string
			for _, tc := range c.Turns[0].Model[0].ToolCalls {
				calls = append(calls, tc.Name)
			}
			if w := []string{"get_weather", "get_weather", "search_docs"}; !slices.Equal(calls, w) {
				t.Errorf("first reply calls %v, want %v in parallel", calls, w)
			}
			for i, r := range c.Turns[0].Model {
				if r.Usage.PromptTokens == 0 || r.Usage.CompletionTokens == 0 {
					t.Errorf("reply %d has no usage: %+v", i, r.Usage)
				}
			}
			var total time.Duration
			for _, st := range s.Load.Stages {
				total += st.Duration.D()
			}
			if total != 10*time.Second || s.Load.Stages[0].Rate != 20 || s.Load.Stages[0].Ramp.D() != 2*time.Second {
				t.Errorf("load = %+v, want 20/s over 10s with a 2s ramp", s.Load)
			}
			if s.Load.MaxInFlight != 200 || s.Load.OnCap != OnCapQueue || s.Client.Timeout.D() != 30*time.Second {
				t.Errorf("load, client = %+v, %+v", s.Load, s.Client)
			}
		})
	}
	t.Run("mcp-direct", func(t *testing.T) {
		s, err := Load("mcp-direct.yaml")
		if err != nil {
			t.Fatal(err)
		}
		m := s.MCPDirect
		if s.Kind() != KindMCPDirect || m.Session != SessionPerVU || len(m.Mix) != 2 || m.Mix[0].Weight != 3 || m.Mix[1].Weight != 1 {
			t.Fatalf("mcp_direct = %+v", m)
		}
		if st := s.Load.Stages; len(st) != 1 || st[0].Rate != 50 || st[0].Duration.D() != 10*time.Second {
			t.Errorf("stages = %+v, want 50/s for 10s", st)
		}
	})
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(path, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil || s.File != path || s.Name != "t" {
		t.Fatalf("Load(path) = %+v, %v", s, err)
	}

	// Errors name the file as given.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(edit(t, "version: 1", "version: 3")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":1:10: version: ") {
		t.Errorf("Load(bad) error = %v, want it to start with %s:1:10", err, bad)
	}

	_, err = Load(filepath.Join(dir, "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "neither a file nor an embedded scenario (embedded: "+strings.Join(Embedded(), ", ")+")") || !strings.Contains(err.Error(), "quickstart-stream") {
		t.Errorf("Load(missing) error = %v", err)
	}
	if _, err := Load("../quickstart"); err == nil {
		t.Errorf("Load(../quickstart) found an embedded scenario")
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Load(dir) error = %v", err)
	}

	// Names are looked up after files, so run where no file has them (the
	// package folder holds quickstart.yaml).
	t.Chdir(dir)
	for _, name := range []string{"quickstart", "quickstart.yaml", "embedded:quickstart"} {
		if s, err := Load(name); err != nil || s.File != "embedded:quickstart" {
			t.Errorf("Load(%q) = %v, %v", name, s, err)
		}
	}

	// A file in the working directory shadows the embedded scenario, and a
	// directory of that name does not.
	if err := os.WriteFile("quickstart", []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := Load("quickstart"); err != nil || s.File != "quickstart" || s.Name != "t" {
		t.Errorf("Load(quickstart) with a local file = %+v, %v", s, err)
	}
	if err := os.Mkdir("mcp-direct", 0o755); err != nil {
		t.Fatal(err)
	}
	if s, err := Load("mcp-direct"); err != nil || s.File != "embedded:mcp-direct" {
		t.Errorf("Load(mcp-direct) with a local directory = %v, %v", s, err)
	}
}

func TestDefaults(t *testing.T) {
	s := mustParse(t, `name: d
providers:
  p: {base_url: mock, model: m}
mcp_servers:
  only: {url: mock}
tools:
  - {name: x, inputSchema: {type: object}}
conversation:
  provider: p
  turns: [{user: hi, model: [{content: ok}]}]
load:
  stages: [{rate: 1, duration: 1s}]
`)
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", s.Version, 1},
		{"seed", s.Seed, int64(0)},
		{"api", s.Providers["p"].API, "openai"},
		{"tool server", s.Tools[0].Server, "only"},
		{"max_steps", s.Conversation.MaxSteps, 8},
		{"arrival", s.Load.Arrival, "constant"},
		{"on_cap", s.Load.OnCap, "queue"},
		{"max_in_flight", s.Load.MaxInFlight, 10000},
		{"timeout", s.Client.Timeout.D(), 30 * time.Second},
		{"stream", s.Providers["p"].Stream, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	m := mustParse(t, `name: d
mcp_servers: {only: {url: mock}}
tools: [{name: x, inputSchema: {type: object}}, {name: y, inputSchema: {type: object}}]
mcp_direct:
  mix: [{tool: x}, {tool: y, weight: 4}]
load: {stages: [{rate: 1, duration: 1s}], max_in_flight: 7, on_cap: drop, arrival: poisson}
client: {timeout: 2s}
`)
	d := m.MCPDirect
	if d.Server != "only" || d.Session != SessionPerVU || d.Mix[0].Weight != 1 || d.Mix[1].Weight != 4 {
		t.Errorf("mcp_direct defaults = %+v", d)
	}
	// Values given are kept.
	if m.Load.MaxInFlight != 7 || m.Load.OnCap != OnCapDrop || m.Load.Arrival != ArrivalPoisson || m.Client.Timeout.D() != 2*time.Second {
		t.Errorf("load, client = %+v, %+v", m.Load, m.Client)
	}
}

func TestResolvedRoundTrip(t *testing.T) {
	srcs := map[string]string{"base": base, "resilient": resilient}
	for _, name := range Embedded() {
		data, err := fs.ReadFile(EmbeddedFS(), name+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		srcs[name] = string(data)
	}
	// Values that YAML could read back as something else.
	srcs["tricky"] = edit(t,
		"name: t", "name: \"1.0\"\ndescription: \"yes: no # not a comment\\n\\ttab\"\nseed: -42",
		"    model: m\n", "    model: \"007\"\n    api_key_env: OPENAI_API_KEY\n    stream: true\n    mock: {latency: 80ms, ttft: {dist: normal, mean: 10ms, stddev: 1ms, max: 20ms}}\n",
		"    mock:\n      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n", "",
		"{location: Hanoi}", "{location: \"2001-12-14\", extra: [1, 2.5, 3.0, 1e300, true, null, ~, \"<<\", {\"\": \"\"}], n: 0x10}",
		"    mock:\n      latency: {dist: uniform, min: 5ms, max: 30ms}\n", "    mock:\n      latency: {dist: uniform, min: 5ms, max: 30ms}\n      result: {a: [1, {b: \"null\"}], c: \"true\", d: {}}\n      is_error: true\n",
		"rate: 20,", "rate: 1/3s,",
		"rate: 50/1s, duration: 2s, ramp: 1s", "rate: 3000/1m, duration: 1h30m, ramp: 1ms",
	)
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			s := mustParse(t, src)
			out, err := s.Resolved()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse("resolved.yaml", out)
			if err != nil {
				t.Fatalf("Parse(Resolved()): %v\n%s", err, out)
			}
			again.File = s.File
			if !reflect.DeepEqual(s, again) {
				t.Errorf("Parse(Resolved()) differs from the original.\nresolved:\n%s", out)
			}
			// Resolved is a fixed point.
			out2, err := again.Resolved()
			if err != nil || string(out2) != string(out) {
				t.Errorf("Resolved() of the re-parsed scenario differs:\n%s\nvs\n%s", out2, out)
			}
		})
	}
}

func TestResolvedHasNoSecrets(t *testing.T) {
	t.Setenv("MCPLOAD_TEST_KEY", "sk-test-0123456789")
	s := mustParse(t, edit(t, "    model: m\n", "    model: m\n    api_key_env: MCPLOAD_TEST_KEY\n"))
	out, err := s.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "sk-test") {
		t.Errorf("Resolved() holds the key:\n%s", out)
	}
	if !strings.Contains(string(out), "api_key_env: MCPLOAD_TEST_KEY") {
		t.Errorf("Resolved() lost the key's variable name:\n%s", out)
	}

	// No field of a Scenario can hold a secret: the only fields about
	// credentials hold where to find them.
	allowed := map[string]bool{"APIKeyEnv": true, "CredentialsFile": true, "TokenGap": true, "KeyFile": true, "BearerTokenEnv": true}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			lower := strings.ToLower(f.Name)
			for _, w := range []string{"key", "secret", "token", "password", "auth", "cred"} {
				if strings.Contains(lower, w) && !allowed[f.Name] && !strings.HasSuffix(lower, "tokens") {
					t.Errorf("field %s.%s may hold a secret", path, f.Name)
				}
			}
			walk(f.Type, path+"."+f.Name)
		}
	}
	walk(reflect.TypeFor[Scenario](), "Scenario")
}
