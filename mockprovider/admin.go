package mockprovider

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mcpload/mcpload/scenarios"
)

// maxAdminBody bounds an admin request body.
const maxAdminBody = 1 << 20

// faultsDoc is the answer of GET /admin/faults. PUT takes the same document
// (epoch, elapsed and active are ignored), or the bare list of faults.
type faultsDoc struct {
	// Epoch is when windows start; Elapsed is the time since.
	Epoch   string `json:"epoch"`
	Elapsed string `json:"elapsed"`
	// Active names the faults whose window is open now.
	Active []string    `json:"active"`
	Faults []faultJSON `json:"faults"`
}

// faultJSON is a fault in the scenario's field names, durations as Go
// writes them, so that what GET returns can be PUT back.
type faultJSON struct {
	Name        string       `json:"name"`
	Target      string       `json:"target"`
	From        string       `json:"from,omitempty"`
	For         string       `json:"for,omitempty"`
	Probability float64      `json:"probability"`
	Kind        string       `json:"kind"`
	Latency     *latencyJSON `json:"latency,omitempty"`
	Status      int          `json:"status,omitempty"`
	RetryAfter  string       `json:"retry_after,omitempty"`
	AfterChunks int          `json:"after_chunks,omitempty"`
	Code        int          `json:"code,omitempty"`
	Message     string       `json:"message,omitempty"`
}

type latencyJSON struct {
	Dist   string `json:"dist"`
	Value  string `json:"value,omitempty"`
	Min    string `json:"min,omitempty"`
	Max    string `json:"max,omitempty"`
	Mean   string `json:"mean,omitempty"`
	Stddev string `json:"stddev,omitempty"`
	P50    string `json:"p50,omitempty"`
	P99    string `json:"p99,omitempty"`
}

func durString(d scenarios.Duration) string {
	if d == 0 {
		return ""
	}
	return d.D().String()
}

func toFaultJSON(f scenarios.Fault) faultJSON {
	out := faultJSON{
		Name:       f.Name,
		Target:     f.Target,
		From:       durString(f.From),
		For:        durString(f.For),
		Kind:       f.Kind,
		RetryAfter: durString(f.RetryAfter),
		Message:    f.Message,
	}
	if f.Probability != nil {
		out.Probability = *f.Probability
	}
	if l := f.Latency; !l.IsZero() {
		out.Latency = &latencyJSON{
			Dist: l.Dist, Value: durString(l.Value), Min: durString(l.Min), Max: durString(l.Max),
			Mean: durString(l.Mean), Stddev: durString(l.Stddev), P50: durString(l.P50), P99: durString(l.P99),
		}
	}
	// The fields of other kinds are noise in a listing.
	switch f.Kind {
	case scenarios.FaultHTTPError:
		out.Status = f.Status
	case scenarios.FaultStreamStall, scenarios.FaultStreamCut:
		out.AfterChunks = f.AfterChunks
	case scenarios.FaultJSONRPCError:
		out.Code = f.Code
	}
	return out
}

func (s *Server) faultsDoc() faultsDoc {
	tl := s.timeline.Load()
	elapsed := s.elapsed()
	doc := faultsDoc{
		Epoch:   s.Epoch().UTC().Format(time.RFC3339Nano),
		Elapsed: elapsed.Round(time.Millisecond).String(),
		Active:  []string{},
		Faults:  []faultJSON{},
	}
	for i := range tl.faults {
		f := &tl.faults[i]
		doc.Faults = append(doc.Faults, toFaultJSON(f.spec))
		if f.active(elapsed) {
			doc.Active = append(doc.Active, f.spec.Name)
		}
	}
	return doc
}

