package main

// End-to-end tests of installing and operating the programs (issues 19, 20):
// install-finish, the server as a service, restore, versions, diagnostics.

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/server"
)

// TestInstallFinish (issue 19): what the MSI runs at the end of a silent
// install. Without SERVER and CODE it prepares the data folder and says
// the PC is not enrolled; with a wrong code the install still succeeds and
// the log says what to do; with the right ones the PC is enrolled.
func TestInstallFinish(t *testing.T) {
	s := prepareSite(t, 100, false, nil)
	t.Cleanup(s.kill)
	logText := func() string {
		b, _ := os.ReadFile(filepath.Join(s.station, "install.log"))
		return string(b)
	}
	s.ebill("install-finish")
	if fi, err := os.Stat(s.station); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data folder: %v %v", fi, err)
	}
	if !strings.Contains(logText(), "本机未注册") {
		t.Fatalf("install.log:\n%s", logText())
	}
	s.ebill("install-finish", "--server", "https://"+s.addr, "--code", "WRONG-CODE", "--fingerprint", s.fprint)
	if !strings.Contains(logText(), "注册失败") {
		t.Fatalf("install.log after a wrong code:\n%s", logText())
	}
	s.ebill("install-finish", "--server", "https://"+s.addr, "--code", s.code, "--fingerprint", s.fprint)
	if !strings.Contains(logText(), "已注册到服务器") {
		t.Fatalf("install.log:\n%s", logText())
	}
	if n, err := s.issue(2, "MSI"); err != nil || n != 2 {
		t.Fatalf("issued %d after install-finish: %v", n, err)
	}
}

// TestServerService (issue 19): the repo's systemd unit is one systemd
// accepts, and `ebill-server service install` writes a unit that runs
// serve on this data folder with the serve arguments given (root only:
// it touches /etc).
func TestServerService(t *testing.T) {
	bin := binaries(t)
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		unit, err := os.ReadFile("../../packaging/linux/ebill-server.service")
		mustDo(t, err)
		dir := t.TempDir()
		text := strings.ReplaceAll(string(unit), "/usr/local/bin/ebill-server", filepath.Join(bin, "ebill-server"))
		text = strings.NewReplacer("User=ebill\n", "", "Group=ebill\n", "").Replace(text)
		mustDo(t, os.WriteFile(filepath.Join(dir, "ebill-server.service"), []byte(text), 0o644))
		if out, err := exec.Command(analyze, "verify", filepath.Join(dir, "ebill-server.service")).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("installing a system service needs root")
	}
	for _, f := range []string{"/etc/systemd/system/EBillServer.service", "/etc/init.d/EBillServer"} {
		if _, err := os.Stat(f); err == nil {
			t.Skipf("an EBillServer service is already installed here (%s); not touching it", f)
		}
	}
	data := t.TempDir()
	srv := func(args ...string) string {
		out, err := exec.Command(filepath.Join(bin, "ebill-server"), append([]string{"--data", data}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ebill-server %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	srv("service", "install", "--", "--addr", "127.0.0.1:18443")
	defer exec.Command(filepath.Join(bin, "ebill-server"), "service", "uninstall").Run()
	var unit []byte
	for _, f := range []string{"/etc/systemd/system/EBillServer.service", "/etc/init.d/EBillServer"} {
		if b, err := os.ReadFile(f); err == nil {
			unit = b
		}
	}
	for _, want := range []string{filepath.Join(bin, "ebill-server"), data, "serve", "127.0.0.1:18443"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Fatalf("the installed unit lacks %q:\n%s", want, unit)
		}
	}
	if out := srv("service", "status"); !strings.Contains(out, "已安装") && !strings.Contains(out, "运行中") {
		t.Fatalf("status: %s", out)
	}
	srv("service", "uninstall")
	if out := srv("service", "status"); !strings.Contains(out, "未安装") {
		t.Fatalf("status after uninstall: %s", out)
	}
}

// TestRestoreFromOlderBackup (issue 20): the ledger is backed up; the
// station then issues more, syncs, and gets new segments; the server's
// disk is lost and the older backup restored into a new data folder. The
// restored server learns the segments it lost from the station, receives
// again the bills it had acknowledged after the backup, allocates again
// only then, and the station carries on: no duplicate, no lost bill.
func TestRestoreFromOlderBackup(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { restoreFromOlderBackup(t, "", "") })
	t.Run("postgres", func(t *testing.T) {
		src, dst := newPGDatabase(t), newPGDatabase(t)
		restoreFromOlderBackup(t, src, dst)
	})
}

