package scenarios

import "testing"

func TestClientHTTPValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits []string
		want  []want
	}{
		{"http unknown", afterBase("  http: 3\n"),
			[]want{{"39:9", "client.http", `expected auto, "1.1" or "2", got "3"`}}},
		{"http 2.0", afterBase("  http: 2.0\n"),
			[]want{{"39:9", "client.http", `got "2.0"; write "2"`}}},
		{"http h2c", afterBase("  http: h2c\n"),
			[]want{{"39:9", "client.http", `got "h2c"; write "2"`}}},
		{"max_conns_per_host negative", afterBase("  max_conns_per_host: -1\n"),
			[]want{{"39:23", "client.max_conns_per_host", "must be from 0 to 1048576 (0: no limit), got -1"}}},
		{"keep_alive not a bool", afterBase("  keep_alive: sometimes\n"),
			[]want{{"39:15", "client.keep_alive", "expected true or false"}}},
		{"in a policy", afterBase("policies:\n  - {name: a, client: {http: h3, max_conns_per_host: 2000000}}\n"),
			[]want{
				{"40:30", "policies[0].client.http", `expected auto, "1.1" or "2", got "h3"`},
				{"40:54", "policies[0].client.max_conns_per_host", "must be from 0 to 1048576"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, edit(t, tc.edits...)), tc.want...)
		})
	}
}

func TestClientHTTPDefaults(t *testing.T) {
	s := mustParse(t, edit(t, afterBase("  http: 2\n  max_conns_per_host: 8\n  keep_alive: false\n")...))
	if s.Client.HTTPVersion() != HTTP2 || s.Client.MaxConnsPerHost != 8 || s.Client.KeepsAlive() {
		t.Errorf("client = http %q, max_conns_per_host %d, keep_alive %v; want 2, 8, false", s.Client.HTTPVersion(), s.Client.MaxConnsPerHost, s.Client.KeepsAlive())
	}
	s = mustParse(t, edit(t))
	if s.Client.HTTPVersion() != HTTPAuto || s.Client.MaxConnsPerHost != 0 || !s.Client.KeepsAlive() {
		t.Errorf("defaults = http %q, max_conns_per_host %d, keep_alive %v; want auto, 0, true", s.Client.HTTPVersion(), s.Client.MaxConnsPerHost, s.Client.KeepsAlive())
	}
	s = mustParse(t, edit(t, afterBase("  http: 1.1\n")...))
	if s.Client.HTTPVersion() != HTTP1 {
		t.Errorf("http: 1.1 (a YAML float) = %q, want \"1.1\"", s.Client.HTTPVersion())
	}
}
