package api

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ebill/ebill/sync/wire"
)

// metrics are the server's Prometheus metrics, on their own registry so
// that several APIs (tests) do not collide.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	acks     *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ebill_http_requests_total",
			Help: "HTTP requests by route and status."}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ebill_http_request_seconds",
			Help: "HTTP request duration by route.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ebill_upload_bills_total",
			Help: "Uploaded bills by verdict (stored, duplicate, conflict, rejected)."}, []string{"status"}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.acks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) countAcks(r *wire.UploadResponse) {
	for _, a := range r.Acks {
		m.acks.WithLabelValues(a.Status).Inc()
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// MetricsAccess says who may read /metrics: addresses in Allow (loopback
// always), or a request carrying "Authorization: Bearer Token" when a
// token is set. Anyone else gets 403 (security.md: monitoring data is not
// public).
type MetricsAccess struct {
	Allow []netip.Prefix
	Token string
}

// SetMetricsAccess sets who may read /metrics.
func (a *API) SetMetricsAccess(m MetricsAccess) { a.metricsAccess.Store(&m) }

func (a *API) metricsGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m MetricsAccess
		if p := a.metricsAccess.Load(); p != nil {
			m = *p
		}
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			if ip, err := netip.ParseAddr(host); err == nil {
				ip = ip.Unmap()
				ok := ip.IsLoopback()
				for _, p := range m.Allow {
					ok = ok || p.Contains(ip)
				}
				if ok {
					next.ServeHTTP(w, r)
					return
				}
			}
		}
		if tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found && m.Token != "" &&
			subtle.ConstantTimeCompare([]byte(tok), []byte(m.Token)) == 1 {
			next.ServeHTTP(w, r)
			return
		}
		http.Error(w, "监控数据仅限允许的地址或持有令牌的监控系统读取。", http.StatusForbidden)
	})
}

// ParsePrefixes reads a comma-separated list of addresses and CIDR
// prefixes (10.0.0.5, 10.0.0.0/8).
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
