package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	ebsync "github.com/ebill/ebill/sync"
	"github.com/ebill/ebill/sync/wire"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds ebill and ebill-server once for all end-to-end tests.
func binaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the programs")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "ebill-e2e-bin-")
		for _, p := range []string{"ebill-server", "ebill"} {
			if out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, p), "../"+p).CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", p, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// site is a server data directory set up for one billing point, and a
// station enrolled with the server running on addr.
type site struct {
	t        *testing.T
	bin      string
	srvData  string
	station  string
	addr     string
	server   *exec.Cmd
	fprint   string
	segment  int64
	insecure bool       // plain HTTP, so that a test proxy can read the requests
	front    string     // the address the station enrolls with (the server's, or a proxy's)
	dsn      string     // the server's PostgreSQL database; "" for SQLite in srvData
	log      syncBuffer // what the server process wrote to standard error
	code     string     // the one-time enrollment code
}

func newSite(t *testing.T, segmentSize int64) *site {
	return newSiteVia(t, segmentSize, false, nil)
}

// newSiteVia sets up a site whose station reaches the server through front,
// a function of the server's address that returns the address to use.
func newSiteVia(t *testing.T, segmentSize int64, insecure bool, front func(serverAddr string) string) *site {
	s := prepareSite(t, segmentSize, insecure, front)
	s.enroll()
	return s
}

// enroll enrolls the site's station with its one-time code.
func (s *site) enroll() {
	if s.insecure {
		s.ebill("enroll", "--server", "http://"+s.front, "--code", s.code)
	} else {
		s.ebill("enroll", "--server", "https://"+s.front, "--code", s.code, "--fingerprint", s.fprint)
	}
}

// prepareSite sets up and starts the server of a site whose station is not
// enrolled yet.
func prepareSite(t *testing.T, segmentSize int64, insecure bool, front func(serverAddr string) string) *site {
	return prepareSiteOn(t, segmentSize, insecure, front, "")
}

// prepareSiteOn is prepareSite with the ledger on PostgreSQL (dsn) or
// SQLite ("").
func prepareSiteOn(t *testing.T, segmentSize int64, insecure bool, front func(serverAddr string) string, dsn string) *site {
	bin := binaries(t)
	s := &site{t: t, bin: bin, srvData: t.TempDir(), station: filepath.Join(t.TempDir(), "station"), addr: freeAddr(t),
		segment: segmentSize, insecure: insecure, dsn: dsn}
	ctx := context.Background()
	store, err := server.OpenStore(ctx, s.dsn, s.srvData)
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, store.SetUnit(ctx, server.Unit{Name: "厦门市某区医院"}))
	mustDo(t, store.SetBillKind(ctx, bill.Registration, "35060126"))
	_, err = store.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: "35060126", Start: 1, End: 9_000_000})
	mustDo(t, err)
	mustDo(t, store.AddPoint(ctx, "P01", "挂号窗口", server.PointStation))
	st := wire.DefaultSettings
	st.SegmentSize, st.RefillThreshold = segmentSize, segmentSize/2
	st.Limits = bill.Limits{MaxHours: 72, MaxCount: 1_000_000, MaxAmount: bill.MaxMoney, MaxSingle: bill.MaxMoney}
	mustDo(t, store.SetPointSettings(ctx, "P01", st))
	code, _, err := store.EnrollCode(ctx, "P01")
	mustDo(t, err)
	store.Close()
	cert, err := api.SelfSignedCert(s.srvData, nil)
	mustDo(t, err)
	s.fprint = api.Fingerprint(cert)
	s.start()
	t.Cleanup(s.kill)
	s.front, s.code = s.addr, code
	if front != nil {
		s.front = front(s.addr)
	}
	return s
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (s *site) start() {
	args := []string{"--data", s.srvData, "serve", "--addr", s.addr}
	if s.dsn != "" {
		args = append([]string{"--db", s.dsn}, args...)
	}
	scheme := "https://"
	if s.insecure {
		args, scheme = append(args, "--insecure-http"), "http://"
	}
	s.server = exec.Command(filepath.Join(s.bin, "ebill-server"), args...)
	s.server.Stderr = &s.log
	if err := s.server.Start(); err != nil {
		s.t.Fatal(err)
	}
	waitHealthy(s.t, scheme+s.addr)
}

