package server_test

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	ebsync "github.com/ebill/ebill/sync"
	"github.com/ebill/ebill/sync/wire"
)

// TestTLSSuites (issue 18 #6): the server's TLS offers 1.3, and in 1.2
// only ECDHE with AEAD; a client that can speak only CBC-SHA1 is refused.
func TestTLSSuites(t *testing.T) {
	s, err := server.OpenStore(t.Context(), "", t.TempDir())
	must(t, err)
	defer s.Close()
	cert, err := api.SelfSignedCert(t.TempDir(), []string{"127.0.0.1"})
	must(t, err)
	ts := httptest.NewUnstartedServer(api.New(s, slog.New(slog.NewTextHandler(io.Discard, nil))))
	ts.TLS = api.TLSConfig(cert)
	ts.StartTLS()
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "https://")
	dial := func(cfg *tls.Config) (*tls.ConnectionState, error) {
		cfg.InsecureSkipVerify = true
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		st := c.ConnectionState()
		return &st, nil
	}
	for _, cbc := range []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256} {
		if _, err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{cbc}}); err == nil {
			t.Errorf("TLS 1.2 with %s was accepted", tls.CipherSuiteName(cbc))
		}
	}
	if _, err := dial(&tls.Config{MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 was accepted")
	}
	st, err := dial(&tls.Config{})
	if err != nil || st.Version != tls.VersionTLS13 {
		t.Fatalf("TLS 1.3: %v %+v", err, st)
	}
	st, err = dial(&tls.Config{MaxVersion: tls.VersionTLS12})
	if err != nil || !strings.Contains(tls.CipherSuiteName(st.CipherSuite), "ECDHE") || strings.Contains(tls.CipherSuiteName(st.CipherSuite), "CBC") {
		t.Fatalf("TLS 1.2: %v %s", err, tls.CipherSuiteName(st.CipherSuite))
	}
}

// TestMetricsAccess (issue 18 #6): /metrics answers the machine itself,
// the allowed addresses and a bearer of the token; anyone else gets 403.
func TestMetricsAccess(t *testing.T) {
	s, err := server.OpenStore(t.Context(), "", t.TempDir())
	must(t, err)
	defer s.Close()
	h := api.New(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	get := func(remote, token string) int {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.RemoteAddr = remote
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if c := get("203.0.113.9:5000", ""); c != http.StatusForbidden {
		t.Fatalf("an outside address: %d", c)
	}
	if c := get("127.0.0.1:5000", ""); c != http.StatusOK {
		t.Fatalf("loopback: %d", c)
	}
	allow, err := api.ParsePrefixes("10.9.0.0/16, 192.0.2.7")
	must(t, err)
	h.SetMetricsAccess(api.MetricsAccess{Allow: allow, Token: "s3cret-monitoring-token"})
	for remote, want := range map[string]int{"10.9.3.4:1": 200, "192.0.2.7:1": 200, "192.0.2.8:1": 403, "[::ffff:10.9.0.1]:1": 200} {
		if c := get(remote, ""); c != want {
			t.Errorf("%s: %d, want %d", remote, c, want)
		}
	}
	if c := get("203.0.113.9:5000", "s3cret-monitoring-token"); c != http.StatusOK {
		t.Fatalf("the token: %d", c)
	}
	if c := get("203.0.113.9:5000", "wrong"); c != http.StatusForbidden {
		t.Fatalf("a wrong token: %d", c)
	}
}

// TestReplayRefused (issue 18 #4): a station's signed request sent a second
// time is refused, while the same request signed again is served.
func TestReplayRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := server.WithActor(t.Context(), server.Actor{Who: "cli:test", System: true})
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		st := enrollStation(t, s, "P01")
		srv := httptest.NewServer(api.New(s, slog.New(slog.NewTextHandler(io.Discard, nil))))
		defer srv.Close()
		body := []byte(`{"pending":0,"rejected":0,"lastError":"","version":"test"}`)
		send := func(auth string) (int, string) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+wire.PathStatus, bytes.NewReader(body))
			req.Header.Set("Authorization", auth)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		sign := func() string {
			a, err := wire.Authorization(st.key, "P01", http.MethodPost, wire.PathStatus, time.Now().UnixMilli(), body)
			must(t, err)
			return a
		}
		captured := sign()
		if code, b := send(captured); code/100 != 2 {
			t.Fatalf("the first request: %d %s", code, b)
		}
		if code, b := send(captured); code != http.StatusUnauthorized || !strings.Contains(b, "重复的请求") {
			t.Fatalf("the replay: %d %s", code, b)
		}
		if code, b := send(sign()); code/100 != 2 {
			t.Fatalf("signed again: %d %s", code, b)
		}
	})
}

