package summary

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mcpload/mcpload/record"
)

// TimeseriesFile is the per-second series of a run, next to summary.json.
const TimeseriesFile = "timeseries.json"

// TimeseriesSchema identifies the version of timeseries.json's layout.
const TimeseriesSchema = "mcpload.timeseries/v1"

// Timeseries is timeseries.json: the run cut into 1-second intervals, one
// array per measure, all of the same length, index i covering
// [Started+i s, Started+i+1 s). It is columnar JSON rather than CSV because
// the set of series differs from run to run (one per provider, per outcome,
// per retry reason, per breaker), breaker states are strings, and the fault
// windows that a plot shades travel in the same file: a Go plotting step
// decodes it straight into this struct, and pandas reads any map of it as a
// DataFrame.
//
// Conversations are counted in the second of their intended start, attempts
// in the second they were sent, policy events in the second they happened.
//
// InFlightMean and InFlightMax are the conversations in flight, each from
// its intended start to its end (results.bin's Timestamp to
// Timestamp+Latency; dropped ones never are): the count is sampled every
// 10 ms, InFlightMean is the mean of a second's samples (its time-weighted
// mean, to within 10 ms per conversation) and InFlightMax the largest. A
// conversation shorter than 10 ms may fall between two samples.
type Timeseries struct {
	Schema   string    `json:"schema"`
	Scenario string    `json:"scenario"`
	Started  time.Time `json:"started"`
	// IntervalS is the length of one interval, in seconds (1).
	IntervalS float64 `json:"interval_s"`
	// T is each interval's start, in seconds from Started.
	T []float64 `json:"t_s"`
	// Faults are the fault windows, to shade.
	Faults []SeriesFault `json:"faults"`

	Conversations SeriesConversations `json:"conversations"`

	// Steps counts logical steps whose first attempt was sent in the
	// interval, and StepAttempts every attempt of those steps, whenever it
	// was sent; Amplification is their ratio, null when no step started.
	Steps         []uint64   `json:"steps"`
	StepAttempts  []uint64   `json:"step_attempts"`
	Amplification []*float64 `json:"amplification"`

	// AttemptOutcomes counts every HTTP attempt (MCP session set-up
	// included) by outcome class ("ok", "429", "timeout"...), in the second
	// it was sent: the failures that retries hide from the conversations.
	AttemptOutcomes map[string][]uint64 `json:"attempt_outcomes"`

	// InFlightMean and InFlightMax are conversations in flight: see above.
	InFlightMean []float64 `json:"in_flight_mean"`
	InFlightMax  []uint64  `json:"in_flight_max"`

	// Offered counts attempts sent per second to each target
	// ("provider:NAME", "tool:NAME"): the load offered, where a retry storm
	// shows. OfferedFailed counts those of them that failed.
	Offered       map[string][]uint64 `json:"offered"`
	OfferedFailed map[string][]uint64 `json:"offered_failed"`

	// Retries counts retries scheduled, by the outcome that caused them.
	Retries         map[string][]uint64 `json:"retries"`
	Fallbacks       []uint64            `json:"fallbacks"`
	BudgetExhausted []uint64            `json:"budget_exhausted"`
	Hedges          []uint64            `json:"hedges"`
	CacheHits       []uint64            `json:"cache_hits"`
	// Breaker is each provider's breaker state per interval: the most
	// severe it was in at any moment of the interval (open, then half_open,
	// then closed), so that a breaker open for 200 ms still shows.
	Breaker map[string][]string `json:"breaker"`

	// Tokens spent per interval, by the attempts sent in it.
	Tokens SeriesTokens `json:"tokens"`
}

// SeriesFault is one fault window, in seconds from the start of the run.
type SeriesFault struct {
	Name   string  `json:"name"`
	Target string  `json:"target"`
	Kind   string  `json:"kind"`
	FromS  float64 `json:"from_s"`
	EndS   float64 `json:"end_s"`
}

// SeriesConversations counts conversations by the second of their intended
// start.
type SeriesConversations struct {
	// Offered counts conversations due to start: started plus dropped.
	Offered []uint64 `json:"offered"`
	OK      []uint64 `json:"ok"`
	Failed  []uint64 `json:"failed"`
	Dropped []uint64 `json:"dropped"`
	// ByCause counts failed conversations by outcome, dropped apart.
	ByCause map[string][]uint64 `json:"by_cause"`
	// Goodput counts ok conversations that finished within the timeout.
	Goodput []uint64 `json:"goodput"`
	// SuccessRatio is OK / Offered (0-1), null when none were offered.
	SuccessRatio []*float64 `json:"success_ratio"`
}

