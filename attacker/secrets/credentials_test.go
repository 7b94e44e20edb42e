package secrets

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/scenarios"
)

// testEnv is an environment of m's variables.
func testEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestResolveKeyEnvWins(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "creds")
	if err := os.WriteFile(file, []byte("sk-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &scenarios.Provider{BaseURL: "https://api.example.com/v1", APIKeyEnv: "MY_KEY", CredentialsFile: file}
	got, err := Key(p, testEnv(map[string]string{"MY_KEY": " sk-from-env "}))
	if err != nil || got != "sk-from-env" {
		t.Fatalf("Key = %q, %v; want sk-from-env", got, err)
	}
	// Empty env value falls through to the file.
	got, err = Key(p, testEnv(map[string]string{"MY_KEY": ""}))
	if err != nil || got != "sk-from-file" {
		t.Fatalf("Key with empty env = %q, %v; want sk-from-file", got, err)
	}
}

func TestResolveKeyFileFormats(t *testing.T) {
	for _, tc := range []struct {
		name, content, env, want string
	}{
		{"bare", "# my key\n\n  sk-bare  \n", "", "sk-bare"},
		{"api_key", "[default]\napi_key = sk-ini\n", "", "sk-ini"},
		{"dotenv", "BASE_URL=https://x\nexport OPENAI_API_KEY=\"sk-dotenv\"\n", "", "sk-dotenv"},
		{"named wins", "OTHER_KEY=sk-other\nOPENAI_API_KEY=sk-named\n", "OPENAI_API_KEY", "sk-named"},
		{"base64 padding", "c2stcGFkZGVk==\n", "", "c2stcGFkZGVk=="},
		{"comments only", "# nothing here\n; nor here\n", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := keyFromCredentials([]byte(tc.content), tc.env)
			if got != tc.want {
				t.Fatalf("keyFromCredentials = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestResolveKeyHomeExpansion(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".mcpload"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".mcpload", "credentials"), []byte("api_key=sk-home\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &scenarios.Provider{BaseURL: "https://api.example.com/v1", CredentialsFile: "~/.mcpload/credentials"}
	got, err := Key(p, testEnv(map[string]string{"HOME": home}))
	if err != nil || got != "sk-home" {
		t.Fatalf("Key = %q, %v; want sk-home", got, err)
	}
}

func TestResolveKeyMissingNamesBothPlaces(t *testing.T) {
	home := t.TempDir()
	p := &scenarios.Provider{BaseURL: "https://api.example.com/v1", APIKeyEnv: "OPENAI_API_KEY", CredentialsFile: "~/.mcpload/credentials"}
	_, err := Key(p, testEnv(map[string]string{"HOME": home}))
	if err == nil {
		t.Fatal("want an error")
	}
	want := "no API key: $OPENAI_API_KEY is not set, and credentials file " + filepath.Join(home, ".mcpload", "credentials") + " does not exist"
	if err.Error() != want {
		t.Fatalf("error = %q\nwant    %q", err, want)
	}

	// A file without a key says so.
	empty := filepath.Join(home, "empty")
	if err := os.WriteFile(empty, []byte("# todo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.CredentialsFile = empty
	_, err = Key(p, testEnv(nil))
	if err == nil || !strings.Contains(err.Error(), "credentials file "+empty+" has no key") || !strings.Contains(err.Error(), "$OPENAI_API_KEY is not set") {
		t.Fatalf("error = %v", err)
	}

	// Neither configured.
	_, err = Key(&scenarios.Provider{BaseURL: "https://x/v1"}, testEnv(nil))
	if err == nil || !strings.Contains(err.Error(), "api_key_env and credentials_file are both unset") {
		t.Fatalf("error = %v", err)
	}

	// The mock needs nothing.
	if k, err := Key(&scenarios.Provider{BaseURL: scenarios.MockURL}, testEnv(nil)); err != nil || k != "" {
		t.Fatalf("mock: %q, %v", k, err)
	}
}

func TestRedactor(t *testing.T) {
	r := NewRedactor("sk-secret-123", "")
	got := r.Redact(`HTTP 401: Incorrect API key provided: sk-secret-123. Header was "Authorization: Bearer abc.def-ghi"`)
	if strings.Contains(got, "sk-secret-123") || strings.Contains(got, "abc.def-ghi") {
		t.Fatalf("leak: %s", got)
	}
	if strings.Count(got, Redacted) != 2 {
		t.Fatalf("want 2 redactions: %s", got)
	}
	if r.Redact("") != "" || r.Redact("plain") != "plain" {
		t.Fatal("redact changed clean text")
	}
}

// TestRedactorCatchesPartsOfKeys: a key cut short, or echoed in part, is
// redacted from its 8th character on; a shorter start of it is left, as
// it says nothing a key's fixed prefix does not. Cutting after redacting
// leaves no part of the key at the cut.
func TestRedactorCatchesPartsOfKeys(t *testing.T) {
	const key = "sk-proj-ABCDEFGHIJKLMNOP"
	r := NewRedactor(key)
	for in, want := range map[string]string{
		"bad key " + key + "!":          "bad key [REDACTED]!",
		"cut " + key[:19]:               "cut [REDACTED]",
		"echo " + key[:8] + "XYZ":       "echo [REDACTED]XYZ",
		"twice " + key + key[:10] + ".": "twice [REDACTED][REDACTED].",
		"short " + key[:7]:              "short " + key[:7],
		"BEARER tok.en and bearer x":    "BEARER [REDACTED] and bearer [REDACTED]",
	} {
		if got := r.Redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("x", maxErrorText-5) + key
	if got := r.Clip(long); strings.Contains(got, key[:8]) || len(got) > maxErrorText+len("…") {
		t.Errorf("clip left part of the key or too much: %q", got[len(got)-20:])
	}
	if got := NewRedactor("abc").Redact("xabcx"); got != "x[REDACTED]x" {
		t.Errorf("short key: %q", got)
	}
}

// FuzzCredentials checks the credentials file reader: the key it finds is
// one line's text or value, never more.
func FuzzCredentials(f *testing.F) {
	for _, s := range []string{
		"sk-test-123\n",
		"# comment\n[default]\napi_key = sk-abc\n",
		"export OPENAI_API_KEY=\"sk-q\"\nANTHROPIC_API_KEY='a'\n",
		"base_url=http://x\nkey=\n; c\nbare==\n",
		"MY_KEY=v1\nOTHER_KEY=v2\n",
	} {
		f.Add([]byte(s), "MY_KEY")
	}
	f.Fuzz(func(t *testing.T, data []byte, env string) {
		k := keyFromCredentials(data, env)
		if strings.Contains(k, "\n") || !bytes.Contains(data, []byte(k)) {
			t.Fatalf("key %q from %q", k, data)
		}
		if k != strings.TrimSpace(k) {
			t.Fatalf("key %q has surrounding space", k)
		}
	})
}
