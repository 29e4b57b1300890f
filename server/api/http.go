package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"golang.org/x/sync/semaphore"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/ratelimit"
	"github.com/ebill/ebill/sync/wire"
)

// MaxBodyBytes is the largest body any route accepts (a full upload batch);
// each route has its own limit (bodyLimits).
const MaxBodyBytes = 16 << 20

// API serves the station sync API (v1), the patients' verification page
// and mobile API, the health check and the metrics; other interfaces (the
// HIS interface, server/his) are mounted on it.
type API struct {
	store     *server.Store
	log       *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux
	m         *metrics
	publicURL string
	sender    server.Sender
	// selfLogging are the routes whose handlers log their own line.
	selfLogging map[string]bool
	onPublicURL []func(string)
	onSender    []func(server.Sender)
	// metricsAccess is who may read /metrics (loopback only until set).
	metricsAccess atomic.Pointer[MetricsAccess]
	replays       replayGuard
	inflight      inflight
	bodies        *semaphore.Weighted
	mountLimits   map[string]int64 // body limits of mounted interfaces
}

// New returns the HTTP handler of the server.
func New(store *server.Store, log *slog.Logger) *API {
	a := &API{store: store, log: log, now: time.Now, mux: http.NewServeMux(), m: newMetrics(), selfLogging: map[string]bool{},
		bodies: semaphore.NewWeighted(BodyBudget), mountLimits: map[string]int64{}}
	a.mux.HandleFunc("GET /healthz", a.health)
	a.mux.Handle("GET /metrics", a.metricsGuard(a.m.handler()))
	a.mux.HandleFunc("POST "+wire.PathEnroll, a.enroll)
	a.mux.HandleFunc("POST "+wire.PathLogin, a.login)
	a.mux.HandleFunc("POST "+wire.PathPassword, a.password)
	a.mux.HandleFunc("POST "+wire.PathSegments, a.station(a.allocate))
	a.mux.HandleFunc("POST "+wire.PathBills, a.station(a.upload))
	a.mux.HandleFunc("POST "+wire.PathPaper, a.station(a.uploadPaper))
	a.mux.HandleFunc("POST "+wire.PathHeld, a.station(a.held))
	a.mux.HandleFunc("GET "+wire.PathPull, a.station(a.pull))
	a.mux.HandleFunc("POST "+wire.PathStatus, a.station(a.status))
	// Patients' side, before anyone is known: a person checks a few bills a
	// minute; a script guessing check codes or phones is stopped.
	verifyLimit, mobileLimit := ratelimit.New(2*time.Second, 30), ratelimit.New(6*time.Second, 10)
	a.mux.HandleFunc("GET "+bill.VerifyPath, a.limited(verifyLimit, a.verifyHTML))
	a.mux.HandleFunc("GET "+bill.VerifyPath+"/file", a.limited(verifyLimit, a.verifyFile))
	a.mux.HandleFunc("POST /api/mobile/v1/code", a.limited(mobileLimit, a.mobileCode))
	a.mux.HandleFunc("POST /api/mobile/v1/session", a.limited(mobileLimit, a.mobileSessionOpen))
	a.mux.HandleFunc("GET /api/mobile/v1/bills", a.mobileBills)
	a.mux.HandleFunc("GET /api/mobile/v1/bills/{code}/{no}", a.mobileFile)
	return a
}

// Mount serves another interface under a route pattern; selfLogging says
// its handler logs its own line per request (the request log skips it).
func (a *API) Mount(pattern string, h http.Handler, selfLogging bool) {
	a.mux.Handle(pattern, h)
	a.selfLogging[pattern] = selfLogging
}

// MountLimit sets the body limit of a mounted interface's route: the
// largest any of its requests needs (its handler may bound each further).
func (a *API) MountLimit(pattern string, n int64) { a.mountLimits[pattern] = n }

// Logger is where the API logs.
func (a *API) Logger() *slog.Logger { return a.log }

// Registry is the Prometheus registry /metrics serves, for mounted
// interfaces to register their metrics on.
func (a *API) Registry() *prometheus.Registry { return a.m.registry }

// SetPublicURL sets the address patients' phones reach this server at:
// the target of the QR codes (here and in mounted interfaces).
func (a *API) SetPublicURL(u string) {
	a.publicURL = strings.TrimRight(u, "/")
	for _, f := range a.onPublicURL {
		f(a.publicURL)
	}
}

// SetSender sets how one-time codes and bill notices reach patients' phones.
func (a *API) SetSender(s server.Sender) {
	a.sender = s
	for _, f := range a.onSender {
		f(s)
	}
}