// newPGDatabase is a new empty PostgreSQL database on EBILL_TEST_PG's
// server, dropped after the test.
func newPGDatabase(t *testing.T) string {
	base := os.Getenv("EBILL_TEST_PG")
	if base == "" {
		t.Skip("EBILL_TEST_PG not set")
	}
	admin, err := sql.Open("pgx", base)
	mustDo(t, err)
	name := fmt.Sprintf("ebill_e2e_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000_000)
	_, err = admin.Exec("CREATE DATABASE " + name)
	mustDo(t, err)
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	u, err := url.Parse(base)
	mustDo(t, err)
	u.Path = "/" + name
	return u.String()
}

// restoreFromOlderBackup runs the scenario with the ledger on SQLite (both
// DSNs "") or PostgreSQL (the source database, and the empty one the
// backup is restored into).
func restoreFromOlderBackup(t *testing.T, srcDSN, dstDSN string) {
	s := prepareSiteOn(t, 10, false, nil, srcDSN)
	s.enroll()
	t.Cleanup(s.kill)
	// Issues n bills five at a time, syncing after each five: segments of
	// ten run out fast and new ones are allocated.
	issueSync := func(n int, prefix string) {
		t.Helper()
		for i := 0; i < n; i += 5 {
			if got, err := s.issue(5, fmt.Sprintf("%s%d-", prefix, i)); err != nil || got != 5 {
				t.Fatalf("issued %d: %v", got, err)
			}
			s.ebill("sync", "once")
		}
	}
	issueSync(15, "OLD")
	backup := filepath.Join(t.TempDir(), "ledger-backup.db")
	store, err := server.OpenStore(context.Background(), s.dsn, s.srvData)
	mustDo(t, err)
	mustDo(t, store.Backup(server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true}), backup))
	store.Close()
	issueSync(25, "NEW") // acknowledged, in segments the backup does not know
	if n, _, _ := s.ledger(); n != 40 {
		t.Fatalf("before the loss the server holds %d bills", n)
	}

	// The server's disk is lost: the backup goes into a new folder, with
	// the keys and the certificate from their own backup.
	s.kill()
	fresh := filepath.Join(t.TempDir(), "restored")
	restore := func() (string, error) {
		args := []string{"--data", fresh, "restore", "--from", backup}
		if dstDSN != "" {
			args = append(args, "--to-db", dstDSN)
		}
		out, err := exec.Command(filepath.Join(s.bin, "ebill-server"), args...).CombinedOutput()
		return string(out), err
	}
	if out, err := restore(); err == nil || !strings.Contains(out, "keys") {
		t.Fatalf("a restore without the keys: %v\n%s", err, out)
	}
	mustDo(t, os.MkdirAll(fresh, 0o700))
	for _, d := range []string{"keys", "tls"} {
		mustDo(t, exec.Command("cp", "-a", filepath.Join(s.srvData, d), filepath.Join(fresh, d)).Run())
	}
	out, err := restore()
	if err != nil || !strings.Contains(out, "校验通过") || !strings.Contains(out, "P01") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if out, err := restore(); err == nil || !strings.Contains(out, "不会覆盖") {
		t.Fatalf("a second restore over the first: %v\n%s", err, out)
	}
	s.srvData, s.dsn = fresh, dstDSN
	s.start()
	if n, _, _ := s.ledger(); n != 15 {
		t.Fatalf("the restored ledger holds %d bills, want the 15 of the backup", n)
	}

	// The station's next pass: report, re-send, and on.
	s.ebill("sync", "once")
	if n, mx, ok := s.ledger(); n != 40 || mx != 40 || !ok {
		t.Fatalf("after the station's pass the server holds %d bills (last %d, contiguous %v)", n, mx, ok)
	}
	issueSync(25, "AFTER") // allocation resumed: the station keeps issuing past its old segments
	if n, mx, ok := s.ledger(); n != 65 || mx != 65 || !ok {
		t.Fatalf("at the end the server holds %d bills (last %d, contiguous %v)", n, mx, ok)
	}
	s.kill()
	// restore-status needs a sign-in; the store says the same.
	store, err = server.OpenStore(context.Background(), s.dsn, fresh)
	mustDo(t, err)
	defer store.Close()
	sys := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	holds, err := store.RestoreStatus(sys)
	mustDo(t, err)
	if len(holds) != 1 || holds[0].ReportedAt.IsZero() || !strings.Contains(string(holds[0].Report), `"learned":true`) {
		t.Fatalf("restore status: %+v", holds)
	}
	rep, err := store.VerifyLedger(sys)
	mustDo(t, err)
	if !rep.OK() || rep.Bills != 65 {
		t.Fatalf("verify after the restore: %+v", rep)
	}
}

