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
