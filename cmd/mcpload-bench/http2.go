package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// memScenario holds conversations in flight against the in-process mock:
// one model call each, answered after 15 s, arriving at %[1]g/s for 10 s,
// over client.http %[2]q.
const memScenario = `version: 1
name: bench-memory
seed: 1
providers:
  primary:
    base_url: mock
    model: gpt-4.1-mini
    mock: {latency: 15s}
conversation:
  provider: primary
  turns:
    - user: Say OK.
      model: [{content: OK.}]
load:
  arrival: constant
  stages: [{rate: %[1]g, duration: 10s}]
  max_in_flight: %[3]d
client:
  timeout: 30s
  http: %[2]q
`

// memFigures is the memory one conversation in flight costs under one
// HTTP version: the peak RSS of a run holding n in flight less that of a
// run holding n/10, over the difference in conversations in flight.
type memFigures struct {
	version         string
	n               int64
	hwm, baseHWM    int64
	perConversation float64 // bytes
	load            string
}

// benchMemory measures memFigures for client.http version at n in flight.
func benchMemory(bin, tmp, version string, n int) (*memFigures, error) {
	run := func(inFlight int) (hwm, peak int64, err error) {
		name := fmt.Sprintf("mem-%s-%d", version, inFlight)
		sc := filepath.Join(tmp, name+".yaml")
		if err := os.WriteFile(sc, fmt.Appendf(nil, memScenario, float64(inFlight)/10, version, inFlight), 0o644); err != nil {
			return 0, 0, err
		}
		out := filepath.Join(tmp, name)
		if hwm, err = runMeasured(bin, sc, out); err != nil {
			return 0, 0, err
		}
		f, err := readFigures(out)
		if err != nil {
			return 0, 0, err
		}
		return hwm, f.PeakInFlight, nil
	}
	base, basePeak, err := run(n / 10)
	if err != nil {
		return nil, err
	}
	hwm, peak, err := run(n)
	if err != nil {
		return nil, err
	}
	m := &memFigures{version: version, n: peak, hwm: hwm, baseHWM: base, load: loadAvg()}
	if peak > basePeak {
		m.perConversation = float64(hwm-base) / float64(peak-basePeak)
	}
	return m, nil
}

func printMemory(ms []*memFigures) {
	fmt.Printf("\nMemory per conversation in flight (one model call held 15 s, mock in process; RSS at n less RSS at n/10):\n")
	for _, m := range ms {
		fmt.Printf("  client.http %-4q %6d in flight: RSS %6.0f MiB (n/10: %4.0f MiB), %6.1f KiB a conversation  (load average %s)\n",
			m.version, m.n, mib(m.hwm), mib(m.baseHWM), m.perConversation/1024, m.load)
	}
}

// Flags of the HTTP/2 parts (main parses them).
var (
	memInFlight      = flag.Int("memory-in-flight", 5000, "conversations in flight for memory per conversation (0 skips it)")
	incidentInFlight = flag.Int("incident-in-flight", 50000, "conversations in flight for the full-scale incident (0 skips it)")
)

// benchHTTP2 runs the parts issue 13 added: the mock against a bare
// handler, memory per conversation in flight under HTTP/1.1 and HTTP/2,
// and the incident at full scale and real time.
func benchHTTP2(mcpload, vegeta string, d time.Duration, workers, rounds int) error {
	tmp, err := os.MkdirTemp("", "mcpload-bench-h2-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	r, err := benchMockRatio(vegeta, tmp, d, workers, rounds)
	if err != nil {
		return err
	}
	printMockRatio(r)
	if *memInFlight > 0 {
		var ms []*memFigures
		for _, v := range []string{"1.1", "2"} {
			m, err := benchMemory(mcpload, tmp, v, *memInFlight)
			if err != nil {
				return err
			}
			ms = append(ms, m)
		}
		printMemory(ms)
	}
	if *incidentInFlight > 0 {
		f, err := benchIncident(mcpload, tmp, *incidentInFlight)
		if err != nil {
			return err
		}
		printIncident(f)
	}
	return nil
}
