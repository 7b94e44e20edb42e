package scenarios

import (
	"maps"
	"net/url"
	"slices"
	"strings"
)

// TLS is how mcpload connects to an https target, such as an internal
// gateway with its own certificate authority or one that asks for a
// client certificate. Paths are read when the run starts; "~" expands.
type TLS struct {
	// CAFile is a PEM file of certificate authorities to trust, instead
	// of the system's.
	CAFile string `yaml:"ca_file,omitempty"`
	// CertFile and KeyFile are a PEM client certificate and its key, sent
	// when the server asks for one (mutual TLS). Both or neither.
	CertFile string `yaml:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file,omitempty"`
	// InsecureSkipVerify accepts any server certificate. The run says so
	// on the terminal and in summary.json's warnings.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify,omitempty"`
}

// tls checks the tls section of a target at rawURL.
func (v *validator) tls(path, rawURL string, t *TLS) {
	if t == nil {
		return
	}
	if rawURL == MockURL {
		v.errorf(path, "does not apply to the mock, which is plain HTTP on loopback")
		return
	}
	if u, err := url.Parse(rawURL); err == nil && u.Scheme == "http" {
		v.errorf(path, "applies to an https URL; %s is plain http", u.Redacted())
		return
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		v.errorf(path, "cert_file and key_file go together: a client certificate needs its key")
	}
	if t.InsecureSkipVerify && t.CAFile != "" {
		v.errorf(field(path, "insecure_skip_verify"), "with ca_file, nothing is verified against it; remove one")
	}
	for _, f := range []struct{ name, value string }{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
		if strings.ContainsRune(f.value, 0) {
			v.errorf(field(path, f.name), "not a path")
		}
	}
}

// TLSWarnings lists the targets of s that skip certificate checks, one
// sentence each, for the terminal and summary.json.
func (s *Scenario) TLSWarnings() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(s.Providers)) {
		if p := s.Providers[name]; p != nil && p.TLS != nil && p.TLS.InsecureSkipVerify {
			out = append(out, "providers."+name+".tls.insecure_skip_verify is on: the server's certificate is not verified, and anyone on the path can read and change the traffic")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.MCPServers)) {
		if m := s.MCPServers[name]; m != nil && m.TLS != nil && m.TLS.InsecureSkipVerify {
			out = append(out, "mcp_servers."+name+".tls.insecure_skip_verify is on: the server's certificate is not verified, and anyone on the path can read and change the traffic")
		}
	}
	return out
}
