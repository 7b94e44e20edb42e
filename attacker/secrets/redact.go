package secrets

import (
	"regexp"
	"strings"

	"github.com/mcpload/mcpload/attacker/httpx"
)

// Redacted replaces secrets in anything that may reach results or logs.
const Redacted = "[REDACTED]"

// maxErrorText bounds the text a target controls once it is redacted. A
// target's text is kept up to httpx.MaxErrorDetail bytes (a bound on
// memory, since a body may be 32 MiB), redacted, and only then cut to
// maxErrorText: cutting first could leave the start of a key at the cut,
// where no whole key is left to find.
const maxErrorText = 320

// minKeyPrefix is the shortest start of a key that is redacted on its own:
// a target that received the key may echo part of it, and a cut may leave
// part of one. Eight characters are more than any key's fixed prefix
// ("sk-proj-", "sk-ant-", "AIza") and few enough to catch a key's start.
const minKeyPrefix = 8

// bearerRE matches an Authorization header value wherever it is echoed,
// including keys mcpload never resolved (a proxy's own token, say).
var bearerRE = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]+`)

// Redactor removes API keys and bearer tokens from text a target controls.
// It is immutable once set up, so jobs share it across goroutines.
type Redactor struct {
	secrets []string
}

// NewRedactor returns a Redactor for the given keys; empty keys are ignored.
func NewRedactor(keys ...string) *Redactor {
	r := &Redactor{}
	for _, k := range keys {
		if k != "" {
			r.secrets = append(r.secrets, k)
		}
	}
	return r
}

// Add adds key, when it is not empty, to what r removes. It is for a
// run's set-up, which builds jobs one at a time: r must not be in use.
func (r *Redactor) Add(key string) {
	if key != "" {
		r.secrets = append(r.secrets, key)
	}
}

// Redact returns s with every secret, every run of minKeyPrefix or more
// characters of the start of a secret, and every bearer token replaced by
// [REDACTED]. Only error paths and names a target chose call it, so a
// regexp is affordable.
func (r *Redactor) Redact(s string) string {
	if s == "" {
		return s
	}
	if r != nil {
		for _, k := range r.secrets {
			s = redactKey(s, k)
		}
	}
	if containsFold(s, "bearer") {
		s = bearerRE.ReplaceAllString(s, "${1}"+Redacted)
	}
	return s
}

// containsFold reports whether s contains the ASCII word w in any case,
// without the copy strings.ToLower makes: Redact runs on every key the
// recorder writes.
func containsFold(s, w string) bool {
	first := w[0] | 0x20
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == first && strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

// Clip redacts s, then cuts it to maxErrorText bytes: the order that
// leaves no part of a key at the cut. The MCP and model clients take it
// as their Redactor (mcp.Redactor, llm.Redactor).
func (r *Redactor) Clip(s string) string {
	return httpx.Truncate(r.Redact(s), maxErrorText)
}

// redactKey replaces in s each occurrence of key, and each run that starts
// with key's first minKeyPrefix characters and follows key as far as it
// goes (a key cut short, or echoed in part).
func redactKey(s, key string) string {
	head := key[:min(len(key), minKeyPrefix)]
	i := strings.Index(s, head)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		n := len(head)
		for n < len(key) && i+n < len(s) && s[i+n] == key[n] {
			n++
		}
		b.WriteString(s[:i])
		b.WriteString(Redacted)
		s = s[i+n:]
		i = strings.Index(s, head)
	}
	b.WriteString(s)
	return b.String()
}