// SeriesTokens counts tokens per interval.
type SeriesTokens struct {
	Prompt     []uint64 `json:"prompt"`
	Completion []uint64 `json:"completion"`
	Cached     []uint64 `json:"cached"`
}

// WriteTimeseries writes ts to dir/timeseries.json.
func WriteTimeseries(dir string, ts *Timeseries) error {
	b, err := json.Marshal(ts)
	if err != nil {
		return fmt.Errorf("encode timeseries: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, TimeseriesFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write timeseries: %w", err)
	}
	return nil
}

// ReadTimeseries reads dir/timeseries.json.
func ReadTimeseries(dir string) (*Timeseries, error) {
	b, err := record.ReadRegular(filepath.Join(dir, TimeseriesFile), record.MaxDocumentBytes)
	if err != nil {
		return nil, fmt.Errorf("read timeseries: %w", err)
	}
	var ts Timeseries
	if err := json.Unmarshal(b, &ts); err != nil {
		return nil, fmt.Errorf("read timeseries: %w", err)
	}
	return &ts, nil
}

// series counts per second; it grows with the run's length, never with the
// number of records.
type series []uint64

func (s *series) add(i int, n uint64) {
	if i >= len(*s) {
		*s = append(*s, make([]uint64, i+1-len(*s))...)
	}
	(*s)[i] += n
}

func (s series) at(i int) uint64 {
	if i < 0 || i >= len(s) {
		return 0
	}
	return s[i]
}

// sum adds up s over [from, to).
func (s series) sum(from, to int) uint64 {
	var n uint64
	for i := max(from, 0); i < min(to, len(s)); i++ {
		n += s[i]
	}
	return n
}

// padded returns s as exactly n intervals.
func (s series) padded(n int) []uint64 {
	out := make([]uint64, n)
	copy(out, s)
	return out
}

// seriesMap holds one series per key.
type seriesMap map[string]*series

func (m seriesMap) add(key string, i int, n uint64) {
	s, ok := m[key]
	if !ok {
		s = &series{}
		m[key] = s
	}
	s.add(i, n)
}

func (m seriesMap) get(key string) series {
	if s, ok := m[key]; ok {
		return *s
	}
	return nil
}

func (m seriesMap) padded(n int) map[string][]uint64 {
	out := make(map[string][]uint64, len(m))
	for k, s := range m {
		out[k] = s.padded(n)
	}
	return out
}

// inFlightBin is the resolution of the in-flight series.
const inFlightBin = 10 * time.Millisecond

// inFlight counts conversations in flight with a difference array of
// inFlightBin bins: each conversation adds 1 at the bin of its start and
// takes 1 away at the bin of its end, so memory grows with the run's
// length, not with its conversations.
type inFlight struct {
	diff []int32
	// limit is the number of bins the run can have; ends past it are
	// clock skew and are cut there.
	limit int
}

// add counts a conversation in flight over [from, to), both offsets from
// the start of the run.
func (f *inFlight) add(from, to time.Duration) {
	a, b := f.bin(from), f.bin(to)
	if b <= a {
		return
	}
	if b >= len(f.diff) {
		f.diff = append(f.diff, make([]int32, b+1-len(f.diff))...)
	}
	f.diff[a]++
	f.diff[b]--
}

// bin is the index of the first sample (bin start) at or after d.
func (f *inFlight) bin(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	if d/inFlightBin >= time.Duration(f.limit) {
		return f.limit // rounding d up could overflow
	}
	return int((d + inFlightBin - 1) / inFlightBin)
}

// series returns each of n seconds' mean and largest sample.
func (f *inFlight) series(n int) (mean []float64, peak []uint64) {
	per := int(time.Second / inFlightBin)
	mean, peak = make([]float64, n), make([]uint64, n)
	var cur int64
	for i := range n {
		var sum int64
		var top int64
		for k := i * per; k < (i+1)*per; k++ {
			if k < len(f.diff) {
				cur += int64(f.diff[k])
			}
			sum += cur
			top = max(top, cur)
		}
		mean[i] = Round3(float64(sum) / float64(per))
		peak[i] = uint64(max(top, 0))
	}
	return mean, peak
}
