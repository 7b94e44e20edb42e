package mcp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// Bounds of a stdio server's side channels.
const (
	// MaxStderrBytes caps each process's stderr log in the run folder,
	// and MaxStderrLogs the logs of one client (per_call starts a process
	// per operation): a chatty server must not fill the disk in a soak.
	MaxStderrBytes = 1 << 20
	MaxStderrLogs  = 100
	// exitGrace is how long a process has to exit once its stdin is
	// closed, before its process group is killed.
	exitGrace = 2 * time.Second
)

// Stdio speaks MCP over the stdin and stdout of child processes it
// spawns, one per session, as the MCP stdio transport says: one JSON-RPC
// message per line. Requests on one process are multiplexed by id, so a
// session may be shared by many slots. Every process it started is killed
// by Close, and dies with mcpload on Linux.
type Stdio struct {
	conn
	// Lane is the protocol lane each process is spoken to in: the
	// go-sdk serves the stateless lane over stdio too.
	Lane
	argv []string
	env  []string
	dir  string
	// stderrDir receives each process's stderr as NAME-N.log, capped at
	// MaxStderrBytes; "" discards it.
	stderrDir string

	spawnKey, exitKey, discoverKey string
	procs                          atomic.Int64 // processes started, for log names
	live                           sync.Map     // *stdioSession -> struct{}
}

// NewStdio returns the client of MCP server server, run as argv with env
// added to mcpload's environment, in dir ("" for mcpload's). stderrDir is
// where stderr logs go ("" discards them).
func NewStdio(server string, argv []string, env map[string]string, dir, stderrDir string, timeout time.Duration, rd Redactor) *Stdio {
	c := &Stdio{argv: argv, dir: dir, stderrDir: stderrDir}
	c.conn.init(c, server, timeout, rd)
	prefix := "mcp:" + server + "/"
	c.spawnKey, c.exitKey, c.discoverKey = prefix+"spawn", prefix+"exit", prefix+"discover"
	if len(env) > 0 {
		c.env = os.Environ()
		for k, v := range env {
			c.env = append(c.env, k+"="+v)
		}
	}
	return c
}

// Target implements Client. It names the server, never its argv, which
// may carry a token.
func (c *Stdio) Target() string { return "stdio://" + c.server }

// stdioSession is one child process and its initialized MCP session.
type stdioSession struct {
	c       *Stdio
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	version string
	// stateless is the 2026-07-28 lane: _meta on every request, no
	// initialize.
	stateless bool

	mux
	wmu sync.Mutex // one line written at a time
	// exited is closed once the process is reaped, waitErr set before.
	exited  chan struct{}
	waitErr error
}

// Version implements Session.
func (s *stdioSession) Version() string { return s.version }

// Handshake implements Client: it starts a process (attempt key
// mcp:NAME/spawn), then runs initialize and notifications/initialized
// over its stdio.
func (c *Stdio) Handshake(ctx context.Context, seq uint64, step int, sink Sink) (Session, Total) {
	var out Total
	start := time.Now()
	var ex Exchange
	sess, err := c.spawn()
	if err != nil {
		ex.Outcome, ex.Err = spawnOutcome(err), "starting "+c.server+": "+err.Error()
	} else {
		ex.Outcome = record.OutcomeOK
	}
	c.record(sink, seq, step, record.KindSession, c.spawnKey, start, &ex)
	out.add(&ex)
	if sess == nil {
		return nil, out
	}

	skip, discover, fallback := c.handshake()
	if skip {
		sess.version, sess.stateless = ProtocolStateless, true
		return sess, out
	}
	if discover {
		ok, refused := c.discoverOver(ctx, &sess.mux, c.discoverKey, fallback, seq, step, sink, &out)
		if ok {
			sess.version, sess.stateless = ProtocolStateless, true
			return sess, out
		}
		if !refused || !fallback {
			sess.kill()
			return nil, out
		}
		// An older server: the initialize handshake on the same
		// process, as the SDKs fall back to it.
	}
	version := c.Protocol
	if version == ProtocolAuto {
		version = ""
	}
	if sess.version = c.initializeOver(ctx, &sess.mux, version, seq, step, sink, &out); sess.version == "" {
		sess.kill()
		return nil, out
	}
	return sess, out
}

// spawnOutcome classifies a failure to start the process: a harness out
// of descriptors or processes is local, anything else (no such program,
// not executable) is the target's connection failure.
func spawnOutcome(err error) string {
	if policy.IsLocal(err) {
		return record.OutcomeLocal
	}
	return record.OutcomeConnection
}

