// Package ratelimit bounds what one source address may do before anyone
// is authenticated (security.md): a token bucket per source, idle ones
// forgotten.
package ratelimit

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sources is a token bucket per source address.
type Sources struct {
	every time.Duration // one more token per every
	burst int
	mu    sync.Mutex
	seen  map[string]*bucket
	sweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// New makes buckets of burst tokens, one more each every.
func New(every time.Duration, burst int) *Sources {
	return &Sources{every: every, burst: burst, seen: map[string]*bucket{}}
}

// Source is a request's source address without its port.
func Source(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func (s *Sources) bucket(src string, now time.Time) *bucket {
	if now.After(s.sweep) {
		for k, b := range s.seen {
			if now.Sub(b.last) > 10*time.Minute {
				delete(s.seen, k)
			}
		}
		s.sweep = now.Add(time.Minute)
	}
	b, ok := s.seen[src]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Every(s.every), s.burst)}
		s.seen[src] = b
	}
	b.last = now
	return b
}

// Allow takes a token of src's bucket, reporting whether there was one.
func (s *Sources) Allow(src string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bucket(src, now).lim.AllowN(now, 1)
}

// Blocked reports whether src's bucket is empty, taking nothing: for
// limits that count failures only.
func (s *Sources) Blocked(src string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[src]; !ok {
		return false
	}
	return s.bucket(src, now).lim.TokensAt(now) < 1
}
