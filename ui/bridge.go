package ui

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"
)

// Bridge runs work off the GUI goroutine and brings its result back to the
// widgets: the one place where background events reach the UI (fyne.Do).
// The UI never waits on the database's writes, the network or a printer.
type Bridge struct {
	ctx context.Context
	wg  sync.WaitGroup
}

// NewBridge returns a bridge whose work is cancelled with ctx.
func NewBridge(ctx context.Context) *Bridge { return &Bridge{ctx: ctx} }

// Go runs work in the background, then done on the GUI goroutine with its
// result.
func Go[T any](b *Bridge, work func(ctx context.Context) (T, error), done func(T, error)) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		v, err := work(b.ctx)
		fyne.DoAndWait(func() { done(v, err) })
	}()
}

// Wait blocks until every piece of work started so far has finished and
// delivered its result (for tests and for shutting down).
func (b *Bridge) Wait() { b.wg.Wait() }
