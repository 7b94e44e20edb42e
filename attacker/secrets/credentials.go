package secrets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// maxCredentialsBytes bounds the credentials file: a few lines of NAME=value.
const maxCredentialsBytes = 1 << 20

// Key finds the API key of provider p: the environment variable named
// by api_key_env wins when it is set and non-empty, else the first key in
// credentials_file. Mock providers need no key and get ""; a proxied one
// (base_url: mock with an upstream) needs its upstream's.
//
// The error says every place that was looked at, because "no API key" alone
// leaves the user guessing which variable or file mcpload wanted.
func Key(p *scenarios.Provider, getenv func(string) string) (string, error) {
	if p.IsMock() && !p.IsProxied() {
		return "", nil
	}
	target := p.BaseURL
	if p.IsProxied() {
		target = p.Upstream // the key is the upstream's
	}
	if p.APIKeyEnv == "" && p.CredentialsFile == "" && isLoopbackURL(target) {
		// A server on this machine (a local model, a gateway under test)
		// may want no key: send none rather than refuse the run.
		return "", nil
	}
	var looked []string
	if p.APIKeyEnv != "" {
		if k := strings.TrimSpace(getenv(p.APIKeyEnv)); k != "" {
			return k, nil
		}
		looked = append(looked, "$"+p.APIKeyEnv+" is not set")
	} else {
		looked = append(looked, "api_key_env is unset")
	}
	if p.CredentialsFile == "" {
		if p.APIKeyEnv == "" {
			return "", errors.New("no API key: api_key_env and credentials_file are both unset")
		}
		looked = append(looked, "credentials_file is unset")
		return "", fmt.Errorf("no API key: %s", strings.Join(looked, ", and "))
	}
	path, err := expandHome(p.CredentialsFile, getenv)
	if err != nil {
		return "", fmt.Errorf("no API key: %s, and credentials file %s: %w", looked[0], p.CredentialsFile, err)
	}
	data, err := record.ReadRegular(path, maxCredentialsBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		looked = append(looked, "credentials file "+path+" does not exist")
	case err != nil:
		looked = append(looked, fmt.Sprintf("credentials file %s cannot be read (%v)", path, err))
	default:
		if k := keyFromCredentials(data, p.APIKeyEnv); k != "" {
			return k, nil
		}
		looked = append(looked, "credentials file "+path+" has no key")
	}
	return "", fmt.Errorf("no API key: %s", strings.Join(looked, ", and "))
}

// expandHome expands a leading "~" or "~/" to the home directory. $HOME is
// read through getenv so that tests need not touch the real home.
func expandHome(path string, getenv func(string) string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("expanding ~: %w", err)
		}
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}

// keyFromCredentials picks the key out of a credentials file. Two layouts
// are common and both are accepted: the bare key on its own line, and
// dotenv/INI-style NAME=value lines (api_key=..., OPENAI_API_KEY=...,
// export X_KEY="..."). Blank lines, # and ; comments and [section] headers
// are skipped. An assignment to envName wins over other key assignments;
// otherwise the first key found is used.
func keyFromCredentials(data []byte, envName string) string {
	var first string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		name, value, isAssign := splitAssignment(line)
		if !isAssign {
			if first == "" {
				first = line
			}
			continue
		}
		if !strings.Contains(strings.ToLower(name), "key") || value == "" {
			continue // some other setting, such as base_url=...
		}
		if envName != "" && name == envName {
			return value
		}
		if first == "" {
			first = value
		}
	}
	return first
}

// splitAssignment splits NAME=value (optionally "export NAME=value", value
// optionally quoted). A bare key that merely contains '=' (base64 padding)
// is not an assignment: its "name" part is followed by more '='.
func splitAssignment(line string) (name, value string, ok bool) {
	line = strings.TrimPrefix(line, "export ")
	name, value, found := strings.Cut(line, "=")
	if !found {
		return "", "", false
	}
	name = strings.TrimSpace(name)
	value = strings.TrimSpace(value)
	if name == "" || strings.HasPrefix(value, "=") || !isIdent(name) {
		return "", "", false
	}
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1 : len(value)-1]
	}
	return name, strings.TrimSpace(value), true
}

func isIdent(s string) bool {
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case (c >= '0' && c <= '9' || c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// isLoopbackURL reports whether raw is an http(s) URL on loopback.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && httpx.IsLoopbackHost(u.Hostname())
}
