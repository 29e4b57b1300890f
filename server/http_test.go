package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	ebsync "github.com/ebill/ebill/sync"
	"github.com/ebill/ebill/sync/wire"
)

func TestHTTPAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", From: "local", System: true})
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		code, _, err := s.EnrollCode(ctx, "P01")
		must(t, err)
		srv := httptest.NewTLSServer(api.New(s, slog.New(slog.NewTextHandler(io.Discard, nil))))
		defer srv.Close()
		fp := fingerprintOf(t, srv)

		// Enroll through the real client, certificate pinned.
		st, err := localstore.Open(ctx, t.TempDir())
		must(t, err)
		defer st.Close()
		if _, err := ebsync.Enroll(ctx, st, srv.URL, strings.Repeat("AB", 32), code); bill.ErrorCode(err) != bill.EUnauthorized ||
			!strings.Contains(err.Error(), "指纹") {
			t.Fatalf("wrong fingerprint: %v", err)
		}
		station, err := ebsync.Enroll(ctx, st, srv.URL, fp, code)
		must(t, err)
		if station.PlaceCode != "P01" || station.Fingerprint != fp {
			t.Fatalf("station %+v", station)
		}
		stock, _ := st.Stock(ctx)
		if len(stock) != 2 || stock[0].Total != 1000 {
			t.Fatalf("station stock %+v", stock)
		}

		// Signed requests: allocate (idempotent), upload, pull, status.
		c, err := ebsync.ClientFor(ctx, st)
		must(t, err)
		seg, err := c.Allocate(ctx, outCode, "refill-1")
		must(t, err)
		again, err := c.Allocate(ctx, outCode, "refill-1")
		must(t, err)
		if seg != again || seg.Start != 1001 {
			t.Fatalf("allocate %+v then %+v", seg, again)
		}
		set := example(t, "outpatient.json")
		set.PlaceCode = "P01"
		_, err = st.Issue(ctx, bill.Outpatient, set)
		must(t, err)
		pend, _ := st.PendingBills(ctx, 10)
		res, err := c.Upload(ctx, []wire.Bill{{ID: pend[0].ID, Seq: pend[0].Seq, BillCode: pend[0].BillCode, BillNo: pend[0].BillNo,
			CheckCode: pend[0].CheckCode, Content: pend[0].Content, Hash: pend[0].Hash, Signature: pend[0].Signature}})
		must(t, err)
		if statuses(res) != "stored" {
			t.Fatalf("upload %+v", res.Acks)
		}
		pull, err := c.Pull(ctx, 0)
		must(t, err)
		if len(pull.Segments) != 3 || pull.Settings.SegmentSize != 1000 || len(pull.BillKinds) != 4 {
			t.Fatalf("pull %+v", pull)
		}
		must(t, c.ReportStatus(ctx, wire.StationStatus{Pending: 0, Version: "test"}))

		// What is refused, and how.
		other, _ := bill.GenerateKey()
		impostor, _ := ebsync.NewClient(srv.URL, fp, other, "P01")
		if _, err := impostor.Pull(ctx, 0); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("another key for P01: %v", err)
		}
		key, _ := st.SigningKey(ctx)
		elsewhere, _ := ebsync.NewClient(srv.URL, fp, key, "P02")
		if _, err := elsewhere.Pull(ctx, 0); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("P01's key acting as P02: %v", err)
		}
		httpc := srv.Client()
		for _, tc := range []struct {
			name   string
			path   string
			body   string
			auth   func([]byte) string
			status int
		}{
			{"unsigned", wire.PathPull, "", func([]byte) string { return "" }, 401},
			{"stale clock", wire.PathPull, "", func(b []byte) string {
				h, _ := wire.Authorization(key, "P01", "GET", wire.PathPull, time.Now().Add(-time.Hour).UnixMilli(), b)
				return h
			}, 401},
			{"unknown field", wire.PathSegments, `{"requestId":"x","billCode":"35060126","evil":1}`, func(b []byte) string {
				h, _ := wire.Authorization(key, "P01", "POST", wire.PathSegments, time.Now().UnixMilli(), b)
				return h
			}, 400},
			{"body signed differently", wire.PathSegments, `{"requestId":"y","billCode":"35060126"}`, func([]byte) string {
				h, _ := wire.Authorization(key, "P01", "POST", wire.PathSegments, time.Now().UnixMilli(), []byte(`{}`))
				return h
			}, 401},
			{"enroll garbage", wire.PathEnroll, `{"code":`, func([]byte) string { return "" }, 400},
			{"body over the limit", wire.PathEnroll, `{"code":"` + strings.Repeat("A", 64<<10) + `"}`, func([]byte) string { return "" }, 413},
		} {
			method := "POST"
			if tc.path == wire.PathPull {
				method = "GET"
			}
			req, _ := http.NewRequest(method, srv.URL+tc.path, bytes.NewReader([]byte(tc.body)))
			if h := tc.auth([]byte(tc.body)); h != "" {
				req.Header.Set("Authorization", h)
			}
			resp, err := httpc.Do(req)
			must(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), `"message"`) {
				t.Errorf("%s: %d %s, want %d with a message", tc.name, resp.StatusCode, body, tc.status)
			}
		}
		// A user signs in over the API; a wrong password is refused.
		must(t, s.AddUser(ctx, server.User{Login: "lin", Name: "林小燕", Roles: []string{server.RoleCashier}}, "Correct#Horse7"))
		for _, tc := range []struct {
			body   string
			status int
			want   string
		}{
			{`{"login":"lin","password":"Correct#Horse7"}`, 200, `"token"`},
			{`{"login":"lin","password":"wrong"}`, 401, "不正确"},
		} {
			resp, err := httpc.Post(srv.URL+wire.PathLogin, "application/json", strings.NewReader(tc.body))
			must(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("login %s: %d %s", tc.body, resp.StatusCode, body)
			}
		}
		resp, err := httpc.Get(srv.URL + "/metrics")
		must(t, err)
		metricsText, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(metricsText), `ebill_upload_bills_total{status="stored"} 1`) ||
			!strings.Contains(string(metricsText), `ebill_http_requests_total{route="POST /api/v1/bills",status="200"} 1`) {
			t.Errorf("metrics lack the upload:\n%s", metricsText)
		}
		segs, _ := s.Segments(ctx, "P01")
		if len(segs) != 3 {
			t.Fatalf("refused requests changed the segments: %d", len(segs))
		}
		// After revocation the station's key is refused.
		must(t, s.Revoke(ctx, "P01"))
		if _, err := c.Pull(ctx, 0); bill.ErrorCode(err) != bill.EUnauthorized {
			t.Fatalf("revoked station: %v", err)
		}
	})
}

func fingerprintOf(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	cert := srv.TLS.Certificates[0]
	return api.Fingerprint(cert)
}

func example(t *testing.T, name string) *bill.Settlement {
	t.Helper()
	raw, err := readExample(name)
	must(t, err)
	s, err := bill.ParseSettlement(raw)
	must(t, err)
	return s
}
