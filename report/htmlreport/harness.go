package htmlreport

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/mcpload/mcpload/report/summary"
)

// harnessWarnings are the banner's lines: the harness's warnings.
func harnessWarnings(s *summary.Summary) []string {
	if s.Harness == nil {
		return nil
	}
	return s.Harness.Warnings
}

// harnessSection shows the harness's check of itself: schedule lag, CPU,
// GC, memory per conversation in flight.
func harnessSection(h *summary.Harness) *section {
	lagText := func(l *summary.LagStats) string {
		return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s over %s arrivals",
			summary.USText(l.P50), summary.USText(l.P90), summary.USText(l.P99), summary.USText(l.Max), count(l.Count))
	}
	facts := []fact{}
	if h.ScheduleLag != nil {
		facts = append(facts, fact{Label: "Schedule lag", Value: lagText(h.ScheduleLag)})
	}
	stages := make([]string, 0, len(h.ScheduleLagByStage))
	for k := range h.ScheduleLagByStage {
		stages = append(stages, k)
	}
	slices.SortFunc(stages, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	for _, k := range stages {
		facts = append(facts, fact{Label: "Schedule lag, stage " + k, Value: lagText(h.ScheduleLagByStage[k])})
	}
	facts = append(facts,
		fact{Label: "CPU", Value: fmt.Sprintf("%s cores on average, %s at most, of %d; 90%% or more of them in %s of the run",
			fixed2(h.CPU.MeanCores), fixed2(h.CPU.MaxCores), h.CPU.Cores, pct(h.CPU.BusyPercent))},
		fact{Label: "GC pauses", Value: fmt.Sprintf("%s pauses, p99 %s, longest %s, %s in all",
			count(h.GCPause.Count), summary.USText(h.GCPause.P99US), summary.USText(h.GCPause.MaxUS), latency(h.GCPause.TotalMS))},
		fact{Label: "Goroutines", Value: count(h.GoroutinesMax) + " at most"},
	)
	mem := "heap and stacks " + bytesText(h.HeapMaxBytes) + " at most"
	if h.RSSMaxBytes > 0 {
		mem += ", resident set " + bytesText(h.RSSMaxBytes)
	}
	facts = append(facts, fact{Label: "Memory", Value: mem})
	if h.BytesPerInFlight != nil && h.PeakSample != nil {
		v := fmt.Sprintf("%s of heap and stacks", signedBytes(*h.BytesPerInFlight))
		if h.RSSPerInFlight != nil {
			v += ", " + signedBytes(*h.RSSPerInFlight) + " of resident set"
		}
		v += fmt.Sprintf(", at %s in flight (%.0f s into the run)", count(h.PeakSample.InFlight), h.PeakSample.TS)
		facts = append(facts, fact{Label: "Per conversation in flight", Value: v})
	}
	facts = append(facts, fact{Label: "Slots", Value: fmt.Sprintf("%s; %s arrivals found them all busy and waited, %s of them more than 1 ms",
		count(h.Slots), count(h.Queued), count(h.QueuedLate))})
	verdict := "no: the generator kept up"
	if h.Saturated {
		verdict = "yes: see the warning at the top"
	}
	facts = append(facts, fact{Label: "Saturated", Value: verdict})
	return &section{
		ID: "harness", Title: "Harness",
		Intro: "mcpload's check of itself. Schedule lag is each arrival's actual start less its intended start: what the harness added to every latency measured from the intended start. " +
			"When its p99 is over 1 ms, or the generator ran out of CPU or slots, the page says so at the top.",
		Facts: facts,
	}
}

// bytesText formats a size in binary units: 1.5 MiB.
func bytesText(b uint64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatUint(b, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(b)/float64(div), 'f', 1, 64) + " " + string("KMGTP"[exp]) + "iB"
}

func signedBytes(v int64) string {
	if v < 0 {
		return "−" + bytesText(uint64(-v))
	}
	return bytesText(uint64(v))
}