func (s *site) kill() {
	if s.server != nil && s.server.Process != nil {
		s.server.Process.Signal(syscall.SIGKILL)
		s.server.Wait()
		s.server = nil
	}
}

// ebill runs the station command and returns its stdout; a failure fails the test.
func (s *site) ebill(args ...string) string {
	s.t.Helper()
	out, err := s.ebillErr(args...)
	if err != nil {
		s.t.Fatalf("ebill %v: %v\n%s", args, err, out)
	}
	return out
}

func (s *site) ebillErr(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(s.bin, "ebill"), append([]string{"--data", s.station, "--json"}, args...)...)
	if s.insecure { // a test bench whose proxy reads the traffic
		cmd.Env = append(os.Environ(), ebsync.InsecureEnv+"=1")
	}
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out) + string(ee.Stderr), err
	}
	return string(out), err
}

// issue issues n registration bills at the station, in this process.
func (s *site) issue(n int, prefix string) (int, error) {
	ctx := context.Background()
	st, err := localstore.Open(ctx, s.station)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	raw, err := os.ReadFile("../../examples/registration.json")
	if err != nil {
		return 0, err
	}
	for i := 0; i < n; i++ {
		set, _ := bill.ParseSettlement(raw)
		set.BusNo = bill.Text(fmt.Sprintf("%s-%d", prefix, i))
		set.PlaceCode = "P01"
		if _, err := st.Issue(ctx, bill.Registration, set); err != nil {
			return i, err
		}
	}
	return n, nil
}

// ledger opens the server's SQLite file (the server may be running: WAL)
// and returns how many bills P01 has there, the highest seq, and whether
// the seqs are exactly 1..count.
func (s *site) ledger() (count int, maxSeq int64, contiguous bool) {
	s.t.Helper()
	ctx := context.Background()
	store, err := server.OpenStore(ctx, s.dsn, s.srvData)
	mustDo(s.t, err)
	defer store.Close()
	var n int
	var mx, sum int64
	mustDo(s.t, store.DB().QueryRow("SELECT COUNT(*), COALESCE(MAX(seq), 0), COALESCE(SUM(seq), 0) FROM bills WHERE point_code = 'P01'").Scan(&n, &mx, &sum))
	return n, mx, sum == mx*(mx+1)/2 && int64(n) == mx
}

func (s *site) pending() int {
	var st struct{ Pending int }
	json.Unmarshal([]byte(s.ebill("status")), &st)
	return st.Pending
}

// TestOfflineDay: the server is down while the station issues 2,000 bills;
// when it comes back, one sync leaves the server holding exactly those
// bills, in chain order, and the station's outbox empty.
func TestOfflineDay(t *testing.T) {
	s := newSite(t, 5000)
	s.kill()
	if n, err := s.issue(2000, "DAY"); err != nil || n != 2000 {
		t.Fatalf("issued %d offline: %v", n, err)
	}
	if out, err := s.ebillErr("sync", "once"); err == nil || !strings.Contains(out, "无法连接服务器") {
		t.Fatalf("sync while the server is down: %v\n%s", err, out)
	}
	s.start()
	out := s.ebill("sync", "once")
	var rep struct {
		Uploaded, Pending int
		OK                bool
	}
	json.Unmarshal([]byte(out), &rep)
	if rep.Uploaded != 2000 || rep.Pending != 0 || !rep.OK {
		t.Fatalf("sync: %s", out)
	}
	if n, mx, ok := s.ledger(); n != 2000 || mx != 2000 || !ok {
		t.Fatalf("server holds %d bills, last seq %d, contiguous %v", n, mx, ok)
	}
	if !strings.Contains(s.ebill("verify"), `"valid": true`) {
		t.Fatal("station chain no longer verifies")
	}
}

