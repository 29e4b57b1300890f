// Package windows_test checks the station's MSI (issue 19, windows.md):
// its tables, its signatures and, under wine, what an IT administrator
// does with it. It runs from `make test-windows` (scripts/test-windows.sh
// builds two MSIs, a throwaway signing certificate and a wine prefix, and
// says where they are); elsewhere it is skipped.
package windows_test

import (
	"bytes"
	"context"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
)

type env struct {
	v1, v2         string // versions
	msi1, msi2     string // their MSIs
	cert           string // the throwaway signing certificate (PEM)
	wine, prefix   string
	serverBin, dir string
}

func setup(t *testing.T) *env {
	e := &env{v1: os.Getenv("EBILL_MSI_V1"), v2: os.Getenv("EBILL_MSI_V2"), msi1: os.Getenv("EBILL_MSI_1"), msi2: os.Getenv("EBILL_MSI_2"),
		cert: os.Getenv("EBILL_MSI_CERT"), wine: os.Getenv("EBILL_WINE"), prefix: os.Getenv("WINEPREFIX"),
		serverBin: os.Getenv("EBILL_SERVER_BIN"), dir: t.TempDir()}
	if e.msi1 == "" {
		t.Skip("run by make test-windows")
	}
	return e
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// table returns an MSI table's rows (msiinfo export), each a slice of fields.
func table(t *testing.T, msi, name string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(run(t, "msiinfo", "export", msi, name), "\r\n"), "\n")
	var rows [][]string
	for _, l := range lines[min(3, len(lines)):] {
		rows = append(rows, strings.Split(strings.TrimRight(l, "\r"), "\t"))
	}
	return rows
}

