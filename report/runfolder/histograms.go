package runfolder

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
)

// Histograms holds the whole-run histogram of every tag in a run folder,
// merged from the interval log.
type Histograms map[string]*hdrhistogram.Histogram

// ReadHistograms merges every interval of histograms.hlog by tag. A missing
// log (a run that recorded nothing) gives an empty set. A line that does
// not parse, a torn last line after a crash or damage anywhere, loses only
// its own interval.
func ReadHistograms(dir string) (Histograms, error) {
	hs, _, err := ReadHistogramsDamaged(dir)
	return hs, err
}

// ReadHistogramsDamaged is ReadHistograms, which also returns how many interval
// lines it skipped as damaged.
func ReadHistogramsDamaged(dir string) (Histograms, int64, error) {
	hs := Histograms{}
	var damaged int64
	d, err := record.EachLine(dir, record.HistogramsFile, func(line []byte) {
		tag, h, ok := ParseInterval(line)
		switch {
		case !ok:
			damaged++
		case h != nil:
			hs.Add(tag, h)
		}
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read histograms: %w", err)
	}
	return hs, damaged + d.Lines, nil
}

// Add merges an interval histogram into its tag's total.
func (hs Histograms) Add(tag string, h *hdrhistogram.Histogram) {
	total, ok := hs[tag]
	if !ok {
		total = hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
		hs[tag] = total
	}
	total.Merge(h)
}

// ParseInterval parses one line of an interval log (record.ParseInterval)
// into its tag and histogram. A comment, the legend or an empty line gives
// a nil histogram and ok; a line that does not parse gives ok false.
func ParseInterval(line []byte) (tag string, h *hdrhistogram.Histogram, ok bool) {
	iv, ok := record.ParseInterval(line)
	return iv.Tag, iv.Hist, ok
}

// Tags returns the tags in sorted order.
func (hs Histograms) Tags() []string {
	tags := make([]string, 0, len(hs))
	for t := range hs {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	return tags
}

// HgrmFile is the name of a tag's percentile distribution file: the tag
// with the characters that file systems dislike replaced.
func HgrmFile(tag string) string {
	b := []byte(tag)
	for i, c := range b {
		switch c {
		case '/', ':', '\\', ' ':
			b[i] = '_'
		}
	}
	return string(b) + ".hgrm"
}

// WriteHgrm writes one .hgrm file per tag, in milliseconds, in the format
// HdrHistogram's plotter reads.
func (hs Histograms) WriteHgrm(dir string) error {
	for tag, h := range hs {
		if h.TotalCount() == 0 {
			continue
		}
		f, err := os.Create(filepath.Join(dir, HgrmFile(tag)))
		if err != nil {
			return fmt.Errorf("write %s: %w", HgrmFile(tag), err)
		}
		w := bufio.NewWriter(f)
		if _, err := h.PercentilesPrint(w, 5, USPerMS); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", HgrmFile(tag), err)
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", HgrmFile(tag), err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", HgrmFile(tag), err)
		}
	}
	return nil
}

// USPerMS converts the histograms' microseconds to the milliseconds the
// reports show.
const USPerMS = 1000.0

// hlogLegend starts the legend line of an interval log.
var hlogLegend = []byte(`"StartTimestamp"`)

// IntervalStart is the start of an interval line of histograms.hlog, in
// seconds from the run's start; ok is false for other lines.
func IntervalStart(line []byte) (float64, bool) {
	if len(line) == 0 || line[0] == '#' || bytes.HasPrefix(line, hlogLegend) {
		return 0, false
	}
	if rest, found := bytes.CutPrefix(line, []byte("Tag=")); found {
		_, after, found := bytes.Cut(rest, []byte{','})
		if !found {
			return 0, false
		}
		line = after
	}
	f, _, _ := bytes.Cut(line, []byte{','})
	v, err := strconv.ParseFloat(string(f), 64)
	return v, err == nil
}
