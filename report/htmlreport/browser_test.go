package htmlreport

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mcpload/mcpload/internal/browsertest"
)

// The browser test loads report.html in Debian's headless Chromium from
// file://, as a reader would open it from a results folder, and fails on
// anything that would make the page less than whole offline: a request
// that is not file: or data:, a console error, an exception, an image that
// did not decode. It also takes a full-page screenshot, to look at.

const (
	// screenshotDirEnv names a folder that receives a copy of each
	// screenshot.
	screenshotDirEnv = "MCPLOAD_SCREENSHOT_DIR"
	// browserDirsEnv lists more run or comparison folders, already
	// rendered, whose pages the test checks too (os.PathListSeparator
	// between them): `MCPLOAD_BROWSER_DIRS=results/x go test -run Browser`.
	browserDirsEnv = "MCPLOAD_BROWSER_DIRS"
	// ScreenshotFile is the screenshot's name in the folder of the page.
	screenshotFile = "report-screenshot.png"
	browserTimeout = 60 * time.Second
)

func TestBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	// One browser for every page: start it once.
	browser := browsertest.Start(t, ctx)

	// The harness first proves it sees what it must fail on.
	t.Run("harness", func(t *testing.T) {
		dir := t.TempDir()
		bad := `<!DOCTYPE html><title>bad</title><img src="http://example.invalid/x.png" alt="x">` +
			`<script>console.error("boom")</script><script>throw new Error("bang")</script>`
		path := filepath.Join(dir, "bad.html")
		must(t, os.WriteFile(path, []byte(bad), 0o644))
		l := load(t, browser, path)
		if !slices.ContainsFunc(l.requests, func(u string) bool { return strings.HasPrefix(u, "http://example.invalid/") }) {
			t.Errorf("the external image request was not recorded: %q", l.requests)
		}
		all := strings.Join(l.errors, "\n")
		for _, want := range []string{"boom", "bang"} {
			if !strings.Contains(all, want) {
				t.Errorf("the console error %q was not recorded: %q", want, l.errors)
			}
		}
	})

	t.Run("run", func(t *testing.T) {
		dir := t.TempDir()
		plots := writeFixtureRun(t, dir, 3)
		if err := Write(dir, fixtureSummary(), plots); err != nil {
			t.Fatal(err)
		}
		info := checkPage(t, browser, dir, "run")
		if len(info.Overflowing) > 0 {
			t.Errorf("tables wider than a 1280 px window in %v", info.Overflowing)
		}
		if info.Word != "FAIL" {
			t.Errorf("banner %q, want FAIL (two thresholds failed)", info.Word)
		}
		if len(info.Images) != len(plots) {
			t.Errorf("%d images rendered, want %d", len(info.Images), len(plots))
		}
		for _, id := range []string{"thresholds", "claims", "latency", "attempts", "errors", "resilience", "cost"} {
			if info.Tables[id] == 0 {
				t.Errorf("section %s has no table with rows", id)
			}
		}
	})

	t.Run("comparison", func(t *testing.T) {
		dir := t.TempDir()
		cmp := fixtureComparison(t, dir, "seed", "no-retry", "breaker-fallback")
		plots := writePlots(t, dir, 2)
		if err := WriteComparison(dir, cmp, plots); err != nil {
			t.Fatal(err)
		}
		info := checkPage(t, browser, dir, "comparison")
		if len(info.Overflowing) > 0 {
			t.Errorf("tables wider than a 1280 px window in %v", info.Overflowing)
		}
		if info.Word != "FAIL" {
			t.Errorf("banner %q, want FAIL (the seed policy failed)", info.Word)
		}
		if info.Tables["policies"] != len(cmp.Policies) || info.Tables["comparison"] != 2*len(cmp.Policies) {
			t.Errorf("tables %v, want one row per policy in policies and in each of comparison's two tables", info.Tables)
		}
		if len(info.Images) != len(plots) {
			t.Errorf("%d images rendered, want %d", len(info.Images), len(plots))
		}
	})

	for _, dir := range filepath.SplitList(os.Getenv(browserDirsEnv)) {
		if dir == "" {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			info := checkPage(t, browser, dir, filepath.Base(dir))
			if len(info.Overflowing) > 0 {
				t.Logf("tables that scroll sideways in a 1280 px window: %v", info.Overflowing)
			}
			if info.Word != "PASS" && info.Word != "FAIL" {
				t.Errorf("banner %q, want PASS or FAIL", info.Word)
			}
			want := []string{"latency", "attempts"}
			if _, err := os.Stat(filepath.Join(dir, "comparison.json")); err == nil {
				want = []string{"policies", "comparison"}
			}
			for _, id := range want {
				if info.Tables[id] == 0 {
					t.Errorf("section %s has no table with rows (%v)", id, info.Tables)
				}
			}
		})
	}
}

