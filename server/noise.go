package server

import (
	"context"
	"strings"
	gosync "sync"
	"time"

	"github.com/ebill/ebill/bill"
)

// NoiseWindow is how long a HIS request's noise is remembered: a noise
// seen again within it is a replay.
const NoiseWindow = 24 * time.Hour

// Replay protection for the medical API: every request's noise is
// recorded, and a noise seen within NoiseWindow is a replay.
// Recording is group-committed like issuing: requests wait in one queue,
// and one goroutine records all that are waiting with one statement — one
// commit for many requests instead of one each.

type noiseReq struct {
	appid, noise string
	done         chan noiseRes
}

type noiseRes struct {
	fresh bool
	err   error
}

type noiseRecorder struct {
	once  gosync.Once
	queue chan *noiseReq
	quit  chan struct{}
	stop  gosync.Once
}

var errStoreClosed = bill.Errorf(bill.EInternal, "服务器正在关闭，请稍后重试。")

// noiseBatch is the most noises one statement records (3 parameters each).
const noiseBatch = 256

// UseNoise records a request's noise; false when it was seen within the
// window (a replay).
func (s *Store) UseNoise(ctx context.Context, appid, noise string) (bool, error) {
	nr := &s.noises
	nr.once.Do(func() {
		nr.queue, nr.quit = make(chan *noiseReq, 4*noiseBatch), make(chan struct{})
		go s.runNoises(nr.queue, nr.quit)
	})
	r := &noiseReq{appid: appid, noise: noise, done: make(chan noiseRes, 1)}
	select {
	case nr.queue <- r:
	case <-nr.quit:
		return false, errStoreClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case res := <-r.done:
		return res.fresh, res.err
	case <-nr.quit: // closed with the request still queued
		return false, errStoreClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (s *Store) stopNoises() {
	nr := &s.noises
	nr.once.Do(func() { nr.quit = make(chan struct{}) }) // never started: nothing to stop but the gate
	nr.stop.Do(func() { close(nr.quit) })
}

func (s *Store) runNoises(q chan *noiseReq, quit chan struct{}) {
	var pruned int64
	for {
		batch, ok := nextBatch(q, quit, noiseBatch)
		if !ok {
			return
		}
		now := s.millis()
		cutoff := now - NoiseWindow.Milliseconds()
		if pruned < now-time.Minute.Milliseconds() { // old noises are forgotten once a minute
			if _, err := s.db.Exec(s.rebind("DELETE FROM his_noise WHERE seen_at < ?"), cutoff); err != nil {
				s.log.Warn("pruning old HIS noises", "err", err)
			} else {
				pruned = now
			}
		}
		s.recordNoises(batch, now, cutoff)
	}
}

// recordNoises answers every request of a batch: fresh when its noise was
// new (or last seen before the window) and is the first of its kind in the
// batch; a replay otherwise.
func (s *Store) recordNoises(batch []*noiseReq, now, cutoff int64) {
	type key struct{ appid, noise string }
	first := map[key]*noiseReq{}
	var rows []string
	var args []any
	for _, r := range batch {
		k := key{r.appid, r.noise}
		if _, seen := first[k]; seen {
			continue
		}
		first[k] = r
		rows = append(rows, "(?,?,?)")
		args = append(args, r.appid, r.noise, now)
	}
	// A noise seen before the window is fresh again; one seen within it is
	// a replay. RETURNING lists the rows inserted or refreshed: the fresh ones.
	res, err := s.db.Query(s.rebind(`INSERT INTO his_noise (appid, noise, seen_at) VALUES `+strings.Join(rows, ",")+`
		ON CONFLICT (appid, noise) DO UPDATE SET seen_at = excluded.seen_at WHERE his_noise.seen_at < ?
		RETURNING appid, noise`), append(args, cutoff)...)
	fresh := map[key]bool{}
	if err == nil {
		for res.Next() {
			var k key
			if err = res.Scan(&k.appid, &k.noise); err != nil {
				break
			}
			fresh[k] = true
		}
		res.Close()
		if err == nil {
			err = res.Err()
		}
	}
	for _, r := range batch {
		k := key{r.appid, r.noise}
		switch {
		case err != nil:
			r.done <- noiseRes{err: translate(err)}
		case first[k] == r:
			r.done <- noiseRes{fresh: fresh[k]}
		default: // the same noise twice in one batch: the later is a replay
			r.done <- noiseRes{}
		}
	}
}
