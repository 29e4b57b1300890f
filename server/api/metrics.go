package api

import (
	"net/http"
	"strconv"
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
