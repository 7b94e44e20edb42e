// Package junit writes a run's thresholds as junit.xml, one testcase per
// threshold, for CI systems that show test results.
package junit

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/mcpload/mcpload/report/summary"
)

// File is the run folder's JUnit report: one testcase per threshold,
// for CI systems that show test results (GitLab, Jenkins, GitHub actions
// that read JUnit).
const File = "junit.xml"

// Suites is the root of junit.xml.
type Suites struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []Suite  `xml:"testsuite"`
}

// Suite is one run's thresholds.
type Suite struct {
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Time     string     `xml:"time,attr"`
	Props    []Property `xml:"properties>property,omitempty"`
	Cases    []Case     `xml:"testcase"`
}

// Property is one name/value pair of a suite.
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Case is one threshold.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Failure   *Failure `xml:"failure,omitempty"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// Failure says why a threshold failed.
type Failure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// Write writes junit.xml for s: a testsuite named mcpload.SCENARIO
// with one testcase per threshold, failed ones carrying the measured value
// beside the limit.
func Write(w io.Writer, s *summary.Summary) error {
	suite := Suite{
		Name:  "mcpload." + s.Scenario,
		Tests: len(s.Thresholds),
		Time:  strconv.FormatFloat(s.DurationS, 'f', 3, 64),
		Props: []Property{
			{Name: "seed", Value: strconv.FormatInt(s.Seed, 10)},
			{Name: "status", Value: s.Status},
			{Name: "mcpload_version", Value: s.Version},
		},
		Cases: []Case{},
	}
	for _, t := range s.Thresholds {
		c := Case{Name: t.Expr, Classname: "thresholds", Time: "0"}
		if t.Measured != "" {
			c.SystemOut = "measured " + t.Measured + ", limit " + t.Limit
		}
		if !t.Pass {
			suite.Failures++
			msg := fmt.Sprintf("measured %s, limit %s", t.Measured, t.Limit)
			if t.Measured == "" {
				msg = t.Note
			}
			c.Failure = &Failure{Message: msg, Type: "threshold", Text: t.Expr + ": " + msg}
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
	if err := enc.Encode(Suites{Suites: []Suite{suite}}); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