// TestStationRefusesPlainHTTP (issue 18 #4): a station will not enroll
// with, nor be pointed at, a server over plain HTTP.
func TestStationRefusesPlainHTTP(t *testing.T) {
	st, err := localstore.Open(t.Context(), t.TempDir())
	must(t, err)
	defer st.Close()
	if _, err := ebsync.Enroll(t.Context(), st, "http://192.0.2.1:8443", "", "ABCD-EFGH"); bill.ErrorCode(err) != bill.EInvalid ||
		!strings.Contains(bill.ErrorMessage(err), "https://") {
		t.Fatalf("enrolling over HTTP: %v", err)
	}
	if _, err := ebsync.NewClient("http://192.0.2.1:8443", "", nil, "P01"); bill.ErrorCode(err) != bill.EInvalid {
		t.Fatalf("a client over HTTP: %v", err)
	}
}

// TestHeldNumbersCapped (issue 18 #4): a station holding its cap of unused
// numbers is given no more until it uploads what it issued.
func TestHeldNumbersCapped(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := server.WithActor(t.Context(), server.Actor{Who: "cli:test", System: true})
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		st := wire.DefaultSettings
		st.SegmentSize, st.RefillThreshold = 100, 30
		must(t, s.SetPointSettings(ctx, "P01", st)) // the cap: 3 segments
		station := enrollStation(t, s, "P01")       // holds one segment of each code
		got := 1
		var err error
		for i := range 10 {
			if _, err = s.Allocate(ctx, "P01", outCode, "grab-"+strconv.Itoa(i)); err != nil {
				break
			}
			got++
		}
		if got != 3 || bill.ErrorCode(err) != bill.ELimit || !strings.Contains(bill.ErrorMessage(err), "上限 300") {
			t.Fatalf("held %d segments, then %v", got, err)
		}
		// Issued and uploaded numbers no longer count: one more segment.
		for i := range 100 {
			station.issue(t, "outpatient.json", "CAP-"+strconv.Itoa(i))
		}
		_, err = s.Upload(ctx, "P01", station.pending(t))
		must(t, err)
		if _, err := s.Allocate(ctx, "P01", outCode, "after-upload"); err != nil {
			t.Fatalf("after uploading 100: %v", err)
		}
		// Ten allocations at once for another point: the cap still holds.
		must(t, s.AddPoint(ctx, "P02", "门诊二号窗口", server.PointStation))
		must(t, s.SetPointSettings(ctx, "P02", st))
		var granted atomic.Int32
		var wg gosync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Allocate(ctx, "P02", outCode, "burst-"+strconv.Itoa(i)); err == nil {
					granted.Add(1)
				}
			}()
		}
		wg.Wait()
		if granted.Load() != 3 {
			t.Fatalf("%d of ten concurrent allocations granted, the cap allows 3", granted.Load())
		}
		st.MaxHeld = 50
		if err := s.SetPointSettings(ctx, "P01", st); bill.ErrorCode(err) != bill.EInvalid {
			t.Fatalf("a cap below the segment size: %v", err)
		}
	})
}

