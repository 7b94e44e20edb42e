package mockprovider

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// FuzzAdminBodies sends bodies to the admin API's PUT /admin/faults and
// PUT /admin/limits, in process. Each answer is 200 or 400 and JSON; an
// accepted fault timeline reads back (GET) as a document that PUT accepts
// again unchanged.
func FuzzAdminBodies(f *testing.F) {
	for _, s := range []string{
		`[{"target":"provider:primary","kind":"http_error","status":503,"retry_after":"2s","for":"1h"}]`,
		"faults:\n  - target: tool:get_time\n    kind: latency\n    latency: {dist: uniform, min: 10ms, max: 20ms}\n  - name: cut\n    target: model:gpt-4.1-mini\n    kind: stream_cut\n    after_chunks: 2\n    probability: 0.5\n    from: 1m\n",
		`[{"target":"provider:primary","kind":"hang","from":5}]`,
		`{"faults": null, "epoch": 1}`,
		`[]`,
		`&a [*a]`,
	} {
		f.Add(false, []byte(s))
	}
	for _, s := range []string{`{"rpm": 60, "tpm": 100000}`, "rpm: 0\n", `{"rpm": -1}`, `{"rpm": 1e99}`} {
		f.Add(true, []byte(s))
	}
	s, err := New(testScenario(), WithAdmin(true))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	h := s.Handler()
	do := func(t *testing.T, method, url, body string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, url, strings.NewReader(body)))
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s %q: %d and not JSON: %s", method, url, body, w.Code, w.Body)
		}
		return w.Code, w.Body.String()
	}
	f.Fuzz(func(t *testing.T, limits bool, body []byte) {
		url := "/admin/faults"
		if limits {
			url = "/admin/limits?provider=primary"
		}
		code, out := do(t, http.MethodPut, url, string(body))
		if code != http.StatusOK && code != http.StatusBadRequest {
			t.Fatalf("PUT %s %q: %d %s", url, body, code, out)
		}
		if limits || code != http.StatusOK {
			return
		}
		_, got := do(t, http.MethodGet, url, "")
		code, again := do(t, http.MethodPut, url, got)
		var a, b faultsDoc
		if code != http.StatusOK || json.Unmarshal([]byte(got), &a) != nil || json.Unmarshal([]byte(again), &b) != nil ||
			!reflect.DeepEqual(a.Faults, b.Faults) {
			t.Fatalf("PUT %q accepted, but GET's document does not round-trip: %d\n%s\nvs\n%s", body, code, got, again)
		}
	})
}
