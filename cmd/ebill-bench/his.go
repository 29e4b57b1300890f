package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/adminboot"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	"github.com/ebill/ebill/server/his"
	"github.com/ebill/ebill/sync/wire"
)

const benchAppID, benchKey = "bench-his", "bench-key-0123456789"

var benchPoints = []string{"H01", "H02", "H03", "H04"}

// benchHIS: clients concurrent HIS clients issue outpatient bills through
// the medical API (signed envelopes, load generator on the same machine)
// for the given time, against a server store on PostgreSQL (or SQLite when
// no DSN is given). With serverBin, the server is that program in its own
// process, set up with its administration commands and called over TLS,
// as a HIS calls it; without, the API runs in this process over plain HTTP.
func benchHIS(clients int, dur time.Duration, dir, example, pgDSN, serverBin string) error {
	dsn, cleanup, err := freshSchema(pgDSN)
	if err != nil {
		return err
	}
	defer cleanup()
	var url string
	var transport *http.Transport
	how := "in process, HTTP"
	if serverBin != "" {
		var stop func()
		url, transport, stop, err = startServerProcess(serverBin, dsn, dir+"-proc")
		if err != nil {
			return err
		}
		defer stop()
		how = "server process, TLS"
	} else {
		var stop func()
		url, stop, err = startServerInProcess(dsn, dir+"-his")
		if err != nil {
			return err
		}
		defer stop()
		transport = &http.Transport{}
	}
	transport.MaxIdleConnsPerHost = clients
	httpc := &http.Client{Transport: transport}
	raw, err := os.ReadFile(example)
	if err != nil {
		return err
	}
	var base map[string]any
	if err := json.Unmarshal(raw, &base); err != nil {
		return err
	}
	var seq atomic.Int64
	call := func(point string) (time.Duration, error) {
		n := seq.Add(1)
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		m["busNo"], m["placeCode"] = fmt.Sprintf("BENCH%09d", n), point
		business, _ := json.Marshal(m)
		data := base64.StdEncoding.EncodeToString(business)
		noise := fmt.Sprintf("%d-%d", time.Now().UnixNano(), n)
		sum := md5.Sum([]byte("appid=" + benchAppID + "&data=" + data + "&noise=" + noise + "&key=" + benchKey + "&version=1.0"))
		body, _ := json.Marshal(map[string]string{"appid": benchAppID, "data": data, "noise": noise, "version": "1.0",
			"sign": strings.ToUpper(hex.EncodeToString(sum[:]))})
		start := time.Now()
		resp, err := httpc.Post(url+his.MedicalPathPrefix+"invoiceEBillOutpatient", "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		var out his.MedicalResponse
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			return 0, err
		}
		dec, _ := base64.StdEncoding.DecodeString(out.Data)
		if !bytes.Contains(dec, []byte(`"S0000"`)) {
			var r his.MedicalResult
			json.Unmarshal(dec, &r)
			msg, _ := base64.StdEncoding.DecodeString(r.Message)
			return 0, fmt.Errorf("%s %s", r.Result, msg)
		}
		return took, nil
	}
	var mu gosync.Mutex
	var lat []time.Duration
	var failed error
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg gosync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			point := benchPoints[c%len(benchPoints)]
			for time.Now().Before(deadline) {
				d, err := call(point)
				mu.Lock()
				if err != nil && failed == nil {
					failed = err
				}
				lat = append(lat, d)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failed != nil {
		return fmt.Errorf("HIS bench: %w", failed)
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(float64(len(lat)-1)*q)].Microseconds()) / 1000 }
	db := "sqlite"
	if dsn != "" {
		db = "postgres"
	}
	rate := float64(len(lat)) / elapsed.Seconds()
	fmt.Printf("HIS interface: %d concurrent clients issuing outpatient bills through the medical API (%s, %s, %d server points, %s)\n",
		clients, how, db, len(benchPoints), dur)
	fmt.Printf("%-10s %10s %10s %10s %10s\n", "bills", "bills/s", "p50 ms", "p99 ms", "max ms")
	fmt.Printf("%-10d %10.0f %10.1f %10.1f %10.1f\n", len(lat), rate, p(.5), p(.99), p(1))
	fmt.Printf("bills/s: %.0f   target ≥ 1000: %s      p99: %.1f ms   target ≤ 100 ms: %s\n", rate, verdictOf(rate >= 1000), p(.99), verdictOf(p(.99) <= 100))
	return nil
}

