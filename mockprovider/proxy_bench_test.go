package mockprovider

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkProxy measures what the fault proxy adds to a request: the
// same upstream, asked directly and through the proxy without faults
// (client, proxy and upstream in one process: the allocations are all
// three's).
func BenchmarkProxy(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, upstreamJSON)
	}))
	defer up.Close()
	sc := faultScenario()
	sc.Providers["primary"].Upstream = up.URL + "/v1"
	_, base := startMock(b, sc)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := func(b *testing.B, url string) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := c.Post(url, "application/json", strings.NewReader(chatBody))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	b.Run("direct", func(b *testing.B) { run(b, up.URL+"/v1/chat/completions") })
	b.Run("proxied", func(b *testing.B) { run(b, base+primaryChat) })
}
