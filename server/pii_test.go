package server_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// personalNumbers finds, in raw bytes, what security.md DC-2's scan looks
// for: an 18-character resident ID number with a valid GB 11643 check
// character, and a mobile number 1[3-9] followed by nine digits, each a
// whole token. It is written apart from internal/pii on purpose.
func personalNumbers(b []byte) []string {
	var hits []string
	// A whole token: not inside a longer run of letters and digits (a hex
	// hash or a base64 signature holds digit runs by chance).
	alnum := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	whole := func(m []int) bool { return (m[0] == 0 || !alnum(b[m[0]-1])) && (m[1] == len(b) || !alnum(b[m[1]])) }
	for _, m := range regexp.MustCompile(`\d{17}[\dXx]`).FindAllIndex(b, -1) {
		if !whole(m) {
			continue
		}
		if bill.CheckResidentID(strings.ToUpper(string(b[m[0]:m[1]]))) == nil {
			hits = append(hits, string(b[m[0]:m[1]]))
		}
	}
	for _, m := range regexp.MustCompile(`1[3-9]\d{9}`).FindAllIndex(b, -1) {
		if !whole(m) {
			continue
		}
		hits = append(hits, string(b[m[0]:m[1]]))
	}
	return hits
}

// scanFiles reads each file that exists (a database, its -wal, a dump)
// and returns the personal numbers found in clear.
func scanFiles(t *testing.T, paths ...string) []string {
	t.Helper()
	var hits []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		must(t, err)
		// A dump writes bytea as hex (\x7b22…): read it as the bytes it is.
		for _, m := range regexp.MustCompile(`\\x([0-9a-f]{2,})`).FindAllSubmatch(b, -1) {
			if raw, err := hex.DecodeString(string(m[1][:len(m[1])&^1])); err == nil {
				b = append(b, '\n')
				b = append(b, raw...)
			}
		}
		for _, h := range personalNumbers(b) {
			hits = append(hits, filepath.Base(p)+": "+h)
		}
	}
	return hits
}

