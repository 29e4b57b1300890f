//go:build ebilltestclock

package main

import (
	"os"
	"strings"
	"time"

	"github.com/ebill/ebill/server"
)

// A build for the browser tests only (go build -tags ebilltestclock):
// the server's clock runs this many ahead of the machine's as the file
// named by EBILL_TEST_CLOCK_FILE says ("16m"), so that a test can let a
// session sit idle for 16 minutes in a second. Release builds have no such
// file to read.
func init() {
	path := os.Getenv("EBILL_TEST_CLOCK_FILE")
	if path == "" {
		return
	}
	extraStoreOptions = append(extraStoreOptions, server.WithStoreClock(func() time.Time {
		b, _ := os.ReadFile(path)
		d, _ := time.ParseDuration(strings.TrimSpace(string(b)))
		return time.Now().Add(d)
	}))
}
