// Package docs holds mcpload's documentation, its JSON Schemas, and the
// test that keeps both honest: the scenarios the pages show validate, the
// commands they show exit as they say, and what a real run writes matches
// the schemas. development.md ("Keeping the docs honest") lists the markers.
package docs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/google/jsonschema-go/jsonschema"
	"go.yaml.in/yaml/v3"

	"github.com/mcpload/mcpload/internal/bintest"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// block is one fenced code block of a Markdown page.
type block struct {
	file   string
	line   int    // of the opening fence
	lang   string // the fence's info string
	marker string // the <!-- doctest: ... --> comment just before it, if any
	body   string
}

var markerRE = regexp.MustCompile(`^<!--\s*doctest:\s*(.*?)\s*-->$`)

// pages lists README.md and every page of docs/, README.md first.
func pages(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return append([]string{filepath.Join("..", "README.md")}, files...)
}

// blocks returns the fenced code blocks of a Markdown file, in order.
func blocks(t *testing.T, file string) []block {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	var cur *block
	var body strings.Builder
	prev := ""
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &block{file: file, line: i + 1, lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
			if m := markerRE.FindStringSubmatch(prev); m != nil {
				cur.marker = m[1]
			}
			body.Reset()
		case cur != nil && trimmed == "```":
			cur.body = body.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line)
			body.WriteByte('\n')
		}
		prev = trimmed
	}
	if cur != nil {
		t.Fatalf("%s:%d: code block never closed", file, cur.line)
	}
	return out
}

func (b block) where() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// isScenario reports whether a YAML block is a whole scenario: it has a
// top-level version: line.
func isScenario(body string) bool {
	return regexp.MustCompile(`(?m)^version:`).MatchString(body)
}

// TestDocs checks every page: scenario blocks validate, fragments validate
// inside the scenario they name, and every mcpload command in a shell
// block exits as the page says. The runs' summary.json and attempts.jsonl
// must match the JSON Schemas.
func TestDocs(t *testing.T) {
	work := t.TempDir()
	x := &executor{t: t, dir: work}
	if !testing.Short() {
		x.bin = buildMcpload(t)
	}
	attempt := loadSchema(t, "attempts.schema.json")
	var scenariosChecked, fragments, files, commands, skipped, jsonLines int
	for _, page := range pages(t) {
		checkLinks(t, page)
		for _, b := range blocks(t, page) {
			switch {
			case strings.HasPrefix(b.marker, "skip"):
				skipped++
			case b.lang == "yaml" && strings.HasPrefix(b.marker, "file "):
				name := strings.TrimSpace(strings.TrimPrefix(b.marker, "file "))
				if err := os.WriteFile(filepath.Join(work, name), []byte(b.body), 0o644); err != nil {
					t.Fatal(err)
				}
				files++
			case b.lang == "yaml" && strings.HasPrefix(b.marker, "fragment "):
				checkFragment(t, b, strings.TrimSpace(strings.TrimPrefix(b.marker, "fragment ")))
				fragments++
			case b.lang == "yaml" && isScenario(b.body):
				checkScenario(t, b, b.body)
				scenariosChecked++
			case b.lang == "sh" && x.bin != "":
				commands += x.block(b)
			case b.lang == "json":
				jsonLines += checkAttemptLines(t, attempt, b)
			}
		}
	}
	x.wait()
	summaries, attemptLines := validateRuns(t, work)
	t.Logf("checked %d scenario blocks, %d fragments, %d scenario files for the commands, %d mcpload commands, %d attempts.jsonl example lines (%d blocks skipped); %d summary.json and %d attempts.jsonl lines of real runs against the schemas",
		scenariosChecked, fragments, files, commands, jsonLines, skipped, summaries, attemptLines)
	if testing.Short() {
		return
	}
	if scenariosChecked == 0 || commands == 0 || summaries == 0 {
		t.Errorf("nothing checked: %d scenarios, %d commands, %d summaries", scenariosChecked, commands, summaries)
	}
}

// checkAttemptLines validates the lines of a JSON block that are
// attempts.jsonl lines (objects with conv and key) against the schema.
func checkAttemptLines(t *testing.T, s *jsonschema.Resolved, b block) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(b.body, "\n") {
		var v map[string]any
		if json.Unmarshal([]byte(line), &v) != nil || v["conv"] == nil || v["key"] == nil {
			continue
		}
		n++
		if err := s.Validate(v); err != nil {
			t.Errorf("%s: an attempts.jsonl example does not match attempts.schema.json: %v\n%s", b.where(), err, line)
		}
	}
	return n
}

// pending are pages other branches add; a link to one of them is checked
// once it exists.
var pending = map[string]bool{"limits.md": true, "secrets.md": true, "results-storage.md": true, "descriptors.md": true, "fuzzing.md": true}

