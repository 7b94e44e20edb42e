package mockprovider

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// adminDo sends an admin request and returns the status and body.
func adminDo(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func decodeDoc(t *testing.T, body string) faultsDoc {
	t.Helper()
	var doc faultsDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("not a faults document: %v: %s", err, body)
	}
	return doc
}

func TestAdminOffByDefault(t *testing.T) {
	s, base := startMock(t, testScenario())
	if code, _ := adminDo(t, http.MethodGet, base+"/admin/faults", ""); code != http.StatusNotFound {
		t.Errorf("GET /admin/faults without WithAdmin: %d, want 404", code)
	}
	for _, ep := range s.Endpoints() {
		if strings.HasPrefix(ep.Name, "admin") {
			t.Errorf("endpoint %s listed without WithAdmin", ep.Name)
		}
	}
}

func TestAdminFaults(t *testing.T) {
	s, base := startMock(t, testScenario(), WithAdmin(true))
	url := base + "/admin/faults"
	var names []string
	for _, ep := range s.Endpoints() {
		names = append(names, ep.Name)
		if ep.Name == "admin:faults" && ep.URL != url {
			t.Errorf("admin:faults URL %s, want %s", ep.URL, url)
		}
	}
	for _, want := range []string{"admin:faults", "admin:epoch", "admin:limits"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("endpoints %v lack %s", names, want)
		}
	}

	code, body := adminDo(t, http.MethodGet, url, "")
	if doc := decodeDoc(t, body); code != 200 || len(doc.Faults) != 0 || doc.Active == nil {
		t.Fatalf("empty timeline: %d %s", code, body)
	}

	// PUT a JSON list; the mock carries it out at once.
	code, body = adminDo(t, http.MethodPut, url, `[{"target":"provider:primary","kind":"http_error","status":503,"retry_after":"2s","for":"1h"}]`)
	if code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	doc := decodeDoc(t, body)
	want := faultJSON{Name: "http_error@provider:primary", Target: "provider:primary", For: "1h0m0s", Probability: 1, Kind: "http_error", Status: 503, RetryAfter: "2s"}
	if len(doc.Faults) != 1 || !reflect.DeepEqual(doc.Faults[0], want) {
		t.Errorf("faults %+v, want %+v", doc.Faults, want)
	}
	if !reflect.DeepEqual(doc.Active, []string{want.Name}) {
		t.Errorf("active %v", doc.Active)
	}
	resp, _ := post(t, base+primaryChat, firstTurn(testModel, false, false))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("chat after PUT: %d Retry-After %q, want 503 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	// What GET returns can be PUT back unchanged.
	_, got := adminDo(t, http.MethodGet, url, "")
	code, again := adminDo(t, http.MethodPut, url, got)
	if code != 200 || !reflect.DeepEqual(decodeDoc(t, again).Faults, decodeDoc(t, got).Faults) {
		t.Errorf("round trip: %d\n%s\nvs\n%s", code, again, got)
	}

	// YAML, in the scenario's form.
	code, body = adminDo(t, http.MethodPut, url, `
faults:
  - target: tool:get_time
    kind: latency
    latency: {dist: uniform, min: 10ms, max: 20ms}
  - name: cut
    target: model:gpt-4.1-mini
    kind: stream_cut
    after_chunks: 2
    probability: 0.5
    from: 1m
`)
	if code != 200 {
		t.Fatalf("PUT YAML: %d %s", code, body)
	}
	doc = decodeDoc(t, body)
	if len(doc.Faults) != 2 || doc.Faults[0].Latency == nil || doc.Faults[0].Latency.Max != "20ms" ||
		doc.Faults[1].Name != "cut" || doc.Faults[1].AfterChunks != 2 || doc.Faults[1].Probability != 0.5 || doc.Faults[1].From != "1m0s" {
		t.Errorf("YAML timeline: %s", body)
	}
	if !reflect.DeepEqual(doc.Active, []string{"latency@tool:get_time"}) {
		t.Errorf("active %v: the cut opens at 1m", doc.Active)
	}
	if resp, _ := post(t, base+primaryChat, firstTurn(testModel, false, false)); resp.StatusCode != 200 {
		t.Errorf("the 503 fault outlived its replacement: %d", resp.StatusCode)
	}

	// Invalid timelines: 400, every problem named, and the timeline in
	// force unchanged.
	for _, tc := range []struct{ body, want string }{
		{`[{"target":"provider:primary","kind":"explode"}]`, `faults[0].kind: unknown kind \"explode\"`},
		{`[{"target":"provider:primary","kind":"hang"},{"target":"provider:nope","kind":"hang"}]`, `faults[1].target: provider \"nope\" is not served`},
		{`[{"target":"primary","kind":"hang"}]`, `expected provider:NAME, model:MODEL or tool:NAME`},
		{`[{"target":"provider:primary","kind":"hang","from":5}]`, `faults[0].from (line 1): expected a duration such as 250ms or 1m30s, got \"5\"; add a unit`},
		{`[{"target":"provider:primary","kind":"hang","for":"-5s"}]`, `faults[0].for (line 1): a duration must not be negative`},
		{`[{"target":"provider:primary","kind":"hang","form":"5s"}]`, `faults[0].form (line 1): unknown field`},
		{`[{"target":"tool:get_time","kind":"stream_stall"}]`, `faults[0].kind: stream_stall does not apply to a tool target`},
		{`[{"target":"provider:primary","kind":"http_error"}]`, `faults[0].status: expected 500, 502 or 503, got 0`},
		{`[{"target":"provider:primary","kind":"latency"}]`, `faults[0].latency: missing`},
		{`[{"target":"provider:primary","kind":"hang","probability":2}]`, `faults[0].probability`},
		{`{"faults": "all of them"}`, `expected a list of faults`},
		{`{"fault": []}`, `unknown field \"fault\"`},
		{`[{"target": "provider:primary"`, `neither JSON nor YAML`},
		{``, `empty body`},
	} {
		code, body := adminDo(t, http.MethodPut, url, tc.body)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("PUT %s: %d %s\nwant 400 with %s", tc.body, code, body, tc.want)
		}
	}
	if _, body := adminDo(t, http.MethodGet, url, ""); len(decodeDoc(t, body).Faults) != 2 {
		t.Errorf("an invalid PUT changed the timeline: %s", body)
	}

	// An empty list clears it.
	if code, body := adminDo(t, http.MethodPut, url, `[]`); code != 200 || len(decodeDoc(t, body).Faults) != 0 {
		t.Errorf("PUT []: %d %s", code, body)
	}
	if code, _ := adminDo(t, http.MethodDelete, url, ""); code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d, want 405", code)
	}
}

