package policy

import (
	"net/http"
	"testing"
	"time"
)

func TestHintOf(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		hdr  []string
		want Hint
	}{
		{"none", nil, Hint{}},
		{"seconds", []string{"Retry-After", "7"}, Hint{Wait: 7 * time.Second, HasWait: true}},
		{"fractional seconds", []string{"Retry-After", "1.5"}, Hint{Wait: 1500 * time.Millisecond, HasWait: true}},
		{"http-date", []string{"Retry-After", now.Add(90 * time.Second).Format(http.TimeFormat)}, Hint{Wait: 90 * time.Second, HasWait: true}},
		{"http-date past", []string{"Retry-After", now.Add(-time.Minute).Format(http.TimeFormat)}, Hint{Wait: 0, HasWait: true}},
		{"retry-after-ms", []string{"retry-after-ms", "250"}, Hint{Wait: 250 * time.Millisecond, HasWait: true}},
		{"retry-after-ms wins", []string{"Retry-After", "20", "retry-after-ms", "1500.5"}, Hint{Wait: 1500500 * time.Microsecond, HasWait: true}},
		{"bad retry-after-ms falls back", []string{"Retry-After", "3", "retry-after-ms", "soon"}, Hint{Wait: 3 * time.Second, HasWait: true}},
		{"garbage", []string{"Retry-After", "whenever"}, Hint{}},
		{"negative", []string{"Retry-After", "-5"}, Hint{}},
		{"should retry true", []string{"x-should-retry", "true"}, Hint{ShouldRetry: 1}},
		{"should retry FALSE", []string{"X-Should-Retry", "FALSE"}, Hint{ShouldRetry: -1}},
		{"should retry junk", []string{"x-should-retry", "maybe"}, Hint{}},
		{"both", []string{"Retry-After", "2", "x-should-retry", "false"}, Hint{Wait: 2 * time.Second, HasWait: true, ShouldRetry: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tc.hdr); i += 2 {
				h.Set(tc.hdr[i], tc.hdr[i+1])
			}
			if got := HintOf(h, now); got != tc.want {
				t.Fatalf("HintOf = %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := HintOf(nil, now); got != (Hint{}) {
		t.Fatalf("nil header: %+v", got)
	}
}
