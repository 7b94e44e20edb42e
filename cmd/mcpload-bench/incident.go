package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// incidentScenario is the embedded incident-replay's conversation and
// the client it ran with (the article's: 30 s timeout, progressive
// timeouts, 1/2/4 s backoff, a 60 s deadline), written at time_scale 0.1
// as the embedded one is and run with --time-scale 1: 45.23 s answers
// behind a 30 s timeout, for the whole run (arrivals and the 60 s after). The load is the incident's
// full scale: arrivals at %[1]g/s until %[2]d conversations are in
// flight (each lives 60 s, to its deadline), over HTTP/2 to the
// in-process mock.
const incidentScenario = `version: 1
name: incident-full-scale
seed: 20261124
time_scale: 0.1
providers:
  primary:
    api: openai
    base_url: mock
    model: gpt-4.1
    mock:
      latency: {dist: lognormal, p50: 80ms, p99: 300ms}
mcp_servers:
  tools: {url: mock}
tools:
  - name: get_weather
    description: Current weather for a city.
    inputSchema: {type: object, properties: {location: {type: string}}, required: [location]}
    mock: {latency: {dist: uniform, min: 5ms, max: 30ms}, result: {temperature: 31}}
  - name: search_docs
    description: Search the team's internal documentation.
    inputSchema: {type: object, properties: {query: {type: string}}, required: [query]}
    mock: {latency: {dist: uniform, min: 5ms, max: 30ms}, result: "Runbook: outages."}
conversation:
  provider: primary
  system: You are the support assistant. Use the tools to answer.
  turns:
    - user: What's the weather in Hanoi, and what does our outage runbook say?
      model:
        - tool_calls:
            - {name: get_weather, arguments: {location: Hanoi}}
            - {name: search_docs, arguments: {query: outage runbook}}
          usage: {prompt_tokens: 380, completion_tokens: 52}
        - content: Hanoi is 31 °C; fail over to the secondary provider.
          usage: {prompt_tokens: 610, completion_tokens: 44}
load:
  arrival: poisson
  stages: [{rate: %[1]g, duration: %[3]s}]
  max_in_flight: %[2]d
  on_cap: drop
faults:
  - {name: primary-slowdown, target: provider:primary, from: 0s, for: 12s, kind: latency, latency: 4523ms}
client:
  timeout: 3s
  conversation_timeout: 6s
  retry: {preset: article, initial: 100ms, max: 400ms, rate_limit_wait: 6s}
  http: "2"
`

// incidentFigures is what the full-scale incident measured.
type incidentFigures struct {
	peak    int64
	hwm     int64
	lagP99  time.Duration // first-attempt lag (schedlag.go)
	harness *harnessFigures
	load    string
	figs    *runFigures
}

// benchIncident runs the incident at full scale and real time: inFlight
// conversations (50,000) in flight against 45 s answers, the mock in
// process, HTTP/2. Arrivals come at inFlight/50 a second for 60 s, so
// that the cap is reached after 50 s and held to the end of arrivals.
func benchIncident(bin, tmp string, inFlight int) (*incidentFigures, error) {
	rate := float64(inFlight) / 50
	sc := filepath.Join(tmp, "incident.yaml")
	// 6 s at time_scale 0.1: 60 s in real time.
	if err := os.WriteFile(sc, fmt.Appendf(nil, incidentScenario, rate, inFlight, "6s"), 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(tmp, "incident")
	hwm, err := runMeasured(bin, sc, out, "--time-scale", "1")
	if err != nil {
		return nil, err
	}
	f := &incidentFigures{hwm: hwm, load: loadAvg()}
	if f.figs, err = readFigures(out); err != nil {
		return nil, err
	}
	f.peak, f.harness = f.figs.PeakInFlight, f.figs.Harness
	if f.lagP99, err = firstAttemptLag(out); err != nil {
		return nil, fmt.Errorf("schedule lag: %w", err)
	}
	return f, nil
}

// printIncident prints the incident's figures against the targets.
func printIncident(f *incidentFigures) {
	fmt.Printf("\nThe incident at full scale and real time (45.23 s answers, 30 s timeout, HTTP/2, mock in process), load average %s:\n", f.load)
	fmt.Printf("  conversations in flight, peak                   %8d  (target 50000)\n", f.peak)
	fmt.Printf("  started / ok / failed / dropped                 %d / %d / %d / %d\n",
		f.figs.Conversations.Started, f.figs.Conversations.OK, f.figs.Conversations.Failed, f.figs.Conversations.Dropped)
	fmt.Printf("  attempts by protocol                            %v\n", f.figs.Attempts.ByProto)
	fmt.Printf("  RSS max (VmHWM of the mcpload process)          %8.0f MiB  (target <= 2048)\n", mib(f.hwm))
	if f.peak > 0 {
		fmt.Printf("  RSS per conversation in flight                  %8.1f KiB\n", float64(f.hwm)/float64(f.peak)/1024)
	}
	fmt.Printf("  first-attempt lag p99 (bounds schedule lag)     %8.3f ms  (target <= 1)\n", float64(f.lagP99)/1e6)
	if h := f.harness; h != nil {
		fmt.Printf("  harness: schedule lag p99 %.3f ms, RSS max %.0f MiB, %.0f bytes per in flight\n",
			h.ScheduleLag.P99US/1000, mib(h.RSSMaxBytes), h.BytesPerInFlight)
	}
}
