package localstore

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebill/ebill/bill"
)

// tamper edits the closed station file directly, as someone with the
// sqlite3 shell would: triggers dropped first.
func tamper(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range append([]string{"DROP TRIGGER bills_no_update", "DROP TRIGGER bills_seal_once", "DROP TRIGGER bills_no_delete", "PRAGMA foreign_keys = OFF"}, stmts...) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name  string
		stmts []string
		want  []string // substrings that must appear in the report, each naming a bill
	}{
		{"edit amount column", []string{"UPDATE bills SET total = 100 WHERE seq = 3"},
			[]string{"票据 35060126 0000000003（链序号 3）：金额"}},
		{"edit signed content", []string{"UPDATE bills SET content = CAST(REPLACE(CAST(content AS TEXT), '王五', '王六') AS BLOB) WHERE seq = 3"},
			[]string{"票据 35060126 0000000003（链序号 3）：票据内容与其哈希值不符"}},
		{"edit content and its hash", []string{
			"UPDATE bills SET content = CAST(REPLACE(CAST(content AS TEXT), '王五', '王六') AS BLOB), payer = '王六' WHERE seq = 3",
			"UPDATE bills SET hash = lower(hex(randomblob(32))) WHERE seq = 3"},
			[]string{"票据 35060126 0000000003（链序号 3）：票据内容与其哈希值不符", "票据 35060126 0000000004（链序号 4）：与前一张票据的链接断开"}},
		{"delete a bill", []string{"DELETE FROM outbox WHERE seq = 3", "DELETE FROM bills WHERE seq = 3"},
			[]string{"票据 35060126 0000000004（链序号 4）：链序号应为 3", "有号码缺失"}},
		{"delete the last bill", []string{"DELETE FROM outbox WHERE seq = 5", "DELETE FROM bills WHERE seq = 5"},
			[]string{"链尾不符", "离线计数不符"}},
		{"reorder two bills", []string{"UPDATE bills SET seq = -1 WHERE seq = 2", "UPDATE bills SET seq = 2 WHERE seq = 3", "UPDATE bills SET seq = 3 WHERE seq = -1"},
			[]string{"票据 35060126 0000000003（链序号 2）：与前一张票据的链接断开", "票据 35060126 0000000002（链序号 3）"}},
		{"renumber a bill", []string{"UPDATE bills SET bill_no = 99 WHERE seq = 2"},
			[]string{"票据 35060126 0000000099（链序号 2）：票据代码/号码与签名内容", "已用到第 99 个号码，但存有 5 张票据"}},
		{"move a bill outside every segment", []string{"UPDATE bills SET bill_no = 200000 WHERE seq = 5"},
			[]string{"票据 35060126 0000200000（链序号 5）：票据代码/号码与签名内容", "号码不在本机任何号段内"}},
		{"swap in another bill's signature", []string{"UPDATE bills SET signature = (SELECT signature FROM bills WHERE seq = 1) WHERE seq = 2"},
			[]string{"票据 35060126 0000000002（链序号 2）：票据签名验证失败"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := newDemoStore(t)
			ctx := context.Background()
			for i := 0; i < 5; i++ {
				set := example(t, "registration.json")
				set.BusNo = bill.Text("T-" + itoa(int64(i)))
				mustIssue(t, s, bill.Registration, set)
			}
			if rep, err := s.Verify(ctx); err != nil || !rep.OK() || rep.Bills != 5 {
				t.Fatalf("before tampering: %+v %v", rep, err)
			}
			s.Close()
			tamper(t, dir, tt.stmts...)
			s2, err := Open(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			rep, err := s2.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("verify passed a tampered file")
			}
			var all []string
			for _, p := range rep.Problems {
				all = append(all, p.String())
			}
			text := strings.Join(all, "\n")
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("report lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

// TestLegacyBillsSealed: a station database from before migration 7 holds
// ID and phone numbers in clear. Opening it with this version seals them
// (security.md DC-2) without breaking a hash, a signature or the chain,
// leaves no old image in the file or its -wal, and a sealed bill cannot be
// "sealed" again.
func TestLegacyBillsSealed(t *testing.T) {
	s, dir := newDemoStore(t)
	ctx := context.Background()
	mustIssue(t, s, bill.Outpatient, example(t, "outpatient.json"))
	mustIssue(t, s, bill.Inpatient, example(t, "inpatient.json"))
	pending, err := s.PendingBills(ctx, 10)
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending %d %v", len(pending), err)
	}
	s.Close()
	const id, phone = "350203198503122015", "13800000000"
	file := filepath.Join(dir, FileName)
	read := func() []byte {
		b, _ := os.ReadFile(file)
		w, _ := os.ReadFile(file + "-wal")
		return append(b, w...)
	}
	if bytes.Contains(read(), []byte(id)) || bytes.Contains(read(), []byte(phone)) {
		t.Fatal("a new bill is stored in clear")
	}
	// Make it as version 6 left it.
	stmts := []string{}
	args := [][]any{}
	for _, p := range pending {
		stmts, args = append(stmts, "UPDATE bills SET content = ?, pii = NULL WHERE seq = ?"), append(args, []any{p.Content, p.Seq})
	}
	db, err := sql.Open("sqlite", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER bills_seal_once", "DROP TRIGGER bills_no_update"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i, q := range stmts {
		if _, err := db.Exec(q, args[i]...); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{"ALTER TABLE bills DROP COLUMN pii",
		"CREATE TRIGGER bills_no_update BEFORE UPDATE ON bills BEGIN SELECT RAISE(ABORT, 'bills are immutable'); END",
		"PRAGMA user_version = 6"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if !bytes.Contains(read(), []byte(id)) || !bytes.Contains(read(), []byte(phone)) {
		t.Fatal("the version-6 file does not hold the numbers in clear: the test proves nothing")
	}

	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if b := read(); bytes.Contains(b, []byte(id)) || bytes.Contains(b, []byte(phone)) {
		t.Fatal("after the upgrade the numbers are still in the file or its -wal")
	}
	rep, err := s2.Verify(ctx)
	if err != nil || !rep.OK() || rep.Bills != 2 {
		t.Fatalf("verify after sealing: %+v %v", rep, err)
	}
	got, err := s2.Bill(ctx, "35060126", 1)
	if err != nil || string(got.Bill.Settlement.IDCardNo) != id || string(got.Bill.Settlement.Tel) != phone {
		t.Fatalf("bill after sealing: %v", err)
	}
	again, _ := s2.PendingBills(ctx, 10)
	for i := range again {
		if !bytes.Equal(again[i].Content, pending[i].Content) {
			t.Fatalf("bill %d uploads other bytes than it signed", again[i].Seq)
		}
	}
	err = s2.tx(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, "UPDATE bills SET content = content, pii = pii WHERE seq = 1")
		return err
	})
	if err == nil {
		t.Fatal("a sealed bill was rewritten")
	}
}

// TestNewerSchemaRefused (issue 19): a database written by a newer
// version is refused, not worked on, with a message that says what to do.
func TestNewerSchemaRefused(t *testing.T) {
	s, dir := newDemoStore(t)
	s.Close()
	tamper(t, dir, "PRAGMA user_version = 99")
	_, err := Open(context.Background(), dir)
	if bill.ErrorCode(err) != bill.EVersion || !strings.Contains(bill.ErrorMessage(err), "较新版本") {
		t.Fatalf("a newer schema opened: %v", err)
	}
	var v int
	db, _ := sql.Open("sqlite", filepath.Join(dir, FileName))
	defer db.Close()
	if db.QueryRow("PRAGMA user_version").Scan(&v); v != 99 {
		t.Fatalf("the refused file was changed: version %d", v)
	}
}