// TestStationRestore (issue 20): `ebill restore` checks a backup before it
// replaces anything, keeps a sound newer database unless told, keeps the
// replaced files; after restoring an older backup the next sync finds the
// server ahead of the station's chain and stops issuing, so that no number
// is used twice.
func TestStationRestore(t *testing.T) {
	s := newSite(t, 1000)
	if n, err := s.issue(5, "RB"); err != nil || n != 5 {
		t.Fatalf("issued %d: %v", n, err)
	}
	s.ebill("sync", "once")
	backup := filepath.Join(t.TempDir(), "station-backup.db")
	s.ebill("backup", "--to", backup)
	if n, err := s.issue(5, "RA"); err != nil || n != 5 {
		t.Fatalf("issued %d: %v", n, err)
	}
	s.ebill("sync", "once")

	junk := filepath.Join(t.TempDir(), "junk.db")
	mustDo(t, os.WriteFile(junk, []byte("not a database at all, not at all"), 0o600))
	before, _ := os.ReadFile(filepath.Join(s.station, localstore.FileName))
	if out, err := s.ebillErr("restore", "--from", junk); err == nil {
		t.Fatalf("a junk backup was restored:\n%s", out)
	}
	if out, err := s.ebillErr("restore", "--from", backup); err == nil || !strings.Contains(out, "不需要恢复") {
		t.Fatalf("a sound, newer database was replaced: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(filepath.Join(s.station, localstore.FileName)); !bytes.Equal(before, after) {
		t.Fatal("a refused restore changed the database")
	}
	out := s.ebill("restore", "--from", backup, "--force")
	if !strings.Contains(out, "replaced") {
		t.Fatalf("restore: %s", out)
	}
	if m, _ := filepath.Glob(filepath.Join(s.station, localstore.FileName+".replaced-*")); len(m) == 0 {
		t.Fatal("the replaced database was not kept")
	}
	if out, err := s.ebillErr("sync", "once"); err == nil || !strings.Contains(out, "停止开票") {
		t.Fatalf("sync after restoring an older backup: %v\n%s", err, out)
	}
	if n, err := s.issue(1, "RX"); n != 0 || bill.ErrorCode(err) != bill.ETampered {
		t.Fatalf("issued %d after the server was found ahead: %v", n, err)
	}
	if n, _, _ := s.ledger(); n != 10 {
		t.Fatalf("the server holds %d bills", n)
	}
}

// TestMinimumStationVersion (issue 20): the administrator requires a
// minimum program version; an older station (these test builds say "dev")
// is refused at its next sync with a message saying what to install, the
// server lists it as below the minimum, and syncs again once the minimum
// is lifted.
func TestMinimumStationVersion(t *testing.T) {
	s := newSite(t, 100)
	if n, err := s.issue(2, "VER"); err != nil || n != 2 {
		t.Fatalf("issued %d: %v", n, err)
	}
	setMin := func(v string) {
		store, err := server.OpenStore(context.Background(), "", s.srvData)
		mustDo(t, err)
		defer store.Close()
		mustDo(t, store.SetMinStationVersion(server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true}), v))
	}
	setMin("0.19.1")
	time.Sleep(2100 * time.Millisecond) // the server reads the minimum at most every 2 s
	cmd := exec.Command(filepath.Join(s.bin, "ebill"), "--data", s.station, "sync", "once")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 8 || !strings.Contains(string(out), "低于服务器要求的最低版本 0.19.1") {
		t.Fatalf("an old station synced: %v\n%s", err, out)
	}
	if n, _, _ := s.ledger(); n != 0 {
		t.Fatalf("the server took %d bills from a refused station", n)
	}
	store, err := server.OpenStore(context.Background(), "", s.srvData)
	mustDo(t, err)
	vs, err := store.StationVersions(server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true}))
	store.Close()
	mustDo(t, err)
	if len(vs) != 1 || !vs[0].Below {
		t.Fatalf("station versions: %+v", vs)
	}
	setMin("")
	time.Sleep(2100 * time.Millisecond)
	s.ebill("sync", "once")
	if n, _, _ := s.ledger(); n != 2 {
		t.Fatalf("after the minimum was lifted the server holds %d bills", n)
	}
}