var linkRE = regexp.MustCompile(`\]\(([^)#\s]+)(#[^)\s]*)?\)`)

// checkLinks checks that every relative link of a page names a file that
// exists, and that its #anchor names a heading there.
func checkLinks(t *testing.T, page string) {
	t.Helper()
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range linkRE.FindAllStringSubmatch(string(data), -1) {
		target := m[1]
		if strings.Contains(target, "://") {
			continue
		}
		path := filepath.Join(filepath.Dir(page), target)
		body, err := os.ReadFile(path)
		if err != nil {
			if pending[filepath.Base(path)] && os.IsNotExist(err) {
				continue
			}
			if info, serr := os.Stat(path); serr == nil && info.IsDir() {
				continue
			}
			t.Errorf("%s: link to %s: %v", page, target, err)
			continue
		}
		if anchor := strings.TrimPrefix(m[2], "#"); anchor != "" && !hasAnchor(string(body), anchor) {
			t.Errorf("%s: link to %s%s: no such heading", page, target, m[2])
		}
	}
}

// hasAnchor reports whether a Markdown page has a heading whose GitHub
// anchor is anchor.
func hasAnchor(page, anchor string) bool {
	for _, line := range strings.Split(page, "\n") {
		h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !ok || !strings.HasPrefix(line, "#") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		if b.String() == anchor {
			return true
		}
	}
	return false
}

func checkScenario(t *testing.T, b block, body string) {
	t.Helper()
	if _, err := scenarios.Parse(b.where(), []byte(body)); err != nil {
		t.Errorf("%s: the scenario does not validate:\n%v", b.where(), err)
	}
}

