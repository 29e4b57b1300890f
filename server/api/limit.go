package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server/ratelimit"
	"github.com/ebill/ebill/sync/wire"
)

// limited wraps h: a source over its rate gets 429 with a Chinese message.
func (a *API) limited(l *ratelimit.Sources, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !l.Allow(ratelimit.Source(r), a.now()) {
			a.log.Warn("rate limited", "path", r.URL.Path, "remote", ratelimit.Source(r))
			w.Header().Set("Retry-After", "60")
			if strings.HasPrefix(r.URL.Path, "/api/") {
				writeJSON(w, http.StatusTooManyRequests, wire.Error{Code: bill.ELimit, Message: "请求过于频繁，请稍后再试。"})
			} else {
				http.Error(w, "请求过于频繁，请稍后再试。", http.StatusTooManyRequests)
			}
			return
		}
		h(w, r)
	}
}

// Body limits by route: what a real request needs (security.md). A route
// not listed gets defaultBodyBytes; the console and the HIS interface
// bound their own bodies further.
var bodyLimits = map[string]int64{
	"POST " + wire.PathBills:      16 << 20, // a full upload batch
	"POST " + wire.PathPaper:      4 << 20,
	"POST " + wire.PathHeld:       1 << 20,
	"POST " + wire.PathSegments:   64 << 10,
	"POST " + wire.PathStatus:     256 << 10,
	"POST " + wire.PathEnroll:     64 << 10,
	"POST " + wire.PathLogin:      16 << 10,
	"POST " + wire.PathPassword:   16 << 10,
	"POST /api/mobile/v1/code":    16 << 10,
	"POST /api/mobile/v1/session": 16 << 10,
}

const defaultBodyBytes = 1 << 20

// bodyLimitFor is the body limit of a routed request; mounted interfaces
// (the HIS API, the console) get the largest any of their requests needs.
func (a *API) bodyLimitFor(route string) int64 {
	if n, ok := bodyLimits[route]; ok {
		return n
	}
	if n, ok := a.mountLimits[route]; ok {
		return n
	}
	return defaultBodyBytes
}

// MaxPerSource bounds the requests one source address has in flight at
// once: a HIS server runs a few dozen; more is an attack.
const MaxPerSource = 64

// inflight counts the requests in flight per source.
type inflight struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *inflight) acquire(src string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	if f.n[src] >= MaxPerSource {
		return false
	}
	f.n[src]++
	return true
}

func (f *inflight) release(src string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[src]--; f.n[src] <= 0 {
		delete(f.n, src)
	}
}

// BodyBudget bounds the bytes of request bodies the server holds at once,
// whoever sends them: a request reserves what it declares (or its route's
// limit when it does not say) before it is read, and waits a little for
// room; memory stays bounded under a flood of large bodies.
const BodyBudget = 64 << 20

// reserve takes room for a request's body, waiting at most 3 seconds.
func (a *API) reserve(ctx context.Context, r *http.Request, limit int64) (release func(), ok bool) {
	n := limit
	if r.ContentLength >= 0 && r.ContentLength < limit {
		n = r.ContentLength
	}
	if n < 64<<10 {
		return func() {}, true // small bodies are not counted: they are bounded by the per-source limit
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := a.bodies.Acquire(wctx, n); err != nil {
		return nil, false
	}
	return func() { a.bodies.Release(n) }, true
}
