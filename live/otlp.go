package live

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/mcpload/mcpload/attacker/httpx"
)

// OTLP pushes the Hub's newest frame to an OpenTelemetry collector over
// OTLP/HTTP every interval, and once more when closed: the same metrics as
// the Prometheus exporter (points.go), named without the _total and
// _seconds suffixes (OTLP carries the kind and the unit beside the name).
// It is a Producer of the OpenTelemetry SDK's periodic reader, so the SDK
// batches, retries and encodes; nothing is recorded per request.
type OTLP struct {
	hub      *Hub
	provider *sdkmetric.MeterProvider
	// pushed is the Seq of the newest frame produced for a push.
	pushed atomic.Int64
}

// OTLPPath is where OTLP/HTTP collectors take metrics.
const OTLPPath = "/v1/metrics"

// NewOTLP pushes hub's frames to endpoint (http(s)://HOST:PORT, with
// OTLPPath unless it names a path) every interval. An endpoint off
// loopback needs allowRemote.
func NewOTLP(ctx context.Context, hub *Hub, endpoint string, interval time.Duration, allowRemote bool) (*OTLP, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &AddrError{"--otlp-endpoint", endpoint, "expected an http(s) URL, as in http://127.0.0.1:4318"}
	}
	if !httpx.IsLoopbackHost(u.Hostname()) && !allowRemote {
		return nil, &AddrError{"--otlp-endpoint", endpoint, "not on loopback: pushing the run's metrics off this machine needs --allow-remote"}
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = OTLPPath
	}
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(u.String()))
	if err != nil {
		return nil, fmt.Errorf("--otlp-endpoint %s: %w", endpoint, err)
	}
	o := &OTLP{hub: hub}
	reader := sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(interval), sdkmetric.WithProducer(o))
	o.provider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "mcpload"))))
	return o, nil
}

// Pushed returns the Seq of the newest frame produced for a push.
func (o *OTLP) Pushed() int64 { return o.pushed.Load() }

// Close pushes the newest frame once more, and stops.
func (o *OTLP) Close(ctx context.Context) error {
	if err := o.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("otlp: %w", err)
	}
	return nil
}

// Produce implements sdkmetric.Producer.
func (o *OTLP) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	f := o.hub.Latest()
	if f == nil {
		return nil, nil
	}
	now := f.At
	start := now.Add(-time.Duration(f.ElapsedS * float64(time.Second)))
	byMetric := map[*metric]*metricdata.Metrics{}
	var order []*metricdata.Metrics
	points(f, func(p point) {
		md, ok := byMetric[p.m]
		if !ok {
			md = &metricdata.Metrics{Name: otlpName(p.m.Name), Description: p.m.Help, Unit: p.m.Unit}
			byMetric[p.m] = md
			order = append(order, md)
		}
		attrs := make([]attribute.KeyValue, len(p.labels))
		for i, l := range p.labels {
			attrs[i] = attribute.String(p.m.Labels[i], l)
		}
		set := attribute.NewSet(attrs...)
		switch p.m.Kind {
		case histogramKind:
			h, _ := md.Data.(metricdata.Histogram[float64])
			h.Temporality = metricdata.CumulativeTemporality
			h.DataPoints = append(h.DataPoints, histPoint(p.d, set, start, now))
			md.Data = h
		case counterKind:
			s, _ := md.Data.(metricdata.Sum[float64])
			s.Temporality, s.IsMonotonic = metricdata.CumulativeTemporality, true
			s.DataPoints = append(s.DataPoints, metricdata.DataPoint[float64]{Attributes: set, StartTime: start, Time: now, Value: p.v})
			md.Data = s
		default:
			g, _ := md.Data.(metricdata.Gauge[float64])
			g.DataPoints = append(g.DataPoints, metricdata.DataPoint[float64]{Attributes: set, Time: now, Value: p.v})
			md.Data = g
		}
	})
	sm := metricdata.ScopeMetrics{Scope: instrumentation.Scope{Name: "github.com/mcpload/mcpload/live"}}
	for _, md := range order {
		sm.Metrics = append(sm.Metrics, *md)
	}
	o.pushed.Store(f.Seq)
	return []metricdata.ScopeMetrics{sm}, nil
}

// histPoint is d as an OTLP explicit-bucket histogram point, whose bucket
// counts are per bucket, not cumulative, with one more for +Inf.
func histPoint(d *Dist, set attribute.Set, start, now time.Time) metricdata.HistogramDataPoint[float64] {
	counts := make([]uint64, len(Bounds)+1)
	var below uint64
	for i, c := range d.Buckets {
		counts[i] = c - below
		below = c
	}
	counts[len(Bounds)] = d.Count - below
	return metricdata.HistogramDataPoint[float64]{
		Attributes: set, StartTime: start, Time: now,
		Count: d.Count, Sum: d.SumS, Bounds: Bounds, BucketCounts: counts,
	}
}

// otlpName is a metric's name over OTLP: the Prometheus name without the
// suffixes that Prometheus adds for the kind and the unit.
func otlpName(name string) string {
	name = strings.TrimSuffix(name, "_total")
	return strings.TrimSuffix(name, "_seconds")
}