// checkFragment replaces the top-level keys of the embedded scenario base
// with the block's, and validates the result.
func checkFragment(t *testing.T, b block, base string) {
	t.Helper()
	data, err := fsRead(base)
	if err != nil {
		t.Errorf("%s: fragment of %q: %v", b.where(), base, err)
		return
	}
	var doc, frag yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(b.body), &frag); err != nil {
		t.Errorf("%s: not YAML: %v", b.where(), err)
		return
	}
	root, patch := doc.Content[0], frag.Content[0]
	if patch.Kind != yaml.MappingNode {
		t.Errorf("%s: a fragment is a mapping of top-level scenario fields", b.where())
		return
	}
	for i := 0; i < len(patch.Content); i += 2 {
		key, val := patch.Content[i], patch.Content[i+1]
		replaced := false
		for j := 0; j < len(root.Content); j += 2 {
			if root.Content[j].Value == key.Value {
				root.Content[j+1] = val
				replaced = true
			}
		}
		if !replaced {
			root.Content = append(root.Content, key, val)
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	checkScenario(t, b, string(out))
}

func fsRead(name string) ([]byte, error) {
	return readEmbedded(name + ".yaml")
}

func readEmbedded(file string) ([]byte, error) {
	f, err := scenarios.EmbeddedFS().Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}

// buildMcpload returns the command to run: make test's, or one built
// into a temporary folder.
func buildMcpload(t *testing.T) string {
	t.Helper()
	return bintest.Mcpload(t, "..")
}

// executor runs the commands of the shell blocks in one working folder.
// Runs go in parallel, up to three at once (most of their time is the
// schedule and the scenario's timeouts); any other command waits for them,
// since it may read what they wrote.
type executor struct {
	t    *testing.T
	bin  string
	dir  string
	seq  int
	wg   sync.WaitGroup
	sem  chan struct{}
	once sync.Once

	ran map[string]bool // the runs started, by arguments and exit code

	mu    sync.Mutex
	retry []retry
}

var (
	exitRE    = regexp.MustCompile(`\bexit (\d)\s*$`)
	resultsRE = regexp.MustCompile(`^results/([A-Za-z0-9._-]+?)-(\d{8}T\d{6}Z|\.\.\.)(/.*)?$`)
)

// block runs the mcpload commands of a shell block and returns how many.
func (x *executor) block(b block) int {
	x.once.Do(func() { x.sem = make(chan struct{}, 3) })
	n := 0
	lines := strings.Split(strings.ReplaceAll(b.body, "\\\n", " "), "\n")
	for i, line := range lines {
		line = strings.TrimPrefix(strings.TrimSpace(line), "$ ")
		args, comment, redirect := splitCommand(line)
		if len(args) == 0 || (args[0] != "mcpload" && args[0] != "bin/mcpload") {
			continue
		}
		n++
		want := 0
		if m := exitRE.FindStringSubmatch(comment); m != nil {
			want, _ = strconv.Atoi(m[1])
		}
		where := fmt.Sprintf("%s (line %d of the block)", b.where(), i+1)
		x.run(where, args[1:], want, redirect)
	}
	return n
}

// splitCommand splits a shell line into words, honouring quotes, up to a
// comment, a redirection, a pipe or a trailing &. A "> FILE" redirection
// of stdout is returned, so that the next command can read FILE.
func splitCommand(line string) (args []string, comment, redirect string) {
	var cur strings.Builder
	inWord := false
	var quote rune
	flush := func() {
		if inWord {
			args = append(args, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '#' && !inWord:
			return args, line[i:], ""
		case (r == '>' || r == '|' || r == '&') && !inWord:
			flush()
			rest := line[i:]
			if j := strings.Index(rest, "#"); j >= 0 {
				comment, rest = rest[j:], rest[:j]
			}
			if f := strings.Fields(strings.TrimPrefix(rest, ">")); r == '>' && !strings.HasPrefix(rest, ">>") && len(f) == 1 {
				redirect = f[0]
			}
			return args, comment, redirect
		case r == ' ' || r == '\t':
			flush()
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return args, "", ""
}

func (x *executor) run(where string, args []string, want int, redirect string) {
	if len(args) > 0 && args[0] == "run" {
		// The same run shown on two pages runs once: its folder serves both.
		key := fmt.Sprint(args, want)
		if x.ran[key] {
			return
		}
		if x.ran == nil {
			x.ran = map[string]bool{}
		}
		x.ran[key] = true
		args = x.runArgs(args)
		x.sem <- struct{}{}
		x.wg.Add(1)
		go func() {
			defer x.wg.Done()
			defer func() { <-x.sem }()
			if code, out := x.exec(args); code != want {
				x.mu.Lock()
				x.retry = append(x.retry, retry{where, args, want, code, out})
				x.mu.Unlock()
			}
		}()
		return
	}
	x.wait()
	for i, a := range args {
		args[i] = x.resolve(where, a)
	}
	code, out := x.exec(args)
	if code != want {
		x.fail(where, args, want, code, out)
	}
	if redirect != "" {
		if err := os.WriteFile(filepath.Join(x.dir, redirect), []byte(out), 0o644); err != nil {
			x.t.Errorf("%s: > %s: %v", where, redirect, err)
		}
	}
}

// retry is a run whose exit code was not the page's while other runs
// shared the machine.
type retry struct {
	where      string
	args       []string
	want, code int
	out        string
}

func (x *executor) fail(where string, args []string, want, code int, out string) {
	x.t.Errorf("%s: mcpload %s: exit %d, the page says %d\n%s", where, strings.Join(args, " "), code, want, tail(out, 20))
}

// runArgs shortens a run and gives it its own folder, named as mcpload
// names it but with a made-up timestamp, so that runs started in the same
// second do not collide and the latest of a scenario sorts last.
func (x *executor) runArgs(args []string) []string {
	out := append([]string(nil), args...)
	hasOut := false
	for _, a := range args {
		if a == "--out" || a == "-out" || strings.HasPrefix(a, "--out=") {
			hasOut = true
		}
	}
	if !hasOut && len(args) > 1 {
		name := strings.TrimSuffix(filepath.Base(args[1]), ".yaml")
		x.seq++
		ts := time.Date(2026, 1, 1, 0, 0, x.seq, 0, time.UTC).Format("20060102T150405Z")
		out = append(out, "--out", filepath.Join("results", name+"-"+ts))
	}
	return append(out, "--duration", "1s", "--progress", "off")
}

// resolve turns results/NAME-<timestamp or ...> into the latest run
// folder of NAME the commands wrote.
func (x *executor) resolve(where, arg string) string {
	m := resultsRE.FindStringSubmatch(arg)
	if m == nil {
		return arg
	}
	found, _ := filepath.Glob(filepath.Join(x.dir, "results", m[1]+"-2*"))
	if len(found) == 0 {
		x.t.Errorf("%s: %s names a run of %s, and no command before it ran one", where, arg, m[1])
		return arg
	}
	sort.Strings(found)
	rel, _ := filepath.Rel(x.dir, found[len(found)-1])
	return rel + m[3]
}

// wait waits for the runs in flight. A run whose thresholds failed (exit
// 3 where the page says 0) while three others loaded the machine is run
// again alone, since a latency gate judges the machine as well as the
// target; any other mismatch fails at once.
func (x *executor) wait() {
	x.wg.Wait()
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range x.retry {
		if r.code == 3 && r.want == 0 {
			x.t.Logf("%s: exit 3 beside other runs; running it again alone", r.where)
			if r.code, r.out = x.exec(r.args); r.code == r.want {
				continue
			}
		}
		x.fail(r.where, r.args, r.want, r.code, r.out)
	}
	x.retry = nil
}

// exec runs the binary in the working folder and returns its exit code
// (-1 when it could not run) and its output.
func (x *executor) exec(args []string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, x.bin, args...)
	cmd.Dir = x.dir
	// providers.md shows a run that stops for want of a key; with the key
	// set it would reach a real provider.
	env := []string{"CI=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MCPLOAD_DOCS_EXAMPLE_KEY=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if d := time.Since(start); d > 5*time.Second {
		x.t.Logf("mcpload %s: %s", strings.Join(args, " "), d.Round(100*time.Millisecond))
	}
	if err == nil {
		return 0, out.String()
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	return -1, fmt.Sprintf("%v\n%s", err, out.String())
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// loadSchema reads and resolves one of schemas/*.schema.json.
func loadSchema(t *testing.T, name string) *jsonschema.Resolved {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("schemas", name))
	if err != nil {
		t.Fatal(err)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	r, err := s.Resolve(nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// validateRuns validates every summary.json, capacity.json and
// attempts.jsonl line under dir against the schemas.
func validateRuns(t *testing.T, dir string) (summaries, attemptLines int) {
	t.Helper()
	summary := loadSchema(t, "summary.schema.json")
	attempt := loadSchema(t, "attempts.schema.json")
	capacity := loadSchema(t, "capacity.schema.json")
	run := loadSchema(t, "run.schema.json")
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch d.Name() {
		case record.SummaryFile:
			summaries++
			validateJSONFile(t, summary, path)
		case record.CapacityFile:
			validateJSONFile(t, capacity, path)
		case record.RunFile:
			validateJSONFile(t, run, path)
		case record.AttemptsFile:
			attemptLines += validateJSONLines(t, attempt, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return summaries, attemptLines
}

func validateJSONFile(t *testing.T, s *jsonschema.Resolved, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not match its schema: %v", path, err)
	}
}

func validateJSONLines(t *testing.T, s *jsonschema.Resolved, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n, bad := 0, 0
	for sc.Scan() {
		n++
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Errorf("%s:%d: %v", path, n, err)
			continue
		}
		if err := s.Validate(v); err != nil && bad < 3 {
			bad++
			t.Errorf("%s:%d does not match attempts.schema.json: %v\n%s", path, n, err, sc.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		t.Errorf("%s: %v", path, err)
	}
	return n
}

// TestScenarioSchema validates every embedded scenario against
// scenario.schema.json, as an editor would with yaml-language-server.
func TestScenarioSchema(t *testing.T) {
	s := loadSchema(t, "scenario.schema.json")
	for _, name := range scenarios.Embedded() {
		data, err := fsRead(name)
		if err != nil {
			t.Fatal(err)
		}
		var y any
		if err := yaml.Unmarshal(data, &y); err != nil {
			t.Fatal(err)
		}
		// Through JSON, so that numbers and maps are what a JSON document has.
		j, err := json.Marshal(y)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var v any
		if err := json.Unmarshal(j, &v); err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("embedded scenario %s does not match scenario.schema.json: %v", name, err)
		}
	}
}

// TestScenarioSchemaRefuses checks that the schema catches, as the loader
// does, the mistakes an editor should underline.
func TestScenarioSchemaRefuses(t *testing.T) {
	s := loadSchema(t, "scenario.schema.json")
	base := "name: x\nload: {stages: [{rate: 1, duration: 1s}]}\n"
	for _, bad := range []string{
		base + "client: {timeout: 5}\n",                               // a duration without a unit
		base + "thresholds: [conversation.p99 < 2s]\nthreshold: []\n", // an unknown field
		base + "faults: [{target: provider:p, kind: slow}]\n",         // an unknown fault kind
		"name: x\nload: {stages: [{rate: 1}]}\n",                      // a stage without its duration
	} {
		var y any
		if err := yaml.Unmarshal([]byte(bad), &y); err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(y)
		var v any
		if err := json.Unmarshal(j, &v); err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err == nil {
			t.Errorf("scenario.schema.json accepts:\n%s", bad)
		}
		if _, err := scenarios.Parse("bad.yaml", []byte(bad)); err == nil {
			t.Errorf("the loader accepts what the schema refuses:\n%s", bad)
		}
	}
}

// TestReadmeIsAnEntryPoint keeps README.md short, with the quick start and
// a way to every reference page: a newcomer finds each within a minute.
func TestReadmeIsAnEntryPoint(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 20<<10 {
		t.Errorf("README.md is %d bytes: keep it under 20 KB, reference goes in docs/", len(b))
	}
	for _, want := range []string{"make run", "make test", "## Quick start", "docs/scenario-reference.md", "docs/results.md", "docs/schemas/", "docs/cli.md", "docs/troubleshooting.md"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
}