// TestServerKilledMidUpload: the server is killed with SIGKILL again and
// again while the station's sync service uploads; at the end the server
// holds every bill exactly once.
func TestServerKilledMidUpload(t *testing.T) {
	s := newSite(t, 10000)
	const total = 3000
	if n, err := s.issue(total, "KILL"); err != nil || n != total {
		t.Fatalf("issued %d: %v", n, err)
	}
	run := exec.Command(filepath.Join(s.bin, "ebill"), "--data", s.station, "sync", "run")
	mustDo(t, run.Start())
	defer func() { run.Process.Signal(syscall.SIGTERM); run.Wait() }()
	kills := 0
	for i := 0; i < 8; i++ {
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		s.kill()
		kills++
		time.Sleep(time.Duration(50+rand.IntN(200)) * time.Millisecond)
		s.start()
		if n, _, _ := s.ledger(); n == total {
			break
		}
	}
	mustDo(t, s.requestSync())
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if n, _, _ := s.ledger(); n == total && s.pending() == 0 {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	n, mx, ok := s.ledger()
	if n != total || mx != total || !ok || s.pending() != 0 {
		t.Fatalf("after %d kills: server holds %d bills (last seq %d, contiguous %v), station pending %d", kills, n, mx, ok, s.pending())
	}
	t.Logf("%d bills uploaded across %d server kills, each held exactly once", total, kills)
}

func (s *site) requestSync() error {
	_, err := s.ebillErr("sync", "now")
	return err
}

// TestNumbersRunOutOffline: offline, issuing stops with a clear message at
// the end of the last segment; once the server is back the sync refills and
// issuing resumes, with no manual step.
func TestNumbersRunOutOffline(t *testing.T) {
	s := newSite(t, 40)
	s.kill()
	stop := s.runService()
	defer stop()
	n, err := s.issue(100, "OUT")
	if n != 40 || bill.ErrorCode(err) != bill.ENoStock || !strings.Contains(err.Error(), "号段已用完") {
		t.Fatalf("issued %d before running out: %v", n, err)
	}
	s.start() // the service notices by itself
	more := 0
	for deadline := time.Now().Add(40 * time.Second); more < 10 && time.Now().Before(deadline); {
		n, _ := s.issue(10-more, fmt.Sprintf("MORE%d", more))
		more += n
		time.Sleep(200 * time.Millisecond)
	}
	if more != 10 {
		t.Fatalf("the service did not refill: issued %d more", more)
	}
}

// runService starts `ebill sync run` for the station; stop ends it.
func (s *site) runService() (stop func()) {
	cmd := exec.Command(filepath.Join(s.bin, "ebill"), "--data", s.station, "sync", "run")
	mustDo(s.t, cmd.Start())
	return func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
}

// TestServiceWaitsForEnrollment (issue 19): the sync service, started (here
// from the command line: the same code path as the Windows service) before
// the PC is enrolled, waits instead of idling or exiting, and syncs once
// the PC is enrolled; a database written by a newer version ends it with
// a non-zero status, so that the service's recovery actions fire.
func TestServiceWaitsForEnrollment(t *testing.T) {
	s := prepareSite(t, 100, false, nil)
	t.Cleanup(s.kill)
	cmd := exec.Command(filepath.Join(s.bin, "ebill"), "--data", s.station, "sync", "run", "--enroll-wait", "200ms")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	mustDo(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("the service exited before enrollment: %v\n%s", err, out.String())
	case <-time.After(1500 * time.Millisecond):
	}
	s.enroll()
	if n, err := s.issue(3, "WAIT"); err != nil || n != 3 {
		t.Fatalf("issued %d: %v", n, err)
	}
	for deadline := time.Now().Add(30 * time.Second); s.pending() > 0 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	if n, _, _ := s.ledger(); n != 3 {
		t.Fatalf("after enrollment the service uploaded %d of 3 bills\n%s", n, out.String())
	}
	// A pass is logged when it ends, after the upload the ledger shows:
	// stopped before that, the log would lack it.
	var logText []byte
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(string(logText), "sync pass") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		logText, _ = os.ReadFile(filepath.Join(s.station, "sync.log"))
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Fatalf("stopped: %v", err)
	}
	if !strings.Contains(string(logText), "waiting for enrollment") || !strings.Contains(string(logText), "sync pass") {
		t.Fatalf("sync.log:\n%s", logText)
	}

	// A newer schema is a fault the service does not survive.
	db, err := sql.Open("sqlite", filepath.Join(s.station, localstore.FileName))
	mustDo(t, err)
	_, err = db.Exec("PRAGMA user_version = 99")
	mustDo(t, err)
	db.Close()
	run := exec.Command(filepath.Join(s.bin, "ebill"), "--data", s.station, "sync", "run", "--enroll-wait", "200ms")
	text, err := run.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 8 || !strings.Contains(string(text), "较新版本") {
		t.Fatalf("a newer schema: %v\n%s", err, text)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestOfflineLimitsLockAndUnlock: the server sets a point's offline limit;
// past it the station stops issuing and says why; after an upload it
// issues again by itself.
func TestOfflineLimitsLockAndUnlock(t *testing.T) {
	s := newSite(t, 1000)
	ctx := context.Background()
	store, err := server.OpenStore(ctx, "", s.srvData)
	mustDo(t, err)
	p, err := store.Point(ctx, "P01")
	mustDo(t, err)
	p.Settings.Limits.MaxCount = 30
	mustDo(t, store.SetPointSettings(ctx, "P01", p.Settings))
	store.Close()
	s.ebill("sync", "once") // the station learns its limit
	s.kill()
	stop := s.runService()
	defer stop()
	n, err := s.issue(100, "LIM")
	if n != 30 || bill.ErrorCode(err) != bill.ELimit || !strings.Contains(err.Error(), "联网") {
		t.Fatalf("issued %d past a limit of 30: %v", n, err)
	}
	s.start() // the running service uploads when it can, and issuing unlocks
	more := 0
	for deadline := time.Now().Add(40 * time.Second); more < 5 && time.Now().Before(deadline); {
		n, _ := s.issue(5-more, fmt.Sprintf("AFTER%d", more))
		more += n
		time.Sleep(200 * time.Millisecond)
	}
	if more != 5 {
		t.Fatalf("issuing did not unlock after the upload: issued %d", more)
	}
}

// TestServiceInstall installs, inspects and removes the OS service. It
// needs root; where systemd is absent kardianos/service writes a System V
// init script, which the test checks instead.
func TestServiceInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installing a system service needs root")
	}
	s := newSite(t, 100)
	if unit := installedUnit(); unit != "" {
		t.Skipf("an EBillSync service is already installed here (%s); not touching it", unit)
	}
	s.ebill("sync", "install")
	defer s.ebillErr("sync", "uninstall")
	unit := installedUnit()
	if unit == "" {
		t.Fatal("install wrote no unit file")
	}
	text, _ := os.ReadFile(unit)
	if !strings.Contains(string(text), filepath.Join(s.bin, "ebill")) || !strings.Contains(string(text), s.station) ||
		!strings.Contains(string(text), "sync") || !strings.Contains(string(text), "run") {
		t.Fatalf("%s does not run the sync service for this station:\n%s", unit, text)
	}
	t.Logf("service definition: %s (systemd present: %v)", unit, strings.Contains(unit, "systemd"))
	if out := s.ebill("sync", "status"); !strings.Contains(out, "已安装") && !strings.Contains(out, "运行中") {
		t.Fatalf("status after install: %s", out)
	}
	s.ebill("sync", "uninstall")
	if installedUnit() != "" {
		t.Fatal("uninstall left the unit file")
	}
	if out := s.ebill("sync", "status"); !strings.Contains(out, "未安装") {
		t.Fatalf("status after uninstall: %s", out)
	}
}

