package htmlreport

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The formats below are the page's: the terminal report's precision, with
// thousands separators and units a reader does not have to look up.

// count formats an integer with thousands separators: 47,832.
func count[T ~int | ~int64 | ~uint64 | ~int32 | ~uint32](v T) string {
	s := strconv.FormatInt(int64(v), 10)
	if u, ok := any(v).(uint64); ok {
		s = strconv.FormatUint(u, 10)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ms formats a latency in milliseconds for a table whose heading says
// ms: a tenth of a millisecond, with thousands separators.
func ms(v float64) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil { // beyond int64: no separators
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	if v < 0 {
		n = -n
	}
	return count(n) + "." + frac
}

// latency formats a latency in milliseconds with its unit: ms below a
// second, seconds above, as comparison tables do.
func latency(v float64) string {
	if v < 1000 {
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
}

// pct formats a percentage.
func pct(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "%" }

// ratio formats a 0-1 ratio as a percentage.
func ratio(v float64) string { return pct(100 * v) }

// fixed2 formats a plain figure, such as an amplification, to 2 decimals.
func fixed2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// rate formats a per-second rate.
func rate(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "/s" }

// perSecond formats a load in attempts per second without trailing zeros:
// peaks are whole counts of one second, 157/s, means are not, 75.31/s.
func perSecond(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + "/s"
}

// secs formats a time in seconds without noise: 4 s, 2.5 s, 0.125 s.
func secs(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) + " s"
}

// usd formats money: cents from a dollar up, up to four significant
// digits below, so that $0.000532 per conversation does not read as $0.00.
func usd(v float64) string {
	neg := v < 0
	a := math.Abs(v)
	var s string
	switch {
	case a == 0:
		s = "0.00"
	case a >= 1:
		cents := int64(math.Round(a * 100))
		s = fmt.Sprintf("%s.%02d", count(cents/100), cents%100)
	default:
		digits := max(4-1-int(math.Floor(math.Log10(a))), 2)
		s = strconv.FormatFloat(a, 'f', digits, 64)
		// Four significant digits, without trailing zeros past the cents.
		for strings.HasSuffix(s, "0") && len(s)-strings.IndexByte(s, '.') > 3 {
			s = s[:len(s)-1]
		}
	}
	if neg {
		return "−$" + s
	}
	return "$" + s
}

// optUSD formats an optional amount, "—" when there is none.
func optUSD(v *float64) string {
	if v == nil {
		return dash
	}
	return usd(*v)
}

// dash marks a cell without a value.
const dash = "—"

// when formats a time in UTC, to the second.
func when(t time.Time) string {
	if t.IsZero() {
		return dash
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// plural writes n and the noun, with an s when n is not 1.
func plural[T ~int | ~int64 | ~uint64](n T, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%s %ss", count(n), noun)
}

// counts lists a map's counts in key order: "429 3, timeout 12".
func counts(m map[string]uint64) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+" "+count(m[k]))
	}
	return strings.Join(parts, ", ")
}

// withoutOK keeps the failure outcomes of m.
func withoutOK(m map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range m {
		if k != "ok" && v > 0 {
			out[k] = v
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