// spawn starts one process in its own process group, with its reader.
func (c *Stdio) spawn() (*stdioSession, error) {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Env, cmd.Dir = c.env, c.dir
	setProcessGroup(cmd)
	// Wait must not hang on a grandchild that keeps stderr open.
	cmd.WaitDelay = exitGrace
	n := c.procs.Add(1)
	var stderrLog *os.File
	closeLog := func() {
		if stderrLog != nil {
			stderrLog.Close()
		}
	}
	if c.stderrDir != "" && n <= MaxStderrLogs {
		if err := os.MkdirAll(c.stderrDir, 0o755); err != nil {
			return nil, fmt.Errorf("stderr folder: %w", err)
		}
		// Other clients of the server (lanes of one run) number their
		// logs too: a name taken is skipped, never overwritten.
		var f *os.File
		for {
			var err error
			f, err = os.OpenFile(filepath.Join(c.stderrDir, c.server+"-"+strconv.FormatInt(n, 10)+".log"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err == nil {
				break
			}
			if !errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("stderr log: %w", err)
			}
			n = c.procs.Add(1)
		}
		cmd.Stderr = &cappedWriter{w: f, left: MaxStderrBytes}
		stderrLog = f
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		closeLog()
		return nil, err
	}
	// A pipe of our own rather than cmd.StdoutPipe, which Wait closes as
	// soon as the process exits: that raced the last reads, and a crash
	// read as "file already closed" instead of its exit status. This one
	// reads to EOF, and is closed once the reader is done.
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		closeLog()
		return nil, err
	}
	cmd.Stdout = stdoutW
	err = cmd.Start()
	stdoutW.Close() // the child has its copy
	if err != nil {
		stdout.Close()
		closeLog()
		return nil, err
	}
	s := &stdioSession{c: c, cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	s.mux = newMux(&c.conn, s.write, s.kill)
	c.live.Store(s, struct{}{})
	go s.read(stdout)
	go func() {
		// Wait reaps the process and ends the stderr copy; the log is
		// closed after it.
		s.waitErr = cmd.Wait()
		close(s.exited)
		closeLog()
		// A process the server started may hold stdout open after the
		// server exits: the read is cut after the grace, as Wait would
		// have cut it.
		select {
		case <-s.done:
		case <-time.After(exitGrace):
		}
		stdout.Close()
	}()
	return s, nil
}

// attempt implements attempter: one request line, and the wait for its
// response.
func (c *Stdio) attempt(ctx context.Context, s Session, st *policy.Step, req *Request, sink Sink) Result {
	ss := s.(*stdioSession)
	return c.attemptOver(ctx, &ss.mux, ss.version, ss.stateless, st, req, sink)
}

// compactLine returns body without line breaks, which would end the
// message early on stdio: arguments a model wrote may be pretty-printed.
func compactLine(body []byte) []byte {
	if bytes.IndexByte(body, '\n') < 0 && bytes.IndexByte(body, '\r') < 0 {
		return body
	}
	var b bytes.Buffer
	if json.Compact(&b, body) != nil {
		return body
	}
	return b.Bytes()
}

// write sends one message and its newline.
func (s *stdioSession) write(body []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := s.stdin.Write(body); err != nil {
		return err
	}
	_, err := s.stdin.Write(newline)
	return err
}

var newline = []byte{'\n'}

// read reads the server's stdout, one message a line, until it ends or
// misbehaves: responses go to their callers, progress notifications are
// counted, requests from the server are answered (ping) or refused. A
// line that is not JSON-RPC, or longer than the response bound, ends the
// session: the stream can no longer be trusted.
func (s *stdioSession) read(stdout io.Reader) {
	defer close(s.done)
	limit := s.c.MaxBytes
	if limit <= 0 {
		limit = scenarios.DefaultMaxResponseBytes
	}
	br := bufio.NewReaderSize(stdout, 64<<10)
	var line []byte
	for {
		line = line[:0]
		var err error
		for {
			var chunk []byte
			chunk, err = br.ReadSlice('\n')
			line = append(line, chunk...)
			if int64(len(line)) > limit {
				s.fail(fmt.Sprintf("server wrote a line over client.limits.max_response_bytes (%d bytes)", limit))
				return
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			if !s.dispatch(t) {
				return
			}
		}
		if err != nil {
			s.fail(s.exitText(err))
			return
		}
	}
}

// exitText says why stdout ended: the process's exit status when it has
// one by now.
func (s *stdioSession) exitText(err error) string {
	if err != io.EOF && !errors.Is(err, os.ErrClosed) {
		return "reading the server's stdout: " + err.Error()
	}
	if s.ended.Load() {
		return "session ended"
	}
	select {
	case <-s.exited:
		if s.waitErr != nil {
			return "server process exited: " + s.waitErr.Error()
		}
		return "server process exited"
	case <-time.After(exitGrace):
		return "server closed its stdout"
	}
}

// kill ends the process group, once.
func (s *stdioSession) kill() {
	if s.ended.Swap(true) {
		return
	}
	killProcessGroup(s.cmd)
	s.stdin.Close()
	s.c.live.Delete(s)
}

// End implements Client: stdin is closed, as the stdio transport's
// shutdown says, and the process group is killed if it has not exited
// within a grace period. With a sink it is recorded (mcp:NAME/exit).
func (c *Stdio) End(ctx context.Context, sess Session, seq uint64, step int, sink Sink) Exchange {
	ex := Exchange{Outcome: record.OutcomeOK}
	s, _ := sess.(*stdioSession)
	if s == nil {
		return ex
	}
	start := time.Now()
	s.stdin.Close()
	t := time.NewTimer(exitGrace)
	select {
	case <-s.done:
	case <-t.C:
		ex.Outcome, ex.Err = record.OutcomeTimeout, "server did not exit within "+exitGrace.String()+" of its stdin closing; killed"
	case <-ctx.Done():
	}
	t.Stop()
	s.kill()
	if sink != nil {
		c.record(sink, seq, step, record.KindSession, c.exitKey, start, &ex)
	}
	return ex
}

// Close implements Client: it kills every process still running.
func (c *Stdio) Close() error {
	c.live.Range(func(k, _ any) bool {
		k.(*stdioSession).kill()
		return true
	})
	return nil
}

// cappedWriter writes up to left bytes and drops the rest, reporting
// success so that the process never blocks on its stderr.
type cappedWriter struct {
	w    io.Writer
	left int64
	mu   sync.Mutex
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left > 0 {
		b := p
		if int64(len(b)) > c.left {
			b = b[:c.left]
		}
		n, err := c.w.Write(b)
		c.left -= int64(n)
		if err != nil {
			c.left = 0
		}
	}
	return len(p), nil
}
