package hostile

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// KeyTool is an OpenAI Chat Completions model that turns the API key it
// was sent against its client: to a user message it answers with a call
// of a tool named after the key, with the key in its arguments and its call
// id; to the tool's result, with a final answer. Every name a target
// chooses must reach no output unredacted.
func KeyTool(key string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct {
				Role string `json:"role"`
			} `json:"messages"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		last := ""
		if n := len(req.Messages); n > 0 {
			last = req.Messages[n-1].Role
		}
		if last == "tool" {
			writeJSON(w, http.StatusOK, completion(`{"role":"assistant","content":"done"}`, "stop", `{"prompt_tokens":10,"completion_tokens":2}`))
			return
		}
		call := `{"role":"assistant","content":null,"tool_calls":[{"id":` + quote("call_"+key) +
			`,"type":"function","function":{"name":` + quote(key) + `,"arguments":` + quote(`{"k":"`+key+`"}`) + `}}]}`
		writeJSON(w, http.StatusOK, completion(call, "tool_calls", `{"prompt_tokens":10,"completion_tokens":5}`))
	})
}

// KeyAtCut answers every request with a 500 whose OpenAI error message
// has the key start at byte at: at 181, a text cut at 200 bytes before it
// is redacted keeps 19 characters of a 20-character key, which no search
// for the whole key finds.
func KeyAtCut(key string, at int) http.Handler {
	msg := strings.Repeat("x", at) + key + " is not valid"
	body := `{"error":{"message":` + quote(msg) + `,"type":"invalid_request_error"}}`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusInternalServerError, body)
	})
}

// completion is a Chat Completions answer of one choice.
func completion(message, finish, usage string) string {
	return `{"id":"chatcmpl-hostile","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":` +
		message + `,"finish_reason":"` + finish + `"}],"usage":` + usage + `}`
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// KeyPrefixLen is how much of a key a leak check looks for: every part of
// a key that is this long or longer starts with its first KeyPrefixLen
// characters, so looking for those finds any prefix worth the name.
const KeyPrefixLen = 8

// KeyIn returns where text holds the start of key, with some context, or
// "" when it does not.
func KeyIn(text, key string) string {
	i := strings.Index(text, key[:KeyPrefixLen])
	if i < 0 {
		return ""
	}
	return text[max(i-60, 0):min(i+40, len(text))]
}

// KeyInFiles walks dir and returns a line per file name and per file that
// holds the start of key, and how many files it read.
func KeyInFiles(dir, key string) (leaks []string, files int, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if KeyIn(d.Name(), key) != "" {
			leaks = append(leaks, "file name "+path)
		}
		if d.IsDir() {
			return nil
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".gz") {
			// attempts.jsonl.gz: what it holds, not its compressed bytes.
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		if s := KeyIn(string(b), key); s != "" {
			leaks = append(leaks, fmt.Sprintf("%s: %q", filepath.Base(path), s))
		}
		return nil
	})
	return leaks, files, err
}
