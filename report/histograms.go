package report

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
)

// Histograms holds the whole-run histogram of every tag in a run folder,
// merged from the interval log.
type Histograms map[string]*hdrhistogram.Histogram

// ReadHistograms merges every interval of histograms.hlog by tag. A missing
// log (a run that recorded nothing) gives an empty set. A log cut short by a
// crash gives what was written before the cut.
func ReadHistograms(dir string) (Histograms, error) {
	f, err := record.OpenRegular(filepath.Join(dir, record.HistogramsFile))
	if os.IsNotExist(err) {
		return Histograms{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read histograms: %w", err)
	}
	defer f.Close()
	hs := Histograms{}
	r := hdrhistogram.NewHistogramLogReader(bufio.NewReader(f))
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			// A torn last line is what a crash leaves; keep what came before.
			break
		}
		if h == nil {
			break
		}
		tag := h.Tag()
		total, ok := hs[tag]
		if !ok {
			total = hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
			hs[tag] = total
		}
		total.Merge(h)
	}
	return hs, nil
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
		if _, err := h.PercentilesPrint(w, 5, usPerMs); err != nil {
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

const usPerMs = 1000.0