// TestDiagnostics (issue 20): `ebill diag` and `ebill-server diag` write
// zips support can use — versions, status, the verify result, database
// figures, logs — with no key, password or HIS secret, and every ID and
// mobile number in the logs masked.
func TestDiagnostics(t *testing.T) {
	s := newSite(t, 100)
	if n, err := s.issue(3, "DG"); err != nil || n != 3 {
		t.Fatalf("issued %d: %v", n, err)
	}
	s.ebill("sync", "once")
	// A log line with personal numbers in it, as a careless message might write.
	f, err := os.OpenFile(filepath.Join(s.station, "sync.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	mustDo(t, err)
	fmt.Fprintln(f, "time=x level=WARN msg=test payer id=350203198503122015 tel=13800000000")
	f.Close()

	read := func(zipPath string) map[string]string {
		t.Helper()
		zr, err := zip.OpenReader(zipPath)
		mustDo(t, err)
		defer zr.Close()
		files := map[string]string{}
		for _, zf := range zr.File {
			rc, err := zf.Open()
			mustDo(t, err)
			b, _ := io.ReadAll(rc)
			rc.Close()
			files[zf.Name] = string(b)
		}
		return files
	}
	noSecrets := func(files map[string]string, secrets ...string) {
		t.Helper()
		for name, text := range files {
			for _, sec := range append(secrets, "350203198503122015", "13800000000", "PRIVATE KEY") {
				if strings.Contains(text, sec) {
					t.Fatalf("%s holds %q", name, sec)
				}
			}
		}
	}

	station := filepath.Join(t.TempDir(), "station-diag.zip")
	s.ebill("diag", "--out", station)
	files := read(station)
	for _, want := range []string{"version.json", "status.json", "verify.json", "database.json", "segments.json", "logs/sync.log"} {
		if _, ok := files[want]; !ok {
			t.Fatalf("station bundle lacks %s: %v", want, keys(files))
		}
	}
	if !strings.Contains(files["logs/sync.log"], "id=******************") || !strings.Contains(files["database.json"], `"quick_check": "ok"`) {
		t.Fatalf("station bundle:\nlog: %s\ndb: %s", files["logs/sync.log"], files["database.json"])
	}
	key, _ := os.ReadFile(filepath.Join(s.station, "keys", "data.key"))
	noSecrets(files, string(key))

	s.kill()
	h := newAdminHarness(t, filepath.Join(s.bin, "ebill-server"), s.srvData)
	srv := filepath.Join(t.TempDir(), "server-diag.zip")
	h.run("diag", "--out", srv)
	files = read(srv)
	for _, want := range []string{"version.json", "points.json", "station-versions.json", "verify.json", "database.json", "his-apps.json"} {
		if _, ok := files[want]; !ok {
			t.Fatalf("server bundle lacks %s: %v", want, keys(files))
		}
	}
	if !strings.Contains(files["verify.json"], `"bills": 3`) {
		t.Fatalf("server bundle's verify: %s", files["verify.json"])
	}
	secretKey, _ := os.ReadFile(filepath.Join(s.srvData, "keys", "secret.key"))
	noSecrets(files, string(secretKey), harnessPassword)
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
