package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	gosync "sync"
	"time"
)

// procKB reads a field of /proc/<pid>/status (VmRSS, VmHWM) in KB.
func procKB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// benchAbuse floods the real server process, unauthenticated, as was done
// when it was tried as an attacker (issue 18): ten calls with a 7 MB appid,
// then rounds of 32 parallel 8 MB bodies. It prints the resident memory
// before and at its peak beside what holding the bodies whole would take,
// and the log written.
func benchAbuse(serverBin, dir, pgDSN string) error {
	dsn, cleanup, err := freshSchema(pgDSN)
	if err != nil {
		return err
	}
	defer cleanup()
	url, transport, stop, err := startServerProcess(serverBin, dsn, dir)
	if err != nil {
		return err
	}
	defer stop()
	pid := lastServerPid
	transport.MaxConnsPerHost, transport.MaxIdleConnsPerHost = 64, 64
	client := &http.Client{Transport: transport, Timeout: time.Minute}
	post := func(service string, body []byte) int {
		resp, err := client.Post(url+"/medical-web/api/medical/"+service, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	logSize := func() int64 {
		fi, err := os.Stat(dir + "/server.log")
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	base, log0 := procKB(pid, "VmRSS"), logSize()
	start := time.Now()
	appid := []byte(`{"appid":"` + strings.Repeat("A", 7<<20) + `","data":"e30=","noise":"n","version":"1.0","sign":"X"}`)
	for range 10 {
		post("invoiceEBillOutpatient", appid)
	}
	big := bytes.Repeat([]byte("x"), 8<<20)
	statuses := map[int]int{}
	var mu gosync.Mutex
	for range 3 {
		var wg gosync.WaitGroup
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := post("batchInvoiceEBillOutpatient", big)
				mu.Lock()
				statuses[st]++
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	peak := procKB(pid, "VmHWM")
	verdict := "ok"
	if peak-base > 200<<10 {
		verdict = "OVER"
	}
	fmt.Printf("ebill bench: unauthenticated flood of the server process (10 × 7 MB appid, 3 × 32 parallel 8 MB bodies) in %.1f s\n", time.Since(start).Seconds())
	fmt.Printf("%-40s %8d MB before %8d MB peak   held whole: %d MB   limit +200 MB %s\n", "resident memory", base>>10, peak>>10, 10*7+32*8, verdict)
	fmt.Printf("%-40s %8d KB   answers by HTTP status %v\n", "log written", (logSize()-log0)>>10, statuses)
	return nil
}
