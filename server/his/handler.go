package his

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/ratelimit"
)

// Route is the pattern the HIS interface is served under.
const Route = "POST " + MedicalPathPrefix + "{serviceId}"

// Handler serves the HIS interface over HTTP: always HTTP 200 with a
// signed envelope, as HIS clients in the field expect; one log line and
// metrics per call.
type Handler struct {
	a         *Adapter
	mu        sync.RWMutex
	services  map[string]MedicalService
	publicURL string
	sender    server.Sender
	// failures are the calls of a source that failed before the signature
	// check passed (unknown appid, bad signature, bad envelope, too large):
	// a source that runs out is turned away before its body is read.
	failures *ratelimit.Sources
	calls    *prometheus.CounterVec
	took     *prometheus.HistogramVec
	warned   *prometheus.CounterVec
}

// NewHandler is the HTTP handler of the HIS interface; its metrics are
// registered on reg.
func NewHandler(a *Adapter, reg prometheus.Registerer) *Handler {
	h := &Handler{a: a, failures: ratelimit.New(3*time.Second, 30),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ebill_his_calls_total",
			Help: "Calls of the HIS (medical) API by service id and result code (S0000 success, E… failures)."}, []string{"service", "result"}),
		took: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ebill_his_call_seconds",
			Help: "Duration of HIS (medical) API calls by service id.", Buckets: prometheus.DefBuckets}, []string{"service"}),
		warned: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ebill_his_warnings_total",
			Help: "Bills the HIS API issued with a warning (a resident ID whose check digit or birth date is wrong), by service id."}, []string{"service"}),
	}
	if reg != nil {
		reg.MustRegister(h.calls, h.took, h.warned)
	}
	h.rebuild()
	return h
}

// Host is where the HIS interface is served: the server's API.
type Host interface {
	Mount(pattern string, h http.Handler, selfLogging bool)
	Registry() *prometheus.Registry
	Logger() *slog.Logger
	OnSettings(publicURL func(string), sender func(server.Sender))
}

// Mount serves the HIS interface on the server's API, following its
// public address and sender.
func Mount(api Host, store *server.Store) *Handler {
	h := NewHandler(New(store, api.Logger()), api.Registry())
	api.Mount(Route, h, true)
	if l, ok := api.(interface{ MountLimit(string, int64) }); ok {
		l.MountLimit(Route, MaxMedicalBodyBytes)
	}
	api.OnSettings(h.SetPublicURL, h.SetSender)
	return h
}

func (h *Handler) rebuild() {
	services := h.a.MedicalServices(h.publicURL)
	if h.sender != nil {
		services["sendBillNotice"] = h.a.NoticeService(h.publicURL, h.sender)
	}
	h.mu.Lock()
	h.services = services
	h.mu.Unlock()
}

// SetPublicURL sets the target of the QR codes in the answers.
func (h *Handler) SetPublicURL(u string) {
	h.publicURL = strings.TrimRight(u, "/")
	h.rebuild()
}

// SetSender adds sendBillNotice, sending through s.
func (h *Handler) SetSender(s server.Sender) {
	h.sender = s
	h.rebuild()
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	service := r.PathValue("serviceId")
	src := ratelimit.Source(r)
	if h.failures.Blocked(src, time.Now()) {
		h.a.log.Warn("his caller turned away after repeated failures", "remote", src)
		w.Header().Set("Retry-After", "30")
		http.Error(w, "失败的请求过多，请核对 appid、密钥和签名后稍后再试。", http.StatusTooManyRequests)
		return
	}
	limit := MaxBodyFor(service)
	// Read into a buffer sized once (what the request declares, within the
	// limit): growing by doubling would hold twice a large body.
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 {
		buf.Grow(int(min(n, int64(limit)+1)))
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, int64(limit)+1))
	body := buf.Bytes()
	if err != nil {
		body = nil // unreadable (the caller went away, or beyond every limit): answered as a bad request
	}
	h.mu.RLock()
	services := h.services
	h.mu.RUnlock()
	resp, err := h.a.HandleMedical(r.Context(), service, body, services)
	if err != nil {
		h.a.log.Error("medical call", "service", service, "err", err)
		msg := ResultMessages[ResultInternal]
		if err := server.AsUnavailable(err); bill.ErrorCode(err) == bill.EUnavailable {
			msg = bill.ErrorMessage(err) // the database is away (a failover): say so, and to retry
		}
		resp = &MedicalResponse{Data: medicalInternalData(msg), Result: ResultInternal}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(resp)
	// One line per call with its outcome, for the IT desk ("HIS says it
	// failed at 10:32"); metrics by service and result code.
	if _, known := services[service]; !known {
		service = "unknown" // a caller's made-up names must not become metric labels
	}
	took := time.Since(start)
	h.calls.WithLabelValues(service, resp.Result).Inc()
	h.took.WithLabelValues(service).Observe(took.Seconds())
	switch resp.Result {
	case ResultBadRequest, ResultUnknownApp, ResultBadSign, ResultTooLarge:
		h.failures.Allow(src, time.Now())
	}
	attrs := []any{"service", service, "appid", resp.AppID, "result", resp.Result, "ms", took.Milliseconds(), "remote", r.RemoteAddr}
	switch {
	case resp.Result != ResultOK:
		h.a.log.Warn("his call failed", append(attrs, "message", resp.Failure)...)
	case len(resp.Warnings) > 0:
		h.warned.WithLabelValues(service).Add(float64(len(resp.Warnings)))
		h.a.log.Warn("his call with warnings", append(attrs, "warnings", resp.Warnings)...)
	default:
		h.a.log.Info("his call", attrs...)
	}
}