func TestAdminEpoch(t *testing.T) {
	clock := newFakeClock()
	t0 := clock.Now()
	_, base := startMock(t, testScenario(), WithAdmin(true), WithClock(clock.Now))
	clock.Set(t0.Add(time.Hour)) // long after Start
	if code, body := adminDo(t, http.MethodPut, base+"/admin/faults", `[{"target":"provider:primary","kind":"http_error","status":500,"from":"10s","for":"5s"}]`); code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	// The window (10 s to 15 s after Start) is long past.
	if resp, _ := post(t, base+primaryChat, firstTurn(testModel, false, false)); resp.StatusCode != 200 {
		t.Errorf("before POST /admin/epoch: %d", resp.StatusCode)
	}
	code, body := adminDo(t, http.MethodPost, base+"/admin/epoch", "")
	if doc := decodeDoc(t, body); code != 200 || doc.Elapsed != "0s" || doc.Epoch != t0.Add(time.Hour).Format(time.RFC3339Nano) {
		t.Fatalf("POST /admin/epoch: %d %s", code, body)
	}
	for _, tc := range []struct {
		at     time.Duration
		status int
	}{{5 * time.Second, 200}, {12 * time.Second, 500}, {20 * time.Second, 200}} {
		clock.Set(t0.Add(time.Hour + tc.at))
		if resp, _ := post(t, base+primaryChat, firstTurn(testModel, false, false)); resp.StatusCode != tc.status {
			t.Errorf("%v after the new epoch: %d, want %d", tc.at, resp.StatusCode, tc.status)
		}
	}
	if code, _ := adminDo(t, http.MethodGet, base+"/admin/epoch", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /admin/epoch: %d, want 405", code)
	}
}

