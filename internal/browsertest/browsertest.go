// Package browsertest drives Debian's headless Chromium (which make test
// installs) for the console's tests, with the flags this machine's closed
// network needs.
package browsertest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Start opens a browser for the test (closed at its end) and returns the
// context of its tab.
func Start(t *testing.T) context.Context {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (make test installs Debian's chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.IgnoreCertErrors, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 768))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first call starts the browser: without a timeout, which would stop it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// Do runs steps in the tab, each run within 30 s; on failure the test
// stops with the page's address and text.
func Do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.location.href + '\\n' + document.documentElement.outerHTML"))
		t.Fatalf("%v\n%s", err, page)
	}
}

// Text is the text of the element a CSS selector finds.
func Text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	// A page that is still settling (a redirect after signing in) can
	// replace the node between finding it and reading it ("No node with
	// given id"): read again, within the same 30 s.
	deadline := time.Now().Add(30 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(ctx, time.Until(deadline))
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return s
		}
		if !strings.Contains(err.Error(), "No node") || time.Now().After(deadline) {
			t.Fatalf("text of %s: %v", sel, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
