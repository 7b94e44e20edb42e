package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as Go writes it: "250ms", "1m30s".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML parses a Go duration string. A bare number is an error, not
// seconds or nanoseconds: "timeout: 5" is ambiguous, and guessing wrong by a
// factor of a billion is worse than asking.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a duration such as 250ms or 1m30s, got %s", describe(n))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		if _, nerr := strconv.ParseFloat(n.Value, 64); nerr == nil {
			return fmt.Errorf("expected a duration such as 250ms or 1m30s, got %q; add a unit, as in %ss or %sms", n.Value, n.Value, n.Value)
		}
		return fmt.Errorf("expected a duration such as 250ms or 1m30s, got %q", n.Value)
	}
	if v < 0 {
		return fmt.Errorf("a duration must not be negative, got %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Rate is a number of events per second. In YAML it is a number ("20",
// "2.5") or vegeta's "freq/per" form ("50/1s", "3000/1m").
type Rate float64

// UnmarshalYAML parses a number or a freq/per rate.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a rate such as 20 or 50/1s, got %s", describe(n))
	}
	v, err := ParseRate(n.Value)
	if err != nil {
		return err
	}
	*r = Rate(v)
	return nil
}

// MarshalYAML writes r as a plain number per second.
func (r Rate) MarshalYAML() (any, error) { return float64(r), nil }

// ParseRate parses "20", "2.5", "50/1s", "3000/1m" or "50/s" into events per
// second.
func ParseRate(s string) (float64, error) {
	bad := fmt.Errorf("expected a rate such as 20 or 50/1s, got %q", s)
	freq, per, found := strings.Cut(strings.TrimSpace(s), "/")
	f, err := strconv.ParseFloat(freq, 64)
	// ParseFloat also takes "Inf" and "NaN", which are no rate.
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, bad
	}
	if !found {
		return f, nil
	}
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per // vegeta accepts "50/s"
	}
	p, err := time.ParseDuration(per)
	if err != nil || p <= 0 {
		return 0, bad
	}
	return f / p.Seconds(), nil
}

// Latency is a latency model. In YAML it is either a single duration (a fixed
// latency: "latency: 80ms") or a mapping with a dist and its parameters:
//
//	{dist: fixed, value: 80ms}
//	{dist: uniform, min: 20ms, max: 200ms}
//	{dist: normal, mean: 100ms, stddev: 20ms}          # clamped at 0 (and min/max if set)
//	{dist: lognormal, p50: 120ms, p99: 900ms}
//
// The zero Latency is no delay.
type Latency struct {
	Dist   string   `yaml:"dist,omitempty"`
	Value  Duration `yaml:"value,omitempty"`
	Min    Duration `yaml:"min,omitempty"`
	Max    Duration `yaml:"max,omitempty"`
	Mean   Duration `yaml:"mean,omitempty"`
	Stddev Duration `yaml:"stddev,omitempty"`
	P50    Duration `yaml:"p50,omitempty"`
	P99    Duration `yaml:"p99,omitempty"`
}

// Latency distributions.
const (
	DistFixed     = "fixed"
	DistUniform   = "uniform"
	DistNormal    = "normal"
	DistLognormal = "lognormal"
)

// IsZero reports whether l adds no delay.
func (l Latency) IsZero() bool { return l == Latency{} }

// UnmarshalYAML accepts a duration shorthand or the full mapping, and
// rejects fields a Latency does not have. Parse and Load do not call it (they
// decode the mapping themselves, to report positions); it is here for code
// that decodes a Latency with yaml.v3 directly.
func (l *Latency) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var d Duration
		if err := d.UnmarshalYAML(n); err != nil {
			return err
		}
		*l = Latency{Dist: DistFixed, Value: d}
		return nil
	case yaml.MappingNode:
		d := newDecoder("")
		var out Latency
		d.decodeStruct(n, reflect.ValueOf(&out).Elem(), "", 0)
		if err := d.errs.sorted(); err != nil {
			return err
		}
		*l = out
		return nil
	}
	return fmt.Errorf("expected a latency: a duration such as 80ms, or a mapping such as {dist: uniform, min: 20ms, max: 200ms}; got %s", describe(n))
}