// OnSettings registers what a mounted interface does when the public
// address or the sender is set.
func (a *API) OnSettings(publicURL func(string), sender func(server.Sender)) {
	if publicURL != nil {
		a.onPublicURL = append(a.onPublicURL, publicURL)
	}
	if sender != nil {
		a.onSender = append(a.onSender, sender)
	}
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	_, route := a.mux.Handler(r)
	src := ratelimit.Source(r)
	if !a.inflight.acquire(src) {
		a.log.Warn("too many requests in flight from one source", "remote", src, "path", route)
		a.refuse(rec, r, route, start, http.StatusServiceUnavailable, "同一来源的并发请求过多，请稍后再试。")
		return
	}
	defer a.inflight.release(src)
	limit := a.bodyLimitFor(route)
	_, mounted := a.mountLimits[route]
	if r.ContentLength > limit && !mounted { // a mounted interface answers in its own protocol
		a.refuse(rec, r, route, start, http.StatusRequestEntityTooLarge, "请求过大，已拒绝。")
		return
	}
	release, ok := a.reserve(r.Context(), r, limit)
	if !ok {
		a.refuse(rec, r, route, start, http.StatusServiceUnavailable, "服务器正忙，请稍后再试。")
		return
	}
	defer release()
	r.Body = http.MaxBytesReader(rec, r.Body, limit)
	r = r.WithContext(server.WithActor(r.Context(), server.Actor{Who: "anonymous", From: r.RemoteAddr}))
	a.mux.ServeHTTP(rec, r)
	a.m.observe(route, rec.status, time.Since(start))
	if a.selfLogging[route] {
		return // the handler logged its own line (the HIS interface, with the result code)
	}
	a.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
		"ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr, "point", rec.point)
}

// refuse answers a request turned away before its handler: JSON with a
// Chinese message on the APIs, text elsewhere.
func (a *API) refuse(w http.ResponseWriter, r *http.Request, route string, start time.Time, status int, msg string) {
	if status != http.StatusRequestEntityTooLarge {
		w.Header().Set("Retry-After", "5")
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		code := bill.EUnavailable
		if status == http.StatusRequestEntityTooLarge {
			code = bill.EInvalid
		}
		writeJSON(w, status, wire.Error{Code: code, Message: msg})
	} else {
		http.Error(w, msg, status)
	}
	a.m.observe(route, status, time.Since(start))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	point  string
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		a.fail(w, bill.Errorf(bill.EUnavailable, "数据库不可用：%v", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": a.store.Dialect()})
}

func (a *API) enroll(w http.ResponseWriter, r *http.Request) {
	var req wire.EnrollRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		a.fail(w, err)
		return
	}
	resp, err := a.store.Enroll(r.Context(), req)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.log.Info("station enrolled", "point", resp.PlaceCode, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, resp)
}

// station authenticates a request as an enrolled station's: the SM2
// signature in the Authorization header over method, path, time and body,
// under the point's registered key, within the allowed clock skew.
func (a *API) station(next func(http.ResponseWriter, *http.Request, *server.Point, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			a.fail(w, bill.Errorf(bill.EInvalid, "请求体过大或读取失败：%v", err))
			return
		}
		p, err := a.authenticate(r, body)
		if err != nil {
			a.fail(w, err)
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.point = p.Code
		}
		// Programs older than the minimum the administrator set are refused
		// with a message that says what to install (issue 20).
		have := r.Header.Get(wire.HeaderVersion)
		if minimum, err := a.store.MinStationVersion(r.Context()); err == nil && minimum != "" && wire.CompareVersions(have, minimum) < 0 {
			a.fail(w, bill.Errorf(bill.EVersion, "本机程序版本 %s 低于服务器要求的最低版本 %s，已暂停同步（本机仍可在离线额度内开票）。"+
				"请联系信息科安装新版本（安装包直接覆盖安装，票据数据保留）。", orDash(server.Truncate(have, 40)), minimum))
			return
		}
		next(w, r.WithContext(server.WithActor(r.Context(), server.Actor{Who: "station:" + p.Code, From: r.RemoteAddr})), p, body)
	}
}

func orDash(s string) string {
	if s == "" {
		return "（未知）"
	}
	return s
}

func (a *API) authenticate(r *http.Request, body []byte) (*server.Point, error) {
	deny := bill.Errorf(bill.EUnauthorized, "请求未通过身份验证；请确认本机已注册且未被撤销，并检查本机时间是否准确。")
	auth, err := wire.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return nil, deny
	}
	if skew := a.now().Sub(time.UnixMilli(auth.TS)); skew > wire.MaxClockSkew || skew < -wire.MaxClockSkew {
		return nil, bill.Errorf(bill.EUnauthorized, "本机时间与服务器相差 %s，超过允许的 %s；请校准本机时间。",
			skew.Round(time.Second), wire.MaxClockSkew)
	}
	p, err := a.store.Point(r.Context(), auth.Point)
	if err != nil || !p.Active() {
		return nil, deny
	}
	pub, err := bill.ParsePublicKeyPEM(p.PublicKey)
	if err != nil || !pub.Verify(wire.SigningString(r.Method, r.URL.RequestURI(), auth.TS, body), auth.Sig) {
		return nil, deny
	}
	// A timestamp is accepted MaxClockSkew either side of now: remember the
	// signature for both sides of the window.
	if !a.replays.fresh(auth.Sig, a.now(), 2*wire.MaxClockSkew+time.Minute) {
		a.log.Warn("replayed station request refused", "point", p.Code, "path", r.URL.Path, "remote", r.RemoteAddr)
		return nil, bill.Errorf(bill.EUnauthorized, "重复的请求已被拒绝（同一签名只能使用一次）；如非本机重试所致，请通知信息科。")
	}
	return p, nil
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var req wire.LoginRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		a.fail(w, err)
		return
	}
	sess, err := a.store.Login(server.WithActor(r.Context(), server.Actor{Who: "user:" + req.Login, From: r.RemoteAddr}), req.Login, req.Password)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.LoginResponse{Token: sess.Token, ExpiresAt: sess.ExpiresAt, Login: sess.User.Login,
		Name: sess.User.Name, Roles: sess.User.Roles, Stage: sess.Stage})
}

