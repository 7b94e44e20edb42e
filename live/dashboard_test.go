package live

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mcpload/mcpload/internal/browsertest"
)

// The dashboard test opens the live page in Debian's headless Chromium
// while a run goes on, and checks that its numbers move with the run,
// that its last figures are the run's, that it turns into the run's
// report.html at the end, and that it asked for nothing off its server.

// pageFigures reads the page's figures by element id.
const pageFigures = `Object.fromEntries(["status","started","ok","failed","dropped","inflight","retries","fallbacks"].map(id => [id, (document.getElementById(id) || {}).textContent]))`

func TestDashboardFollowsLiveRun(t *testing.T) {
	t.Parallel()
	hub := NewHub()
	dash := NewDashboard(hub)
	ln, err := Listen("--dashboard", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	srv := Serve(ln, dash)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	browser := browsertest.Start(t, ctx, "127.0.0.1")
	var mu sync.Mutex
	var offsite, problems []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if !strings.HasPrefix(e.Request.URL, srv.URL()+"/") && !strings.HasPrefix(e.Request.URL, "data:") {
				offsite = append(offsite, e.Request.URL)
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, fmt.Sprint("exception: ", e.ExceptionDetails.Text))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, fmt.Sprint("console error: ", e.Args))
			}
		}
	}
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithListener(listen))
	defer cancelTab()
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL()+"/")); err != nil {
		t.Fatalf("open the dashboard: %v", err)
	}
	read := func() map[string]string {
		t.Helper()
		figs, err := chromedp.Run(tab, chromedp.Evaluate[map[string]string](pageFigures))
		if err != nil {
			t.Errorf("read the page: %v", err)
		}
		return figs
	}

	hold := make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	defer release()
	run := startRun(t, hub, hold)
	// While the run goes on, the page's count of started conversations
	// changes: two values before the final frame (under -race on a busy
	// machine a frame can take a second or two to gather, so the 6 s run
	// may give no more).
	seen := map[string]bool{}
	var figs map[string]string
	for deadline := time.Now().Add(30 * time.Second); len(seen) < 2; {
		if time.Now().After(deadline) {
			mu.Lock()
			t.Fatalf("the page showed no run in 30 s: %v (problems: %v)", figs, problems)
		}
		if figs = read(); figs["status"] == "finished" {
			break
		}
		if n, err := strconv.Atoi(figs["started"]); err == nil && n > 0 {
			seen[figs["started"]] = true
		}
		time.Sleep(250 * time.Millisecond)
	}
	// A picture of the live page, to look at.
	if dir := os.Getenv("MCPLOAD_SCREENSHOT_DIR"); dir != "" {
		if shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "dashboard-screenshot.png"), shot, 0o644)
		}
	}
	if len(seen) < 2 {
		t.Errorf("the page showed %d counts of started conversations while the run went on (%v), want 2 or more", len(seen), seen)
	}
	// The run ends; until its report is released, the page shows the
	// final frame, whose figures are summary.json's.
	<-run.rendered
	if run.err != nil {
		release()
		t.Fatalf("run: %v", run.err)
	}
	s := run.summary
	for deadline := time.Now().Add(20 * time.Second); figs["status"] != "finished"; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			release()
			t.Fatalf("the page did not show the final frame in 20 s: %v", figs)
		}
		figs = read()
	}
	// The fault windows are on the time axis.
	if n, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll("svg rect.fault").length`)); err != nil || n == 0 {
		t.Errorf("no fault window shaded on the charts (%d, %v)", n, err)
	}
	want := map[string]uint64{
		"started": s.Conversations.Started, "ok": s.Conversations.OK, "failed": s.Conversations.Failed,
		"dropped": s.Conversations.Dropped, "inflight": 0, "retries": s.Attempts.Retries, "fallbacks": s.Attempts.Fallbacks,
	}
	for id, w := range want {
		if figs[id] != strconv.FormatUint(w, 10) {
			t.Errorf("the page's final %s = %q, summary.json says %d", id, figs[id], w)
		}
	}
	// The report is released: the page turns into report.html.
	release()
	report, err := os.ReadFile(run.dir + "/" + ReportFile)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		html, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
		if err == nil && !strings.Contains(html, "EventSource") && strings.Contains(html, s.Scenario) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not turn into report.html in 20 s")
		}
	}
	title, err := chromedp.Run(tab, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(report), "<title>"+title+"</title>") {
		t.Errorf("the page's title is %q, not report.html's", title)
	}
	for deadline := time.Now().Add(10 * time.Second); !dash.Settled(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Error("the dashboard did not settle after the page loaded the report")
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(offsite) > 0 {
		t.Errorf("the page asked for what its server does not serve: %v", offsite)
	}
	if len(problems) > 0 {
		t.Errorf("the page had errors: %v", problems)
	}
}