func installedUnit() string {
	for _, f := range []string{"/etc/systemd/system/EBillSync.service", "/etc/init.d/EBillSync"} {
		if _, err := os.Stat(f); err == nil {
			return f
		}
	}
	return ""
}

// TestIssuingWhileTheServiceSyncs: a process issues continuously while the
// sync service uploads from the same file: no "database is locked" reaches
// either, and everything arrives.
func TestIssuingWhileTheServiceSyncs(t *testing.T) {
	s := newSite(t, 10000)
	run := exec.Command(filepath.Join(s.bin, "ebill"), "--data", s.station, "sync", "run")
	mustDo(t, run.Start())
	const total = 1500
	done := 0
	for done < total {
		n, err := s.issue(100, fmt.Sprintf("CON%d", done))
		if err != nil {
			t.Fatalf("issuing beside the service: %v", err)
		}
		done += n
		s.requestSync()
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && s.pendingOrZero() > 0 {
		s.requestSync()
		time.Sleep(300 * time.Millisecond)
	}
	run.Process.Signal(syscall.SIGTERM)
	run.Wait()
	log, _ := os.ReadFile(filepath.Join(s.station, "sync.log"))
	if strings.Contains(strings.ToLower(string(log)), "locked") || strings.Contains(string(log), "繁忙") {
		t.Fatalf("the service met a locked database:\n%s", log)
	}
	n, mx, ok := s.ledger()
	if n != total || mx != total || !ok {
		t.Fatalf("server holds %d bills (last %d, contiguous %v)", n, mx, ok)
	}
}

// TestTamperedBillRefused: a bill row edited in the station file is refused
// by the server process, flagged at the station, and nothing after it is
// accepted out of chain order.
func TestTamperedBillRefused(t *testing.T) {
	s := newSite(t, 1000)
	if n, err := s.issue(5, "TAM"); err != nil || n != 5 {
		t.Fatalf("issued %d: %v", n, err)
	}
	db, err := sql.Open("sqlite", filepath.Join(s.station, localstore.FileName))
	mustDo(t, err)
	for _, q := range []string{"DROP TRIGGER bills_no_update", "DROP TRIGGER bills_seal_once",
		"UPDATE bills SET content = CAST(REPLACE(CAST(content AS TEXT), '王五', '王六') AS BLOB) WHERE seq = 3"} {
		_, err := db.Exec(q)
		mustDo(t, err)
	}
	db.Close()
	out, err := s.ebillErr("sync", "once")
	if err == nil || !strings.Contains(out, "拒收") {
		t.Fatalf("sync over a tampered bill: %v\n%s", err, out)
	}
	if n, mx, _ := s.ledger(); n != 2 || mx != 2 {
		t.Fatalf("server holds %d bills up to seq %d, want the 2 before the tampered one", n, mx)
	}
	status := s.ebill("status")
	if !strings.Contains(status, `"rejected": 1`) || !strings.Contains(status, "拒收") {
		t.Fatalf("station status does not flag the refused bill:\n%s", status)
	}
	s.ebillErr("sync", "once")
	if n, _, _ := s.ledger(); n != 2 {
		t.Fatalf("bills after the refused one were accepted: server holds %d", n)
	}
	if out, err := s.ebillErr("verify"); err == nil || !strings.Contains(out, "第 3") && !strings.Contains(out, "0000000003") {
		t.Fatalf("local verify does not name the tampered bill: %v\n%s", err, out)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := allSamples.write(); err != nil {
			fmt.Fprintln(os.Stderr, "his samples:", err)
			code = 1
		}
	}
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}