// pageLoad is what the browser reported while it loaded a page.
type pageLoad struct {
	tab      context.Context
	mu       sync.Mutex
	requests []string // every URL requested
	errors   []string // console errors, exceptions, browser log errors
}

func (l *pageLoad) listen(ev any) {
	// This runs in the tab's read loop: record, and return.
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		l.requests = append(l.requests, ev.Request.URL)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, a.Description+string(a.Value))
			}
			l.errors = append(l.errors, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		l.errors = append(l.errors, "exception: "+text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			l.errors = append(l.errors, fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

// load opens path in a new tab of browser and returns what happened.
func load(t *testing.T, browser context.Context, path string) *pageLoad {
	t.Helper()
	abs, err := filepath.Abs(path)
	must(t, err)
	l := &pageLoad{}
	tab, cancel := chromedp.NewContext(browser, chromedp.WithListener(l.listen))
	t.Cleanup(cancel)
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	if err := chromedp.Do(tab, chromedp.Navigate(u.String())); err != nil {
		t.Fatalf("load %s: %v", u.String(), err)
	}
	// Let late events (a console message of the last script) arrive.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.readyState === "complete"`)); err != nil {
		t.Fatal(err)
	}
	l.tab = tab
	return l
}

// pageInfo is what the page shows, read in the browser.
type pageInfo struct {
	Word   string         `json:"word"`
	Images []imageInfo    `json:"images"`
	Tables map[string]int `json:"tables"` // section id -> table rows
	// Scripts counts script elements; OverflowX is set when the page is
	// wider than the window.
	Scripts   int  `json:"scripts"`
	OverflowX bool `json:"overflowX"`
	// Overflowing lists the sections with a table wider than the page,
	// which scrolls sideways.
	Overflowing []string `json:"overflowing"`
}

type imageInfo struct {
	Alt      string `json:"alt"`
	Complete bool   `json:"complete"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

const pageInfoJS = `(() => {
	const tables = {};
	for (const s of document.querySelectorAll("section[id]")) {
		tables[s.id] = s.querySelectorAll("table tbody tr").length;
	}
	return {
		word: (document.querySelector("#verdict .word") || {}).textContent || "",
		images: Array.from(document.images, i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})),
		tables: tables,
		scripts: document.scripts.length,
		overflowX: document.documentElement.scrollWidth > window.innerWidth,
		overflowing: Array.from(document.querySelectorAll(".scroll"))
			.filter(d => d.scrollWidth > d.clientWidth + 1)
			.map(d => d.closest("section").id),
	};
})()`

// checkPage loads dir/report.html and fails on any request off the
// folder, any error, and any image that did not render; it writes a
// full-page screenshot beside the page and to $MCPLOAD_SCREENSHOT_DIR, as
// name.png.
func checkPage(t *testing.T, browser context.Context, dir, name string) pageInfo {
	t.Helper()
	l := load(t, browser, filepath.Join(dir, File))
	info, err := chromedp.Run(l.tab, chromedp.Evaluate[pageInfo](pageInfoJS))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	shot, err := chromedp.Run(l.tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	must(t, os.WriteFile(filepath.Join(dir, screenshotFile), shot, 0o644))
	if out := os.Getenv(screenshotDirEnv); out != "" {
		must(t, os.MkdirAll(out, 0o755))
		must(t, os.WriteFile(filepath.Join(out, name+".png"), shot, 0o644))
	}
	t.Logf("screenshot: %s (%d KB); page: %d images, tables %v", filepath.Join(dir, screenshotFile), len(shot)>>10, len(info.Images), info.Tables)

	l.mu.Lock()
	defer l.mu.Unlock()
	for _, u := range l.requests {
		if !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s: it must need nothing but itself", u)
		}
	}
	for _, e := range l.errors {
		t.Errorf("browser: %s", e)
	}
	if info.Scripts != 0 {
		t.Errorf("the page has %d scripts, want none", info.Scripts)
	}
	if info.OverflowX {
		t.Error("the page is wider than a 1280 px window: a table or text does not wrap")
	}
	for _, img := range info.Images {
		if !img.Complete || img.Width == 0 || img.Height == 0 {
			t.Errorf("image %q did not render: %+v", img.Alt, img)
		}
	}
	if info.Word == "" {
		t.Error("no verdict banner")
	}
	return info
}
