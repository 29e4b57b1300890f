package server

// SetBackfillPage makes migration 7 read and write n bills at a time, so a
// test of a few bills goes through several pages.
func SetBackfillPage(n int) func() {
	old := backfillPage
	backfillPage = n
	return func() { backfillPage = old }
}

// ValidTOTP checks a second-factor code (RFC 6238 vectors).
var ValidTOTP = validTOTP
