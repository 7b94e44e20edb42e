package scenarios

import (
	"fmt"
	"math"
	"reflect"
)

// MaxTimeScale bounds time_scale and --time-scale: a thousand times real
// time is already a run no one waits for.
const MaxTimeScale = 1000

// TimeScaleOf is s.TimeScale with its default: 1, the file's times are
// real times.
func (s *Scenario) TimeScaleOf() float64 {
	if s.TimeScale == 0 {
		return 1
	}
	return s.TimeScale
}

// ScaleTime replays s at scale times real time: every duration of s
// (latencies, timeouts, backoffs, fault windows, stages, the policies'
// clients) is multiplied by scale / s.TimeScaleOf(), and s.TimeScale
// becomes scale. So a file written at time_scale 0.1 runs in real time
// at scale 1. Rates, counts and the expressions of thresholds and claims
// are left as written: time is what is scaled, not the number of users.
func (s *Scenario) ScaleTime(scale float64) error {
	if !(scale > 0) || scale > MaxTimeScale || math.IsInf(scale, 0) {
		return fmt.Errorf("time scale must be more than 0 and at most %d, got %g", MaxTimeScale, scale)
	}
	if f := scale / s.TimeScaleOf(); f != 1 {
		scaleDurations(reflect.ValueOf(s).Elem(), f)
	}
	s.TimeScale = scale
	return nil
}

var durationType = reflect.TypeFor[Duration]()

// scaleDurations multiplies every Duration reachable from v by f.
// Scenarios are trees (the decoder builds no shared pointers), so each is
// scaled once.
func scaleDurations(v reflect.Value, f float64) {
	switch {
	case v.Type() == durationType:
		if v.CanSet() {
			v.SetInt(int64(math.Round(float64(v.Int()) * f)))
		}
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			scaleDurations(v.Elem(), f)
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				scaleDurations(v.Field(i), f)
			}
		}
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			scaleDurations(v.Index(i), f)
		}
	case v.Kind() == reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Kind() == reflect.Pointer {
				scaleDurations(e, f)
				continue
			}
			c := reflect.New(e.Type()).Elem()
			c.Set(e)
			scaleDurations(c, f)
			v.SetMapIndex(k, c)
		}
	}
}

// timeScale checks time_scale.
func (v *validator) timeScale(s *Scenario) {
	if s.TimeScale < 0 || s.TimeScale > MaxTimeScale || math.IsNaN(s.TimeScale) || (s.TimeScale == 0 && v.present("time_scale")) {
		v.errorf("time_scale", "must be more than 0 and at most %d (1: the file's times are real times), got %g", MaxTimeScale, s.TimeScale)
	}
}