func hasRow(rows [][]string, want ...string) bool {
	for _, r := range rows {
		ok := true
		for i, w := range want {
			if w != "*" && (i >= len(r) || r[i] != w) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestMSITables: files, shortcut, service, properties, upgrade and the
// Chinese strings (codepage 936) are in the package as windows.md says.
func TestMSITables(t *testing.T) {
	e := setup(t)
	for _, msi := range []string{e.msi1, e.msi2} {
		files := table(t, msi, "File")
		for _, f := range []string{"ebill-desk.exe", "ebill.exe"} {
			if !hasRow(files, "*", "*", f) {
				t.Errorf("%s: no %s in File: %v", msi, f, files)
			}
		}
		if !hasRow(table(t, msi, "Shortcut"), "DeskShortcut", "ProgramMenuFolder", "EBILL~1|医疗电子票据") {
			t.Errorf("Shortcut: %v", table(t, msi, "Shortcut"))
		}
		// EBillSync: own process (16), automatic (2), LocalSystem, runs "sync run".
		if !hasRow(table(t, msi, "ServiceInstall"), "SyncService", "EBillSync", "ebill 电子票据同步服务", "16", "2", "1", "", "", "LocalSystem", "", "sync run") {
			t.Errorf("ServiceInstall: %v", table(t, msi, "ServiceInstall"))
		}
		if !hasRow(table(t, msi, "ServiceControl"), "SyncServiceControl", "EBillSync") {
			t.Errorf("ServiceControl: %v", table(t, msi, "ServiceControl"))
		}
		props := map[string]string{}
		for _, r := range table(t, msi, "Property") {
			if len(r) == 2 {
				props[r[0]] = r[1]
			}
		}
		want := map[string]string{"ProductName": "医疗电子票据", "ALLUSERS": "1", "UpgradeCode": "{6B1F0C2E-4D8A-4C7B-9E51-2A3F7D0C8E14}",
			"MsiHiddenProperties": "CODE"}
		for k, v := range want {
			if props[k] != v {
				t.Errorf("%s: Property %s = %q, want %q", msi, k, props[k], v)
			}
		}
		for _, p := range []string{"SERVER", "CODE", "FINGERPRINT", "DATA"} {
			if !strings.Contains(";"+props["SecureCustomProperties"]+";", ";"+p+";") {
				t.Errorf("%s: %s is not a secure property: %q", msi, p, props["SecureCustomProperties"])
			}
		}
		up := table(t, msi, "Upgrade")
		if !hasRow(up, "{6B1F0C2E-4D8A-4C7B-9E51-2A3F7D0C8E14}", "*", "*", "*", "*", "*", "WIX_UPGRADE_DETECTED") ||
			!hasRow(up, "{6B1F0C2E-4D8A-4C7B-9E51-2A3F7D0C8E14}", "*", "*", "*", "*", "*", "WIX_DOWNGRADE_DETECTED") {
			t.Errorf("Upgrade: %v", up)
		}
		if lc := table(t, msi, "LaunchCondition"); !hasRow(lc, "NOT WIX_DOWNGRADE_DETECTED") || !strings.Contains(lc[0][1], "不能安装旧版本") {
			t.Errorf("LaunchCondition: %v", lc)
		}
		if cp := run(t, "msiinfo", "export", msi, "_ForceCodepage"); !strings.Contains(cp, "936") {
			t.Errorf("codepage: %q", cp)
		}
		reg := table(t, msi, "Registry")
		if !hasRow(reg, "*", "2", `SOFTWARE\ebill`, "DataDir", "[DATADIR]") {
			t.Errorf("Registry: %v", reg)
		}
		ca := table(t, msi, "CustomAction")
		if !hasRow(ca, "InstallFinish") || !strings.Contains(strings.Join(ca[3], " "), "install-finish") {
			t.Errorf("CustomAction: %v", ca)
		}
	}
	// The icon is an ICO, not a copy of a 40 MB program.
	if fi, err := os.Stat(e.msi1); err != nil || fi.Size() > 40<<20 {
		t.Errorf("MSI size: %v %v", fi.Size(), err)
	}
	if !hasRow(table(t, e.msi2, "Property"), "ProductVersion", e.v2) {
		t.Errorf("the second build is not version %s", e.v2)
	}
}

// TestMSISigned: the MSI and both programs inside it carry a valid
// signature from the (throwaway) certificate; an altered MSI does not.
func TestMSISigned(t *testing.T) {
	e := setup(t)
	out := run(t, "osslsigncode", "verify", "-CAfile", e.cert, "-in", e.msi1)
	if !strings.Contains(out, "Signature verification: ok") {
		t.Fatalf("MSI signature:\n%s", out)
	}
	x := filepath.Join(e.dir, "x")
	mustMk(t, x)
	cmd := exec.Command("msiextract", "-C", x, e.msi1)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("msiextract: %v\n%s", err, b)
	}
	for _, exe := range []string{"ebill-desk.exe", "ebill.exe"} {
		var found string
		filepath.WalkDir(x, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Name() == exe {
				found = p
			}
			return nil
		})
		if found == "" {
			t.Fatalf("%s not extracted", exe)
		}
		if out := run(t, "osslsigncode", "verify", "-CAfile", e.cert, "-in", found); !strings.Contains(out, "Signature verification: ok") {
			t.Fatalf("%s signature:\n%s", exe, out)
		}
		// Version information (UTF-16 in the resources), the product name, and the manifest.
		b, err := os.ReadFile(found)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{e.v1 + ".0", "医疗电子票据"} {
			if !bytes.Contains(b, utf16le(want)) {
				t.Errorf("%s has no version resource %q", exe, want)
			}
		}
		if !bytes.Contains(b, []byte(`requestedExecutionLevel level="asInvoker"`)) || !bytes.Contains(b, []byte("dpiAware")) {
			t.Errorf("%s has no asInvoker, DPI-aware manifest", exe)
		}
	}
	// A byte changed in the signed content no longer verifies.
	raw, err := os.ReadFile(e.msi1)
	if err != nil {
		t.Fatal(err)
	}
	i := len(raw) / 2
	raw[i] ^= 0xff
	bad := filepath.Join(e.dir, "bad.msi")
	if err := os.WriteFile(bad, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("osslsigncode", "verify", "-CAfile", e.cert, "-in", bad).CombinedOutput(); err == nil && strings.Contains(string(b), "Signature verification: ok") {
		t.Fatal("an altered MSI verified")
	}
}

func mustMk(t *testing.T, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestMSIUnderWine: silent install with enrollment against a test server,
// the station enrolled and issuing, the service's run loop (from the
// command line: wine cannot start services) uploading, an upgrade that
// keeps the bill, an uninstall that keeps the data folder.
func TestMSIUnderWine(t *testing.T) {
	e := setup(t)
	if e.wine == "" {
		t.Skip("no wine")
	}
	addr, fp, code := startServer(t, e)
	wine := func(args ...string) (string, error) {
		cmd := exec.Command(e.wine, args...)
		cmd.Env = append(os.Environ(), "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=;bcryptprimitives=n")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustWine := func(args ...string) string {
		t.Helper()
		out, err := wine(args...)
		if err != nil {
			t.Fatalf("wine %v: %v\n%s", args, err, out)
		}
		return out
	}
	drive := filepath.Join(e.prefix, "drive_c")
	progDir := filepath.Join(drive, "Program Files", "ebill")
	dataDir := filepath.Join(drive, "ProgramData", "ebill")
	ebill := `C:\Program Files\ebill\ebill.exe`

	// Silent install with enrollment.
	mustWine("msiexec", "/i", winPath(e.msi1), "/qn", "/l*v", `C:\ebill-install.log`,
		"SERVER=https://"+addr, "CODE="+code, "FINGERPRINT="+fp)
	for _, f := range []string{"ebill-desk.exe", "ebill.exe"} {
		if _, err := os.Stat(filepath.Join(progDir, f)); err != nil {
			t.Fatalf("not installed: %s", f)
		}
	}
	installLog, _ := os.ReadFile(filepath.Join(dataDir, "install.log"))
	if !strings.Contains(string(installLog), "已注册到服务器") {
		t.Fatalf("install.log:\n%s", installLog)
	}
	if out := mustWine(ebill, "version"); !strings.Contains(out, e.v1) {
		t.Fatalf("installed version: %s", out)
	}
	// The data folder comes from the registry the MSI wrote: no --data.
	status := mustWine(ebill, "--json", "status")
	if !strings.Contains(status, `"placeCode":"P01"`) && !strings.Contains(status, `"placeCode": "P01"`) {
		t.Fatalf("status after the silent install:\n%s", status)
	}
	settlement := filepath.Join(e.dir, "outpatient.json")
	raw, err := os.ReadFile("../../examples/registration.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(settlement, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	issued := mustWine(ebill, "--json", "issue", "--kind", "registration", "-f", winPath(settlement))
	if !strings.Contains(issued, "35060126") {
		t.Fatalf("issue:\n%s", issued)
	}
	// The service's run loop, from the command line, uploads it.
	loop := exec.Command(e.wine, ebill, "sync", "run", "--enroll-wait", "1s")
	loop.Env = append(os.Environ(), "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=;bcryptprimitives=n")
	if err := loop.Start(); err != nil {
		t.Fatal(err)
	}
	uploaded := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && !uploaded; time.Sleep(time.Second) {
		uploaded = ledgerCount(t, e) == 1
	}
	loop.Process.Kill()
	loop.Wait()
	if !uploaded {
		log, _ := os.ReadFile(filepath.Join(dataDir, "sync.log"))
		t.Fatalf("the sync loop did not upload the bill; sync.log:\n%s", log)
	}

	// Upgrade to the second build: the bill stays, the version moves.
	mustWine("msiexec", "/i", winPath(e.msi2), "/qn", "/l*v", `C:\ebill-upgrade.log`)
	if out := mustWine(ebill, "version"); !strings.Contains(out, e.v2) {
		t.Fatalf("version after the upgrade: %s", out)
	}
	list := mustWine(ebill, "--json", "list")
	if !regexp.MustCompile(`35060126`).MatchString(list) {
		t.Fatalf("after the upgrade the bill is gone:\n%s", list)
	}
	// The older build over the newer is refused.
	if out, err := wine("msiexec", "/i", winPath(e.msi1), "/qn"); err == nil {
		t.Fatalf("installing the older MSI over the newer succeeded: %s", out)
	}
	if v := mustWine(ebill, "version"); !strings.Contains(v, e.v2) {
		t.Fatalf("an older MSI replaced the newer: %s", v)
	}

	// Uninstall: the programs go, the bills stay.
	mustWine("msiexec", "/x", winPath(e.msi2), "/qn")
	if _, err := os.Stat(filepath.Join(progDir, "ebill.exe")); err == nil {
		t.Fatal("ebill.exe is still installed after uninstall")
	}
	if fi, err := os.Stat(filepath.Join(dataDir, "station.db")); err != nil || fi.Size() == 0 {
		t.Fatalf("uninstall removed the bills: %v", err)
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

// winPath is a Linux path as wine sees it (drive Z: is /).
func winPath(p string) string {
	abs, _ := filepath.Abs(p)
	return "Z:" + strings.ReplaceAll(abs, "/", `\`)
}

// startServer runs ebill-server with one billing point P01 and returns its
// address, certificate fingerprint and an enrollment code.
func startServer(t *testing.T, e *env) (addr, fingerprint, code string) {
	ctx := context.Background()
	data := filepath.Join(e.dir, "server")
	store, err := server.OpenStore(ctx, "", data)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(store.SetUnit(ctx, server.Unit{Name: "厦门市某区医院"}))
	must(store.SetBillKind(ctx, bill.Registration, "35060126"))
	_, err = store.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: "35060126", Start: 1, End: 100000})
	must(err)
	must(store.AddPoint(ctx, "P01", "挂号窗口", server.PointStation))
	code, _, err = store.EnrollCode(ctx, "P01")
	must(err)
	store.Close()
	cert, err := api.SelfSignedCert(data, nil)
	must(err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	addr = ln.Addr().String()
	ln.Close()
	srv := exec.Command(e.serverBin, "--data", data, "serve", "--addr", addr)
	must(srv.Start())
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return addr, api.Fingerprint(cert), code
}

// ledgerCount is how many bills the server holds.
func ledgerCount(t *testing.T, e *env) int {
	store, err := server.OpenStore(context.Background(), "", filepath.Join(e.dir, "server"))
	if err != nil {
		return -1
	}
	defer store.Close()
	n, _, err := store.CountLedger(context.Background(), server.LedgerFilter{})
	if err != nil {
		return -1
	}
	return n
}
