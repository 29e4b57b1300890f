package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ebill/ebill/bill"
)

// Runner is background work of the server: the program that serves
// starts it, and stops it in order at shutdown (after the HTTP server has
// stopped taking requests, before the store closes).
type Runner interface {
	Name() string
	Start(ctx context.Context) error
	// Stop ends the work, finishing what it holds (queued bills are issued
	// and answered), within ctx.
	Stop(ctx context.Context) error
}

// Issuers is the group-commit issuing of the server points (issue_batch.go):
// each point's queue starts with its first bill; Stop drains them.
func (s *Store) Issuers() Runner { return issuersRunner{s} }

type issuersRunner struct{ s *Store }

func (issuersRunner) Name() string                     { return "issuers" }
func (issuersRunner) Start(context.Context) error      { return nil }
func (r issuersRunner) Stop(ctx context.Context) error { return stopWithin(ctx, r.s.stopIssuers) }

// Noises is the recorder of the HIS requests' noises (noise.go): it starts
// with the first request; Stop ends it, answering what is queued.
func (s *Store) Noises() Runner { return noisesRunner{s} }

type noisesRunner struct{ s *Store }

func (noisesRunner) Name() string                     { return "noises" }
func (noisesRunner) Start(context.Context) error      { return nil }
func (r noisesRunner) Stop(ctx context.Context) error { return stopWithin(ctx, r.s.stopNoises) }

// stopWithin runs stop, giving up waiting when ctx ends.
func stopWithin(ctx context.Context, stop func()) error {
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// HealthPush sends the daily report to the health commission at url after
// 01:00 each day, trying again every `every` until it is accepted.
func (s *Store) HealthPush(url string, every time.Duration) Runner {
	return &healthRunner{s: s, url: url, every: every}
}

type healthRunner struct {
	s      *Store
	url    string
	every  time.Duration
	cancel context.CancelFunc
	done   chan struct{}
}

func (*healthRunner) Name() string { return "health-push" }

func (h *healthRunner) Start(ctx context.Context) error {
	if h.done != nil {
		return errors.New("health push already started")
	}
	if h.url == "" {
		return bill.Errorf(bill.EInvalid, "卫健委日报的报送地址为空。")
	}
	ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	h.done = make(chan struct{})
	go func() {
		defer close(h.done)
		h.s.runHealthPush(ctx, &http.Client{Timeout: 30 * time.Second}, h.url, h.every)
	}()
	return nil
}

func (h *healthRunner) Stop(ctx context.Context) error {
	if h.done == nil {
		return nil
	}
	h.cancel()
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DormantAfter is how long an account may go unused before the daily job
// disables it (security.md IA-1).
const DormantAfter = 90 * 24 * time.Hour

// DisableDormant disables every account not used for DormantAfter —
// neither signed in nor its API tokens used — counting from its creation
// when never used. Each is audited; it returns the logins disabled.
func (s *Store) DisableDormant(ctx context.Context) ([]string, error) {
	ctx = WithActor(ctx, Actor{Who: "system:dormant-accounts", From: "server", System: true})
	cutoff := s.now().Add(-DormantAfter).UnixMilli()
	var out []string
	err := s.tx(ctx, func(t *dbtx) error {
		rows, err := t.query(ctx, `SELECT login FROM users WHERE disabled = 0
			AND CASE WHEN last_login_at > 0 THEN last_login_at ELSE created_at END < ?`, cutoff)
		if err != nil {
			return err
		}
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return err
			}
			out = append(out, l)
		}
		rows.Close()
		for _, l := range out {
			if err := s.bumpUserTx(ctx, t, l, "disabled = ?", 1); err != nil {
				return err
			}
			if err := s.endSessionsTx(ctx, t, l, "dormant"); err != nil {
				return err
			}
			if err := t.audit(ctx, "user.disable", l, map[string]string{"why": "90 天未使用"}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// DormantAccounts is the daily job that disables unused accounts.
func (s *Store) DormantAccounts(every time.Duration) Runner {
	return &loopRunner{name: "dormant-accounts", every: every, run: func(ctx context.Context) {
		if logins, err := s.DisableDormant(ctx); err != nil {
			s.log.Warn("dormant accounts", "err", err)
		} else if len(logins) > 0 {
			s.log.Info("dormant accounts disabled", "logins", logins)
		}
	}}
}

// RemindersRunner sends the automatic messages (SendReminders) now and
// every interval.
func (s *Store) RemindersRunner(every time.Duration, r Reminders) Runner {
	return &loopRunner{name: "reminders", every: every, run: func(ctx context.Context) {
		if n, err := s.SendReminders(ctx, r); err != nil {
			s.log.Warn("reminders", "err", err)
		} else if n > 0 {
			s.log.Info("reminders sent", "messages", n)
		}
	}}
}

// loopRunner runs a function now and every interval until stopped.
type loopRunner struct {
	name   string
	every  time.Duration
	run    func(context.Context)
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *loopRunner) Name() string { return l.name }

func (l *loopRunner) Start(ctx context.Context) error {
	ctx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		for {
			l.run(ctx)
			select {
			case <-ctx.Done():
				return
			case <-time.After(l.every):
			}
		}
	}()
	return nil
}

func (l *loopRunner) Stop(ctx context.Context) error {
	if l.done == nil {
		return nil
	}
	l.cancel()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
