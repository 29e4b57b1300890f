package server_test

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
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