func TestAdminLimits(t *testing.T) {
	_, base := startMock(t, testScenario(), WithAdmin(true))
	url := base + "/admin/limits"
	limits := func() map[string]limitsJSON {
		_, body := adminDo(t, http.MethodGet, url, "")
		var out map[string]limitsJSON
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return out
	}
	if got := limits(); len(got) != 2 || got["primary"] != (limitsJSON{}) {
		t.Fatalf("initial limits %+v", got)
	}
	if code, body := adminDo(t, http.MethodPut, url+"?provider=primary", `{"rpm": 2}`); code != 200 || !strings.Contains(body, `"rpm": 2`) {
		t.Fatalf("PUT: %d %s", code, body)
	}
	var statuses []int
	for range 3 {
		resp, _ := post(t, base+primaryChat, firstTurn(testModel, false, false))
		statuses = append(statuses, resp.StatusCode)
	}
	if !reflect.DeepEqual(statuses, []int{200, 200, 429}) {
		t.Errorf("statuses %v under rpm 2", statuses)
	}
	if got := limits()["primary"]; got.RPM != 2 || got.RequestsInWindow != 2 || got.TokensInWindow != 300 {
		t.Errorf("limits after 3 requests: %+v", got)
	}
	// YAML; 0 lifts the limit.
	if code, body := adminDo(t, http.MethodPut, url+"?provider=primary", "rpm: 0\ntpm: 0\n"); code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if resp, _ := post(t, base+primaryChat, firstTurn(testModel, false, false)); resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Limit-Requests") != "" {
		t.Errorf("after lifting the limits: %d %v", resp.StatusCode, resp.Header)
	}
	for _, tc := range []struct {
		query, body string
		code        int
		want        string
	}{
		{"?provider=nope", `{"rpm":1}`, 404, `provider \"nope\" is not served`},
		{"", `{"rpm":1}`, 400, "missing ?provider=NAME"},
		{"?provider=primary", `{"rpm":-1}`, 400, "must not be negative"},
		{"?provider=primary", `{"rps":5}`, 400, "limits.rps (line 1): unknown field; expected one of rpm, tpm"},
		{"?provider=primary", `{"rpm":"lots"}`, 400, "limits.rpm"},
	} {
		code, body := adminDo(t, http.MethodPut, url+tc.query, tc.body)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("PUT %s %s: %d %s\nwant %d with %s", tc.query, tc.body, code, body, tc.code, tc.want)
		}
	}
}

func TestAdminSwapUnderLoad(t *testing.T) {
	// Timelines and limits swap while requests run: the race detector
	// checks that the request path reads them safely.
	s, err := New(testScenario(), WithAdmin(true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	timelines := []string{
		`[{"target":"provider:primary","kind":"http_error","status":502,"probability":0.5}]`,
		`[]`,
		`[{"target":"provider:primary","kind":"latency","latency":"1ms"}]`,
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code := chatStatus(h, firstTurn(testModel, false, false)); code != 200 && code != 502 && code != 429 {
					t.Errorf("status %d", code)
					return
				}
			}
		})
	}
	for i := range 60 {
		req := httptest.NewRequest(http.MethodPut, "/admin/faults", strings.NewReader(timelines[i%len(timelines)]))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("PUT: %d %s", w.Code, w.Body)
		}
		req = httptest.NewRequest(http.MethodPut, "/admin/limits?provider=primary", strings.NewReader(`{"rpm": 100000}`))
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	close(stop)
	wg.Wait()
}