// TestPersonalDataSealed (issue 18 #3, security.md DC-2): bills with ID
// and phone numbers are issued at a station, uploaded, reversed and
// looked up; a certificate holds a contact's mobile number. Neither the
// station's database, the ledger (SQLite with its -wal, or a pg_dump of
// the PostgreSQL schema) nor a backup holds one of them in clear, and
// every reader still gets them whole: the station's query and upload, the
// ledger's bill, the certificate.
func TestPersonalDataSealed(t *testing.T) {
	const id, phone, inID, examID, certPhone, corrPhone = "350203198503122015", "13800000000", "350206201007050036", "11010519491231002X", "13912345678", "15005921234"
	check := func(t *testing.T, s *server.Store, ledgerFiles func() []string) {
		ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		st := enrollStation(t, s, "P01")
		st.issue(t, "outpatient.json", "PII-1")
		st.issue(t, "inpatient.json", "PII-2")
		_, err := st.Reverse(ctx, outCode, 1, "退费", "林小燕")
		must(t, err)
		st.issue(t, "outpatient.json", "PII-3")
		// The signed content goes up whole: the server checks its hash.
		res, err := s.Upload(ctx, "P01", st.pending(t))
		must(t, err)
		if statuses(res) != "stored,stored,stored,stored" {
			t.Fatalf("upload: %s", statuses(res))
		}
		cert, err := s.SaveCertificate(ctx, server.Certificate{No: "闽财票证2026-009", Name: "医疗收费票据领用证", IssuedOn: "2026-01-05",
			ValidTo: "2027-01-01", Codes: []string{outCode}, Contact: "陈会计", Phone: certPhone, Enabled: true})
		must(t, err)

		must(t, s.AddHISApp(ctx, server.HISApp{AppID: hisAppID, Points: []string{"P01"}}, hisKey))
		var stored string
		must(t, s.DB().QueryRow("SELECT secret FROM his_apps").Scan(&stored))
		if !strings.HasPrefix(stored, "sm4:") || strings.Contains(stored, hisKey) {
			t.Fatalf("the HIS app's key is stored as %q", stored)
		}
		maker := asUser(&server.User{Login: "wang", Roles: []string{server.RoleBillAdmin}})
		corr, err := s.RequestCorrection(maker, server.CorrectBill, outCode+" 0000000003", "电话录错", "", server.Proposal{Tel: corrPhone})
		must(t, err)

		// Readers get the numbers whole.
		got, err := st.Bill(ctx, outCode, 1)
		must(t, err)
		if string(got.Bill.Settlement.IDCardNo) != id || string(got.Bill.Settlement.Tel) != phone {
			t.Fatalf("station reads %q %q", got.Bill.Settlement.IDCardNo, got.Bill.Settlement.Tel)
		}
		lb, err := s.LedgerBill(ctx, outCode, 1)
		must(t, err)
		if string(lb.Bill.Settlement.IDCardNo) != id || string(lb.Bill.Settlement.Tel) != phone {
			t.Fatalf("ledger reads %q %q", lb.Bill.Settlement.IDCardNo, lb.Bill.Settlement.Tel)
		}
		lb, err = s.LedgerBill(ctx, inCode, 1)
		must(t, err)
		if string(lb.Bill.Settlement.IDCardNo) != inID {
			t.Fatalf("ledger reads %q", lb.Bill.Settlement.IDCardNo)
		}
		c, err := s.Certificate(ctx, cert.ID)
		must(t, err)
		if c.Phone != certPhone {
			t.Fatalf("certificate reads %q", c.Phone)
		}
		if cr, err := s.Correction(maker, corr.ID); err != nil || cr.Proposal.Tel != corrPhone {
			t.Fatalf("correction reads %+v %v", cr, err)
		}
		rep, err := st.Verify(ctx)
		if err != nil || !rep.OK() || rep.Bills != 4 {
			t.Fatalf("station verify: %+v %v", rep, err)
		}

		// No file holds them in clear.
		backup := filepath.Join(t.TempDir(), "station-backup.db")
		must(t, st.Backup(ctx, backup))
		files := append([]string{st.Path(), st.Path() + "-wal", backup}, ledgerFiles()...)
		if hits := scanFiles(t, files...); len(hits) > 0 {
			t.Fatalf("in clear: %v", hits)
		}
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(hisKey)) {
				t.Fatalf("%s holds the HIS app's key", f)
			}
		}
		// A ledger from before migration 25 (down to 24 puts the numbers
		// back in clear) is sealed when the server is upgraded, and reads
		// the same.
		must(t, s.MigrateTo(ctx, 24))
		if hits := scanFiles(t, ledgerFiles()...); len(hits) == 0 {
			t.Fatal("down to 24: the numbers are not back in clear")
		}
		must(t, s.Migrate(ctx))
		if hits := scanFiles(t, ledgerFiles()...); len(hits) > 0 {
			t.Fatalf("after the upgrade, in clear: %v", hits)
		}
		lb, err = s.LedgerBill(ctx, outCode, 1)
		must(t, err)
		if c, err = s.Certificate(ctx, cert.ID); err != nil || string(lb.Bill.Settlement.IDCardNo) != id || c.Phone != certPhone {
			t.Fatalf("after the upgrade: %q %q %v", lb.Bill.Settlement.IDCardNo, c.Phone, err)
		}
		if cr, err := s.Correction(maker, corr.ID); err != nil || cr.Proposal.Tel != corrPhone {
			t.Fatalf("correction after the upgrade: %+v %v", cr, err)
		}
		// The scan can fail: the examples' numbers are what it looks for.
		if hits := personalNumbers([]byte(`{"idCardNo":"` + id + `","tel":"` + phone + `","x":"` + examID + `"}`)); len(hits) != 3 {
			t.Fatalf("the scan finds %v", hits)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		s, err := server.OpenStore(context.Background(), "", dir)
		must(t, err)
		defer s.Close()
		check(t, s, func() []string {
			backup := filepath.Join(t.TempDir(), "ledger-backup.db")
			must(t, s.Backup(server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true}), backup))
			db := filepath.Join(dir, "ledger.db")
			return []string{db, db + "-wal", backup}
		})
		// The key is a file of its own, private, not in the database.
		key, err := os.ReadFile(filepath.Join(dir, "keys", "secret.key"))
		must(t, err)
		ledger, err := os.ReadFile(filepath.Join(dir, "ledger.db"))
		must(t, err)
		if len(key) != 16 || bytes.Contains(ledger, key) {
			t.Fatal("the data key is in the ledger")
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgDSN(t)
		if dsn == "" {
			t.Skip("EBILL_TEST_PG not set")
		}
		s, err := server.OpenStore(context.Background(), dsn, "")
		must(t, err)
		defer s.Close()
		check(t, s, func() []string {
			u, err := url.Parse(dsn)
			must(t, err)
			schema := u.Query().Get("search_path")
			q := u.Query()
			q.Del("search_path")
			u.RawQuery = q.Encode()
			dump := filepath.Join(t.TempDir(), "dump.sql")
			out, err := exec.Command("pg_dump", "--dbname", u.String(), "--schema", schema, "--file", dump).CombinedOutput()
			if err != nil {
				t.Fatalf("pg_dump: %v %s", err, out)
			}
			b, _ := os.ReadFile(dump)
			if !bytes.Contains(b, []byte("COPY "+schema+".bills")) {
				t.Fatalf("the dump holds no bills")
			}
			return []string{dump}
		})
	})
}