func (a *API) password(w http.ResponseWriter, r *http.Request) {
	var req wire.PasswordRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		a.fail(w, err)
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	sess, err := a.store.ChangePassword(r.Context(), token, req.Old, req.New)
	if err != nil {
		a.fail(w, err)
		return
	}
	// The change ended every session of the user; this one goes on under
	// a new token.
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "token": sess.Token, "stage": sess.Stage})
}

func (a *API) allocate(w http.ResponseWriter, r *http.Request, p *server.Point, body []byte) {
	var req wire.AllocateRequest
	if err := decodeStrict(bytes.NewReader(body), &req); err != nil {
		a.fail(w, err)
		return
	}
	seg, err := a.store.Allocate(r.Context(), p.Code, req.BillCode, req.RequestID)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, seg)
}

func (a *API) upload(w http.ResponseWriter, r *http.Request, p *server.Point, body []byte) {
	var req wire.UploadRequest
	if err := decodeStrict(bytes.NewReader(body), &req); err != nil {
		a.fail(w, err)
		return
	}
	resp, err := a.store.Upload(r.Context(), p.Code, req.Bills)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.m.countAcks(resp)
	writeJSON(w, http.StatusOK, resp)
}

func (a *API) uploadPaper(w http.ResponseWriter, r *http.Request, p *server.Point, body []byte) {
	var req wire.PaperUploadRequest
	if err := decodeStrict(bytes.NewReader(body), &req); err != nil {
		a.fail(w, err)
		return
	}
	resp, err := a.store.UploadPaper(r.Context(), p.Code, req.Uses)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *API) held(w http.ResponseWriter, r *http.Request, p *server.Point, body []byte) {
	var req wire.HeldRequest
	if err := decodeStrict(bytes.NewReader(body), &req); err != nil {
		a.fail(w, err)
		return
	}
	resp, err := a.store.ReportHeld(r.Context(), p.Code, req.Segments)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *API) pull(w http.ResponseWriter, r *http.Request, p *server.Point, _ []byte) {
	since, err := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	if r.URL.Query().Get("since") == "" {
		since, err = 0, nil
	}
	if err != nil || since < 0 {
		a.fail(w, bill.Errorf(bill.EInvalid, "参数 since 应为非负整数。"))
		return
	}
	resp, err := a.store.Pull(r.Context(), p.Code, since)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *API) status(w http.ResponseWriter, r *http.Request, p *server.Point, body []byte) {
	var st wire.StationStatus
	if err := decodeStrict(bytes.NewReader(body), &st); err != nil {
		a.fail(w, err)
		return
	}
	var skew time.Duration
	if auth, err := wire.ParseAuthorization(r.Header.Get("Authorization")); err == nil {
		skew = a.now().Sub(time.UnixMilli(auth.TS))
	}
	if err := a.store.ReportStatus(r.Context(), p.Code, st, skew); err != nil {
		a.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeStrict reads one JSON value, refusing unknown fields and trailing data.
func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return bill.Errorf(bill.EInvalid, "请求体超过 %d 字节。", tooBig.Limit)
		}
		return bill.Errorf(bill.EInvalid, "请求数据格式不正确：%v", err)
	}
	if dec.More() {
		return bill.Errorf(bill.EInvalid, "请求数据格式不正确：JSON 之后还有多余内容。")
	}
	return nil
}

// fail writes err as a wire.Error with the matching HTTP status; faults of
// ours are logged in detail and answered with a generic message.
func (a *API) fail(w http.ResponseWriter, err error) {
	code := bill.ErrorCode(err)
	msg := bill.ErrorMessage(err)
	if code == bill.EInternal {
		a.log.Error("request failed", "err", err)
	}
	writeJSON(w, Status(code), wire.Error{Code: code, Message: msg})
}

// Status is the HTTP status of an error code (bill.E…): the one mapping of
// the server's HTTP interfaces (this API and the console).
func Status(code string) int {
	switch code {
	case bill.EInvalid, bill.EEncoding, bill.ETampered:
		return http.StatusBadRequest
	case bill.EUnauthorized:
		return http.StatusUnauthorized
	case bill.EForbidden:
		return http.StatusForbidden
	case bill.ENotFound:
		return http.StatusNotFound
	case bill.EConflict, bill.EAlreadyReversed, bill.ENoStock:
		return http.StatusConflict
	case bill.ELimit:
		return http.StatusTooManyRequests
	case bill.EVersion:
		return http.StatusUpgradeRequired
	case bill.EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