func (s *Server) handleAdminFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		writeJSON(w, http.StatusOK, s.faultsDoc())
	case http.MethodPut:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
		if err != nil {
			adminError(w, http.StatusBadRequest, "reading the body", []error{err})
			return
		}
		faults, errs := parseFaults(body)
		if faults != nil || len(errs) == 0 {
			// Check what decoded even when some fields did not, so that one
			// answer names every problem.
			if err := s.checkOrSet(faults, len(errs) == 0); err != nil {
				errs = append(errs, unjoin(err)...)
			}
		}
		if len(errs) > 0 {
			adminError(w, http.StatusBadRequest, "invalid fault timeline; the timeline in force is unchanged", errs)
			return
		}
		s.log.Info("fault timeline replaced", "faults", len(faults))
		writeJSON(w, http.StatusOK, s.faultsDoc())
	default:
		w.Header().Set("Allow", "GET, PUT")
		adminError(w, http.StatusMethodNotAllowed, "use GET or PUT on "+r.URL.Path, nil)
	}
}

// checkOrSet checks faults and, when set is true and they are valid, puts
// them in force.
func (s *Server) checkOrSet(faults []scenarios.Fault, set bool) error {
	if set {
		return s.SetFaults(faults)
	}
	_, _, err := compileTimeline(faults, s.targets(), false)
	return err
}

func (s *Server) handleAdminEpoch(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		adminError(w, http.StatusMethodNotAllowed, "use POST on "+r.URL.Path, nil)
		return
	}
	s.SetEpoch(s.now())
	s.log.Info("fault epoch restarted")
	writeJSON(w, http.StatusOK, s.faultsDoc())
}

// limitsJSON is one provider's limits and what its window holds now.
type limitsJSON struct {
	RPM              int `json:"rpm"`
	TPM              int `json:"tpm"`
	RequestsInWindow int `json:"requests_in_window"`
	TokensInWindow   int `json:"tokens_in_window"`
}

func (s *Server) limitsOf(p *provider) limitsJSON {
	lim := p.limiter.Load()
	if lim == nil {
		return limitsJSON{}
	}
	l, n, tokens := lim.usage(s.now())
	return limitsJSON{RPM: l.RPM, TPM: l.TPM, RequestsInWindow: n, TokensInWindow: tokens}
}

func (s *Server) handleAdminLimits(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		out := make(map[string]limitsJSON, len(s.providers))
		for name, p := range s.providers {
			out[name] = s.limitsOf(p)
		}
		writeJSON(w, http.StatusOK, out)
	case http.MethodPut:
		name := r.URL.Query().Get("provider")
		p := s.providers[name]
		switch {
		case name == "":
			adminError(w, http.StatusBadRequest, "missing ?provider=NAME; providers: "+strings.Join(s.providerNames, ", "), nil)
			return
		case p == nil:
			adminError(w, http.StatusNotFound, fmt.Sprintf("provider %q is not served by the mock; providers: %s", name, strings.Join(s.providerNames, ", ")), nil)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
		if err != nil {
			adminError(w, http.StatusBadRequest, "reading the body", []error{err})
			return
		}
		var l scenarios.Limits
		errs := decodeStrict(body, &l, "limits")
		if l.RPM < 0 || l.TPM < 0 {
			errs = append(errs, errors.New("limits: rpm and tpm must not be negative (0 means no limit)"))
		}
		if len(errs) > 0 {
			adminError(w, http.StatusBadRequest, "invalid limits", errs)
			return
		}
		s.setLimits(p, l)
		s.log.Info("rate limits changed", "provider", name, "rpm", l.RPM, "tpm", l.TPM)
		writeJSON(w, http.StatusOK, map[string]limitsJSON{name: s.limitsOf(p)})
	default:
		w.Header().Set("Allow", "GET, PUT")
		adminError(w, http.StatusMethodNotAllowed, "use GET or PUT on "+r.URL.Path, nil)
	}
}

// setLimits changes p's limits. The window's log survives a change of
// limits, so that lowering them takes effect at once.
func (s *Server) setLimits(p *provider, l scenarios.Limits) {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if l.RPM <= 0 && l.TPM <= 0 {
		p.limiter.Store(nil)
		return
	}
	if lim := p.limiter.Load(); lim != nil {
		lim.setLimits(l)
		return
	}
	p.limiter.Store(newLimiter(l, s.now()))
}