// TestPatientsSideLimited (issue 18 #5): one source guessing check codes on
// /v, or asking for SMS codes, is stopped after a burst a person never
// reaches; another source is not.
func TestPatientsSideLimited(t *testing.T) {
	s, err := server.OpenStore(t.Context(), "", t.TempDir())
	must(t, err)
	defer s.Close()
	h := api.New(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.SetSender(&server.LogSender{Path: filepath.Join(t.TempDir(), "sms.log")})
	do := func(method, path, remote, body string) int {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	ok, limited := 0, 0
	for i := range 100 {
		switch do(http.MethodGet, "/v?c=35060126&n=0000000001&k="+strconv.FormatInt(int64(100000+i), 16), "198.51.100.7:4000", "") {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
		}
	}
	if ok != 30 || limited != 70 {
		t.Fatalf("100 guesses from one source: %d answered, %d refused", ok, limited)
	}
	if c := do(http.MethodGet, "/v?c=35060126&n=0000000001&k=abcdef", "198.51.100.8:4000", ""); c != http.StatusOK {
		t.Fatalf("another source: %d", c)
	}
	codes := map[int]int{}
	for range 20 {
		codes[do(http.MethodPost, "/api/mobile/v1/code", "198.51.100.9:4000", `{"cardNo":"M1","name":"张三"}`)]++
	}
	if codes[http.StatusOK] != 10 || codes[http.StatusTooManyRequests] != 10 {
		t.Fatalf("20 code requests from one source: %v", codes)
	}
}

// TestFilesPrivate (issue 18 #3): the station and ledger databases, their
// backups and the data folders are the service account's only — an older
// install's world-readable file is tightened on open.
func TestFilesPrivate(t *testing.T) {
	mode := func(path string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(path)
		must(t, err)
		return fi.Mode().Perm()
	}
	stDir := filepath.Join(t.TempDir(), "station")
	must(t, os.MkdirAll(stDir, 0o755))
	must(t, os.WriteFile(filepath.Join(stDir, localstore.FileName), nil, 0o644)) // as an older version left it
	st, err := localstore.Open(t.Context(), stDir)
	must(t, err)
	defer st.Close()
	backup := filepath.Join(t.TempDir(), "b", "station-backup.db")
	must(t, st.Backup(t.Context(), backup))
	srvDir := filepath.Join(t.TempDir(), "server")
	s, err := server.OpenStore(t.Context(), "", srvDir)
	must(t, err)
	defer s.Close()
	ledgerBackup := filepath.Join(t.TempDir(), "ledger-backup.db")
	must(t, s.Backup(server.WithActor(t.Context(), server.Actor{Who: "cli:test", System: true}), ledgerBackup))
	for path, want := range map[string]os.FileMode{
		stDir: 0o700, filepath.Join(stDir, localstore.FileName): 0o600, backup: 0o600,
		srvDir: 0o700, filepath.Join(srvDir, "ledger.db"): 0o600, ledgerBackup: 0o600,
	} {
		if got := mode(path); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
	for _, wal := range []string{filepath.Join(stDir, localstore.FileName+"-wal"), filepath.Join(srvDir, "ledger.db-wal")} {
		if fi, err := os.Stat(wal); err == nil && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %o", wal, fi.Mode().Perm())
		}
	}
}

// TestStationAccounts (issue 18 #3): a station receives only its own
// point's desk accounts — no administrator's hash, no other window's
// cashier — at a work factor made for offline guessing; a password hashed
// at the old factor is made again at the next sign-in.
func TestStationAccounts(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := server.WithActor(t.Context(), server.Actor{Who: "cli:test", System: true})
		setupUnit(t, s)
		for _, p := range []string{"P01", "P02"} {
			must(t, s.AddPoint(ctx, p, "窗口", server.PointStation))
		}
		for login, roles := range map[string][]string{"it": {server.RoleSysAdmin}, "wang": {server.RoleBillAdmin},
			"lin": {server.RoleCashier}, "zhou": {server.RoleCashier}, "hu": {server.RoleExamNurse}} {
			must(t, s.AddUser(ctx, server.User{Login: login, Name: login, Roles: roles}, "Pass#word2026x"))
		}
		must(t, s.SetUserPoints(ctx, "lin", []string{"P01"}))
		must(t, s.SetUserPoints(ctx, "zhou", []string{"P02"}))
		if err := s.SetUserPoints(ctx, "zhou", []string{"P99"}); bill.ErrorCode(err) != bill.ENotFound {
			t.Fatalf("an unknown point: %v", err)
		}
		md, err := s.MasterDataSince(ctx, "P01", 0)
		must(t, err)
		held := map[string]wire.User{}
		for _, u := range md.Users {
			held[u.Login] = u
		}
		for _, login := range []string{"lin", "hu"} {
			u := held[login]
			if u.Removed || u.PasswordHash == "" {
				t.Fatalf("%s not sent to P01: %+v", login, u)
			}
			if c, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || c < 12 {
				t.Fatalf("%s's hash has cost %d", login, c)
			}
		}
		for _, login := range []string{"it", "wang", "zhou"} {
			if u, ok := held[login]; ok && (!u.Removed || u.PasswordHash != "") {
				t.Fatalf("P01 was sent %s's account: %+v", login, u)
			}
		}
		// A hash of the old factor (10) is made again at sign-in.
		old, _ := bcrypt.GenerateFromPassword([]byte("Old#pass2020x"), 10)
		q := "UPDATE users SET password_hash = ?, must_change = 0 WHERE login = 'hu'"
		if s.Dialect() == server.Postgres {
			q = strings.Replace(q, "?", "$1", 1)
		}
		_, err = s.DB().Exec(q, string(old))
		must(t, err)
		_, err = s.Login(ctx, "hu", "Old#pass2020x")
		must(t, err)
		md, err = s.MasterDataSince(ctx, "P01", md.Version)
		must(t, err)
		if len(md.Users) != 1 || md.Users[0].Login != "hu" {
			t.Fatalf("after the sign-in, sent %+v", md.Users)
		}
		if c, _ := bcrypt.Cost([]byte(md.Users[0].PasswordHash)); c != server.PasswordCost || bcrypt.CompareHashAndPassword([]byte(md.Users[0].PasswordHash), []byte("Old#pass2020x")) != nil {
			t.Fatalf("the new hash: cost %d", c)
		}
	})
}

