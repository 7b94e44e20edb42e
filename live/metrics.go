package live

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is a prometheus.Collector of the Hub's newest frame: each
// scrape reads the frame as it is, so the exporter adds nothing to the
// run between scrapes. The metrics are listed in points.go.
type Metrics struct {
	hub   *Hub
	descs map[*metric]*prometheus.Desc
	// scraped is the Seq of the newest frame a scrape has read.
	scraped atomic.Int64
}

// NewMetrics returns the collector of hub's frames.
func NewMetrics(hub *Hub) *Metrics {
	m := &Metrics{hub: hub, descs: map[*metric]*prometheus.Desc{}}
	for _, x := range metrics {
		m.descs[x] = prometheus.NewDesc(x.Name, x.Help, x.Labels, nil)
	}
	return m
}

// Handler serves the metrics in the exposition format the scraper asks
// for: text, or protobuf, which carries native histograms.
func (m *Metrics) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Scraped returns the Seq of the newest frame a scrape has read.
func (m *Metrics) Scraped() int64 { return m.scraped.Load() }

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, x := range metrics {
		ch <- m.descs[x]
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	f := m.hub.Latest()
	if f == nil {
		return
	}
	points(f, func(p point) {
		desc := m.descs[p.m]
		switch p.m.Kind {
		case histogramKind:
			ch <- newHistMetric(desc, p.d, p.labels...)
		case counterKind:
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, p.v, p.labels...)
		default:
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, p.v, p.labels...)
		}
	})
	m.scraped.Store(f.Seq)
}
