package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// vmKB reads a field of /proc/<pid>/status (VmRSS, VmHWM) in KB.
func vmKB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestUnauthenticatedFlood (issue 18 #1): the real server under what was
// tried against it — ten requests with a 7 MB unknown appid, then rounds
// of 32 parallel 8 MB bodies — echoes nothing unauthenticated, logs each
// call in one short line, keeps its memory bounded, and still serves a
// proper HIS call afterwards.
func TestUnauthenticatedFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin, data, _ := setupHISServer(t, "--allow-from", "127.0.0.1,::1")
	addr := freeAddr(t)
	var logs syncBuffer
	serve := exec.Command(bin, "--data", data, "serve", "--addr", addr)
	serve.Stderr = &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { serve.Process.Kill(); serve.Wait() }()
	waitHealthy(t, "https://"+addr)
	pid := serve.Process.Pid
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 64, MaxIdleConnsPerHost: 64,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	post := func(service string, body []byte) (int, []byte) {
		resp, err := client.Post("https://"+addr+"/medical-web/api/medical/"+service, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, b
	}
	base := vmKB(t, pid, "VmRSS")
	logs0 := len(logs.String())

	// A 7 MB appid, ten times: a short answer, a short log.
	appid := strings.Repeat("A", 7<<20)
	body := []byte(`{"appid":"` + appid + `","data":"e30=","noise":"n1","version":"1.0","sign":"X"}`)
	for range 10 {
		status, answer := post("invoiceEBillOutpatient", body)
		if status == 0 || len(answer) > 4096 || bytes.Contains(answer, []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")) {
			t.Fatalf("the answer to a 7 MB appid: HTTP %d, %d bytes", status, len(answer))
		}
	}
	if grown := len(logs.String()) - logs0; grown > 64<<10 {
		t.Fatalf("ten calls with a 7 MB appid added %d bytes of log", grown)
	}

	// 32 parallel 8 MB bodies to a batch service (the largest limit), three
	// rounds: refused or answered, never all held at once.
	big := bytes.Repeat([]byte("x"), 8<<20)
	statuses := map[int]int{}
	var mu sync.Mutex
	for range 3 {
		var wg sync.WaitGroup
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, _ := post("batchInvoiceEBillOutpatient", big)
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	peak := vmKB(t, pid, "VmHWM")
	t.Logf("resident memory: %d MB before, %d MB peak; answers by HTTP status %v; log %d KB", base>>10, peak>>10, statuses, (len(logs.String())-logs0)>>10)
	if peak-base > 200<<10 {
		t.Fatalf("memory grew from %d MB to a peak of %d MB under the flood", base>>10, peak>>10)
	}
	if statuses[http.StatusTooManyRequests] == 0 {
		t.Fatalf("a source failing again and again was never turned away: %v", statuses)
	}
	if grown := len(logs.String()) - logs0; grown > 512<<10 {
		t.Fatalf("the flood added %d KB of log", grown>>10)
	}
	// The server still answers.
	resp, err := client.Get("https://" + addr + "/healthz")
	if err == nil {
		resp.Body.Close()
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the server after the flood: %v", err)
	}
}
