package sync

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/ebill/ebill/bill"
)

// Runner runs the service's passes in a loop: every Interval while all
// goes well, sooner when someone asks ("sync now"), and with exponential
// backoff and jitter while the server cannot be reached; the backoff resets
// after a successful pass.
type Runner struct {
	Service  *Service
	Interval time.Duration // between passes when all is well (default 30 s)
	MaxWait  time.Duration // longest backoff (default 5 min)
	Poll     time.Duration // how often a "sync now" request is looked for (default 1 s)

	// OnPass, if set, is told each pass's report (the console prints it).
	OnPass func(Report)
}

// Run loops until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	interval, maxWait, poll := orDefault(r.Interval, 30*time.Second), orDefault(r.MaxWait, 5*time.Minute), orDefault(r.Poll, time.Second)
	backoff := time.Duration(0)
	for {
		started := time.Now()
		rep := r.Service.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if r.OnPass != nil {
			r.OnPass(rep)
		}
		wait := interval
		if bill.ErrorCode(rep.Err) == bill.EUnavailable {
			backoff = min(max(2*backoff, time.Second), maxWait)
			wait = backoff/2 + rand.N(backoff/2+1) // jitter: many stations must not retry in step
		} else {
			backoff = 0
		}
		if !r.sleep(ctx, wait, poll, started) {
			return nil
		}
	}
}

// sleep waits for d, returning early (true) when a "sync now" request newer
// than since arrives, and false when ctx ends.
func (r *Runner) sleep(ctx context.Context, d, poll time.Duration, since time.Time) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return true
		case <-tick.C:
			if at, err := r.Service.store.SyncRequestedAt(ctx); err == nil && at.After(since) {
				return true
			}
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
