package api

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sourceLimiter bounds how often one source address may call an endpoint
// that answers before anyone is authenticated: guessing check codes on /v,
// asking for SMS codes, or a HIS API's signature (security.md). Each source
// gets a token bucket; idle buckets are forgotten.
type sourceLimiter struct {
	every time.Duration // one more request allowed per every
	burst int
	mu    sync.Mutex
	seen  map[string]*sourceBucket
	sweep time.Time
}

type sourceBucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newSourceLimiter(every time.Duration, burst int) *sourceLimiter {
	return &sourceLimiter{every: every, burst: burst, seen: map[string]*sourceBucket{}}
}

// sourceOf is the request's source address without its port.
func sourceOf(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// allow reports whether the request's source may go on now.
func (l *sourceLimiter) allow(r *http.Request, now time.Time) bool {
	src := sourceOf(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.After(l.sweep) {
		for k, b := range l.seen {
			if now.Sub(b.last) > 10*time.Minute {
				delete(l.seen, k)
			}
		}
		l.sweep = now.Add(time.Minute)
	}
	b, ok := l.seen[src]
	if !ok {
		b = &sourceBucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.seen[src] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

// limited wraps h: a source over its rate gets 429 with a Chinese message.
func (a *API) limited(l *sourceLimiter, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !l.allow(r, a.now()) {
			a.log.Warn("rate limited", "path", r.URL.Path, "remote", sourceOf(r))
			w.Header().Set("Retry-After", "60")
			http.Error(w, "请求过于频繁，请稍后再试。", http.StatusTooManyRequests)
			return
		}
		h(w, r)
	}
}
