// Package browsertest starts Debian's headless Chromium for the tests of
// mcpload's pages (report.html, the live page), through chromedp. Without
// Chromium a test skips, unless MCPLOAD_REQUIRE_BROWSER=1, which `make
// test` sets after `make browser` installs it, makes that a failure.
package browsertest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

const (
	// Path is Debian's Chromium.
	Path = "/usr/bin/chromium"
	// RequireEnv makes a missing Chromium a failure, not a skip.
	RequireEnv = "MCPLOAD_REQUIRE_BROWSER"
)

// Start starts one headless Chromium for the test, within ctx, and
// returns its context; it stops with the test. The browser resolves no
// host name (a page that asks for anything off the machine fails, and the
// request is still seen) and reaches no address but the loopback hosts
// given. Under -short, without RequireEnv, the test is skipped.
func Start(t *testing.T, ctx context.Context, loopbackHosts ...string) context.Context {
	t.Helper()
	require := os.Getenv(RequireEnv) == "1"
	if _, err := os.Stat(Path); err != nil {
		if require {
			t.Fatalf("%s=1 but there is no browser: %v (make browser installs it)", RequireEnv, err)
		}
		t.Skipf("no %s (make browser installs it): %v", Path, err)
	}
	if testing.Short() && !require {
		t.Skip("starts Chromium: skipped in -short mode")
	}
	rules := "MAP * ~NOTFOUND"
	if len(loopbackHosts) > 0 {
		rules += ", EXCLUDE " + strings.Join(loopbackHosts, ", EXCLUDE ")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(Path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("host-resolver-rules", rules),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", Path, err)
	}
	return browser
}
