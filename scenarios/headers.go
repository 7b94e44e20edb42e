package scenarios

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// reservedHeaders are set by mcpload itself on every request: the body's
// type and length, the MCP session and routing headers, the attempt tags
// the mock draws from. A scenario's headers must not replace them.
var reservedHeaders = []string{
	"Accept", "Connection", "Content-Encoding", "Content-Length", "Content-Type", "Host",
	"Keep-Alive", "Last-Event-Id", "Proxy-Authorization", "Proxy-Connection", "Te",
	"Trailer", "Transfer-Encoding", "Upgrade",
	"Mcp-Method", "Mcp-Name", "Mcp-Protocol-Version", "Mcp-Session-Id",
	"Mcpload-Attempt", "Mcpload-Seq", "Mcpload-Step",
}

// keyHeaders carry a provider's key; with api_key_env or credentials_file
// set, the key is what goes in them.
var keyHeaders = []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key"}

// isToken reports whether s is an HTTP token (RFC 9110 5.6.2), the
// grammar of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// headers checks a headers map: token names, none that mcpload sets,
// values on one line. Values may hold ${VAR} (checked by interpolate).
// keyFrom names the field that sets the key headers, if any.
func (v *validator) headers(path string, h map[string]string, keyFrom string) {
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(h)) {
		at := mapKey(path, name)
		canon := http.CanonicalHeaderKey(name)
		switch {
		case !isToken(name):
			v.keyErrorf(at, "%q is not a header name (letters, digits and !#$%%&'*+-.^_`|~)", name)
			continue
		case slices.Contains(reservedHeaders, canon):
			v.keyErrorf(at, "%s is set by mcpload itself and cannot be replaced", canon)
			continue
		case keyFrom != "" && slices.Contains(keyHeaders, canon):
			v.keyErrorf(at, "%s would replace the key that %s sets; remove one", canon, keyFrom)
			continue
		}
		if other, dup := seen[canon]; dup {
			v.keyErrorf(at, "the same header as %q (names are case-insensitive)", other)
		}
		seen[canon] = name
		// The template, not its value: a value with a line break would
		// be refused by net/http at every request.
		if strings.ContainsAny(h[name], "\r\n\x00") {
			v.errorf(at, "a header value must be one line")
		}
		if credentialName(canon) && !strings.Contains(h[name], "${") {
			// The resolved scenario.yaml keeps header values as written.
			v.errorf(at, "%s carries a credential: take it from the environment, as in \"Bearer ${TOKEN}\", so that it stays out of the scenario and the run folder", canon)
		}
	}
}

// mcpAuth checks an MCP server's headers and bearer_token_env, which go
// with HTTP requests only.
func (v *validator) mcpAuth(path string, m *MCPServer) {
	if m.IsStdio() {
		if m.Headers != nil {
			v.errorf(field(path, "headers"), "only applies to a url server; pass a command server its secrets in env or mcpload's environment")
		}
		if m.BearerTokenEnv != "" {
			v.errorf(field(path, "bearer_token_env"), "only applies to a url server")
		}
		if m.TLS != nil {
			v.errorf(field(path, "tls"), "only applies to a url server")
		}
		return
	}
	if m.BearerTokenEnv != "" && !envName.MatchString(m.BearerTokenEnv) {
		v.errorf(field(path, "bearer_token_env"), "must be the name of an environment variable, such as MCP_TOKEN (letters, digits and '_'); the value is not shown in case it is a token")
	}
	keyFrom := ""
	if m.BearerTokenEnv != "" {
		keyFrom = "bearer_token_env"
	}
	v.headers(field(path, "headers"), m.Headers, keyFrom)
	v.tls(field(path, "tls"), m.URL, m.TLS)
}

// credentialName reports whether a header's name says it carries a
// credential.
func credentialName(canon string) bool {
	lower := strings.ToLower(canon)
	for _, w := range []string{"auth", "key", "token", "secret", "cookie", "password", "credential"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// bearerVars reports each bearer_token_env whose variable lookup does not
// find, at its line: like a header's ${VAR}, it is needed to run.
func bearerVars(s *Scenario, file string, lookup func(string) (string, bool), nodes map[string]*yaml.Node) Errors {
	var errs Errors
	for _, name := range slices.Sorted(maps.Keys(s.MCPServers)) {
		m := s.MCPServers[name]
		if m == nil || m.BearerTokenEnv == "" || !envName.MatchString(m.BearerTokenEnv) {
			continue
		}
		if v, ok := lookup(m.BearerTokenEnv); ok && strings.TrimSpace(v) != "" {
			continue
		}
		at := field(mapKey("mcp_servers", name), "bearer_token_env")
		e := &FieldError{File: file, Field: at, Msg: "variable " + m.BearerTokenEnv + " is not set: it holds the server's bearer token"}
		if n := nodes[at]; n != nil {
			e.Line, e.Column = n.Line, n.Column
		}
		errs = append(errs, e)
	}
	return errs
}
