package record

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// WriteHlogHeader writes the header of histograms.hlog: Java
// HdrHistogram's, with the start time to the millisecond (the library's
// OutputStartTime truncates to the second). Interval times are relative to
// the base time, started, which it sets on w.
func WriteHlogHeader(w *hdrhistogram.HistogramLogWriter, started time.Time) error {
	startMs := started.UnixMilli()
	w.SetBaseTime(startMs)
	return firstErr(
		w.OutputLogFormatVersion(),
		w.OutputComment(fmt.Sprintf("[StartTime: %.3f (seconds since epoch), %s]",
			float64(startMs)/1000, started.UTC().Format(time.RFC3339Nano))),
		w.OutputComment(fmt.Sprintf("[BaseTime: %.3f (seconds since epoch)]", float64(startMs)/1000)),
		w.OutputComment("[Values in microseconds; Interval_Max in seconds]"),
		w.OutputLegend(),
	)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// hlogLegend starts the legend line of an interval log.
var hlogLegend = []byte(`"StartTimestamp"`)

// Interval is one line of an interval log: a tag's histogram over an
// interval, whose start is in seconds since the log's base time.
type Interval struct {
	Tag             string
	StartS, LengthS float64
	Hist            *hdrhistogram.Histogram
}

// ParseInterval parses one line of an interval log,
// [Tag=TAG,]START,LENGTH,MAX,PAYLOAD, on its own, so that a damaged line
// costs its interval and nothing else (the library's reader stops at the
// first). A comment, the legend or an empty line gives a nil Hist and ok;
// a line that does not parse gives ok false.
func ParseInterval(line []byte) (iv Interval, ok bool) {
	if len(line) == 0 || line[0] == '#' || bytes.HasPrefix(line, hlogLegend) {
		return Interval{}, true
	}
	if rest, found := bytes.CutPrefix(line, []byte("Tag=")); found {
		t, after, found := bytes.Cut(rest, []byte{','})
		if !found {
			return Interval{}, false
		}
		iv.Tag, line = string(t), after
	}
	fields := bytes.SplitN(line, []byte{','}, 4)
	if len(fields) != 4 {
		return Interval{}, false
	}
	var nums [3]float64
	for i, f := range fields[:3] {
		v, err := strconv.ParseFloat(string(f), 64)
		if err != nil {
			return Interval{}, false
		}
		nums[i] = v
	}
	h, err := hdrhistogram.Decode(bytes.TrimSpace(fields[3]))
	if err != nil {
		return Interval{}, false
	}
	iv.StartS, iv.LengthS, iv.Hist = nums[0], nums[1], h
	return iv, true
}
