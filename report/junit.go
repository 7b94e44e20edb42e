package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// JUnitFile is the run folder's JUnit report: one testcase per threshold,
// for CI systems that show test results (GitLab, Jenkins, GitHub actions
// that read JUnit).
const JUnitFile = "junit.xml"

// JUnitSuites is the root of junit.xml.
type JUnitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one run's thresholds.
type JUnitSuite struct {
	Name     string          `xml:"name,attr"`
	Tests    int             `xml:"tests,attr"`
	Failures int             `xml:"failures,attr"`
	Errors   int             `xml:"errors,attr"`
	Time     string          `xml:"time,attr"`
	Props    []JUnitProperty `xml:"properties>property,omitempty"`
	Cases    []JUnitCase     `xml:"testcase"`
}

// JUnitProperty is one name/value pair of a suite.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one threshold.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitFailure says why a threshold failed.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes junit.xml for s: a testsuite named mcpload.SCENARIO
// with one testcase per threshold, failed ones carrying the measured value
// beside the limit.
func WriteJUnit(w io.Writer, s *Summary) error {
	suite := JUnitSuite{
		Name:  "mcpload." + s.Scenario,
		Tests: len(s.Thresholds),
		Time:  strconv.FormatFloat(s.DurationS, 'f', 3, 64),
		Props: []JUnitProperty{
			{Name: "seed", Value: strconv.FormatInt(s.Seed, 10)},
			{Name: "status", Value: s.Status},
			{Name: "mcpload_version", Value: s.Version},
		},
		Cases: []JUnitCase{},
	}
	for _, t := range s.Thresholds {
		c := JUnitCase{Name: t.Expr, Classname: "thresholds", Time: "0"}
		if t.Measured != "" {
			c.SystemOut = "measured " + t.Measured + ", limit " + t.Limit
		}
		if !t.Pass {
			suite.Failures++
			msg := fmt.Sprintf("measured %s, limit %s", t.Measured, t.Limit)
			if t.Measured == "" {
				msg = t.Note
			}
			c.Failure = &JUnitFailure{Message: msg, Type: "threshold", Text: t.Expr + ": " + msg}
			if t.Measured != "" && t.Note != "" {
				c.Failure.Text += " (" + t.Note + ")"
			}
		}
		suite.Cases = append(suite.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(JUnitSuites{Suites: []JUnitSuite{suite}}); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// writeFile renders a file of the run folder in memory, then writes it, so
// that a rendering error leaves no half-written file.
func writeFile(dir, name string, render func(io.Writer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
