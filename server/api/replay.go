package api

import (
	"crypto/sha256"
	"sync"
	"time"
)

// replayGuard remembers the signatures of the stations' requests for as
// long as their timestamps are accepted, and refuses one seen before: a
// signed request captured on the wire cannot be sent again (security.md,
// station API). An SM2 signature is randomised, so a station's own retry
// — signed again — never collides. Only authenticated requests reach it,
// so its size is bounded by what real stations send in the window.
type replayGuard struct {
	mu    sync.Mutex
	seen  map[[32]byte]time.Time // signature digest → when it may be forgotten
	sweep time.Time
}

// fresh records sig and reports whether it was not seen in the window.
func (g *replayGuard) fresh(sig []byte, now time.Time, window time.Duration) bool {
	k := sha256.Sum256(sig)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = map[[32]byte]time.Time{}
	}
	if now.After(g.sweep) {
		for s, until := range g.seen {
			if now.After(until) {
				delete(g.seen, s)
			}
		}
		g.sweep = now.Add(time.Minute)
	}
	if until, ok := g.seen[k]; ok && !now.After(until) {
		return false
	}
	g.seen[k] = now.Add(window)
	return true
}
