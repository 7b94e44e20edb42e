package live

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mcpload/mcpload/record"
)

// otlpCollector is an OTLP/HTTP metrics endpoint that keeps every export
// request it receives, decoded with the protocol's own protobuf types.
type otlpCollector struct {
	mu   sync.Mutex
	reqs []*colmetricpb.ExportMetricsServiceRequest
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != OTLPPath || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf at "+OTLPPath, http.StatusBadRequest)
		return
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	req := &colmetricpb.ExportMetricsServiceRequest{}
	if err := proto.Unmarshal(b, req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()
	out, _ := proto.Marshal(&colmetricpb.ExportMetricsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// values returns, from export request i, each metric's points: a sum or
// gauge's value, or a histogram's count, by the metric's name and the
// value of its attribute key (or "" for none).
func (c *otlpCollector) values(i int, key string) map[string]map[string]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]map[string]float64{}
	for _, rm := range c.reqs[i].ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				byAttr := map[string]float64{}
				attr := func(kvs []*commonpb.KeyValue) string {
					for _, kv := range kvs {
						if kv.Key == key {
							return kv.Value.GetStringValue()
						}
					}
					return ""
				}
				switch d := m.Data.(type) {
				case *metricpb.Metric_Sum:
					for _, p := range d.Sum.DataPoints {
						byAttr[attr(p.Attributes)] += p.GetAsDouble()
					}
				case *metricpb.Metric_Gauge:
					for _, p := range d.Gauge.DataPoints {
						byAttr[attr(p.Attributes)] += p.GetAsDouble()
					}
				case *metricpb.Metric_Histogram:
					for _, p := range d.Histogram.DataPoints {
						byAttr[attr(p.Attributes)] += float64(p.Count)
					}
				}
				out[m.Name] = byAttr
			}
		}
	}
	return out
}

func (c *otlpCollector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reqs)
}

// TestOTLPPushesLiveRun has the OTLP exporter push a live run to a
// collector every 200 ms: pushes arrive while the run goes on, and the
// last one, sent on close, holds summary.json's counts.
func TestOTLPPushesLiveRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs a scenario for 6 s")
	}
	col := &otlpCollector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	hub := NewHub()
	o, err := NewOTLP(context.Background(), hub, srv.URL, 200*time.Millisecond, false)
	if err != nil {
		t.Fatal(err)
	}
	run := startRun(t, hub, nil)
	s := run.wait(t)
	// Pushes went out while the run went on.
	var live bool
	for i := 0; i < col.len(); i++ {
		v := col.values(i, "")
		if v["mcpload_run_finished"][""] == 0 && v["mcpload_conversations_started"][""] > 0 {
			live = true
		}
	}
	if !live {
		t.Errorf("no push of a running run among %d pushes", col.len())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.Close(ctx); err != nil {
		t.Fatal(err)
	}
	last := col.len() - 1
	v := col.values(last, "")
	if v["mcpload_run_finished"][""] != 1 {
		t.Fatalf("the last push is not of the finished run: %v", v["mcpload_run_finished"])
	}
	conv := col.values(last, "outcome")["mcpload_conversations"]
	want := map[string]float64{record.OutcomeOK: float64(s.Conversations.OK), record.OutcomeDropped: float64(s.Conversations.Dropped)}
	for o, n := range s.Conversations.ByOutcome {
		want[o] = float64(n)
	}
	equalMaps(t, "pushed conversations by outcome", conv, want)
	for name, w := range map[string]float64{
		"mcpload_conversations_started": float64(s.Conversations.Started),
		"mcpload_retries":               float64(s.Attempts.Retries),
		"mcpload_fallbacks":             float64(s.Attempts.Fallbacks),
	} {
		if got := v[name][""]; got != w {
			t.Errorf("pushed %s = %g, summary.json says %g", name, got, w)
		}
	}
	if got := col.values(last, "level")["mcpload_latency"]["conversation"]; got < float64(s.LatencyMS.Conversation.Count) {
		t.Errorf("pushed conversation latency count %g, summary.json says %d ok", got, s.LatencyMS.Conversation.Count)
	}
}