// TestAuditChainKeyed (issue 18 #2): with write access to the database,
// deleting records and recomputing the chain as it was built before
// (plain SM3) no longer passes verification: the chain is keyed with a
// key outside the database. An archived checkpoint pins the records.
func TestAuditChainKeyed(t *testing.T) {
	dir := t.TempDir()
	s, err := server.OpenStore(t.Context(), "", dir)
	must(t, err)
	ctx := server.WithActor(t.Context(), server.Actor{Who: "cli:test", System: true})
	setupUnit(t, s)
	for i := range 10 {
		must(t, s.AddPoint(ctx, fmt.Sprintf("P%02d", i), "窗口", server.PointStation))
	}
	auditor := asUser(&server.User{Login: "audit", Roles: []string{server.RoleAuditor}})
	cp, err := s.Checkpoint(auditor)
	must(t, err)
	n, err := s.VerifyAudit(ctx)
	must(t, err)
	must(t, s.VerifyCheckpoint(auditor, *cp))
	if fi, err := os.Stat(filepath.Join(dir, "keys", "audit.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the audit key file: %v", err)
	}

	// The attack: drop the triggers, delete five records, renumber and
	// relink the rest with SM3, fix the head.
	db := s.DB()
	for _, q := range []string{"DROP TRIGGER IF EXISTS audit_no_update", "DROP TRIGGER IF EXISTS audit_no_delete",
		"DELETE FROM audit WHERE seq BETWEEN 3 AND 7"} {
		must(t, execSQL(db, q))
	}
	recs, err := s.AuditTrail(ctx, 0, 1000)
	must(t, err)
	prev := bill.GenesisHash
	for i, r := range recs {
		seq := int64(i + 1)
		body, _ := json.Marshal([]any{prev, seq, r.At.UnixMilli(), r.Actor, r.Remote, r.Action, r.Target, string(r.Detail)})
		h := hex.EncodeToString(bill.ContentHash(body))
		_, err := db.Exec("UPDATE audit SET seq = ?, prev_hash = ?, hash = ? WHERE seq = ?", seq, prev, h, r.Seq)
		must(t, err)
		prev = h
	}
	_, err = db.Exec("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", len(recs), prev)
	must(t, err)
	if got, err := s.VerifyAudit(ctx); bill.ErrorCode(err) != bill.ETampered || got >= n {
		t.Fatalf("a recomputed chain verified: %d records, %v", got, err)
	}
	if err := s.VerifyCheckpoint(auditor, *cp); bill.ErrorCode(err) != bill.ETampered {
		t.Fatalf("the checkpoint after the attack: %v", err)
	}
	forged := *cp
	forged.Seq, forged.Hash = int64(len(recs)), prev
	if err := s.VerifyCheckpoint(auditor, forged); bill.ErrorCode(err) != bill.ETampered {
		t.Fatalf("a forged checkpoint: %v", err)
	}
	s.Close()
	// A fresh install's chain is keyed from its first record, and the key
	// read back when the server starts again.
	dir2 := t.TempDir()
	s2, err := server.OpenStore(t.Context(), "", dir2)
	must(t, err)
	setupUnit(t, s2)
	s2.Close()
	s3, err := server.OpenStore(t.Context(), "", dir2)
	must(t, err)
	defer s3.Close()
	must(t, s3.AddPoint(ctx, "P01", "窗口", server.PointStation))
	if _, err := s3.VerifyAudit(ctx); err != nil {
		t.Fatalf("an untouched keyed chain, reopened: %v", err)
	}
}
