package main

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// dockerfile is the repository's Dockerfile, split into stages of
// instructions (continuation lines joined, comments dropped).
type dockerfile struct {
	stages []dockerStage
}

type dockerStage struct {
	from, name string
	lines      []string // "INSTRUCTION args"
}

func readDockerfile(t *testing.T, path string) *dockerfile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d dockerfile
	sc := bufio.NewScanner(f)
	var cont string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, cont = cont+line, ""
		if f := strings.Fields(line); strings.EqualFold(f[0], "FROM") {
			st := dockerStage{from: f[1]}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				st.name = f[3]
			}
			d.stages = append(d.stages, st)
			continue
		}
		if len(d.stages) == 0 {
			t.Fatalf("%s: %q before FROM", path, line)
		}
		st := &d.stages[len(d.stages)-1]
		st.lines = append(st.lines, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return &d
}

// TestDockerfile checks the image a user builds with `docker build`: its
// build stage's go build command, run here, makes a static binary that
// runs the quickstart as the image's non-root user; the final stage is
// that binary alone. No container builder can pull the golang base image
// on this machine (no registry but Go's, npm's and Debian's), so the image
// itself is not built here.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds mcpload without cgo")
	}
	d := readDockerfile(t, filepath.Join("..", "..", "Dockerfile"))
	if len(d.stages) != 2 || d.stages[0].name != "build" || d.stages[1].from != "scratch" {
		t.Fatalf("stages %+v, want a build stage and a final stage FROM scratch", d.stages)
	}
	var build string
	for _, l := range d.stages[0].lines {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			build = strings.TrimPrefix(l, "RUN ")
		}
	}
	m := regexp.MustCompile(`-o (\S+) (\S+)$`).FindStringSubmatch(build)
	if m == nil {
		t.Fatalf("no `go build ... -o OUT PKG` in the build stage: %q", build)
	}
	final := strings.Join(d.stages[1].lines, "\n")
	for _, want := range []string{"COPY --from=build " + m[1] + " /mcpload", "USER 65532:65532", `ENTRYPOINT ["/mcpload"]`, "WORKDIR /work"} {
		if !strings.Contains(final, want) {
			t.Errorf("final stage lacks %q:\n%s", want, final)
		}
	}

	// The build stage's command, as docker would run it from the clone.
	// Not t.TempDir: its parent is private to root, and the binary must
	// run as another user.
	dir, err := os.MkdirTemp("", "mcpload-image-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "mcpload")
	script := strings.Replace(build, "-o "+m[1], "-o "+bin, 1)
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "VERSION=v9.9.9-test")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked: it cannot run FROM scratch", bin)
		}
	}

	// As the image runs it: user 65532 in a working directory of its own,
	// nothing else on the file system that it needs.
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(work, 65532, 65532); err != nil {
		t.Skipf("cannot hand a folder to uid 65532 (not root?): %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		c := exec.Command(bin, args...)
		c.Dir = work
		c.Env = []string{"CI=true"}
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("mcpload %v as uid 65532: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("version"); !strings.Contains(out, "v9.9.9-test") {
		t.Errorf("version = %q, want the VERSION build argument", out)
	}
	out := run("run", "quickstart", "--duration", "1s", "--out", "results/q")
	if !strings.Contains(out, "results/q") {
		t.Errorf("quickstart in the image's layout:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(work, "results", "q", "summary.json")); err != nil {
		t.Error(err)
	}
	t.Log("the image itself is not built here: no container builder can pull golang:1.26-bookworm on this machine")
}
