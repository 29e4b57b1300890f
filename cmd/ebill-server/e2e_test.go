package main

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEnrollEndToEnd runs the real programs: a server on a fresh data
// directory with nothing else installed, the administrator's commands, and
// a station enrolling with a one-time code over pinned TLS.
func TestEnrollEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the programs")
	}
	bin := t.TempDir()
	for _, p := range []string{"ebill-server", "ebill"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, p), "../"+p).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", p, err, out)
		}
	}
	srvData, station := t.TempDir(), filepath.Join(t.TempDir(), "station")
	h := newAdminHarness(t, filepath.Join(bin, "ebill-server"), srvData)
	admin := h.run
	// Exactly the steps: stock receive, point add, point enroll-code, enroll.
	// Numbers are typed as printed, with their leading zeros (decimal, never octal).
	var received struct{ From, To, Count int64 }
	json.Unmarshal(admin("stock", "receive", "--kind", "einvoice", "--code", "35060126", "--from", "0000000001", "--to", "0000500000"), &received)
	if received.From != 1 || received.To != 500000 || received.Count != 500000 {
		t.Fatalf("stock receive 0000000001–0000500000: %+v", received)
	}
	json.Unmarshal(admin("stock", "receive", "--kind", "paper", "--code", "35062601", "--from", "0000000008", "--to", "0000000099"), &received)
	if received.From != 8 || received.Count != 92 {
		t.Fatalf("stock receive 0000000008–0000000099: %+v", received)
	}
	if out, err := h.cmd("stock", "receive", "--kind", "paper",
		"--code", "35062602", "--from", "00x1", "--to", "9").CombinedOutput(); err == nil || !strings.Contains(string(out), "参数 --from") {
		t.Fatalf("a malformed number: %v %s", err, out)
	}
	admin("stock", "receive", "--kind", "einvoice", "--code", "35060226", "--from", "1", "--to", "500000")
	admin("point", "add", "P01", "--name", "门诊收费一号窗口")
	var set struct{ DefaultPayChannel, Checker string }
	json.Unmarshal(admin("point", "set", "P01", "--default-pay-channel", "05", "--checker", "陈建国"), &set)
	if set.DefaultPayChannel != "05" || set.Checker != "陈建国" {
		t.Fatalf("point set: %+v", set)
	}
	if out, err := h.cmd("point", "set", "P01",
		"--default-pay-channel", "99").CombinedOutput(); err == nil || !strings.Contains(string(out), "没有编码为 99") {
		t.Fatalf("an unknown default pay channel: %v %s", err, out)
	}
	var enroll struct{ Code string }
	json.Unmarshal(admin("point", "enroll-code", "P01"), &enroll)
	var tlsInfo struct{ Fingerprint string }
	json.Unmarshal(admin("tls", "fingerprint"), &tlsInfo)
	if len(enroll.Code) != 8 || len(tlsInfo.Fingerprint) != 95 {
		t.Fatalf("enroll code %q, fingerprint %q", enroll.Code, tlsInfo.Fingerprint)
	}

	addr := freeAddr(t)
	serve := exec.Command(filepath.Join(bin, "ebill-server"), "--data", srvData, "serve", "--addr", addr)
	serve.Stderr = os.Stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Process.Kill()
	url := "https://" + addr
	waitHealthy(t, url)

	ebill := func(data string, args ...string) ([]byte, error) {
		return exec.Command(filepath.Join(bin, "ebill"), append([]string{"--data", data, "--json"}, args...)...).Output()
	}
	out, err := ebill(station, "enroll", "--server", url, "--code", enroll.Code, "--fingerprint", tlsInfo.Fingerprint)
	if err != nil {
		t.Fatalf("enroll: %v\n%s", err, exitText(err))
	}
	var enrolled struct {
		PlaceCode string
		Stock     []struct {
			BillCode  string
			Total     int64
			Remaining int64
		}
	}
	json.Unmarshal(out, &enrolled)
	if enrolled.PlaceCode != "P01" || len(enrolled.Stock) != 2 || enrolled.Stock[0].Total != 1000 {
		t.Fatalf("enrolled: %s", out)
	}
	var segs []struct {
		Point      string
		BillCode   string
		Start, End int64
	}
	json.Unmarshal(admin("segment", "list", "--point", "P01"), &segs)
	if len(segs) != 2 || segs[0].BillCode != "35060126" || segs[0].Start != 1 || segs[0].End != 1000 {
		t.Fatalf("server segments: %+v", segs)
	}
	var stationSegs struct {
		Segments []struct {
			Code       string
			Start, End int64
			Source     string
		}
	}
	out, _ = ebill(station, "stock")
	json.Unmarshal(out, &stationSegs)
	if len(stationSegs.Segments) != 2 || stationSegs.Segments[0].Start != segs[0].Start || stationSegs.Segments[0].End != segs[0].End ||
		stationSegs.Segments[0].Source != "server" {
		t.Fatalf("station segments %s", out)
	}

	// The code works once; a wrong fingerprint is refused.
	if _, err := ebill(filepath.Join(t.TempDir(), "other"), "enroll", "--server", url, "--code", enroll.Code, "--fingerprint", tlsInfo.Fingerprint); err == nil ||
		!strings.Contains(exitText(err), "已使用") {
		t.Fatalf("code reuse: %v %s", err, exitText(err))
	}
	if _, err := ebill(filepath.Join(t.TempDir(), "third"), "enroll", "--server", url, "--code", "ABCDEFGH", "--fingerprint", strings.Repeat("00:", 31)+"00"); err == nil ||
		!strings.Contains(exitText(err), "指纹") {
		t.Fatalf("wrong fingerprint: %v %s", err, exitText(err))
	}

	// SIGTERM: a graceful stop.
	serve.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- serve.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop within 15 s of SIGTERM")
	}
}

func exitText(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(t *testing.T, url string) {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for i := 0; i < 100; i++ {
		if resp, err := c.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server at %s not healthy within 10 s", url)
}