// parseFaults reads a fault list, JSON or YAML, in the scenario's field
// names: a bare list, or a mapping whose faults key holds it (which is what
// GET /admin/faults returns, and how a scenario writes it). It reports
// every problem with its place.
func parseFaults(data []byte) ([]scenarios.Fault, []error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, []error{fmt.Errorf("the body is neither JSON nor YAML: %v", err)}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, []error{errors.New("empty body: send a list of faults ([] clears the timeline)")}
	}
	n := root.Content[0]
	if n.Kind == yaml.MappingNode {
		var list *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i].Value; k {
			case "faults":
				list = n.Content[i+1]
			case "epoch", "elapsed", "active": // GET's read-only fields
			default:
				return nil, []error{fmt.Errorf("line %d: unknown field %q: expected faults (and, ignored, epoch, elapsed, active)", n.Content[i].Line, k)}
			}
		}
		if list == nil {
			return nil, []error{errors.New("missing faults: send a list of faults, or {faults: [...]}")}
		}
		n = list
	}
	if n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, []error{fmt.Errorf("line %d: expected a list of faults, got %s", n.Line, nodeKind(n))}
	}
	faults := make([]scenarios.Fault, len(n.Content))
	var errs []error
	for i, item := range n.Content {
		errs = append(errs, decodeNode(item, &faults[i], fmt.Sprintf("faults[%d]", i))...)
	}
	return faults, errs
}

// decodeStrict decodes a JSON or YAML mapping into the struct v by its
// yaml tags, rejecting unknown fields.
func decodeStrict(data []byte, v any, path string) []error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return []error{fmt.Errorf("the body is neither JSON nor YAML: %v", err)}
	}
	if len(root.Content) == 0 {
		return []error{fmt.Errorf("empty body: expected a mapping such as {\"rpm\": 60, \"tpm\": 100000}")}
	}
	return decodeNode(root.Content[0], v, path)
}

// decodeNode decodes the mapping n into the struct ptr field by field, so
// that each error names its field and line.
func decodeNode(n *yaml.Node, ptr any, path string) []error {
	if n.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("%s (line %d): expected a mapping, got %s", path, n.Line, nodeKind(n))}
	}
	v := reflect.ValueOf(ptr).Elem()
	fields, names := yamlFields(v.Type())
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		fp := path + "." + k.Value
		idx, ok := fields[k.Value]
		if !ok {
			errs = append(errs, fmt.Errorf("%s (line %d): unknown field; expected one of %s", fp, k.Line, strings.Join(names, ", ")))
			continue
		}
		if err := val.Decode(v.Field(idx).Addr().Interface()); err != nil {
			errs = append(errs, fmt.Errorf("%s (line %d): %s", fp, val.Line, yamlMessage(err)))
		}
	}
	return errs
}

// yamlFields maps the yaml names of t's fields to their indexes.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = i
		names = append(names, name)
	}
	return fields, names
}

// yamlMessage strips yaml.v3's framing from a decoding error.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := slices.Clone(te.Errors)
		for i, m := range msgs {
			if _, rest, ok := strings.Cut(m, ": "); ok && strings.HasPrefix(m, "line ") {
				msgs[i] = rest
			}
		}
		return strings.Join(msgs, "; ")
	}
	// The scenario decoder (behind Latency) prefixes file:line:column, with
	// no file here; the line is already in the message.
	return positionPrefix.ReplaceAllString(err.Error(), "")
}

var positionPrefix = regexp.MustCompile(`^:\d+:\d+: `)

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// unjoin splits an errors.Join error into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// adminError answers an admin request with {"error": msg, "errors": [...]}.
func adminError(w http.ResponseWriter, status int, msg string, errs []error) {
	body := struct {
		Error  string   `json:"error"`
		Errors []string `json:"errors,omitempty"`
	}{Error: msg}
	for _, e := range errs {
		body.Errors = append(body.Errors, e.Error())
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
