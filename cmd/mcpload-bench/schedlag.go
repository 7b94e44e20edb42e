package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/record"
)

// firstAttemptLag is the p99, over the conversations of run folder dir
// that sent anything, of the time from each conversation's intended start
// (results.bin's timestamp) to its first attempt's start
// (attempts.jsonl). It bounds the schedule lag from above: it adds the
// conversation's own set-up before its first request. It stands in for
// the self-check's schedule_lag until every run reports one.
func firstAttemptLag(dir string) (time.Duration, error) {
	f, err := os.Open(filepath.Join(dir, record.ResultsFile))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	intended := map[uint64]int64{}
	dec := vegeta.NewDecoder(f)
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, err
		}
		intended[r.Seq] = r.Timestamp.UnixNano()
	}
	var lags []int64
	_, err = record.EachLine(dir, record.AttemptsFile, func(line []byte) {
		var a struct {
			Conv    uint64    `json:"conv"`
			Step    int       `json:"step"`
			Attempt int       `json:"attempt"`
			Start   time.Time `json:"start"`
		}
		if json.Unmarshal(line, &a) != nil || a.Step != 0 || a.Attempt != 1 {
			return
		}
		if t, ok := intended[a.Conv]; ok {
			lags = append(lags, a.Start.UnixNano()-t)
			delete(intended, a.Conv)
		}
	})
	if err != nil || len(lags) == 0 {
		return 0, err
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	return time.Duration(lags[(len(lags)*99)/100]), nil
}