// startServerInProcess serves the API of a fresh store from this process.
func startServerInProcess(dsn, dir string) (string, func(), error) {
	ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:bench", From: "local"})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := server.OpenStore(ctx, dsn, dir, server.WithStoreLogger(quiet))
	if err != nil {
		return "", nil, err
	}
	steps := []func() error{
		func() error {
			return store.SetUnit(ctx, server.Unit{Name: "演示医院", CreditCode: "123502004266001233"})
		},
		func() error { return store.SetBillKind(ctx, bill.Outpatient, "35060126") },
		func() error {
			_, err := store.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: "35060126", Start: 1, End: 50_000_000})
			return err
		},
	}
	for _, p := range benchPoints {
		steps = append(steps, func() error { return store.AddPoint(ctx, p, "HIS 开票点", server.PointServer) })
	}
	steps = append(steps, func() error {
		return store.AddHISApp(ctx, server.HISApp{AppID: benchAppID, Points: benchPoints}, benchKey)
	})
	for _, step := range steps {
		if err := step(); err != nil {
			store.Close()
			return "", nil, err
		}
	}
	h := api.New(store, quiet)
	his.Mount(h, store)
	h.SetPublicURL("https://pj.example-hospital.cn")
	ts := httptest.NewServer(h)
	return ts.URL, func() { ts.Close(); store.Close() }, nil
}

// startServerProcess sets a server up with its own commands and starts it
// (logging as in production, to a file), on a free port, over TLS with its
// self-signed certificate pinned.
// lastServerPid is the process startServerProcess started last.
var lastServerPid int

func startServerProcess(bin, dsn, dir string) (string, *http.Transport, func(), error) {
	run := func(env []string, args ...string) ([]byte, error) {
		cmd := exec.Command(bin, append([]string{"--data", dir, "--json"}, args...)...)
		cmd.Env = append(append(os.Environ(), "EBILL_DB="+dsn, "EBILL_HIS_KEY="+benchKey), env...)
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("ebill-server %s: %v %s", strings.Join(args, " "), err, exitStderr(err))
		}
		return out, nil
	}
	// Set up as the hospital would: the administrators' first sign-in,
	// then each command with the token of a service account allowed to run it.
	boot, err := adminboot.Bootstrap(run, dir, "Bench#Pass2026", 1)
	if err != nil {
		return "", nil, nil, err
	}
	admin := func(args ...string) ([]byte, error) {
		perm := map[string]string{"unit": server.PermUnitManage, "kind": server.PermUnitManage, "stock": server.PermStockReceive,
			"point": server.PermPointManage, "his-app": server.PermHISApps, "tls": server.PermBillQuery}[args[0]]
		return run([]string{"EBILL_TOKEN=" + boot.TokenFor(perm), "EBILL_SESSION_FILE=" + dir + "/none.session"}, args...)
	}
	setup := [][]string{
		{"unit", "set", "--name", "演示医院", "--credit-code", "123502004266001233"},
		{"kind", "set", "--kind", "outpatient", "--code", "35060126"},
		{"stock", "receive", "--kind", "einvoice", "--code", "35060126", "--from", "1", "--to", "50000000"},
	}
	for _, p := range benchPoints {
		setup = append(setup, []string{"point", "add", p, "--name", "HIS开票点", "--kind", "server"})
	}
	setup = append(setup, []string{"his-app", "add", "--appid", benchAppID, "--points", strings.Join(benchPoints, ",")})
	for _, args := range setup {
		if _, err := admin(args...); err != nil {
			return "", nil, nil, err
		}
	}
	out, err := admin("tls", "fingerprint")
	if err != nil {
		return "", nil, nil, err
	}
	var tlsInfo struct{ Fingerprint string }
	if err := json.Unmarshal(out, &tlsInfo); err != nil {
		return "", nil, nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.Create(dir + "/server.log")
	if err != nil {
		return "", nil, nil, err
	}
	serve := exec.Command(bin, "--data", dir, "serve", "--addr", addr, "--public-url", "https://pj.example-hospital.cn")
	serve.Env = append(os.Environ(), "EBILL_DB="+dsn)
	serve.Stderr, serve.Stdout = logf, logf
	if err := serve.Start(); err != nil {
		return "", nil, nil, err
	}
	stop := func() { serve.Process.Kill(); serve.Wait(); logf.Close() }
	lastServerPid = serve.Process.Pid
	for i := 0; ; i++ {
		if b, _ := os.ReadFile(logf.Name()); bytes.Contains(b, []byte(`"ebill-server started"`)) {
			break
		}
		if i == 100 {
			stop()
			return "", nil, nil, fmt.Errorf("ebill-server did not start; see %s", logf.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = wire.PinnedTLS(tlsInfo.Fingerprint)
	return "https://" + addr, tr, stop, nil
}

func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		s := bufio.NewScanner(bytes.NewReader(ee.Stderr))
		var lines []string
		for s.Scan() {
			lines = append(lines, s.Text())
		}
		return strings.Join(lines, " ")
	}
	return ""
}
